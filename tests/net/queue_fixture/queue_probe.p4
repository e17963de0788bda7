/* queue_probe.p4 -- writes v1model's queueing metadata into the packet, for tests/net/test_devices.py.
 *
 * A frame of EtherType 0x88B5 (local experimental) that enters port 1 leaves port 2 and the other way
 * round; in egress its probe header (after Ethernet) gets the packet's enq_timestamp, enq_qdepth,
 * deq_timedelta and deq_qdepth. Other frames are dropped.
 */
#include <core.p4>
#include <v1model.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header probe_t {
    bit<32> enq_timestamp;
    bit<32> enq_qdepth;
    bit<32> deq_timedelta;
    bit<32> deq_qdepth;
}

struct headers {
    ethernet_t ethernet;
    probe_t    probe;
}

struct metadata { }

parser ProbeParser(packet_in packet, out headers hdr, inout metadata meta,
                   inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x88B5: parse_probe;
            default: accept;
        }
    }
    state parse_probe {
        packet.extract(hdr.probe);
        transition accept;
    }
}

control ProbeVerify(inout headers hdr, inout metadata meta) { apply { } }

control ProbeIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    apply {
        if (!hdr.probe.isValid()) {
            mark_to_drop(standard_metadata);
        } else if (standard_metadata.ingress_port == 1) {
            standard_metadata.egress_spec = 2;
        } else {
            standard_metadata.egress_spec = 1;
        }
    }
}

control ProbeEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    apply {
        hdr.probe.enq_timestamp = standard_metadata.enq_timestamp;
        hdr.probe.enq_qdepth = (bit<32>) standard_metadata.enq_qdepth;
        hdr.probe.deq_timedelta = standard_metadata.deq_timedelta;
        hdr.probe.deq_qdepth = (bit<32>) standard_metadata.deq_qdepth;
    }
}

control ProbeCompute(inout headers hdr, inout metadata meta) { apply { } }

control ProbeDeparser(packet_out packet, in headers hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.probe);
    }
}

V1Switch(ProbeParser(), ProbeVerify(), ProbeIngress(), ProbeEgress(), ProbeCompute(), ProbeDeparser()) main;
