// static_assert is evaluated when the program is checked: a false condition is an error with its message
#include "include/before_ingress.p4"

const bool version_ok = static_assert(1 > 2, "the version is too old");

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        static_assert(3 == 1);
        static_assert(standard_metadata.ingress_port == 0);
    }
}

#include "include/after_ingress.p4"
