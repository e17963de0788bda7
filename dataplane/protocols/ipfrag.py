"""IPv4 fragmentation, exactly as RFC 791 section 3.2 describes it (R12, R13).

Every fragment carries a multiple of 8 data bytes but the last; NFB, the
number of 8-byte blocks that fit, is (MTU - header length) / 8. Fragments
keep the identification; MF is set on all but the last, which keeps the
original MF, so that fragments can be fragmented again; offsets add the
original offset. The first fragment carries every option; later ones only
the options whose copy flag (the top bit of the option type, RFC 791 3.1) is
set, re-padded to a multiple of 4 bytes. Checksums are recomputed.
"""

from __future__ import annotations

from .checksums import internet_checksum

MIN_IPV4_MTU = 68        # RFC 791: every router must forward 68 octets unfragmented (R15)


def split_options(options: bytes) -> list[bytes]:
    """The options of an IPv4 header, one bytes object each (EOL ends the list; NOPs are kept)."""
    out = []
    i = 0
    while i < len(options):
        t = options[i]
        if t == 0:                      # End of Option List
            break
        if t == 1:                      # No Operation
            out.append(b"\x01")
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2 or i + options[i + 1] > len(options):
            break                       # a malformed option ends the list
        out.append(options[i:i + options[i + 1]])
        i += options[i + 1]
    return out


def copied_options(options: bytes) -> bytes:
    """The options that go into every fragment (copy flag set), padded to 4 bytes."""
    kept = b"".join(o for o in split_options(options) if o[0] & 0x80)
    return kept + b"\x00" * (-len(kept) % 4)


def _header(base: bytes, options: bytes, total_len: int, mf: int, frag_offset: int) -> bytes:
    ihl = (20 + len(options)) // 4
    flags_word = int.from_bytes(base[6:8], "big")
    df = (flags_word >> 14) & 1
    word = (df << 14) | (mf << 13) | frag_offset
    h = bytearray(base[:20])
    h[0] = 0x40 | ihl
    h[2:4] = total_len.to_bytes(2, "big")
    h[6:8] = word.to_bytes(2, "big")
    h[10:12] = b"\x00\x00"
    h = bytes(h) + options
    return h[:10] + internet_checksum(h).to_bytes(2, "big") + h[12:]


def fragment_ipv4(datagram: bytes, mtu: int) -> list[bytes]:
    """Fragment an IPv4 datagram for a link MTU; a datagram that fits is returned as it is."""
    total = int.from_bytes(datagram[2:4], "big")
    if total <= mtu:
        return [datagram[:total]]
    ihl = (datagram[0] & 0x0F) * 4
    options = datagram[20:ihl]
    data = datagram[ihl:total]
    word = int.from_bytes(datagram[6:8], "big")
    orig_mf = (word >> 13) & 1
    orig_fo = word & 0x1FFF
    fragments = []
    offset = 0              # bytes of data already sent
    first = True
    while offset < len(data):
        opts = options if first else copied_options(options)
        hlen = 20 + len(opts)
        nfb = (mtu - hlen) // 8
        if nfb < 1:
            raise ValueError(f"MTU {mtu} cannot carry a fragment with a {hlen}-byte header")
        chunk = data[offset:offset + nfb * 8]
        last = offset + len(chunk) >= len(data)
        mf = orig_mf if last else 1
        fragments.append(_header(datagram, opts, hlen + len(chunk), mf, orig_fo + offset // 8) + chunk)
        offset += len(chunk)
        first = False
    return fragments
