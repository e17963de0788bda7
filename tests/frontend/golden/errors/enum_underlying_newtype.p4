// a serializable enum whose underlying type is a 'type', not bit<W>
#include "include/before_ingress.p4"

type bit<16> ether_type_t;
enum ether_type_t EtherType {
    IPV4 = 0x0800,
    ARP  = 0x0806
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
