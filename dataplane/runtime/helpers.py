"""Small functions called by generated pipelines (kept out of line for rare operations).

Hot operations (field access, masking, comparisons) are inlined by the code
generator; what is here is either rare (saturation, division, signed shifts
by a variable amount) or shared by all programs (hashing, checksums)."""

from __future__ import annotations

from .hashing import ALGORITHMS, csum16_int, pack_bits


class ExitControl(Exception):
    """Raised by `exit`; caught at the end of the block that is running."""


class ParserStop(Exception):
    """Raised inside the generated parser when it must stop with an error (args: error code)."""


def shl(a: int, n: int, width: int) -> int:
    return (a << n) & ((1 << width) - 1) if n < width else 0


def sar(a: int, n: int, width: int) -> int:
    """Arithmetic right shift of a signed width-bit pattern."""
    sign = 1 << (width - 1)
    v = (a ^ sign) - sign
    return (v >> min(n, width)) & ((1 << width) - 1)


def add_sat(a: int, b: int, width: int) -> int:
    s = a + b
    m = (1 << width) - 1
    return m if s > m else s


def sub_sat(a: int, b: int, width: int) -> int:
    return a - b if a > b else 0


def add_sat_signed(a: int, b: int, width: int) -> int:
    sign = 1 << (width - 1)
    v = ((a ^ sign) - sign) + ((b ^ sign) - sign)
    v = min(max(v, -sign), sign - 1)
    return v & ((1 << width) - 1)


def sub_sat_signed(a: int, b: int, width: int) -> int:
    sign = 1 << (width - 1)
    v = ((a ^ sign) - sign) - ((b ^ sign) - sign)
    v = min(max(v, -sign), sign - 1)
    return v & ((1 << width) - 1)


def div(a: int, b: int) -> int:
    """Unsigned division; division by zero gives 0 rather than stopping the pipeline."""
    return a // b if b else 0


def mod(a: int, b: int) -> int:
    return a % b if b else 0


def hash_value(algo: str, data: int, width: int, base: int, max_: int, out_width: int) -> int:
    """v1model hash(): base + (H(data) mod max), with max 0 treated as 1 (BMv2)."""
    if algo == "identity":
        h = data
    else:
        fn = ALGORITHMS.get(algo)
        if fn is None:
            raise ValueError(f"hash algorithm {algo} is not supported")
        h = fn(pack_bits(data, width))
    if max_ == 0:
        max_ = 1
    return (base + h % max_) & ((1 << out_width) - 1)


def checksum(algo: str, data: int, width: int, payload: bytes = b"") -> int:
    """The checksum of a field list (and optionally the payload) for verify/update_checksum."""
    if algo == "csum16" and not payload:
        return csum16_int(data, width)
    fn = ALGORITHMS.get(algo)
    if fn is None:
        raise ValueError(f"checksum algorithm {algo} is not supported")
    return fn(pack_bits(data, width) + payload) & 0xFFFF if algo in ("csum16", "crc16", "xor16") \
        else fn(pack_bits(data, width) + payload)


def format_log(msg: str, values: tuple) -> str:
    """log_msg formatting: each "{}" is replaced by the next value."""
    parts = msg.split("{}")
    out = [parts[0]]
    for i, rest in enumerate(parts[1:]):
        out.append(str(values[i]) if i < len(values) else "{}")
        out.append(rest)
    return "".join(out)
