/* v1model.p4: the v1model architecture (BMv2 simple_switch), as the
 * dataplane emulator implements it.
 *
 * Written for dataplane from the documented behaviour of the v1model
 * architecture. Programs written for BMv2's v1model compile unchanged.
 *
 * V1MODEL_VERSION selects the API generation, as with p4c: the default
 * (20180101) has non-generic counters and registers indexed by bit<32>;
 * defining V1MODEL_VERSION as 20200408 or later before the include switches
 * to the generic forms and the PortId_t family of typedefs. */

/* The guard has p4c's name, so that programs can test for it as they do with p4c. */
#ifndef _V1_MODEL_P4_
#define _V1_MODEL_P4_

#include "core.p4"

/* p4c's default too: a program that does not choose gets the 20180101 API. */
#ifndef V1MODEL_VERSION
#define V1MODEL_VERSION 20180101
#endif

/* Like p4c, refuse a version outside 20180101..20200408 (the two API generations there are)
 * instead of silently giving a program an API it did not ask for. */
#if V1MODEL_VERSION < 0
#error V1MODEL_VERSION must be a non-negative number such as 20180101 or 20200408
#elif V1MODEL_VERSION < 20180101 || V1MODEL_VERSION > 20200408
#error unknown V1MODEL_VERSION: the first supported version is 20180101, the latest 20200408
#endif

match_kind {
    range,      // low <= key <= high
    optional,   // exact match or wildcard
    selector    // used with action selectors
}

const bit<32> __v1model_version = V1MODEL_VERSION;

#if V1MODEL_VERSION >= 20200408
typedef bit<9>  PortId_t;
typedef bit<16> MulticastGroup_t;
typedef bit<16> CloneSessionId_t;
typedef bit<3>  ClassOfService_t;
typedef bit<16> PacketLength_t;
typedef bit<16> EgressInstance_t;
typedef bit<48> Timestamp_t;
typedef error   ParserError_t;
#endif

@metadata @name("standard_metadata")
struct standard_metadata_t {
    bit<9>  ingress_port;
    bit<9>  egress_spec;     // set by ingress: the output port; 511 drops
    bit<9>  egress_port;     // set by the traffic manager for egress
    bit<32> instance_type;   // 0 normal, 1 ingress clone, 2 egress clone, 4 recirculated, 5 replicated, 6 resubmitted
    bit<32> packet_length;
    @alias("queueing_metadata.enq_timestamp") bit<32> enq_timestamp;
    @alias("queueing_metadata.enq_qdepth")    bit<19> enq_qdepth;
    @alias("queueing_metadata.deq_timedelta") bit<32> deq_timedelta;
    @alias("queueing_metadata.deq_qdepth")    bit<19> deq_qdepth;
    @alias("intrinsic_metadata.ingress_global_timestamp") bit<48> ingress_global_timestamp;
    @alias("intrinsic_metadata.egress_global_timestamp")  bit<48> egress_global_timestamp;
    @alias("intrinsic_metadata.mcast_grp")  bit<16> mcast_grp;
    @alias("intrinsic_metadata.egress_rid") bit<16> egress_rid;
    bit<1>  checksum_error;  // set when verify_checksum fails
    error   parser_error;    // set when the parser ends in an error
    @alias("intrinsic_metadata.priority") bit<3> priority;
}

enum CounterType {
    packets,
    bytes,
    packets_and_bytes
}

enum MeterType {
    packets,
    bytes
}

/* An array of packet and/or byte counters, updated by index. */
#if V1MODEL_VERSION >= 20200408
extern counter<I>
#else
extern counter
#endif
{
    counter(bit<32> size, CounterType type);
#if V1MODEL_VERSION >= 20200408
    void count(in I index);
#else
    void count(in bit<32> index);
#endif
}

/* A counter attached to one table: one cell per table entry. */
extern direct_counter {
    direct_counter(CounterType type);
    void count();
}

#define V1MODEL_METER_COLOR_GREEN  0
#define V1MODEL_METER_COLOR_YELLOW 1
#define V1MODEL_METER_COLOR_RED    2

/* An array of two-rate three-colour meters (RFC 2698). */
#if V1MODEL_VERSION >= 20200408
extern meter<I>
#else
extern meter
#endif
{
    meter(bit<32> size, MeterType type);
#if V1MODEL_VERSION >= 20200408
    void execute_meter<T>(in I index, out T result);
#else
    void execute_meter<T>(in bit<32> index, out T result);
#endif
}

/* A meter attached to one table: one meter per table entry. */
extern direct_meter<T> {
    direct_meter(MeterType type);
    void read(out T result);
}

