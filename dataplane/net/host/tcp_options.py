"""TCP options of RFC 7323 (window scale, timestamps) and the option layouts TCP sends, as Linux sends them.

The layouts (Linux's tcp_options_write, so tshark shows the familiar order):

  SYN, SYN,ACK   MSS, SACK-permitted, TS, NOP, WS      with SACK permitted and timestamps (20 bytes)
                 MSS, NOP, NOP, TS, NOP, WS            timestamps, no SACK (20 bytes)
                 MSS, NOP, NOP, SACK-permitted, NOP, WS   no timestamps (12 bytes)
                 MSS, NOP, WS                          neither (8 bytes)
  other segments NOP, NOP, TS                          when the connection uses timestamps (12 bytes)

The window scale shift is chosen as Linux's tcp_select_initial_window does: the smallest shift that lets
the largest receive window the socket may reach (its receive buffer's limit) fit the 16-bit field.

Timestamps (RFC 7323 4-5) are read from a clock of 1 ms ticks (Linux's TCP_TS_HZ = 1000) plus an
offset per connection, drawn from the stack's seeded secret (Linux's tcp_ts_off: a keyed hash of the
addresses), so runs repeat and one connection's timestamps tell nothing of another's.
"""

from __future__ import annotations

import hashlib
import struct

__all__ = ["KIND_EOL", "KIND_NOP", "KIND_MSS", "KIND_WSCALE", "KIND_SACK_PERMITTED", "KIND_TIMESTAMP",
           "MAX_WSCALE", "TS_OPTION_HEAD", "TS_OPTION_LEN", "TS_VALUES", "TS_TICK_NS", "PAWS_24DAYS_NS",
           "PAWS_WINDOW", "syn_options", "timestamp_option", "window_shift", "scaled_window", "ts_before",
           "ts_offset", "ts_now", "cookie_ts_encode", "cookie_ts_decode"]

KIND_EOL, KIND_NOP, KIND_MSS, KIND_WSCALE, KIND_SACK_PERMITTED, KIND_TIMESTAMP = 0, 1, 2, 3, 4, 8
MAX_WSCALE = 14                       # RFC 7323 2.3: a larger shift is taken as 14
TS_OPTION_LEN = 12                    # NOP, NOP, TS: what timestamps cost every segment
TS_OPTION_HEAD = bytes((KIND_NOP, KIND_NOP, KIND_TIMESTAMP, 10))
TS_VALUES = struct.Struct("!II")      # TSval, TSecr
TS_TICK_NS = 1_000_000                # Linux's TCP_TS_HZ: timestamps tick every millisecond
PAWS_24DAYS_NS = 24 * 86400 * 1_000_000_000   # RFC 7323 5.5: TS.Recent is invalid after 24 days idle
PAWS_WINDOW = 1                       # Linux's TCP_PAWS_WINDOW: a TSval one tick older is still accepted


# ---------------------------------------------------------------------------- encoding


def _mss(mss: int) -> bytes:
    return struct.pack("!BBH", KIND_MSS, 4, mss)


def _timestamp(tsval: int, tsecr: int) -> bytes:
    return struct.pack("!BBII", KIND_TIMESTAMP, 10, tsval % (1 << 32), tsecr % (1 << 32))


def syn_options(mss: int, wscale: int | None = None, ts: tuple[int, int] | None = None,
                sack_permitted: bool = False) -> bytes:
    """The options of a SYN or SYN,ACK in Linux's order; `wscale` our shift, `ts` (TSval, TSecr), when sent."""
    out = _mss(mss)
    if ts is not None:
        out += (bytes((KIND_SACK_PERMITTED, 2)) if sack_permitted else bytes((KIND_NOP, KIND_NOP))) + _timestamp(*ts)
    elif sack_permitted:
        out += bytes((KIND_NOP, KIND_NOP, KIND_SACK_PERMITTED, 2))
    if wscale is not None:
        out += bytes((KIND_NOP, KIND_WSCALE, 3, wscale))
    return out


def timestamp_option(tsval: int, tsecr: int) -> bytes:
    """NOP, NOP, TS: the timestamps of a segment other than a SYN, aligned as RFC 7323 appendix A suggests."""
    return TS_OPTION_HEAD + TS_VALUES.pack(tsval % (1 << 32), tsecr % (1 << 32))


# ---------------------------------------------------------------------------- window scaling (RFC 7323 2)


def window_shift(space: int) -> int:
    """The shift that lets a window of `space` bytes be advertised (Linux's tcp_select_initial_window)."""
    shift = 0
    while space > 0xFFFF and shift < MAX_WSCALE:
        space >>= 1
        shift += 1
    return shift


def scaled_window(window: int, shift: int) -> int:
    """The 16-bit field that advertises `window` with `shift`: rounded up, so that rounding never moves the
    right edge left of what the receiver offers (RFC 7323 2.4; Linux rounds the same way)."""
    return min(0xFFFF, -(-window >> shift))


# ---------------------------------------------------------------------------- timestamps (RFC 7323 3-5)


def ts_before(a: int, b: int) -> bool:
    """a < b for timestamps, modulo 2**32 (RFC 7323 5.2: "less than" is in 32-bit sequence space)."""
    return 0 < (b - a) % (1 << 32) < (1 << 31)


def ts_offset(secret: bytes, local: int, remote: int) -> int:
    """A connection's timestamp offset, from the stack's secret and the two addresses (Linux's tcp_ts_off)."""
    return int.from_bytes(hashlib.sha256(secret + f"ts {local} {remote}".encode()).digest()[:4], "big")


def ts_now(now_ns: int, offset: int) -> int:
    """TSval at now_ns: the millisecond clock plus the offset, 32 bits."""
    return (now_ns // TS_TICK_NS + offset) % (1 << 32)


# ---------------------------------------------------------------------------- SYN cookies


# Linux (syncookies.c, cookie_init_timestamp) keeps what the SYN asked for in the low 6 bits of the
# SYN,ACK's TSval, which the returning ACK echoes in TSecr: the peer's window shift (4 bits; 15 for none),
# SACK permitted, ECN.
_COOKIE_TS_BITS = 6
_COOKIE_NO_WSCALE = 0xF


def cookie_ts_encode(tsval: int, wscale: int | None, sack: bool, ecn: bool) -> int:
    """TSval for a SYN,ACK with a SYN cookie: its low bits say what the SYN negotiated, never in the future."""
    bits = (_COOKIE_NO_WSCALE if wscale is None else wscale) | (sack << 4) | (ecn << 5)
    mask = (1 << _COOKIE_TS_BITS) - 1
    ts = (tsval & ~mask) | bits
    if ts_before(tsval, ts):
        ts -= 1 << _COOKIE_TS_BITS
    return ts % (1 << 32)


def cookie_ts_decode(tsecr: int) -> tuple[int | None, bool, bool]:
    """(peer's window shift or None, SACK permitted, ECN) from the TSecr of the ACK returning a cookie."""
    wscale = tsecr & 0xF
    return (None if wscale == _COOKIE_NO_WSCALE else min(wscale, MAX_WSCALE)), bool(tsecr & 0x10), bool(tsecr & 0x20)
