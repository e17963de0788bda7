// an untyped constant given to a generic parameter, whose width cannot be inferred
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hash(meta.y, HashAlgorithm.crc32, 32w0, {hdr.ipv4.srcAddr}, 1024);
    }
}

#include "include/after_ingress.p4"
