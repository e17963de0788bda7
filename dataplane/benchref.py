"""A hand-written pure-Python pipeline for the benchmark's IPv4 router, to measure the generated one against.

`reference_lpm(dev)` does by hand what programs/basic_ipv4.p4 compiles to,
for the same device (its ipv4_lpm table, the same lookup structure, its
default action): parse Ethernet and IPv4, verify the IPv4 header checksum,
look the destination up, rewrite the MAC addresses, set the port, decrement
the TTL, recompute the checksum and put the packet back together. It is
written as a careful Python programmer would write it for this one program
(locals, one int per header, one to_bytes), and returns what the generated
fast function returns, a hop result: ``(port, packet)``, or the runner's
drop result. `dataplane bench` measures both in the same run and prints the
ratio; tests check that both give the same bytes on many packets.
"""

from __future__ import annotations

_LOW64 = (1 << 64) - 1
_ALL_BUT_TTL = ((1 << 160) - 1) ^ (0xFF << 88)          # of the IPv4 header's 160 bits
_ALL_BUT_CHECKSUM = ((1 << 160) - 1) ^ (0xFFFF << 64)


def reference_lpm(dev):
    """The hand-written pipeline `forward(port, data)` of basic_ipv4.p4 on device `dev`."""
    table = dev.table("ipv4_lpm")
    forward_aid = next(a.aid for a in table.actions if a.short_name == "ipv4_forward")
    dropped = dev.runner.DROPPED_AT_INGRESS

    def forward(port: int, data: bytes):
        # Too short for Ethernet + IPv4, or not IPv4: ingress drops it (the parser error is not looked at).
        if len(data) < 34:
            return dropped
        eth = int.from_bytes(data[0:14], "big")
        if eth & 0xFFFF != 0x0800:
            return dropped
        ip = int.from_bytes(data[14:34], "big")
        # RFC 1071 over the header without its checksum field: the sum of 16-bit words is the value
        # modulo 0xFFFF (a nonzero multiple of 0xFFFF sums to 0xFFFF).
        covered = ((ip >> 80) << 64) | (ip & _LOW64)
        s = covered % 0xFFFF
        if 0xFFFF ^ (s or (0xFFFF if covered else 0)) != (ip >> 64) & 0xFFFF:
            return dropped
        entry = table.lookup(ip & 0xFFFFFFFF)
        if entry is None:
            aid, args = table.default_aid, table.default_args
        else:
            aid, args = entry.aid, entry.args
        if aid != forward_aid:
            return dropped
        mac, out_port = args
        if out_port == 511:
            return dropped
        ip = (ip & _ALL_BUT_TTL) | (((((ip >> 88) & 0xFF) - 1) & 0xFF) << 88)
        covered = ((ip >> 80) << 64) | (ip & _LOW64)
        s = covered % 0xFFFF
        ip = (ip & _ALL_BUT_CHECKSUM) | ((0xFFFF ^ (s or (0xFFFF if covered else 0))) << 64)
        eth = (mac << 64) | ((eth >> 64) << 16) | 0x0800
        return out_port, ((eth << 160) | ip).to_bytes(34, "big") + data[34:]

    return forward


def reference_replay(dev, in_path: str, out_dir: str, port: int = 1) -> int:
    """A hand-written pcap-to-pcap replay of basic_ipv4.p4 on device `dev`: what `dataplane replay` does
    with one classic pcap file (nanosecond timestamps, little-endian, as PcapWriter writes it), written
    plainly: read the file, unpack each record, run reference_lpm's pipeline, append each output with its
    record header to its port's list, write each list at the end. Returns the packets read."""
    import os
    import struct
    forward = reference_lpm(dev)
    record = struct.Struct("<IIII")
    unpack, pack = record.unpack_from, record.pack
    with open(in_path, "rb") as f:
        buf = f.read()
    if buf[:4] != struct.pack("<I", 0xA1B23C4D):
        raise ValueError("reference_replay reads little-endian nanosecond pcap files only")
    outputs: dict[int, list] = {}
    pos, end, now_ns, packets = 24, len(buf), 0, 0
    while pos < end:
        sec, ns, incl, _orig = unpack(buf, pos)
        data = buf[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        packets += 1
        t = sec * 1_000_000_000 + ns
        if t > now_ns:
            now_ns = t
        out_port, pkt = forward(port, data)
        if out_port is not None:                 # else dropped
            n = len(pkt)
            sec, ns = divmod(now_ns, 1_000_000_000)
            outputs.setdefault(out_port, []).extend((pack(sec & 0xFFFFFFFF, ns, n, n), pkt))
    os.makedirs(out_dir, exist_ok=True)
    header = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)
    for out_port, chunks in outputs.items():
        with open(os.path.join(out_dir, f"port{out_port}.pcap"), "wb") as f:
            f.write(header + b"".join(chunks))
    return packets
