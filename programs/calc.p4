/* -*- P4_16 -*- */
/*
 * calc.p4 -- a switch that answers arithmetic questions.
 *
 * What it does
 *   A calculator request is an Ethernet frame with EtherType 0x1234 whose
 *   payload starts with the 16-byte header
 *       p ('P' = 0x50), four ('4' = 0x34), ver (0x01), op (8 bits),
 *       operand_a (32), operand_b (32), res (32)
 *   The parser only accepts it as a calculator header when the first three
 *   bytes are 'P', '4', 0x01: it peeks at them with lookahead<p4calc_t>()
 *   in a three-field tuple select before extracting anything.
 *   The table calculate maps the op byte to an action through const
 *   entries:
 *       '+' (0x2B) a + b      '-' (0x2D) a - b (wraps modulo 2^32)
 *       '&' (0x26) a & b      '|' (0x7C) a | b      '^' (0x5E) a ^ b
 *   The result is written to res, the Ethernet source and destination are
 *   swapped and the frame goes back out of the port it came in on. Any
 *   other op hits the const default action and is dropped; so is every
 *   frame that is not a well-formed calculator request.
 *
 * Tables and entries
 *   MyIngress.calculate   key: hdr.p4calc.op (exact)
 *     const entries (no control-plane entries needed):
 *       0x2B -> operation_add()    0x2D -> operation_sub()
 *       0x26 -> operation_and()    0x7C -> operation_or()
 *       0x5E -> operation_xor()
 *     const default_action = operation_drop()
 *
 * Example packets (all received on port 1; Ethernet
 * dst 00:00:00:00:00:02 src 00:00:00:00:00:01 type 0x1234, then
 * 'P' '4' 0x01 op a b res=0; every reply leaves on port 1 with
 * dst 00:00:00:00:00:01 src 00:00:00:00:00:02, all else unchanged
 * except res)
 *
 *   1. op '+', a = 5, b = 3 -> res = 8
 *        in : 00000000000200000000000112345034012B00000005000000030000
 *             0000
 *        out: 00000000000100000000000212345034012B00000005000000030000
 *             0008
 *   2. op '-', a = 3, b = 5 -> res = 0xFFFFFFFE
 *        in : 00000000000200000000000112345034012D00000003000000050000
 *             0000
 *        out: 00000000000100000000000212345034012D0000000300000005FFFF
 *             FFFE
 *   3. a = 0xF0F0F0F0, b = 0x0FF00FF0:
 *        op '&' -> res = 0x00F000F0
 *        op '|' -> res = 0xFFF0FFF0
 *        op '^' -> res = 0xFF00FF00
 *        ('&' in : 000000000002000000000001123450340126F0F0F0F00FF00FF0
 *                  00000000
 *             out: 000000000001000000000002123450340126F0F0F0F00FF00FF0
 *                  00F000F0)
 *   4. op '*' (0x2A), a = 6, b = 7: no entry -> dropped.
 *   5. ver 0x02 instead of 0x01: not recognised by the parser, p4calc
 *      stays invalid -> dropped.
 */

#include <core.p4>
#include <v1model.p4>

// ---------------------------------------------------------------- Headers

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header p4calc_t {
    bit<8>  p;
    bit<8>  four;
    bit<8>  ver;
    bit<8>  op;
    bit<32> operand_a;
    bit<32> operand_b;
    bit<32> res;
}

struct headers {
    ethernet_t ethernet;
    p4calc_t   p4calc;
}

struct metadata {
    /* nothing needed */
}

const bit<16> P4CALC_ETYPE = 0x1234;
const bit<8>  P4CALC_P     = 0x50;   // 'P'
const bit<8>  P4CALC_4     = 0x34;   // '4'
const bit<8>  P4CALC_VER   = 0x01;

const bit<8>  P4CALC_PLUS  = 0x2b;   // '+'
const bit<8>  P4CALC_MINUS = 0x2d;   // '-'
const bit<8>  P4CALC_AND   = 0x26;   // '&'
const bit<8>  P4CALC_OR    = 0x7c;   // '|'
const bit<8>  P4CALC_CARET = 0x5e;   // '^'

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            P4CALC_ETYPE: check_p4calc;
            default:      accept;
        }
    }

    // Peek before extracting, so that a frame with the right EtherType but
    // the wrong magic bytes is left unparsed (and then dropped).
    state check_p4calc {
        transition select(packet.lookahead<p4calc_t>().p,
                          packet.lookahead<p4calc_t>().four,
                          packet.lookahead<p4calc_t>().ver) {
            (P4CALC_P, P4CALC_4, P4CALC_VER): parse_p4calc;
            default:                          accept;
        }
    }

    state parse_p4calc {
        packet.extract(hdr.p4calc);
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers hdr,
                  inout metadata meta,
                  inout standard_metadata_t standard_metadata) {

    // Reply to the sender: the result goes back where the request came from.
    action send_back(bit<32> result) {
        bit<48> tmp = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = hdr.ethernet.srcAddr;
        hdr.ethernet.srcAddr = tmp;
        hdr.p4calc.res = result;
        standard_metadata.egress_spec = standard_metadata.ingress_port;
    }

    action operation_add() {
        send_back(hdr.p4calc.operand_a + hdr.p4calc.operand_b);
    }

    action operation_sub() {
        send_back(hdr.p4calc.operand_a - hdr.p4calc.operand_b);
    }

    action operation_and() {
        send_back(hdr.p4calc.operand_a & hdr.p4calc.operand_b);
    }

    action operation_or() {
        send_back(hdr.p4calc.operand_a | hdr.p4calc.operand_b);
    }

    action operation_xor() {
        send_back(hdr.p4calc.operand_a ^ hdr.p4calc.operand_b);
    }

    action operation_drop() {
        mark_to_drop(standard_metadata);
    }

    table calculate {
        key = {
            hdr.p4calc.op: exact;
        }
        actions = {
            operation_add;
            operation_sub;
            operation_and;
            operation_or;
            operation_xor;
            operation_drop;
        }
        const default_action = operation_drop();
        const entries = {
            P4CALC_PLUS  : operation_add();
            P4CALC_MINUS : operation_sub();
            P4CALC_AND   : operation_and();
            P4CALC_OR    : operation_or();
            P4CALC_CARET : operation_xor();
        }
    }

    apply {
        if (hdr.p4calc.isValid()) {
            calculate.apply();
        } else {
            operation_drop();
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers hdr,
                 inout metadata meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.p4calc);
    }
}

// ---------------------------------------------------------------- Package

V1Switch(
    MyParser(),
    MyVerifyChecksum(),
    MyIngress(),
    MyEgress(),
    MyComputeChecksum(),
    MyDeparser()
) main;
