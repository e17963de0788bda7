// V1Switch given a control where its first argument must be a parser
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"
#include "include/deparser.p4"

V1Switch(MyIngress(), MyVerifyChecksum(), MyIngress(), MyEgress(),
         MyComputeChecksum(), MyDeparser()) main;
