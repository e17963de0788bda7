// a generic header specialized with a type its fields cannot have, and one used without type arguments
#include "include/before_ingress.p4"

header pair_t<T> { T a; T b; }
struct wrap_t<T> { pair_t<T> p; }

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        wrap_t<error> bad;
        pair_t plain;
    }
}

#include "include/after_ingress.p4"
