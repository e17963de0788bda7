// a switch on a bit<8> value with an action name as label
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        switch (meta.x) {
            NoAction: { }
        }
    }
}

#include "include/after_ingress.p4"
