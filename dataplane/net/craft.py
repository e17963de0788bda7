"""Custom packets: frames built from a P4 program's own header types, and frames decoded with them.

The P4 tutorials send packets that ping cannot make (a calculator header, a
source route, a tunnel header, a probe) with scapy classes written beside
each program. Here the program itself is the description: its headers
struct names the header instances, its parser says in which order they come
and which value of which field leads from one to the next.

    program = build("calc.p4")
    frame = build_frame(program, {"ethernet": {"dstAddr": "08:00:00:00:01:02"},
                                  "p4calc": {"op": "+", "operand_a": 1, "operand_b": 2}},
                        payload=b"", defaults=HostDefaults(mac=0x080000000101, ipv4=None))
    for header in decode_frame(program, frame):
        print(header.render())          # ethernet(dstAddr=08:00:00:00:01:02, ...)  p4calc(p=0x50, ...)

build_frame(program, headers, payload, defaults) -> bytes
    `headers` maps header instance names of the program's headers struct
    (ethernet, p4calc, ipv4, ...) to their fields ({name: value}); a header
    stack takes a list, one mapping per element (srcRoutes: [{port: 2},
    {bos: 1, port: 1}]). A list of single-entry mappings ([{ethernet: {}},
    {p4calc: {...}}]) is taken too. Values are numbers (or number text such
    as "0x1234"), address strings where the width fits (MAC for 48 bits,
    IPv4 for 32, IPv6 for 128), true/false for 1-bit fields, and one
    character for an 8-bit field ("+" is 0x2b). Every field not given gets:
      1. the value the parser's select needs to go from this header's state
         to the next header's (etherType 0x1234 towards p4calc, the lookahead
         fields p, four and ver that calc's parser checks, the last
         srcRoutes element's bos = 1 towards ipv4, ...);
      2. for headers recognised by their layout (the widths and positions of
         their fields, whatever their names): Ethernet's srcAddr is the
         host's MAC and dstAddr broadcast (the router's MAC when the host's
         link leads to a router); the EtherType, IPv4 protocol or
         IPv6 next header of a recognised header that follows (IPv4, IPv6,
         UDP, TCP) when the parser does not choose; IPv4's version 4, ihl,
         totalLen, ttl 64, srcAddr the host's address and the header
         checksum; IPv6's
         version 6, payloadLen, hopLimit 64 and srcAddr; UDP's length and
         checksum, TCP's dataOffset and checksum (over the IP header before
         them);
      3. zero.
    The first header the parser always extracts (Ethernet) may be left out:
    it is added with its defaults. The headers go in the order the
    program's deparser emits them. Errors
    (an unknown header or field, a value that does not fit) raise
    CraftError, a ValueError whose message is one line and whose `path`
    names the key it is about (("headers", "ipv4", "ttl")), so that a
    topology loader can point at it.

frame_from_hex(text) -> bytes: a whole frame written in hex.

decode_frame(program, frame) -> list[Decoded]: the headers the program's own
    parser extracts from the frame (the compiled parser is run on it), each
    with its fields; then the payload. Decoded.render() writes a header as
    `name(field=value, ...)`, values in the format the field suggests (MAC,
    IPv4 and IPv6 addresses for *Addr fields, decimal for lengths, counts and
    TTLs, hex for types and checksums, a quoted character for an 8-bit field
    holding punctuation such as calc's op '+').

In a network (an interactive command calls these as the `send:` traffic
item does):

    program, defaults, port = resolve(net, "h1")     # the program h1's link leads to, h1's MAC and addresses
    sender = Sender(net, "h1", headers={"p4calc": {"op": "+", "operand_a": 1, "operand_b": 2}},
                    payload="", count=1, interval_ns=S, port=None, program=None)   # or hex="ffff..."
    sender.start(net.sim.now_ns)                      # sender.report(): what was sent, one line per header
    listen(net)                                       # net.receivers["h1"].received: [Received, ...]

resolve(net, host, port=None, program=None) -> (program, HostDefaults, port):
    `program` is a path (relative to the topology file) or a shipped
    program's name; by default the program of the device the host's link
    on `port` (default: its first interface) leads to. Raises CraftError.
Sender: an application (apps.App) that sends the frame `count` times,
    `interval_ns` apart, through Host.send_frame; building errors raise
    CraftError from its constructor (make_sender turns them into located
    diagnostics for a topology's `send:` item).
Receiver / listen(net): a packet socket on every host (unclaimed_only) that
    keeps, decoded with the host's program, every frame the stack does not
    take (an unknown EtherType or protocol, a closed port) or drops as
    broken (a bad checksum: shown with the reason, and still a drop), as
    the tutorials' receive.py sniffing the interface sees them;
    Received.render(host) is the line `dataplane run` prints.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass, field

from ..compiler.layout import HeaderLayout, header_layout
from ..frontend import ast as A
from ..frontend.types import BoolType, StackType, StructLikeType, strip_newtype
from ..protocols.checksums import internet_checksum, transport_checksum
from ..protocols.packets import ip4_str, ip6_str, mac_str
from ..runtime.trace import DropReason
from .apps import S, App
from .units import format_duration

BROADCAST = (1 << 48) - 1
# The parser search gives up after this many states visited, or this many states deep on one path (a
# frame's headers take a few dozen states; the bound keeps a pathological parser from exhausting the stack).
SEARCH_STEPS = 20_000
SEARCH_DEPTH = 400


class CraftError(ValueError):
    """A packet that cannot be built as written: a one-line message, and the key path it is about."""

    def __init__(self, message: str, path: tuple = (), key: bool = False):
        super().__init__(message)
        self.path = path
        self.key = key


@dataclass
class HostDefaults:
    """What a host fills in when a header leaves it unsaid: its MAC and addresses (None if it has none), and
    the Ethernet destination: broadcast, as the tutorials' send.py sends, or the router its link leads to."""
    mac: int = 0
    ipv4: int | None = None
    ipv6: int | None = None
    dst_mac: int = (1 << 48) - 1


