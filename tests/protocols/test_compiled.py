"""The generated header codecs (protocols/compiled.py) and the fast builders and checksums, against the generic
field walk and the byte-building checksums they replace: the same bytes, values and errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataplane.protocols import packets as P
from dataplane.protocols.checksums import (internet_checksum, ones_sum, pseudo_header_v4, pseudo_header_v6,
                                           transport_checksum, transport_checksum_of, transport_sum,
                                           verify_transport)
from dataplane.protocols.compiled import compile_header, slots_of
from dataplane.protocols.library import inet

CODECS = sorted(inet().headers.items())
FIXED = [(name, c) for name, c in CODECS if c.fields]


@pytest.mark.parametrize("name", [name for name, _ in CODECS])
def test_every_inet_header_is_compiled(name):
    assert inet().header(name).compiled is not None


def _values(codec):
    return st.tuples(*[st.integers(0, (1 << w) - 1) for _, _, w in codec.fields])


@pytest.mark.parametrize("name,codec", FIXED, ids=[n for n, _ in FIXED])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_packed_headers_equal_the_generic_pack(name, codec, data):
    values = data.draw(_values(codec))
    expected = codec.pack_generic(**dict(zip(codec.field_names, values)))
    assert codec.pack_fields(*values) == expected
    if codec.varbit is None:
        assert codec.pack(**dict(zip(codec.field_names, values))) == expected


@pytest.mark.parametrize("name,codec", FIXED, ids=[n for n, _ in FIXED])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_unpacked_headers_equal_the_generic_unpack(name, codec, data):
    raw = data.draw(st.binary(min_size=codec.size, max_size=codec.size + 6))
    offset = data.draw(st.integers(0, len(raw) - codec.size))
    expected = codec.unpack_generic(raw, offset)
    assert codec.unpack(raw, offset) == expected and list(codec.unpack(raw, offset)) == list(expected)
    assert codec.unpack_fields(raw, offset) == tuple(expected.values())


@pytest.mark.parametrize("name,codec", FIXED, ids=[n for n, _ in FIXED])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_value_that_does_not_fit_fails_as_the_generic_pack_does(name, codec, data):
    values = list(data.draw(_values(codec)))
    i = data.draw(st.integers(0, len(values) - 1))
    width = codec.fields[i][2]
    values[i] = data.draw(st.one_of(st.integers(1 << width, 1 << (width + 70)), st.integers(-(1 << 70), -1)))
    with pytest.raises(ValueError) as generic:
        codec.pack_generic(**dict(zip(codec.field_names, values)))
    with pytest.raises(ValueError) as fast:
        codec.pack_fields(*values)
    assert str(fast.value) == str(generic.value)


def test_values_that_are_not_ints_are_converted_as_before():
    ipv4 = inet().header("ipv4_t")
    assert ipv4.pack(version=4, ihl=5.0, ttl=True, srcAddr=1.9) == ipv4.pack_generic(version=4, ihl=5, ttl=1, srcAddr=1)


def test_unknown_fields_and_short_data_give_the_same_errors():
    udp = inet().header("udp_t")
    with pytest.raises(TypeError, match="udp_t has no field 'port'"):
        udp.pack(srcPort=1, port=2)
    with pytest.raises(ValueError, match=r"udp_t.srcPort = 65536 does not fit in 16 bits"):
        udp.pack(srcPort=65536, port=2)          # the values are checked first, as the generic walk does
    for unpack in (udp.unpack, udp.unpack_fields, udp.unpack_generic):
        with pytest.raises(ValueError, match="udp_t needs 8 bytes, only 3 left"):
            unpack(b"\x00" * 10, 7)


def test_varbit_headers_keep_their_tail():
    options = inet().header("ipv4_options_t")
    assert options.pack(options=b"\x01\x01\x01\x00") == b"\x01\x01\x01\x00"


def test_slots_end_on_byte_boundaries():
    ipv4 = inet().header("ipv4_t")
    assert "".join(s.code for s in slots_of(ipv4.fields)) == "BBHHHBBHII"
    eth = inet().header("ethernet_t")
    assert [s.code for s in slots_of(eth.fields)] == ["6s", "6s", "H"]
    assert slots_of([("a", 3, 4), ("b", 0, 3)]) is None            # 7 bits: never ends on a byte
    assert compile_header("gap_t", [("a", 9, 8), ("b", 0, 8)], 2, lambda **v: b"") is None     # a hole


def test_field_names_become_prefixed_identifiers_only():
    with pytest.raises(ValueError, match="not an identifier"):
        compile_header("bad_t", [("a b", 0, 8)], 1, lambda **v: b"")


# ---------------------------------------------------------------------------- checksums


def _old_csum16(data: bytes) -> int:
    if len(data) & 1:
        data += b"\x00"
    value = int.from_bytes(data, "big")
    s = value % 0xFFFF
    if s == 0 and value:
        s = 0xFFFF
    return ~s & 0xFFFF


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=70), st.sampled_from([b"", b"\x00", b"\xff\xff", b"\xff\xff\xff\xff", b"\xff"])))
def test_internet_checksum_is_rfc_1071(data):
    assert internet_checksum(data) == _old_csum16(data)


ADDR4 = st.integers(0, (1 << 32) - 1)
ADDR6 = st.integers(0, (1 << 128) - 1)


@settings(max_examples=200, deadline=None)
@given(v6=st.booleans(), data=st.data())
def test_transport_sums_equal_the_sum_over_the_pseudo_header(v6, data):
    addr = ADDR6 if v6 else ADDR4
    src, dst = data.draw(addr), data.draw(addr)
    proto = data.draw(st.sampled_from([6, 17, 58]))
    header = data.draw(st.binary(min_size=8, max_size=24).filter(lambda b: len(b) % 2 == 0))
    payload = data.draw(st.binary(max_size=40))
    segment = header + payload
    pseudo = pseudo_header_v6(src, dst, len(segment), proto) if v6 else pseudo_header_v4(src, dst, proto, len(segment))
    assert transport_sum(src, dst, proto, segment, v6) == ones_sum(pseudo + segment)
    old = ~ones_sum(pseudo + segment) & 0xFFFF
    old = 0xFFFF if proto == 17 and old == 0 else old
    assert transport_checksum(src, dst, proto, segment, v6) == old
    assert transport_checksum_of(src, dst, proto, header, payload, v6) == old


def test_a_pseudo_header_that_cannot_be_built_still_raises():
    with pytest.raises(Exception):
        transport_checksum(1 << 32, 1, 17, b"\x00" * 8, False)
    with pytest.raises(Exception):
        transport_checksum(-1, 1, 17, b"\x00" * 8, True)


@settings(max_examples=100, deadline=None)
@given(src=ADDR4, dst=ADDR4, sport=st.integers(0, 65535), dport=st.integers(0, 65535), payload=st.binary(max_size=30))
def test_udp_checksums_verify(src, dst, sport, dport, payload):
    seg = P.udp(src, dst, sport, dport, payload)
    assert verify_transport(src, dst, P.IP_UDP, seg, False) is None
    assert seg[6:8] != b"\x00\x00"                  # R29: a computed zero goes out as 0xFFFF


# ---------------------------------------------------------------------------- builders


def _generic_udp(src, dst, sport, dport, payload, v6=False):
    raw = inet().header("udp_t").pack_generic(srcPort=sport, dstPort=dport, length=8 + len(payload)) + payload
    ck = transport_checksum(src, dst, P.IP_UDP, raw, v6)
    return raw[:6] + ck.to_bytes(2, "big") + raw[8:]


def _generic_ipv4(src, dst, proto, payload_len, ttl, ident, df, mf, frag, options, dscp, ecn):
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    ihl = 5 + len(options) // 4
    raw = inet().header("ipv4_t").pack_generic(
        version=4, ihl=ihl, dscp=dscp, ecn=ecn, totalLen=ihl * 4 + payload_len, identification=ident, df=int(df),
        mf=int(mf), fragOffset=frag, ttl=ttl, protocol=proto, srcAddr=src, dstAddr=dst) + options
    ck = _old_csum16(raw)
    return raw[:10] + ck.to_bytes(2, "big") + raw[12:]


@settings(max_examples=100, deadline=None)
@given(src=ADDR4, dst=ADDR4, proto=st.integers(0, 255), n=st.integers(0, 1400), ttl=st.integers(0, 255),
       ident=st.integers(0, 65535), df=st.booleans(), mf=st.booleans(), frag=st.integers(0, 8191),
       options=st.binary(max_size=40), dscp=st.integers(0, 63), ecn=st.integers(0, 3))
def test_ipv4_headers_equal_the_generic_build(src, dst, proto, n, ttl, ident, df, mf, frag, options, dscp, ecn):
    assert P.ipv4_header(src, dst, proto, n, ttl=ttl, ident=ident, df=df, mf=mf, frag_offset=frag, options=options,
                         dscp=dscp, ecn=ecn) == _generic_ipv4(src, dst, proto, n, ttl, ident, df, mf, frag, options,
                                                              dscp, ecn)


@settings(max_examples=100, deadline=None)
@given(v6=st.booleans(), data=st.data(), sport=st.integers(0, 65535), dport=st.integers(0, 65535),
       payload=st.binary(max_size=60))
def test_udp_segments_equal_the_generic_build(v6, data, sport, dport, payload):
    addr = ADDR6 if v6 else ADDR4
    src, dst = data.draw(addr), data.draw(addr)
    assert P.udp(src, dst, sport, dport, payload, v6=v6) == _generic_udp(src, dst, sport, dport, payload, v6)


@settings(max_examples=100, deadline=None)
@given(src=ADDR4, dst=ADDR4, seq=st.integers(0, (1 << 33)), ack=st.integers(0, (1 << 33)),
       flags=st.sets(st.sampled_from(P.TCP_FLAGS)), window=st.integers(0, 65535), payload=st.binary(max_size=40),
       options=st.binary(max_size=20))
def test_tcp_segments_equal_the_generic_build(src, dst, seq, ack, flags, window, payload, options):
    padded = options + b"\x00" * (-len(options) % 4)
    raw = inet().header("tcp_t").pack_generic(
        srcPort=1, dstPort=2, seqNo=seq & 0xFFFFFFFF, ackNo=ack & 0xFFFFFFFF, dataOffset=5 + len(padded) // 4,
        window=window, **{f: 1 for f in flags}) + padded + payload
    ck = transport_checksum(src, dst, P.IP_TCP, raw, False)
    assert P.tcp(src, dst, 1, 2, seq, ack, flags, window, payload, options) == raw[:16] + ck.to_bytes(2, "big") + raw[18:]


def test_builders_refuse_values_that_do_not_fit_as_before():
    with pytest.raises(ValueError, match=r"ipv4_t.ttl = 300 does not fit in 8 bits"):
        P.ipv4(1, 2, 17, b"", ttl=300)
    with pytest.raises(ValueError, match=r"udp_t.length = 70008 does not fit in 16 bits"):
        P.udp(1, 2, 3, 4, bytes(70000))
    with pytest.raises(ValueError, match=r"ipv4_t.df = 2 does not fit in 1 bits"):
        P.ipv4(1, 2, 17, b"", df=2)


def test_builders_convert_values_that_are_not_ints_as_before():
    assert P.ipv4_header(1, 2, 17, 10, ttl=64.0, ident=7.9) == _generic_ipv4(1, 2, 17, 10, 64, 7, False, False, 0, b"",
                                                                             0, 0)
    assert P.udp(1, 2, 1000.0, 53, b"q") == _generic_udp(1, 2, 1000, 53, b"q")
