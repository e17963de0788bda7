// a struct with two fields of the same name
#include <core.p4>
#include <v1model.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<8>  ttl;
    bit<32> dstAddr;
}

struct metadata {
    bit<8>  x;
    bit<32> y;
    bit<16> x;
}

struct headers {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

#include "include/parser.p4"
#include "include/after_parser.p4"
