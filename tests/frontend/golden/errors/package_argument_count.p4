// a package instantiated with more arguments than it has parameters
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"
#include "include/deparser.p4"

package Pipeline<H, M>(Parser<H, M> p, Ingress<H, M> ig);

Pipeline(MyParser(), MyIngress(), MyEgress()) p0;
V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