# ---------------------------------------------------------------------------- the program's headers


@dataclass
class Instance:
    """A header instance of the program's headers struct: ethernet, ipv4, srcRoutes (a stack of 9), ..."""
    name: str
    layout: HeaderLayout
    size: int | None = None          # elements of a header stack; None for a header

    @property
    def type_name(self) -> str:
        return self.layout.name


class ProgramHeaders:
    """The header instances of a compiled program, its deparser's order and its parser's states."""

    def __init__(self, program):
        self.program = program
        checked = program.checked
        arch = checked.architecture
        blocks = list(arch.blocks.values()) if arch is not None else []
        parsers = [b.decl for b in blocks if isinstance(b.decl, A.ParserDeclaration)]
        self.parser = parsers[0] if parsers else None
        self.instances: dict[str, Instance] = {}
        self.param = None                # the parser's name for the headers struct: hdr
        headers_type = None
        if self.parser is not None:
            info = [b for b in blocks if b.decl is self.parser][0]
            for p in info.params:
                t = strip_newtype(p.type)
                if p.direction == "out" and isinstance(t, StructLikeType):
                    self.param, headers_type = p.name, t
                    break
        if headers_type is not None:
            self._collect(headers_type, "")
        self.states = {s.name: s for s in self.parser.states} if self.parser is not None else {}
        self.order = self._deparser_order(blocks)

    def _collect(self, t: StructLikeType, prefix: str) -> None:
        for name, ft in t.fields.items():
            ft = strip_newtype(ft)
            full = prefix + name
            if isinstance(ft, StackType) and ft.is_header_stack and isinstance(strip_newtype(ft.element),
                                                                               StructLikeType):
                element = strip_newtype(ft.element)
                if element.kind == "header":
                    self.instances[full] = Instance(full, header_layout(element), ft.size)
            elif isinstance(ft, StructLikeType) and ft.kind == "header":
                self.instances[full] = Instance(full, header_layout(ft))
            elif isinstance(ft, StructLikeType):            # a nested struct or a union: its headers
                self._collect(ft, full + ".")

    def _deparser_order(self, blocks) -> list[str]:
        """Instance names in the order the deparser emits them, then the others in declaration order."""
        order: list[str] = []
        for b in blocks:
            decl = b.decl
            if not isinstance(decl, A.ControlDeclaration) or decl.body is None:
                continue
            for node in decl.body.walk():
                if isinstance(node, A.Call) and isinstance(node.func, A.Member) and node.func.member == "emit" \
                        and node.args and node.args[0].value is not None:
                    path = _dotted(node.args[0].value)
                    if path is None:
                        continue
                    inner = ".".join(path[1:])
                    for name in self.instances:
                        if (not inner or name == inner or name.startswith(inner + ".")) and name not in order:
                            order.append(name)
        return order + [n for n in self.instances if n not in order]

    def first_header(self) -> str | None:
        """The header the parser extracts first whatever the frame (a header, not a stack), if there is one."""
        name, seen = "start", set()
        while name in self.states and name not in seen:
            seen.add(name)
            st = self.states[name]
            for stmt in st.statements:
                call = getattr(stmt, "call", None)
                if isinstance(call, A.Call) and isinstance(call.func, A.Member) and call.func.member == "extract" \
                        and call.args and call.args[0].value is not None:
                    path = _dotted(call.args[0].value)
                    inner = ".".join(path[1:]) if path and path[0] == self.param else None
                    found = self.instances.get(inner) if inner else None
                    return inner if found is not None and found.size is None else None
            name = _default_next(st.transition)
            if name is None:
                return None
        return None

    def instance(self, name: str, path: tuple) -> Instance:
        found = self.instances.get(name)
        if found is None:
            raise CraftError(_no_such(_program_name(self.program), "header", name, self.instances), path, key=True)
        return found


def _default_next(transition) -> str | None:
    """The next state of a frame from a host: a plain transition, or a select's default case (a select
    before any header looks at metadata, such as the router programs' CPU port)."""
    if isinstance(transition, str):
        return transition
    if isinstance(transition, A.SelectExpression):
        return next((c.state for c in transition.cases
                     if isinstance(c.keyset, (A.DefaultKeyset, A.DontCare))), None)
    return None


_PROGRAM_HEADERS: dict[int, ProgramHeaders] = {}


def program_headers(program) -> ProgramHeaders:
    """The ProgramHeaders of a compiled program, made once per program."""
    cached = _PROGRAM_HEADERS.get(id(program))
    if cached is None or cached.program is not program:
        cached = _PROGRAM_HEADERS[id(program)] = ProgramHeaders(program)
    return cached


def _dotted(e) -> list[str] | None:
    """hdr.ipv4 -> ["hdr", "ipv4"]; None for anything but a chain of names."""
    root, members = A.member_chain(e)
    return [root.name] + members if isinstance(root, A.Name) else None


def _no_such(owner: str, kind: str, name: str, names) -> str:
    """`owner` has no `kind` `name`: with the nearest of `names` when one is near, else all of them."""
    from .topology import suggest
    hint = suggest(name, names)
    return f"{owner} has no {kind} '{name}'" + (f" ({hint})" if hint else f"; its {kind}s are {', '.join(names) or 'none'}")


# ---------------------------------------------------------------------------- layouts recognised


