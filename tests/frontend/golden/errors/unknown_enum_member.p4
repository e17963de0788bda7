// an enum member that does not exist
#include "include/v1.p4"

enum Color { Red, Green, Yellow }

#include "include/parser.p4"
#include "include/verify.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        Color c = Color.Green;
        if (c == Color.Blue) {
            mark_to_drop(standard_metadata);
        }
    }
}

#include "include/after_ingress.p4"
