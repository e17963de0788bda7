// a value_set of infinite-precision integers
#include "include/before_ingress.p4"

parser Ports(in bit<16> port) {
    value_set<int>(4) known_ports;
    state start {
        transition select(port) {
            known_ports: accept;
            _: reject;
        }
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
