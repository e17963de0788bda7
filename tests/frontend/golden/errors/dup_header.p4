// two headers with the same name
#include "include/v1.p4"

header vlan_t {
    bit<3>  pcp;
    bit<1>  dei;
    bit<12> vid;
    bit<16> etherType;
}

header vlan_t {
    bit<16> tci;
    bit<16> etherType;
}

#include "include/parser.p4"
#include "include/after_parser.p4"
