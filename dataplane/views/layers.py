"""A frame as the layers a student sees: each header, where it is, and its fields as people read them.

    frame_layers(frame) -> [{"name": "ethernet", "offset": 0, "length": 14, "parent": None,
                             "title": "Ethernet 02:00:00:01:00:01 > 02:00:00:02:00:01",
                             "fields": [{"name": "dstAddr", "value": "02:00:00:02:00:01",
                                         "offset_bits": 0, "width_bits": 48}, ...]},
                            {"name": "ipv4", "offset": 14, "length": 20, "parent": 0, ...}, ...]

The layers partition the frame: in order, each starts where the one before it
ends, and together they cover every byte exactly once. A layer's `offset` and
`length` are those of its own header (or data), not of what it carries;
`parent` is the index of the layer that carries it (Ethernet carries IP,
which carries TCP, which carries the payload; an IPv6 packet carries its
extension headers; an SCTP packet its chunks), so nested boxes are drawn from
it. A field's `offset_bits` counts from the start of the frame; its `value`
is what a person reads (addresses as text, other numbers as numbers,
variable parts as hex), and `text` says what a number means where it names
something ("IPv4", "echo request", "TCP").

Layouts come from inet.p4 through the protocol library and the dissector
(protocols/dissect.py), which also decides what follows what. ICMP and
ICMPv6 errors quote the packet that caused them: the quoted headers follow
the ICMP header as layers of their own whose `parent` is the ICMP layer and
which carry `"quoted": true` (a quote is usually cut short: a quoted
transport header may have only its first 8 bytes, which RFC 792 allows; it
then lists the fields that fit). A malformed header gives a layer with a
`problem` (a sentence); the bytes after it are one `undissected` layer. No
frame makes this raise.
"""

from __future__ import annotations

from ..protocols import packets as P
from ..protocols.dissect import SCTP_CHUNKS, Layer, dissect, icmp_name
from ..protocols.library import inet

_LIB = inet()

# Layers whose content, not header, is shown: their data is one field.
DATA_LAYERS = ("payload", "fragment data", "padding", "undissected")

_ADDRESSES = {("ethernet_t", "dstAddr"): P.mac_str, ("ethernet_t", "srcAddr"): P.mac_str,
              ("arp_t", "sha"): P.mac_str, ("arp_t", "tha"): P.mac_str,
              ("arp_t", "spa"): P.ip4_str, ("arp_t", "tpa"): P.ip4_str,
              ("ipv4_t", "srcAddr"): P.ip4_str, ("ipv4_t", "dstAddr"): P.ip4_str,
              ("ipv6_t", "srcAddr"): P.ip6_str, ("ipv6_t", "dstAddr"): P.ip6_str}

_ETHERTYPE_NAMES = {P.ETH_IPV4: "IPv4", P.ETH_ARP: "ARP", P.ETH_IPV6: "IPv6", P.ETH_VLAN: "802.1Q VLAN"}
_PROTOCOL_NAMES = {P.IP_ICMP: "ICMP", P.IP_TCP: "TCP", P.IP_UDP: "UDP", P.IP_SCTP: "SCTP", P.IP_ICMPV6: "ICMPv6",
                   0: "hop-by-hop options", 43: "routing header", 44: "fragment header", 59: "no next header",
                   60: "destination options"}
_ICMP_TYPES = {0: "echo reply", 3: "destination unreachable", 4: "source quench", 5: "redirect",
               8: "echo request", 11: "time exceeded", 12: "parameter problem"}