# Field positions (bit offset from the start of the header, width) that make a header a well-known one,
# and the role of each: names differ between programs (diffserv or tos, flags or df/mf), positions do not.
_ROLES = {
    "ethernet": (112, {(0, 48): "dst", (48, 48): "src", (96, 16): "type"}),
    "ipv4": (160, {(0, 4): "version", (4, 4): "ihl", (16, 16): "totalLen", (64, 8): "ttl", (72, 8): "protocol",
                   (80, 16): "checksum", (96, 32): "src", (128, 32): "dst"}),
    "ipv6": (320, {(0, 4): "version", (32, 16): "payloadLen", (48, 8): "nextHdr", (56, 8): "hopLimit",
                   (64, 128): "src", (192, 128): "dst"}),
    "udp": (64, {(0, 16): "srcPort", (16, 16): "dstPort", (32, 16): "length", (48, 16): "checksum"}),
    "tcp": (160, {(0, 16): "srcPort", (16, 16): "dstPort", (32, 32): "seq", (64, 32): "ack", (96, 4): "dataOffset",
                  (128, 16): "checksum"}),
}


def field_positions(layout: HeaderLayout) -> dict[tuple[int, int], str]:
    """(bit offset from the header's start, width) -> field name, for the fixed fields."""
    return {(layout.fixed_width - f.offset - f.width, f.width): name for name, f in layout.fields.items()}


def recognise(layout: HeaderLayout) -> tuple[str | None, dict[str, str]]:
    """The well-known protocol a header's layout is ("ipv4", ...) and its role -> field name; or (None, {})."""
    positions = field_positions(layout)
    for proto, (width, roles) in _ROLES.items():
        if layout.fixed_width == width and all(pos in positions for pos in roles):
            return proto, {role: positions[pos] for pos, role in roles.items()}
    return None, {}


# ---------------------------------------------------------------------------- values


_MAC = re.compile(r"[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}")
_NUMBER = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)")


def field_value(value, width: int, what: str, path: tuple, is_bool: bool = False) -> int:
    """A field value from what a user writes: a number, number text, an address or one character."""
    if isinstance(value, bool):
        if width != 1:
            raise CraftError(f"{what} is a {width}-bit field: give a number, not {str(value).lower()}", path)
        return int(value)
    if isinstance(value, int):
        n = value
    elif isinstance(value, str):
        n = _text_value(value.strip(), width, what, path)
    else:
        raise CraftError(f"{what} must be a number or a string", path)
    if n < 0:
        raise CraftError(f"{what} = {n} is negative", path)
    if n >> width:
        raise CraftError(f"{what} = {_short(value)} does not fit in {width} bit{'s' if width != 1 else ''}", path)
    return n


