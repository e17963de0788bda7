// a control instantiated with a run-time value as a constructor argument
#include "include/before_ingress.p4"

control SetPort(inout standard_metadata_t sm)(bit<9> port) {
    apply { sm.egress_spec = port; }
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    bit<9> chosen = 1;
    SetPort(chosen) set_port;
    apply {
        set_port.apply(standard_metadata);
    }
}

#include "include/after_ingress.p4"
