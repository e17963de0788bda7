/* -*- P4_16 -*- */
/*
 * expressions.p4 -- a tour of P4_16 expressions.
 *
 * What it does
 *   Frames with EtherType 0x88B5 carry two custom headers after Ethernet:
 *   ops_t (35 bytes of operands of many widths, signed and unsigned) and
 *   res_t (101 bytes of results). Ingress fills every field of res_t from
 *   ops_t, each with a different expression, and sends the frame back out
 *   of the port it came in on; nothing else changes. Other frames are
 *   dropped.
 *
 * Constructs shown
 *   + - * (wrapping), unary -, << >> by constants and by run-time amounts
 *   (including amounts >= the width), & | ^ ~, ! && ||, == != < <= > >=
 *   on unsigned and signed values, saturating |+| |-| (unsigned and
 *   signed), slices [h:l] read and assigned, concatenation ++, casts
 *   between widths (zero extension, truncation), between bit and int
 *   (same width), sign extension int<a> -> int<b>, bool <-> bit<1>,
 *   ?:, int<W> arithmetic and arithmetic shift right, int (arbitrary
 *   precision) constants folded at compile time.
 *
 * Tables and entries
 *   None.
 *
 * Layout (bits, in order)
 *   ops_t: b1:1 b7:7 b8:8 b9:9 b16:16 b31:31 b32:32 b33:33 b48:48 b64:64
 *          s8:int<8> s16:int<16> pad:7                      = 280 bits
 *   res_t: add16:16 sub8:8 neg8:8 mul32:32 shl48:48 shr64:64 and33:33
 *          or33:33 xor33:33 not33:33 shl_var32:32 shr_var64:64
 *          shr_big16:16 sat_add8:8 sat_sub8:8 sat_s8:8 sat_s16:16 flags:8
 *          slice8:8 slice_asg32:32 concat32:32 widen64:64 narrow8:8
 *          sext32:32 zext32:32 max16:16 s_arith16:16 s_shr16:16
 *          s_shr_big8:8 s_widen16:16 s8_bits:8 b9_sum:9 b7_shl:7
 *          b31_dec:31 b1_not:1 pad:4                        = 808 bits
 *
 * Example packet (in on port 4, out of port 4)
 *   Ethernet dst 00:00:00:00:00:02 src 00:00:00:00:00:01 type 0x88B5.
 *   ops: b1 = 1, b7 = 0x7F, b8 = 5, b9 = 40, b16 = 0xFFF0,
 *        b31 = 0x12345678, b32 = 0x80000001, b33 = 0x1_2345_6789,
 *        b48 = 0xF123_4567_89AB, b64 = 0x0123_4567_89AB_CDEF,
 *        s8 = -100 (0x9C), s16 = -1000 (0xFC18), pad = 0
 *        bytes: FF05147FF8123456788000000191A2B3C4F891A2B3C4D58091A2B3C4
 *               D5E6F7CE7E0C00
 *   res: all 101 bytes 0 on input. Expected on output:
 *     add16       = b16 + 32               = 0x0010      (wraps)
 *     sub8        = b8 - 20                = 0xF1        (wraps)
 *     neg8        = -b8                    = 0xFB
 *     mul32       = b32 * 3                = 0x80000003  (wraps)
 *     shl48       = b48 << 4               = 0x123456789AB0
 *     shr64       = b64 >> 8               = 0x000123456789ABCD
 *     and33       = b33 & 0x1_0000_FFFF    = 0x1_0000_6789
 *     or33        = b33 | 0x0_F000_0000    = 0x1_F345_6789
 *     xor33       = b33 ^ 0x0_FFFF_0000    = 0x1_DCBA_6789
 *     not33       = ~b33                   = 0x0_DCBA_9876
 *     shl_var32   = b32 << b9 (40 >= 32)   = 0
 *     shr_var64   = b64 >> b9 (40)         = 0x12345
 *     shr_big16   = b16 >> b9 (40 >= 16)   = 0
 *     sat_add8    = b8 |+| 255             = 0xFF        (saturated)
 *     sat_sub8    = b8 |-| 10              = 0x00        (saturated)
 *     sat_s8      = s8 |-| 100  (-200)     = 0x80 (-128, saturated)
 *     sat_s16     = s16 |-| 32767          = 0x8000 (-32768, saturated)
 *     flags       = 8 comparison results   = 0xE8 (1110 1000, see below)
 *     slice8      = b48[47:40]             = 0xF1
 *     slice_asg32 = b32 with [15:8] = b8   = 0x80000501
 *     concat32    = b8 ++ b16 ++ b1 ++ b7  = 0x05FFF0FF
 *     widen64     = (bit<64>) b33          = 0x0000000123456789
 *     narrow8     = (bit<8>) b31           = 0x78
 *     sext32      = (bit<32>)(int<32>)(int<16>) b16 = 0xFFFFFFF0
 *     zext32      = (bit<32>) b16          = 0x0000FFF0
 *     max16       = b16 > 0x1000 ? b16 : 0x1000     = 0xFFF0
 *     s_arith16   = s16 * 3 + 20 (-2980)   = 0xF45C
 *     s_shr16     = s16 >> 2 (-250)        = 0xFF06
 *     s_shr_big8  = s8 >> b9 (40, negative) = 0xFF (-1)
 *     s_widen16   = (int<16>) s8 (-100)    = 0xFF9C
 *     s8_bits     = (bit<8>) s8            = 0x9C
 *     b9_sum      = b9 + (bit<9>) b8       = 0x02D (45)
 *     b7_shl      = b7 << 1                = 0x7E
 *     b31_dec     = b31 - 1                = 0x12345677
 *     b1_not      = ~b1                    = 0
 *   flags bits, most significant first:
 *     b16 > 0x8000 (1), b8 <= 5 (1), s16 < 0 (1), b33 == 0 (0),
 *     (bool)b1 && b7 == 0x7F (1), !(bool)b1 || b9 >= 100 (0),
 *     s8 >= -1 (0), b64 != 0 && b31 < 0x10000000 (0)
 *   res bytes on output:
 *     0010F1FB80000003123456789AB0000123456789ABCD800033C4FCD1
 *     59E27B974CF12DCBA98760000000000000000000123450000FF00808
 *     000E8F18000050105FFF0FF000000012345678978FFFFFFF00000FFF
 *     0FFF0F45CFF06FFFF9C9C16FE2468ACEE0
 *   Whole frame out: 00000000000200000000000188B5, then the ops bytes
 *   unchanged, then the res bytes above.
 *
 *   A frame with any other EtherType is dropped.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_EXPR = 0x88B5;

// int constants: arbitrary precision, folded at compile time.
const int STEP   = 1 << 5;     // 32
const int SHIFT4 = 4;

// ---------------------------------------------------------------- Headers

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ops_t {
    bit<1>  b1;
    bit<7>  b7;
    bit<8>  b8;
    bit<9>  b9;
    bit<16> b16;
    bit<31> b31;
    bit<32> b32;
    bit<33> b33;
    bit<48> b48;
    bit<64> b64;
    int<8>  s8;
    int<16> s16;
    bit<7>  pad;
}

header res_t {
    bit<16> add16;
    bit<8>  sub8;
    bit<8>  neg8;
    bit<32> mul32;
    bit<48> shl48;
    bit<64> shr64;
    bit<33> and33;
    bit<33> or33;
    bit<33> xor33;
    bit<33> not33;
    bit<32> shl_var32;
    bit<64> shr_var64;
    bit<16> shr_big16;
    bit<8>  sat_add8;
    bit<8>  sat_sub8;
    bit<8>  sat_s8;
    bit<16> sat_s16;
    bit<8>  flags;
    bit<8>  slice8;
    bit<32> slice_asg32;
    bit<32> concat32;
    bit<64> widen64;
    bit<8>  narrow8;
    bit<32> sext32;
    bit<32> zext32;
    bit<16> max16;
    bit<16> s_arith16;
    bit<16> s_shr16;
    bit<8>  s_shr_big8;
    bit<16> s_widen16;
    bit<8>  s8_bits;
    bit<9>  b9_sum;
    bit<7>  b7_shl;
    bit<31> b31_dec;
    bit<1>  b1_not;
    bit<4>  pad;
}

struct metadata {
    /* nothing needed */
}