/* An array of values kept across packets. */
#if V1MODEL_VERSION >= 20200408
extern register<T, I>
#else
extern register<T>
#endif
{
    register(bit<32> size);
#if V1MODEL_VERSION >= 20200408
    T    read(in I index);
    void read(out T result, in I index);
    void write(in I index, in T value);
#else
    void read(out T result, in bit<32> index);
    void write(in bit<32> index, in T value);
#endif
}

/* A table with `implementation = action_profile(size)` (or an instance of it) is indirect: its
 * entries point to members (an action with its arguments) that the control plane creates in the
 * profile; tables naming one instance share its members. size: the members it may hold. */
extern action_profile {
    action_profile(bit<32> size);
}

/* A uniformly distributed random number in [lo, hi]. */
extern void random<T>(out T result, in T lo, in T hi);

/* Send data to the control plane. */
extern void digest<T>(in bit<32> receiver, in T data);

enum HashAlgorithm {
    crc32,
    crc32_custom,
    crc16,
    crc16_custom,
    random,
    identity,
    csum16,
    xor16
}

/* Set egress_spec to the drop port (511). */
@pure
extern void mark_to_drop(inout standard_metadata_t standard_metadata);

/* result = base + (hash(data) mod max); a max of 0 is treated as 1. */
@pure
extern void hash<O, T, D, M>(out O result, in HashAlgorithm algo, in T base, in D data, in M max);

/* An action profile with groups of members: an entry may point to a group, which runs the member at
 * position hash % (group size), members in handle order, the hash taken with `algorithm` over the
 * table's `selector` keys (as BMv2 does; outputWidth is not used). @max_group_size(N) limits a group. */
extern action_selector {
    action_selector(HashAlgorithm algorithm, bit<32> size, bit<32> outputWidth);
}

enum CloneType {
    I2E,    // clone from ingress to egress
    E2E     // clone from egress to egress
}

@deprecated("Please use verify_checksum/update_checksum instead.")
extern Checksum16 {
    Checksum16();
    bit<16> get<D>(in D data);
}

/* Set standard_metadata.checksum_error if the checksum of data differs. */
extern void verify_checksum<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);

/* checksum = the checksum of data, if condition holds. */
@pure
extern void update_checksum<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);

/* As verify_checksum and update_checksum, with the unparsed payload appended to data. */
extern void verify_checksum_with_payload<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);
@noSideEffects
extern void update_checksum_with_payload<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);

/* Clone the packet to a clone session. */
extern void clone(in CloneType type, in bit<32> session);

@deprecated("Please use 'resubmit_preserving_field_list' instead")
extern void resubmit<T>(in T data);
/* Run ingress again on the original packet, keeping the metadata fields of @field_list(index). */
extern void resubmit_preserving_field_list(bit<8> index);

@deprecated("Please use 'recirculate_preserving_field_list' instead")
extern void recirculate<T>(in T data);
/* Send the deparsed packet back into the parser, keeping the metadata fields of @field_list(index). */
extern void recirculate_preserving_field_list(bit<8> index);

@deprecated("Please use 'clone' or 'clone_preserving_field_list' instead")
extern void clone3<T>(in CloneType type, in bit<32> session, in T data);
/* Clone, keeping the metadata fields of @field_list(index) in the clone. */
extern void clone_preserving_field_list(in CloneType type, in bit<32> session, bit<8> index);

/* Send at most length bytes of the packet. */
extern void truncate(in bit<32> length);

/* Stop with an error if check is false. */
extern void assert(in bool check);
/* Assume check holds (for verification tools); checked like assert here. */
extern void assume(in bool check);

/* Log a message, with "{}" replaced by the fields of data. */
extern void log_msg(string msg);
extern void log_msg<T>(string msg, in T data);

/* The six programmable blocks of the v1model pipeline. */
parser Parser<H, M>(packet_in b,
                    out H parsedHdr,
                    inout M meta,
                    inout standard_metadata_t standard_metadata);

control VerifyChecksum<H, M>(inout H hdr,
                             inout M meta);

@pipeline
control Ingress<H, M>(inout H hdr,
                      inout M meta,
                      inout standard_metadata_t standard_metadata);

@pipeline
control Egress<H, M>(inout H hdr,
                     inout M meta,
                     inout standard_metadata_t standard_metadata);

control ComputeChecksum<H, M>(inout H hdr,
                              inout M meta);

@deparser
control Deparser<H>(packet_out b, in H hdr);

package V1Switch<H, M>(Parser<H, M> p,
                       VerifyChecksum<H, M> vr,
                       Ingress<H, M> ig,
                       Egress<H, M> eg,
                       ComputeChecksum<H, M> ck,
                       Deparser<H> dep
                       );

#endif  /* _V1_MODEL_P4_ */