_ICMPV6_TYPES = {1: "destination unreachable", 2: "packet too big", 3: "time exceeded", 4: "parameter problem",
                 128: "echo request", 129: "echo reply", 133: "router solicitation", 134: "router advertisement",
                 135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect"}
_ICMP_ERRORS = {3, 4, 5, 11, 12}
_ICMPV6_ERRORS = {1, 2, 3, 4}
_ARP_OPERATIONS = {1: "request", 2: "reply"}

# The most bytes of data shown in a field's value (the frame's bytes are elsewhere).
DATA_SHOWN = 32


def frame_layers(frame: bytes) -> list[dict]:
    """The layers of an Ethernet frame (see the module docstring)."""
    out: list[dict] = []
    _add(out, dissect(frame), frame, parent=None, quoted=False)
    _fill_gaps(out, frame)
    return out


# ---------------------------------------------------------------------------- building


def _add(out: list[dict], layers: list[Layer], frame: bytes, parent: int | None, quoted: bool) -> None:
    """Append the dissector's layers, each with its parent; an ICMP error's quote is dissected in turn."""
    carrier = parent
    ip_end = len(frame)
    for layer in layers:
        # A malformed header may claim more bytes than the frame has.
        layer.length = max(0, min(layer.length, len(frame) - layer.offset))
        if layer.length == 0 and not layer.problem:
            continue                               # the dissector's "end of chunks" marker
        if layer.name in ("payload", "fragment data") and layer.offset + layer.length > ip_end:
            # Bytes after the IP packet's end are Ethernet padding, not data.
            _split_padding(out, layer, ip_end, carrier, frame, quoted)
            continue
        entry = _entry(layer, frame, carrier, quoted)
        out.append(entry)
        index = len(out) - 1
        if layer.problem:
            return
        if layer.name in ("ipv4", "ipv6"):
            ip_end = _ip_end(layer, frame)
        elif layer.name == "arp":
            ip_end = layer.offset + layer.length
        if layer.name == "sctp":
            carrier = index                         # chunks are siblings inside the SCTP packet
        elif layer.name == "sctp chunk":
            pass
        elif layer.name.startswith("ipv6 "):
            pass                                    # extension headers are siblings inside the IPv6 packet
        else:
            carrier = index
        if _is_icmp_error(layer):
            _add_quote(out, layer, frame, index, ip_end)
            if ip_end < len(frame) and out[-1]["offset"] + out[-1]["length"] == ip_end:
                out.append(_data_entry("padding", ip_end, len(frame) - ip_end, frame, 0, quoted))
            return


def _split_padding(out, layer: Layer, ip_end: int, carrier, frame: bytes, quoted: bool) -> None:
    start, end = layer.offset, layer.offset + layer.length
    if ip_end > start:
        out.append(_data_entry(layer.name, start, ip_end - start, frame, carrier, quoted))
    out.append(_data_entry("padding", max(start, ip_end), end - max(start, ip_end), frame, 0, quoted))


def _ip_end(layer: Layer, frame: bytes) -> int:
    f = layer.fields
    size = f["totalLen"] if layer.name == "ipv4" else 40 + f["payloadLen"]
    return min(layer.offset + size, len(frame))


def _is_icmp_error(layer: Layer) -> bool:
    if layer.name == "icmp":
        return layer.fields.get("type") in _ICMP_ERRORS
    if layer.name == "icmpv6":
        return layer.fields.get("type") in _ICMPV6_ERRORS
    return False


def _add_quote(out: list[dict], icmp: Layer, frame: bytes, index: int, ip_end: int) -> None:
    """The packet an ICMP error quotes, after the ICMP header, as layers whose parent is the ICMP layer."""
    start = icmp.offset + icmp.length
    quote = frame[:ip_end]
    if start >= ip_end:
        return
    first = "ipv4" if icmp.name == "icmp" else "ipv6"
    inner = dissect(quote, first=first, offset=start, quoted=True)
    before = len(out)
    for layer in inner:
        if layer.problem and layer.problem.startswith("truncated") and layer.header and layer.name != first \
                and len(quote) - layer.offset < _LIB.header(layer.header).size:
            _cut_short(layer, quote)
    _add(out, inner, quote, parent=index, quoted=True)
    end = out[-1]["offset"] + out[-1]["length"]
    if end < ip_end:          # after a problem in the quote
        out.append(_data_entry("undissected", end, ip_end - end, frame, index, True))
    for entry in out[before:]:
        entry["quoted"] = True


def _cut_short(layer: Layer, frame: bytes) -> None:
    """A quoted transport header cut short: the fields that fit, and a note instead of a problem."""
    codec = _LIB.header(layer.header)
    have = len(frame) - layer.offset
    padded = frame[layer.offset:] + bytes(codec.size - have)
    values = codec.unpack(padded)
    layer.fields = {n: values[n] for n, off, width in codec.fields if codec.size * 8 - off <= have * 8}
    layer.problem = None
    layer.note = f"quoted header cut short: {have} of {codec.size} bytes"


def _fill_gaps(out: list[dict], frame: bytes) -> None:
    """Bytes no layer took (after a problem, or beyond what the dissector reads) become `undissected`."""
    end = out[-1]["offset"] + out[-1]["length"] if out else 0
    if end < len(frame):
        out.append(_data_entry("undissected", end, len(frame) - end, frame, None, False))


def _entry(layer: Layer, frame: bytes, parent: int | None, quoted: bool) -> dict:
    if layer.name in DATA_LAYERS:
        return _data_entry(layer.name, layer.offset, layer.length, frame, parent, quoted)
    entry = {"name": layer.name, "offset": layer.offset, "length": layer.length, "parent": parent,
             "title": "", "fields": _fields(layer, frame)}
    if quoted:
        entry["quoted"] = True
    if layer.note:
        entry["note"] = layer.note
    if layer.problem:
        entry["problem"] = layer.problem
        entry["title"] = f"{_TITLE_NAMES.get(layer.name, layer.name)}: {layer.problem}"
    else:
        try:
            entry["title"] = _title(layer.name, {f["name"]: f["value"] for f in entry["fields"]})
        except KeyError:          # a quoted header cut short before a field the title names
            entry["title"] = f"{_TITLE_NAMES.get(layer.name, layer.name)} (cut short)"
    return entry


def _data_entry(name: str, offset: int, length: int, frame: bytes, parent, quoted: bool) -> dict:
    entry = {"name": name, "offset": offset, "length": length, "parent": parent,
             "title": f"{_TITLE_NAMES.get(name, name)}: {length} bytes",
             "fields": [_data_field("data", frame, offset, length)] if length else []}
    if quoted:
        entry["quoted"] = True
    return entry


def _data_field(name: str, frame: bytes, offset: int, length: int) -> dict:
    data = frame[offset:offset + length]
    shown = data[:DATA_SHOWN].hex() + ("..." if len(data) > DATA_SHOWN else "")
    return {"name": name, "value": shown, "offset_bits": offset * 8, "width_bits": length * 8}


def _fields(layer: Layer, frame: bytes) -> list[dict]:
    """The header's fields in wire order, with bit offsets from the start of the frame."""
    if layer.header is None:
        return []
    codec = _LIB.header(layer.header)
    base = layer.offset * 8
    out = []
    for name, lsb, width in codec.fields:
        if name not in layer.fields:
            continue
        start = codec.size * 8 - lsb - width
        field = {"name": name, "value": _value(layer.header, name, layer.fields[name]),
                 "offset_bits": base + start, "width_bits": width}
        meaning = _meaning(layer, name)
        if meaning:
            field["text"] = meaning
        out.append(field)
    out += _rest_fields(layer, frame, codec.size)
    return out


def _rest_fields(layer: Layer, frame: bytes, fixed: int) -> list[dict]:
    """The variable part after the fixed header: options, extension header data, a chunk's value."""
    if layer.problem or layer.length <= fixed:
        return []
    names = {"ipv4": "options", "tcp": "options", "sctp chunk": "value"}
    name = names.get(layer.name, "data")
    start = layer.offset + fixed
    if layer.name == "sctp chunk":
        value_end = layer.offset + layer.fields["length"]
        out = [_data_field("value", frame, start, value_end - start)] if value_end > start else []
        end = layer.offset + layer.length
        if end > value_end:
            out.append(_data_field("padding", frame, value_end, end - value_end))
        return out
    field = _data_field(name, frame, start, layer.length - fixed)
    if layer.name in ("ipv4", "tcp"):
        field["text"] = options_text(layer.name, frame[start:layer.offset + layer.length])
    return [field]


_IPV4_OPTIONS = {0: "end of options", 1: "no-op", 7: "record route", 68: "timestamp", 130: "security",
                 131: "loose source route", 137: "strict source route", 148: "router alert"}
_TCP_OPTIONS = {0: "end of options", 1: "no-op", 2: "MSS", 3: "window scale", 4: "SACK permitted", 5: "SACK",
                8: "timestamps", 34: "TCP Fast Open cookie"}


def options_text(layer: str, data: bytes) -> str:
    """The options of an IPv4 or TCP header by name, with the values people look at: `MSS 1460, no-op,
    window scale 7` (RFC 791 3.1, RFC 9293 3.2); a malformed list says where it stops making sense."""
    names = _IPV4_OPTIONS if layer == "ipv4" else _TCP_OPTIONS
    out: list[str] = []
    i = 0
    while i < len(data):
        kind = data[i]
        name = names.get(kind, f"option {kind}")
        if kind in (0, 1):
            out.append(name)
            i += 1
            if kind == 0:
                break                   # the rest is padding
            continue
        if i + 1 >= len(data) or data[i + 1] < 2 or i + data[i + 1] > len(data):
            out.append(f"{name} (bad length)")
            break
        value = data[i + 2:i + data[i + 1]]
        out.append(_option_value(layer, kind, name, value))
        i += data[i + 1]
    return ", ".join(out)


def _option_value(layer: str, kind: int, name: str, value: bytes) -> str:
    if layer == "tcp" and kind == 2 and len(value) == 2:
        return f"MSS {int.from_bytes(value, 'big')}"
    if layer == "tcp" and kind == 3 and len(value) == 1:
        return f"window scale {value[0]}"
    if layer == "tcp" and kind == 8 and len(value) == 8:
        return f"timestamps {int.from_bytes(value[:4], 'big')} {int.from_bytes(value[4:], 'big')}"
    if layer == "tcp" and kind == 5 and len(value) % 8 == 0:
        blocks = [f"{int.from_bytes(value[j:j + 4], 'big')}-{int.from_bytes(value[j + 4:j + 8], 'big')}"
                  for j in range(0, len(value), 8)]
        return f"SACK {' '.join(blocks)}"
    return name


def _value(header: str, name: str, v: int):
    fmt = _ADDRESSES.get((header, name))
    return fmt(v) if fmt is not None else v


def _meaning(layer: Layer, name: str) -> str | None:
    f = layer.fields
    v = f[name]
    if name == "etherType":
        return _ETHERTYPE_NAMES.get(v)
    if (layer.name == "ipv4" and name == "protocol") or name == "nextHdr":
        return _PROTOCOL_NAMES.get(v)
    if layer.name == "icmp" and name == "type":
        return _ICMP_TYPES.get(v)
    if layer.name == "icmpv6" and name == "type":
        return _ICMPV6_TYPES.get(v)
    if layer.name == "arp" and name == "oper":
        return _ARP_OPERATIONS.get(v)
    if layer.name == "sctp chunk" and name == "type":
        return SCTP_CHUNKS.get(v)
    if layer.name == "icmp" and name == "restOfHeader" and f.get("type") in (0, 8):
        return f"identifier {v >> 16}, sequence {v & 0xFFFF}"
    if layer.name == "icmp" and name == "restOfHeader" and f.get("type") == 3 and f.get("code") == 4:
        return f"next-hop MTU {v & 0xFFFF}"
    if layer.name == "icmpv6" and name == "body" and f.get("type") in (128, 129):
        return f"identifier {v >> 16}, sequence {v & 0xFFFF}"
    if layer.name == "icmpv6" and name == "body" and f.get("type") == 2:
        return f"MTU {v}"
    return None


# ---------------------------------------------------------------------------- titles

_TITLE_NAMES = {"ethernet": "Ethernet", "vlan": "802.1Q VLAN tag", "arp": "ARP", "ipv4": "IPv4", "ipv6": "IPv6",
                "icmp": "ICMP", "icmpv6": "ICMPv6", "udp": "UDP", "tcp": "TCP", "sctp": "SCTP",
                "sctp chunk": "SCTP chunk", "payload": "Data", "fragment data": "Fragment data",
                "padding": "Ethernet padding", "undissected": "Undissected bytes",
                "ipv6 fragment": "IPv6 fragment header"}


def _title(name: str, v: dict) -> str:
    """One line naming the layer and what matters in it."""
    if name == "ethernet":
        return f"Ethernet {v['srcAddr']} > {v['dstAddr']}"
    if name == "vlan":
        return f"802.1Q VLAN {v['vid']}"
    if name == "arp":
        if v["oper"] == 1:
            return f"ARP who-has {v['tpa']} tell {v['spa']}"
        return f"ARP {v['spa']} is-at {v['sha']}" if v["oper"] == 2 else f"ARP operation {v['oper']}"
    if name == "ipv4":
        flags = "".join(f" {n}" for n, k in (("DF", "df"), ("MF", "mf")) if v[k])
        frag = f" offset {v['fragOffset'] * 8}" if v["fragOffset"] else ""
        return (f"IPv4 {v['srcAddr']} > {v['dstAddr']} ttl {v['ttl']} id {v['identification']}{flags}{frag} "
                f"{_PROTOCOL_NAMES.get(v['protocol'], 'protocol ' + str(v['protocol']))}")
    if name == "ipv6":
        return (f"IPv6 {v['srcAddr']} > {v['dstAddr']} hop limit {v['hopLimit']} "
                f"{_PROTOCOL_NAMES.get(v['nextHdr'], 'next header ' + str(v['nextHdr']))}")
    if name == "ipv6 fragment":
        return (f"IPv6 fragment header id {v['identification']} offset {v['fragOffset'] * 8}"
                f"{' M' if v['mf'] else ''}")
    if name.startswith("ipv6 "):
        return f"IPv6 {name[5:]} header"
    if name in ("icmp", "icmpv6"):
        return f"{_TITLE_NAMES[name]} {icmp_name(v['type'], v['code'], name == 'icmpv6')} " \
               f"(type {v['type']}, code {v['code']})"
    if name == "udp":
        return f"UDP {v['srcPort']} > {v['dstPort']} length {v['length']}"
    if name == "tcp":
        if "window" not in v:         # quoted, cut short after the sequence number
            return f"TCP {v['srcPort']} > {v['dstPort']} seq {v['seqNo']}"
        flags = ",".join(n.upper() for n in ("syn", "fin", "rst", "psh", "ack", "urg", "ece", "cwr") if v[n])
        return f"TCP {v['srcPort']} > {v['dstPort']} [{flags or 'none'}] seq {v['seqNo']} ack {v['ackNo']}"
    if name == "sctp":
        return f"SCTP {v['srcPort']} > {v['dstPort']} tag 0x{v['verificationTag']:08x}"
    if name == "sctp chunk":
        return f"SCTP {SCTP_CHUNKS.get(v['type'], 'chunk type ' + str(v['type']))} chunk"
    return _TITLE_NAMES.get(name, name)


def covers(layers: list[dict], frame: bytes) -> bool:
    """Whether the layers partition the frame's bytes: in order, no gap, no overlap (the promise above)."""
    at = 0
    for layer in layers:
        if layer["offset"] != at or layer["length"] < 0:
            return False
        at += layer["length"]
    return at == len(frame)