def _text_value(text: str, width: int, what: str, path: tuple) -> int:
    if _NUMBER.fullmatch(text) and len(text) <= 200:
        try:
            return int(text, 0) if not re.fullmatch(r"[-+]?0[0-9_]+", text) else int(text.replace("_", ""), 10)
        except ValueError:
            pass
    if _MAC.fullmatch(text):
        if width != 48:
            raise CraftError(f"{what} is a {width}-bit field: a MAC address ({text}) needs 48 bits", path)
        return int(re.sub("[:-]", "", text), 16)
    if re.fullmatch(r"[0-9.]+", text) and text.count(".") == 3:
        try:
            a4 = int(ipaddress.IPv4Address(text))
        except ValueError:
            raise CraftError(f"{what}: '{_short(text)}' is not an IPv4 address", path) from None
        if width != 32:
            raise CraftError(f"{what} is a {width}-bit field: an IPv4 address ({text}) needs 32 bits", path)
        return a4
    if ":" in text:
        try:
            a6 = int(ipaddress.IPv6Address(text))
        except ValueError:
            a6 = None
        if a6 is not None:
            if width != 128:
                raise CraftError(f"{what} is a {width}-bit field: an IPv6 address ({text}) needs 128 bits", path)
            return a6
    if len(text) == 1 and ord(text) < 128:
        if width != 8:
            raise CraftError(f"{what} is a {width}-bit field: a character such as '{text}' is for 8-bit fields",
                             path)
        return ord(text)
    raise CraftError(f"{what}: '{_short(text)}' is not a number, an address or one character", path)


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def payload_bytes(value, path: tuple = ("payload",)) -> bytes:
    """A payload: text (sent as UTF-8) or bytes."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CraftError("the payload is text or bytes", path)


def frame_from_hex(text, path: tuple = ("hex",)) -> bytes:
    """A frame written in hex; spaces, colons and a leading 0x are allowed."""
    if not isinstance(text, str):
        raise CraftError("hex is a string of hex digits", path)
    digits = re.sub(r"[\s:]", "", text)
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not re.fullmatch(r"[0-9a-fA-F]*", digits) or len(digits) % 2:
        raise CraftError("hex must be pairs of hex digits (spaces and colons between them are allowed)", path)
    frame = bytes.fromhex(digits)
    if len(frame) < 14:
        raise CraftError(f"a {len(frame)}-byte frame is shorter than an Ethernet header (14 bytes)", path)
    return frame


# ---------------------------------------------------------------------------- building


@dataclass
class _Item:
    """One header of the frame being built: an instance (and element of a stack) with its values."""
    instance: Instance
    index: int | None
    given: dict[str, int]
    path: tuple
    values: dict[str, int] = field(default_factory=dict)
    varbit: bytes = b""
    proto: str | None = None
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.instance.name if self.index is None else f"{self.instance.name}[{self.index}]"

    @property
    def size(self) -> int:
        return self.instance.layout.fixed_bytes + len(self.varbit)


def build_frame(program, headers, payload: bytes | str = b"", defaults: HostDefaults | None = None) -> bytes:
    """The frame of `headers` (see the module's docstring) followed by `payload`; raises CraftError."""
    ph = program_headers(program)
    defaults = defaults or HostDefaults()
    items = _items(ph, headers)
    data = payload_bytes(payload)
    derived = _select_values(ph, items)
    for i, item in enumerate(items):
        item.proto, item.roles = recognise(item.instance.layout)
        if item.proto == "ethernet" and i != 0 or item.proto in ("udp", "tcp") and _ip_before(items, i) is None:
            item.proto, item.roles = None, {}
        item.values = dict(derived.get(i, {}))
        item.values.update(item.given)
    _fill_roles(items, defaults, len(data))
    return _pack_all(items, data)


def _items(ph: ProgramHeaders, headers) -> list[_Item]:
    """The headers as the user wrote them, checked against the program, in the deparser's order."""
    entries: list[tuple[str, object, tuple]] = []
    if isinstance(headers, dict):
        entries = [(str(k), v, ("headers", k)) for k, v in headers.items()]
    elif isinstance(headers, list):
        for i, one in enumerate(headers):
            if not isinstance(one, dict) or len(one) != 1:
                raise CraftError("each header in a list is written {name: {field: value, ...}}", ("headers", i))
            (k, v), = one.items()
            entries.append((str(k), v, ("headers", i, k)))
    else:
        raise CraftError("headers is a mapping from header names to their fields", ("headers",))
    items: list[_Item] = []
    seen: dict[str, tuple] = {}
    for name, fields, path in entries:
        inst = ph.instance(name, path)
        if name in seen and inst.size is None:
            raise CraftError(f"header '{name}' is given twice", path, key=True)
        seen[name] = path
        if inst.size is not None:
            elements = fields if isinstance(fields, list) else [fields]
            start = sum(1 for it in items if it.instance is inst)
            if start + len(elements) > inst.size:
                raise CraftError(f"'{name}' is a stack of {inst.size} headers; {start + len(elements)} are given",
                                 path)
            for j, element in enumerate(elements):
                where = path + (j,) if isinstance(fields, list) else path
                given, varbit = _given(inst, element, where, f"{name}[{start + j}]")
                items.append(_Item(inst, start + j, given, where, varbit=varbit))
        else:
            if isinstance(fields, list):
                raise CraftError(f"'{name}' is one header, not a stack: give its fields as a mapping", path)
            given, varbit = _given(inst, fields, path, name)
            items.append(_Item(inst, None, given, path, varbit=varbit))
    first = ph.first_header()
    if first is not None and first not in seen:
        # The header every frame starts with (Ethernet) may go unsaid: it gets its defaults.
        items.append(_Item(ph.instances[first], None, {}, ("headers",)))
    rank = {n: i for i, n in enumerate(ph.order)}
    items.sort(key=lambda it: (rank[it.instance.name], it.index or 0))
    return items


def _given(inst: Instance, fields, path: tuple, label: str) -> tuple[dict, bytes]:
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise CraftError(f"the fields of '{label}' are a mapping such as {{name: value}}", path)
    layout = inst.layout
    values: dict[str, int] = {}
    varbit = b""
    for fname, v in fields.items():
        where = path + (fname,)
        fname = str(fname)
        if layout.varbit is not None and fname == layout.varbit[0]:
            varbit = _varbit_value(v, layout.varbit[1], f"{label}.{fname}", where)
            continue
        f = layout.fields.get(fname)
        if f is None:
            raise CraftError(_no_such(f"header '{label}' ({inst.type_name})", "field", fname, layout.order), where,
                             key=True)
        values[fname] = field_value(v, f.width, f"{label}.{fname}", where,
                                    isinstance(strip_newtype(f.type), BoolType))
    return values, varbit


def _varbit_value(v, max_width: int, what: str, path: tuple) -> bytes:
    if isinstance(v, (bytes, bytearray)):
        data = bytes(v)
    elif isinstance(v, str) and re.fullmatch(r"(0[xX])?([0-9a-fA-F]{2})*", v.strip()):
        text = v.strip()
        data = bytes.fromhex(text[2:] if text[:2].lower() == "0x" else text)
    else:
        raise CraftError(f"{what} is a varbit field: give its bytes in hex, such as \"0x01020304\"", path)
    if len(data) * 8 > max_width:
        raise CraftError(f"{what}: {len(data)} bytes do not fit in varbit<{max_width}>", path)
    return data


def _ip_before(items: list[_Item], i: int) -> _Item | None:
    for j in range(i - 1, -1, -1):
        if items[j].proto in ("ipv4", "ipv6"):
            return items[j]
    return None


# -- the parser's select transitions


def _select_values(ph: ProgramHeaders, items: list[_Item]) -> dict[int, dict[str, int]]:
    """The field values that make the program's parser extract exactly `items`, in order: a path through
    its states is searched for (first one that accepts at the end of the headers, else one that is still
    extracting when the headers run out: the rest of the frame is then payload to it). Fields a user gave
    keep their values; a path that needs another value for one of them is not taken."""
    if ph.parser is None or "start" not in ph.states:
        return {}
    for strict in (True, False):
        found = _Search(ph, items, strict).run()
        if found is not None:
            return found
    return {}


class _Search:
    def __init__(self, ph: ProgramHeaders, items: list[_Item], strict: bool):
        self.ph, self.items, self.strict = ph, items, strict
        self.steps = 0

    def run(self) -> dict | None:
        return self.state("start", 0, {}, {}, frozenset())

    def state(self, name: str, pos: int, counts: dict, assigned: dict, on_path: frozenset) -> dict | None:
        """assigned: {(item index, field): value} chosen on the way; counts: stack elements extracted so far;
        on_path: the (state, headers extracted) visited on the way here, so that a loop that extracts
        nothing is not followed round again."""
        self.steps += 1
        if self.steps > SEARCH_STEPS or len(on_path) > SEARCH_DEPTH or (name, pos) in on_path:
            return None
        on_path = on_path | {(name, pos)}
        if name == "accept":
            return self.result(assigned) if pos == len(self.items) else None
        st = self.ph.states.get(name)
        if st is None:                        # reject, or a sub-parser's state we do not follow
            return None
        counts = dict(counts)
        for stmt in st.statements:
            target = self.extracted(stmt)
            if target is None:
                continue
            if pos == len(self.items):
                return None if self.strict else self.result(assigned)
            inst, index = target
            item = self.items[pos]
            if item.instance.name != inst:
                return None
            expected = counts.get(inst, 0) if index == "next" else index
            if item.index is not None and expected != item.index:
                return None
            counts[inst] = (item.index or 0) + 1
            pos += 1
        tr = st.transition
        if tr is None:
            return None
        if isinstance(tr, str):
            return self.state(tr, pos, counts, assigned, on_path)
        keys = [self.key(e, pos, counts) for e in tr.exprs]
        earlier: list = []
        for case in tr.cases:
            chosen = self.case(case.keyset, keys, assigned, earlier)
            earlier.append(case.keyset)
            if chosen is None:
                continue
            found = self.state(case.state, pos, counts, chosen, on_path)
            if found is not None:
                return found
        return None

    def result(self, assigned: dict) -> dict:
        out: dict[int, dict[str, int]] = {}
        for (i, fname), v in assigned.items():
            out.setdefault(i, {})[fname] = v
        return out

    def extracted(self, stmt) -> tuple[str, object] | None:
        """(instance, "next" | element index | None) of `packet.extract(hdr.x...)`; None for other statements."""
        call = getattr(stmt, "call", None)
        if not isinstance(call, A.Call) or not isinstance(call.func, A.Member) or call.func.member != "extract" \
                or not call.args or call.args[0].value is None:
            return None
        return self.instance_ref(call.args[0].value)

    def instance_ref(self, e) -> tuple[str, object] | None:
        index = None
        if isinstance(e, A.Member) and e.member in ("next", "last"):
            index, e = e.member, e.expr
        elif isinstance(e, A.Index):
            c = getattr(e.index, "const", None)
            index, e = (c if isinstance(c, int) else "?"), e.expr
        path = _dotted(e)
        if path is None or path[0] != self.ph.param:
            return None
        name = ".".join(path[1:])
        return (name, index) if name in self.ph.instances else None

    def key(self, e, pos: int, counts: dict):
        """The (item index, field) a select key reads, or None when it reads something else (metadata)."""
        if not isinstance(e, A.Member):
            return None
        fname = e.member
        inner = e.expr
        if isinstance(inner, A.Call) and isinstance(inner.func, A.Member) and inner.func.member == "lookahead":
            t = strip_newtype(getattr(inner, "type", None)) if getattr(inner, "type", None) is not None else None
            if pos < len(self.items) and isinstance(t, StructLikeType) and t.name == self.items[pos].instance.type_name:
                return pos, fname
            return None
        ref = self.instance_ref(inner)
        if ref is None:
            return None
        inst, index = ref
        extracted = counts.get(inst, 0) if self.ph.instances[inst].size is not None else None
        if index == "last" or (index is None and extracted is None):
            want = None if extracted is None else extracted - 1
        elif isinstance(index, int):
            want = index
        else:
            return None
        for i in range(pos - 1, -1, -1):
            it = self.items[i]
            if it.instance.name == inst and it.index == want:
                return (i, fname) if fname in it.instance.layout.fields else None
        return None

    def case(self, keyset, keys: list, assigned: dict, earlier: list) -> dict | None:
        """The assignments with which this case is taken, or None if it cannot be."""
        if isinstance(keyset, (A.DefaultKeyset, A.DontCare)):
            # Taken when no earlier case matches: the values as they stand must match none of them.
            for k in earlier:
                if self.matches_for_sure(k, keys, assigned):
                    return None
            return assigned
        elements = keyset.elements if isinstance(keyset, A.TupleKeyset) else [keyset]
        if len(elements) != len(keys):
            return None
        chosen = dict(assigned)
        for el, key in zip(elements, keys):
            if key is None or isinstance(el, (A.DefaultKeyset, A.DontCare)):
                continue
            wanted = _keyset_value(el)
            if wanted is None:
                return None if key in chosen or self.given(key) is not None else chosen
            current = chosen.get(key, self.given(key))
            if current is None:
                chosen[key] = wanted[0]
            elif current & wanted[1] != wanted[0] & wanted[1]:
                return None
        return chosen

    def given(self, key):
        i, fname = key
        return self.items[i].given.get(fname)

    def matches_for_sure(self, keyset, keys: list, assigned: dict) -> bool:
        """Whether an earlier case surely matches the values already set (given or chosen); unset fields are
        zero when the frame is packed, so they count as zero."""
        if isinstance(keyset, (A.DefaultKeyset, A.DontCare)):
            return True
        elements = keyset.elements if isinstance(keyset, A.TupleKeyset) else [keyset]
        if len(elements) != len(keys):
            return False
        for el, key in zip(elements, keys):
            if isinstance(el, (A.DefaultKeyset, A.DontCare)):
                continue
            if key is None:
                return False
            wanted = _keyset_value(el)
            current = assigned.get(key, self.given(key))
            if wanted is None or (current or 0) & wanted[1] != wanted[0] & wanted[1]:
                return False
        return True


def _keyset_value(el) -> tuple[int, int] | None:
    """(value, mask) of a select case element: a constant, value &&& mask, or lo..hi (lo)."""
    if isinstance(el, A.MaskKeyset):
        v, m = getattr(el.value, "const", None), getattr(el.mask, "const", None)
        return (v & m, m) if isinstance(v, int) and isinstance(m, int) else None
    if isinstance(el, A.RangeKeyset):
        lo = getattr(el.lo, "const", None)
        return (lo, -1) if isinstance(lo, int) else None
    c = getattr(el, "const", None)
    if isinstance(c, bool):
        c = int(c)
    return (c, -1) if isinstance(c, int) else None


# -- lengths, addresses and checksums


def _fill_roles(items: list[_Item], defaults: HostDefaults, payload_len: int) -> None:
    """Defaults of recognised headers, then lengths (before checksums, which cover them)."""
    sizes = [it.size for it in items]
    for i, it in enumerate(items):
        r, v, given = it.roles, it.values, it.given
        after = sum(sizes[i + 1:]) + payload_len             # bytes after this header
        def put(role: str, value) -> None:
            name = r.get(role)
            if name is not None and name not in given and value is not None:
                v[name] = value & it.instance.layout.fields[name].mask
        if it.proto == "ethernet":
            put("dst", defaults.dst_mac)
            put("src", defaults.mac)
        elif it.proto == "ipv4":
            put("version", 4)
            put("ihl", it.size // 4)
            put("ttl", 64)
            put("src", defaults.ipv4)
            put("totalLen", it.size + after)
        elif it.proto == "ipv6":
            put("version", 6)
            put("hopLimit", 64)
            put("src", defaults.ipv6)
            put("payloadLen", after)
        elif it.proto == "udp":
            put("length", it.size + after)
        elif it.proto == "tcp":
            put("dataOffset", it.size // 4)
        step = _NEXT_PROTOCOL.get(it.proto)
        if step is not None and i + 1 < len(items) and r.get(step[0]) not in v:
            # The parser did not say (it never selects on this field): the number of the next header's protocol.
            number = {name: n for n, name in step[1].items()}.get(items[i + 1].proto)
            put(step[0], number)


def _pack(item: _Item) -> bytes:
    layout = item.instance.layout
    bits = 0
    for name, value in item.values.items():
        f = layout.fields[name]
        bits |= (value & f.mask) << f.offset
    return bits.to_bytes(layout.fixed_bytes, "big") + item.varbit


def _pack_all(items: list[_Item], payload: bytes) -> bytes:
    packed = [_pack(it) for it in items]
    # Transport checksums first (innermost), over the segment with its checksum field zero.
    for i, it in enumerate(items):
        name = it.roles.get("checksum")
        if it.proto not in ("udp", "tcp") or name in it.given:
            continue
        ip = _ip_before(items, i)
        src, dst = ip.values.get(ip.roles["src"], 0), ip.values.get(ip.roles["dst"], 0)
        it.values[name] = 0
        segment = _pack(it) + b"".join(packed[i + 1:]) + payload
        it.values[name] = transport_checksum(src, dst, 17 if it.proto == "udp" else 6, segment,
                                             ip.proto == "ipv6")
        packed[i] = _pack(it)
    for i, it in enumerate(items):
        name = it.roles.get("checksum")
        if it.proto == "ipv4" and name not in it.given:
            it.values[name] = 0
            it.values[name] = internet_checksum(_pack(it))
            packed[i] = _pack(it)
    return b"".join(packed) + payload


# ---------------------------------------------------------------------------- decoding


@dataclass
class Decoded:
    """One header the program's parser extracted (name as in the headers struct), or the payload."""
    name: str
    layout: HeaderLayout | None
    values: dict[str, int]
    data: bytes = b""                   # the payload's bytes (for name "payload")

    def render(self) -> str:
        if self.layout is None:
            return f"payload({_payload_text(self.data)})"
        proto, roles = recognise(self.layout)
        by_field = {f: role for role, f in roles.items()}
        parts = [f"{n}={format_field(n, self.values[n], self.layout.fields[n].width, proto, by_field.get(n))}"
                 for n in self.layout.order if n in self.values]
        return f"{self.name}({', '.join(parts)})"


def render_headers(decoded: list[Decoded], sep: str = " ") -> str:
    return sep.join(d.render() for d in decoded)


_DECIMAL_HINTS = ("len", "ttl", "hop", "count", "cnt", "port", "seq", "ack", "window", "num", "time", "operand",
                  "res", "remaining", "bos", "offset", "size", "id", "depth", "spec", "index", "qid")
_HEX_HINTS = ("type", "proto", "flag", "checksum", "csum", "ver", "code", "diffserv", "tos", "dscp", "ecn")
_DECIMAL_ROLES = {"version", "ihl", "totalLen", "ttl", "protocol", "payloadLen", "nextHdr", "hopLimit", "srcPort",
                  "dstPort", "length", "seq", "ack", "dataOffset"}


def format_field(name: str, value: int, width: int, proto: str | None = None, role: str | None = None) -> str:
    """A field's value as its name suggests: addresses for *Addr, decimal for quantities, hex for codes."""
    low = name.lower()
    if role in ("src", "dst") and proto is not None or low.endswith("addr"):
        if width == 48:
            return mac_str(value)
        if width == 32:
            return ip4_str(value)
        if width == 128:
            return ip6_str(value)
    if role in _DECIMAL_ROLES:
        return str(value)
    if role in ("checksum", "type"):
        return f"0x{value:0{(width + 3) // 4}x}"
    if any(h in low for h in _HEX_HINTS):
        return f"0x{value:0{(width + 3) // 4}x}"
    if width == 1 or any(h in low for h in _DECIMAL_HINTS):
        return str(value)
    if width == 8 and 0 <= value < 128 and chr(value) in string.punctuation:
        return repr(chr(value)) if chr(value) not in "'\\" else f'"{chr(value)}"'
    if width > 8:
        return str(value)
    return f"0x{value:02x}"


def _payload_text(data: bytes) -> str:
    shown = data[:32]
    text = "".join(chr(b) if 32 <= b < 127 and chr(b) not in "\"\\" else f"\\x{b:02x}" for b in shown)
    more = "..." if len(data) > len(shown) else ""
    return f"{len(data)} byte{'s' if len(data) != 1 else ''}: \"{text}{more}\""


class Decoder:
    """Runs a program's own parser (on a device of its own, with no table entries) to decode frames."""

    def __init__(self, program):
        from ..runtime.device import Device
        self.program = program
        self.headers = program_headers(program)
        self.device = Device(program, name="decoder")

    def decode(self, frame: bytes, port: int = 1) -> list[Decoded]:
        from ..runtime.trace import Extract, StageStart
        result = self.device.process(port, frame, trace=True)
        out: list[Decoded] = []
        counts: dict[str, int] = {}
        offset = 0
        prefix = (self.headers.param or "hdr") + "."
        for ev in result.trace.events:
            if isinstance(ev, StageStart) and ev.stage != "parser":
                break
            if not isinstance(ev, Extract):
                continue
            name = ev.header[len(prefix):] if ev.header.startswith(prefix) else ev.header
            if name.endswith(".next"):
                base = name[:-5]
                name = f"{base}[{counts.get(base, 0)}]"
                counts[base] = counts.get(base, 0) + 1
            layout = ev.layout
            values = {n: (ev.bits >> f.offset) & f.mask for n, f in layout.fields.items()}
            out.append(Decoded(name, layout, values))
            offset += layout.fixed_bytes + ev.varbit_len // 8
        offset = self._continue(out, frame, offset)
        if offset < len(frame):
            out.append(Decoded("payload", None, {}, frame[offset:]))
        return out

    def _continue(self, out: list[Decoded], frame: bytes, offset: int) -> int:
        """Where the parser stopped, the protocol number of a well-known header leads on to the program's own
        header of the next protocol's layout: source_routing's last switch makes the frame IPv4 again, which
        its parser reaches only through the routes, yet the program has the IPv4 header to show it with."""
        while out and out[-1].layout is not None:
            proto, roles = recognise(out[-1].layout)
            step = _NEXT_PROTOCOL.get(proto)
            if step is None:
                break
            role, table = step
            wanted = table.get(out[-1].values.get(roles[role]))
            inst = next((i for i in self.headers.instances.values()
                         if i.size is None and wanted is not None and recognise(i.layout)[0] == wanted), None)
            if inst is None or offset + inst.layout.fixed_bytes > len(frame):
                break
            layout = inst.layout
            bits = int.from_bytes(frame[offset:offset + layout.fixed_bytes], "big")
            out.append(Decoded(inst.name, layout, {n: (bits >> f.offset) & f.mask for n, f in layout.fields.items()}))
            offset += layout.fixed_bytes
        return offset


# A well-known header's field that names the next protocol, and the values that name the ones recognised.
_NEXT_PROTOCOL = {"ethernet": ("type", {0x0800: "ipv4", 0x86DD: "ipv6"}),
                  "ipv4": ("protocol", {6: "tcp", 17: "udp"}),
                  "ipv6": ("nextHdr", {6: "tcp", 17: "udp"})}


_DECODERS: dict[int, Decoder] = {}


def decode_frame(program, frame: bytes) -> list[Decoded]:
    """The headers the program's parser extracts from `frame`, then the payload (see the module docstring)."""
    d = _DECODERS.get(id(program))
    if d is None or d.program is not program:
        d = _DECODERS[id(program)] = Decoder(program)
    return d.decode(frame)


def _fallback_decode(frame: bytes) -> list[Decoded]:
    """Without a program: the Ethernet header of the header library, then the payload."""
    from ..protocols.library import inet
    layout = inet().header("ethernet_t").layout
    values = {n: (int.from_bytes(frame[:14], "big") >> f.offset) & f.mask for n, f in layout.fields.items()}
    return [Decoded("ethernet", layout, values), Decoded("payload", None, {}, frame[14:])]


# ---------------------------------------------------------------------------- in a network


def resolve(net, host: str, port: int | None = None, program: str | None = None):
    """(compiled program, HostDefaults, port) for building frames on `host`: the program named (a path,
    relative to the topology file, or a shipped program's name), else the program of the device the
    host's link on `port` (default: its first interface) leads to. Raises CraftError."""
    from ..build import build
    from ..locate import find_program
    if host not in net.hosts:
        what = "a device" if host in net.devices else "not a node"
        raise CraftError(f"'{host}' is {what} of {net.topo.name}, not a host", ("from",))
    h = net.hosts[host]
    if port is None:
        port = min(h.interfaces)
    if port not in h.interfaces:
        raise CraftError(f"host {host} has no port {port} (its ports: {', '.join(map(str, sorted(h.interfaces)))})",
                         ("port",))
    iface = h.interfaces[port]
    v6 = [a for a in iface.ipv6 if not a.ip.is_link_local]
    defaults = HostDefaults(iface.mac, int(iface.ipv4.ip) if iface.ipv4 is not None else h.primary_address(False),
                            int(v6[0].ip) if v6 else h.primary_address(True))
    peer = neighbour(net, host, port)
    router_mac = _router_mac(net, host, port)
    if router_mac is not None:
        defaults.dst_mac = router_mac          # a router takes only frames to its own MAC (and broadcasts to it)
    if program is not None:
        found = find_program(str(program), net.topo.path)
        if found is None:
            raise CraftError(f"cannot find the P4 program '{program}'", ("program",))
        return build(found), defaults, port
    if peer is None or peer not in net.devices:
        where = "is not connected" if peer is None else f"leads to {peer}, which runs no P4 program"
        raise CraftError(f"the link of {host} port {port} {where}: name the program whose headers to use "
                         f"('program')", ("from",))
    return net.devices[peer].device.program, defaults, port


def _router_mac(net, host: str, port: int) -> int | None:
    """The MAC of the router interface at the other end of a host's link, if a router is there."""
    end = _other_end(net, host, port)
    if end is None or net.topo.nodes[end[0]].kind != "router":
        return None
    mac = net.topo.nodes[end[0]].interfaces[end[1]].mac
    return mac if isinstance(mac, int) else None


def _other_end(net, host: str, port: int) -> tuple[str, str] | None:
    """(node, interface) at the other end of the link on a host's port."""
    spec = net.topo.nodes[host]
    iface = next((i.name for i in spec.interfaces.values() if i.port == port), None)
    for link in net.topo.links:
        if link.a == (host, iface):
            return link.b
        if link.b == (host, iface):
            return link.a
    return None


def neighbour(net, host: str, port: int) -> str | None:
    """The node at the other end of the link on a host's port."""
    end = _other_end(net, host, port)
    return end[0] if end is not None else None


def _located(net, exc: CraftError, base: tuple, positions=None):
    from ..diagnostics import error
    pos = positions if positions is not None else net.topo.positions
    if pos is None:
        return error(f"{net.topo.path}: {exc}")
    path = base + exc.path
    return error(str(exc), pos.key_span(path) if exc.key else pos.span(path))


def _program_name(program) -> str:
    import os
    return os.path.basename(program.checked.path)


@dataclass
class Received:
    """A frame a host's stack did not take, as its packet socket got it, decoded with the host's program."""
    time_ns: int
    port: int
    frame: bytes
    headers: list[Decoded]
    dropped: str | None = None           # why the stack dropped it, when it was broken (a bad checksum)

    def render(self, host: str) -> str:
        line = f"{host} received from port {self.port} at {_ms(self.time_ns)}: {render_headers(self.headers)}"
        return line + (f" (then dropped by its stack: {self.dropped})" if self.dropped else "")


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


class Receiver:
    """Prints what a host receives that its stack does not take (an unknown EtherType or IP protocol, a
    closed port; or a frame it drops as broken, with the reason), decoded with the headers of the program
    its link leads to: what the tutorials' receive.py, sniffing the interface, shows."""

    def __init__(self, net, host: str):
        self.net, self.host = net, host
        self.received: list[Received] = []
        self._programs: dict[int, object] = {}
        h = net.hosts[host]
        for port in h.interfaces:
            try:
                self._programs[port] = resolve(net, host, port)[0]
            except CraftError:
                self._programs[port] = None
        self.socket = h.open_packet_socket(self._frame, unclaimed_only=True)

    def _frame(self, port: int, frame: bytes) -> None:
        program = self._programs.get(port)
        headers = decode_frame(program, frame) if program is not None else _fallback_decode(frame)
        reason, detail = self.socket.verdict
        dropped = None
        if reason not in (DropReason.NO_LISTENER, DropReason.NOT_FOR_US):
            dropped = reason.value + (f" ({detail})" if detail else "")
        self.received.append(Received(self.net.sim.now_ns, port, frame, headers, dropped))

    @property
    def lines(self) -> list[str]:
        return [r.render(self.host) for r in self.received]

    def render(self) -> str:
        return "\n".join(self.lines)


def listen(net) -> dict[str, Receiver]:
    """A Receiver on every host of the network (once): net.receivers, host name -> Receiver."""
    if not net.receivers:
        for name in net.hosts:
            net.receivers[name] = Receiver(net, name)
    return net.receivers


class Sender(App):
    """The `send:` traffic item: a frame built from a program's header types (or given in hex), sent
    `count` times, one every `interval`, through the host's packet socket (Host.send_frame)."""

    name = "send"

    def __init__(self, net, host: str, headers=None, payload=b"", hex=None, count: int = 1,
                 interval_ns: int = S, port: int | None = None, program: str | None = None):
        self.program, defaults, self.port = resolve(net, host, port, program)
        super().__init__(net, host)
        self.frame = frame_from_hex(hex) if hex is not None else \
            build_frame(self.program, headers if headers is not None else {}, payload, defaults)
        self.headers = decode_frame(self.program, self.frame)
        self.count, self.interval = count, interval_ns
        self.sent = 0
        self.refused = 0

    def _begin(self) -> None:
        self._send()

    def _send(self) -> None:
        if self.host.send_frame(self.port, self.frame):
            self.sent += 1
        else:
            self.refused += 1
        if self.sent + self.refused < self.count:
            self.sim.schedule(self.interval, self._send)
        else:
            self.done = True

    def report(self) -> str:
        n = self.sent + self.refused
        every = f", one every {format_duration(self.interval)}" if self.count > 1 else ""
        head = (f"send on {self.host.name} port {self.port} ({_program_name(self.program)}'s headers): "
                f"{self.sent} frame{'s' if self.sent != 1 else ''} of {len(self.frame)} bytes sent{every}")
        if self.refused:
            head += f", {self.refused} of {n} refused (the port is not connected)"
        if n < self.count:
            head += f" ({self.count - n} not sent: the run stopped first)"
        return "\n".join([head] + ["  " + h.render() for h in self.headers])


def make_sender(net, params: dict, path: tuple = (), positions=None):
    """A Sender from a validated `send:` traffic item; CraftErrors become diagnostics located in the file
    of `positions` (default: the topology's)."""
    try:
        return Sender(net, params["from"], headers=params.get("headers"), payload=params.get("payload", b""),
                      hex=params.get("hex"), count=params.get("count", 1),
                      interval_ns=params.get("interval", 1_000_000_000), port=params.get("port"),
                      program=params.get("program"))
    except CraftError as exc:
        raise _located(net, exc, path + ("send",), positions) from None


def describe_send(params: dict) -> str:
    """A `send:` item as one line: 'from h1: ethernet, p4calc (payload 10 bytes, count 3)'."""
    headers = params.get("headers") or {}
    if "hex" in params:
        what = "a frame given in hex"
    elif isinstance(headers, dict):
        what = ", ".join(f"{k}[{len(v)}]" if isinstance(v, list) else str(k) for k, v in headers.items())
    else:
        what = ", ".join(str(next(iter(h))) for h in headers if isinstance(h, dict) and h)
    extra = []
    if params.get("payload"):
        extra.append(f"payload {len(payload_bytes(params['payload']))} bytes")
    for k in ("count", "port"):
        if k in params:
            extra.append(f"{k} {params[k]}")
    if "interval" in params:
        extra.append(f"interval {format_duration(params['interval'])}")
    if "program" in params:
        import os
        extra.append(f"program {os.path.basename(params['program'])}")
    return f"from {params['from']}: {what or 'the first header alone'}" + (f" ({', '.join(extra)})" if extra else "")
