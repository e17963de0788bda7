/* router.p4: dataplane's router architecture, a convention on top of v1model.
 *
 * A router (or any device with a control-plane agent) is a V1Switch pipeline
 * plus an agent, the device's "CPU", written in Python
 * (dataplane/router/agent.py). The pipeline forwards what it can; packets
 * that need the slow path go to the agent through the CPU port, and the agent
 * sends packets out of ports directly. The contract, which any program can
 * follow to use the agent:
 *
 * - The CPU port is CPU_PORT (510). A packet the pipeline sends there carries
 *   a cpu_in_t header in front of its Ethernet header, saying why
 *   (CPU_REASON_*), where the packet came in, and for CPU_REASON_NEEDS_FRAG
 *   the egress port and MTU the pipeline chose. For that reason the packet is
 *   the one the pipeline would have sent (TTL or hop limit already
 *   decremented, MAC addresses rewritten); for the others it is the packet as
 *   received.
 * - A packet from the agent enters the pipeline on CPU_PORT with a cpu_out_t
 *   header in front; the pipeline sends it out of cpu_out.egress_port
 *   unchanged (after removing cpu_out). The agent may also send packets out
 *   of ports without a pipeline pass.
 * - The agent configures the pipeline through tables named in its device
 *   configuration (interface MACs and MTUs, local addresses, routes).
 *
 * The agent answers ARP and Neighbor Solicitation for the router's addresses,
 * echo requests to them (ICMP and ICMPv6), sends ICMP / ICMPv6 errors (time
 * exceeded, destination unreachable, fragmentation needed, packet too big)
 * following RFC 1812 and RFC 4443, and fragments IPv4 packets (RFC 791).
 */

#ifndef _DATAPLANE_ROUTER_P4_
#define _DATAPLANE_ROUTER_P4_

#include <v1model.p4>
#include <inet.p4>

const bit<9> CPU_PORT = 510;

/* Why a packet goes to the CPU. */
const bit<8> CPU_REASON_LOCAL       = 1;   // addressed to the device: ARP, NS, echo, anything for its addresses
const bit<8> CPU_REASON_TTL_EXPIRED = 2;   // TTL or hop limit would expire when forwarding
const bit<8> CPU_REASON_NO_ROUTE    = 3;   // no route to the destination
const bit<8> CPU_REASON_NEEDS_FRAG  = 4;   // larger than the egress MTU: fragment (IPv4), or report it
const bit<8> CPU_REASON_BAD_PACKET  = 5;   // for the agent to count and log (it sends nothing)

/* In front of every packet the pipeline sends to CPU_PORT. */
@controller_header("packet_in")
header cpu_in_t {
    bit<8>  reason;         // CPU_REASON_*
    bit<8>  reserved;
    bit<16> ingress_port;   // where the packet came in
    bit<16> egress_port;    // NEEDS_FRAG: the port chosen by the pipeline
    bit<16> mtu;            // NEEDS_FRAG: that port's MTU
}

/* In front of every packet the agent sends into the pipeline on CPU_PORT. */
@controller_header("packet_out")
header cpu_out_t {
    bit<16> egress_port;    // send the packet that follows out of this port
    bit<16> flags;          // reserved, 0
}

/* RFC 1624 equation 3: the new checksum after one 16-bit word of the header
 * changes from old to new, HC' = ~(~HC + ~m + m'), in one's-complement
 * arithmetic (the carries are folded back in). */
bit<16> csum16_update(in bit<16> hc, in bit<16> old, in bit<16> new) {
    bit<32> s = (bit<32>)(~hc) + (bit<32>)(~old) + (bit<32>)new;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return ~(bit<16>)s;
}

#endif  /* _DATAPLANE_ROUTER_P4_ */
