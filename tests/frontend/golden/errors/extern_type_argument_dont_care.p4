// an extern instantiated with '_' as its type argument, then called with a value of that type
#include "include/before_ingress.p4"

extern Sink<T> {
    Sink();
    void put(in T value);
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    Sink<_>() sink;
    apply {
        sink.put(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
