"""The value syntax of control-plane files: integers, MAC, IPv4 and IPv6 addresses, and match forms.

Accepted scalars (for a field of a given width):
- integers: 42, 0x2a, 0b101010, 0o52, and strings of them (ASCII digits only); never negative;
- MAC addresses: "08:00:00:00:01:11" (or with '-');
- IPv4 addresses: "10.0.1.1"; IPv6 addresses: "2001:db8::1";
- booleans true/false (as 1/0).
Match forms in string shorthand: "10.0.0.0/8" (lpm), "0x0a000000 &&& 0xff000000"
(ternary), "1000..2000" (range), "*" or "_" (wildcard).

Key and action-parameter values (parse_field) also take the shapes the P4
tutorials' p4runtime_lib accepts (its convert.encode): a value wrapped in a
one-element list (`"hdr.myTunnel.dst_id": [1]`), and a negative JSON integer,
taken as its two's complement in the field's width when it fits.
"""

from __future__ import annotations

import ipaddress
import re

from ..runtime.tables import KeySpec, MatchValue
from .positions import MAX_NUMBER_DIGITS


class ValueError_(Exception):
    """A value that cannot be parsed or does not fit; the message is for the user."""


_MAC = re.compile(r"^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$")
_IPV4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
# ASCII digits only: int() and str.isdigit() also take the digits of other scripts ("１２" is 12 to int()).
_INTEGER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)")
MAX_VALUE_BITS = 4096        # wider than any field; also keeps messages that show a value printable


def parse_scalar(v, width: int | None = None, what: str = "value") -> int:
    """A non-negative integer from a number or a string; it must fit in bit<width> when width is given."""
    if isinstance(v, bool):
        n = int(v)
    elif isinstance(v, int):
        n = v
    elif isinstance(v, str):
        n = _parse_string(v.strip(), what)
    else:
        raise ValueError_(f"{what} must be a number or an address string, not {type(v).__name__}")
    if n.bit_length() > MAX_VALUE_BITS:
        raise ValueError_(f"{what} is too large ({n.bit_length()} bits)")
    # Negative values are refused rather than taken as two's complement: control-plane fields are bit<W>.
    if width is not None and (n < 0 or n >> width):
        raise ValueError_(f"{what} {_shown(v)} does not fit in bit<{width}>")
    if n < 0:
        raise ValueError_(f"{what} {_shown(v)} is negative")
    return n


def parse_field(v, width: int, what: str = "value") -> int:
    """A table key or action parameter value for a bit<width> field (see the module docstring)."""
    if isinstance(v, (list, tuple)) and len(v) == 1:
        v = v[0]
    if isinstance(v, int) and not isinstance(v, bool) and v < 0:
        if width == 0 or v < -(1 << (width - 1)):
            raise ValueError_(f"{what} {v} does not fit in bit<{width}> as a two's complement number")
        v += 1 << width
    return parse_scalar(v, width, what)


def _shown(v) -> str:
    """A value as the user wrote it, shortened so that a message stays readable."""
    text = str(v)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]}"


def _parse_string(s: str, what: str) -> int:
    if not s:
        raise ValueError_(f"{what} is empty")
    low = s.lower()
    if low in ("true", "false"):
        return int(low == "true")
    if _MAC.match(s):
        return int("".join(p.zfill(2) for p in re.split("[:-]", s)), 16)
    if _IPV4.fullmatch(s):
        try:
            return int(ipaddress.IPv4Address(s))
        except ipaddress.AddressValueError as exc:
            raise ValueError_(f"{what} {s!r} is not a valid IPv4 address: {exc}")
    if ":" in s:
        try:
            return int(ipaddress.IPv6Address(s))
        except ipaddress.AddressValueError:
            raise ValueError_(f"{what} {_shown(s)!r} is not a valid MAC or IPv6 address")
    if not _INTEGER.fullmatch(s):
        raise ValueError_(f"{what} {_shown(s)!r} is not a number or an address")
    digits = s.replace("_", "")
    body = digits.lstrip("+-")
    prefixed = body[:2].lower() in ("0x", "0b", "0o")
    # Decimal, leading zeros allowed; reading a long decimal number takes time quadratic in its length.
    if not prefixed and len(body) > MAX_NUMBER_DIGITS:
        raise ValueError_(f"{what} is too large ({len(body)} digits)")
    try:
        return int(digits, 0 if prefixed else 10)
    except ValueError:                   # only underscores after the prefix: "0x__"
        raise ValueError_(f"{what} {_shown(s)!r} is not a number or an address") from None


def parse_match(key: KeySpec, v, what: str | None = None) -> MatchValue:
    """A match value for one key field, from the runtime-JSON forms or the string shorthands."""
    what = what or f"key '{key.name}'"
    w = key.width
    kind = key.match_kind
    if v is None or (isinstance(v, str) and v.strip() in ("*", "_")):
        return wildcard(key)
    if kind == "exact":
        return MatchValue(parse_field(v, w, what))
    if kind == "lpm":
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise ValueError_(f"{what} is lpm: give [value, prefix length]")
            value, plen = v
            plen = parse_scalar(plen, None, f"the prefix length of {what}")
        elif isinstance(v, str) and "/" in v:
            value, _, plen_s = v.rpartition("/")
            plen = parse_scalar(plen_s, None, f"the prefix length of {what}")
        else:
            value, plen = v, w
        if plen > w:
            raise ValueError_(f"prefix length {plen} is longer than {what} ({w} bits)")
        n = parse_field(value, w, what)
        mask = (((1 << plen) - 1) << (w - plen)) & ((1 << w) - 1)
        return MatchValue(n & mask, prefix_len=plen)
    if kind in ("ternary", "optional"):
        value, mask = _pair(v, "&&&", None, f"{what} is {kind}: give [value, mask]")
        n = parse_field(value, w, what)
        m = (1 << w) - 1 if mask is None else parse_field(mask, w, f"the mask of {what}")
        if kind == "optional" and m not in (0, (1 << w) - 1):
            raise ValueError_(f"{what} is optional: it matches a value exactly or anything")
        return MatchValue(n & m, mask=m)
    if kind == "range":
        lo, hi = _pair(v, "..", v, f"{what} is a range: give [low, high]")
        lo_n, hi_n = parse_field(lo, w, what), parse_field(hi, w, what)
        if lo_n > hi_n:
            raise ValueError_(f"range {lo_n}..{hi_n} for {what} is empty")
        return MatchValue(lo=lo_n, hi=hi_n)
    raise ValueError_(f"match kind '{kind}' is not supported")


def wildcard(key: KeySpec) -> MatchValue:
    if key.match_kind == "exact":
        raise ValueError_(f"key '{key.name}' is exact: it needs a value")
    if key.match_kind == "lpm":
        return MatchValue(0, prefix_len=0)
    if key.match_kind == "range":
        return MatchValue(lo=0, hi=(1 << key.width) - 1)
    return MatchValue(0, mask=0)


def _pair(v, separator: str, second, problem: str) -> tuple:
    """A two-part match value written [a, b] or "a <separator> b"; a single value gives (v, second)."""
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError_(problem)
        return v[0], v[1]
    if isinstance(v, str) and separator in v:
        a, _, b = v.partition(separator)
        return a, b
    return v, second
