// a program without a 'main' package instance
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"
#include "include/deparser.p4"

// V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(),
//          MyComputeChecksum(), MyDeparser()) main;
