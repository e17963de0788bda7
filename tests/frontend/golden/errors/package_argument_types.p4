// a package instance whose types differ from those the outer package's type arguments give
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"
#include "include/deparser.p4"

package Pipeline<H, M>(Parser<H, M> p, VerifyChecksum<H, M> vr, Ingress<H, M> ig, Egress<H, M> eg,
                       ComputeChecksum<H, M> ck, Deparser<H> dep);
package Switch<H0, M0>(Pipeline<H0, M0> p0);

Pipeline(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) p0;
Switch<metadata, metadata>(p0) main;
