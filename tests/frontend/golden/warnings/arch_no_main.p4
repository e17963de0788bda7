// a program without a 'main' package instance
#include "../errors/include/before_ingress.p4"
#include "../errors/include/ingress.p4"
#include "../errors/include/egress.p4"
#include "../errors/include/compute.p4"
#include "../errors/include/deparser.p4"

// V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(),
//          MyComputeChecksum(), MyDeparser()) main;