struct headers {
    ethernet_t ethernet;
    ops_t      ops;
    res_t      res;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_EXPR: parse_ops;
            default:   accept;
        }
    }

    state parse_ops {
        packet.extract(hdr.ops);
        packet.extract(hdr.res);
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

    action drop() {
        mark_to_drop(standard_metadata);
    }

    action compute() {
        // Wrapping arithmetic on bit<W>; the int constant STEP is cast
        // to bit<16> implicitly.
        hdr.res.add16 = hdr.ops.b16 + STEP;
        hdr.res.sub8  = hdr.ops.b8 - 8w20;
        hdr.res.neg8  = -hdr.ops.b8;
        hdr.res.mul32 = hdr.ops.b32 * 32w3;

        // Shifts by compile-time amounts.
        hdr.res.shl48 = hdr.ops.b48 << SHIFT4;
        hdr.res.shr64 = hdr.ops.b64 >> 8;

        // Bitwise operators on an odd width.
        hdr.res.and33 = hdr.ops.b33 & 33w0x1_0000_FFFF;
        hdr.res.or33  = hdr.ops.b33 | 33w0x0_F000_0000;
        hdr.res.xor33 = hdr.ops.b33 ^ 33w0x0_FFFF_0000;
        hdr.res.not33 = ~hdr.ops.b33;

        // Shifts by a run-time amount (b9 = 40): shifting by the width or
        // more gives 0 for unsigned values.
        hdr.res.shl_var32 = hdr.ops.b32 << hdr.ops.b9;
        hdr.res.shr_var64 = hdr.ops.b64 >> hdr.ops.b9;
        hdr.res.shr_big16 = hdr.ops.b16 >> hdr.ops.b9;

        // Saturating arithmetic, unsigned and signed.
        hdr.res.sat_add8 = hdr.ops.b8 |+| 8w255;
        hdr.res.sat_sub8 = hdr.ops.b8 |-| 8w10;
        hdr.res.sat_s8   = (bit<8>)(hdr.ops.s8 |-| 8s100);
        hdr.res.sat_s16  = (bit<16>)(hdr.ops.s16 |-| 16s32767);

        // Comparisons and boolean operators, turned into bits with
        // bool -> bit<1> casts and packed with ++.
        hdr.res.flags = (bit<1>)(hdr.ops.b16 > 16w0x8000)
                     ++ (bit<1>)(hdr.ops.b8 <= 8w5)
                     ++ (bit<1>)(hdr.ops.s16 < 16s0)
                     ++ (bit<1>)(hdr.ops.b33 == 33w0)
                     ++ (bit<1>)((bool)hdr.ops.b1 && hdr.ops.b7 == 7w0x7F)
                     ++ (bit<1>)(!(bool)hdr.ops.b1 || hdr.ops.b9 >= 9w100)
                     ++ (bit<1>)(hdr.ops.s8 >= -8s1)
                     ++ (bit<1>)(hdr.ops.b64 != 64w0 &&
                                 hdr.ops.b31 < 31w0x10000000);

        // Slices: read, and assigned on the left-hand side.
        hdr.res.slice8 = hdr.ops.b48[47:40];
        hdr.res.slice_asg32 = hdr.ops.b32;
        hdr.res.slice_asg32[15:8] = hdr.ops.b8;

        // Concatenation: 8 + 16 + 1 + 7 bits.
        hdr.res.concat32 = hdr.ops.b8 ++ hdr.ops.b16 ++ hdr.ops.b1 ++ hdr.ops.b7;

        // Casts: widening, narrowing, sign extension (bit<16> -> int<16>
        // keeps the bits, int<16> -> int<32> extends the sign),
        // zero extension.
        hdr.res.widen64  = (bit<64>)hdr.ops.b33;
        hdr.res.narrow8  = (bit<8>)hdr.ops.b31;
        hdr.res.sext32   = (bit<32>)(int<32>)(int<16>)hdr.ops.b16;
        hdr.res.zext32   = (bit<32>)hdr.ops.b16;

        // Conditional operator.
        hdr.res.max16 = (hdr.ops.b16 > 16w0x1000) ? hdr.ops.b16 : 16w0x1000;

        // Signed arithmetic; >> on int<W> is an arithmetic shift, and a
        // negative value shifted by 40 becomes -1.
        hdr.res.s_arith16  = (bit<16>)(hdr.ops.s16 * 16s3 + 16s20);
        hdr.res.s_shr16    = (bit<16>)(hdr.ops.s16 >> 2);
        hdr.res.s_shr_big8 = (bit<8>)(hdr.ops.s8 >> hdr.ops.b9);
        hdr.res.s_widen16  = (bit<16>)(int<16>)hdr.ops.s8;
        hdr.res.s8_bits    = (bit<8>)hdr.ops.s8;

        // Odd widths.
        hdr.res.b9_sum  = hdr.ops.b9 + (bit<9>)hdr.ops.b8;
        hdr.res.b7_shl  = hdr.ops.b7 << 1;
        hdr.res.b31_dec = hdr.ops.b31 - 1;
        hdr.res.b1_not  = ~hdr.ops.b1;
        hdr.res.pad     = 0;

        standard_metadata.egress_spec = standard_metadata.ingress_port;
    }

    apply {
        if (hdr.ops.isValid() && hdr.res.isValid()) {
            compute();
        } else {
            drop();
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
        packet.emit(hdr.ops);
        packet.emit(hdr.res);
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
