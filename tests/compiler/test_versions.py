"""versions.py: the code after a parser with many exits gets a version per set of valid headers."""

from __future__ import annotations

import textwrap

from dataplane.compiler import simplify
from dataplane.compiler.simplify import simplify_function

from .test_fused import fast_source
from .test_packet_fuzz import program


def simplified(src: str) -> str:
    return "\n".join(simplify_function(textwrap.dedent(src).strip().splitlines())) + "\n"


def run(src: str, *args):
    namespace = {"ParserStop": type("ParserStop", (Exception,), {})}
    exec(src, namespace)
    return namespace["f"](*args)


# A parser with more exits than MAX_PARSER_EXITS, ending with three sets of valid headers; x's bits choose.
PARSER = "\n".join(
    ["def f(x):",
     "    a_v_p = b_v_p = c_v_p = False",
     "    try:",
     "        a_v_p = True",
     "        if x & 1:",
     "            if x & 2:",
     "                raise ParserStop(1)",
     "            b_v_p = True",
     "            k = x >> 2",
     *[f"            {'if' if i == 0 else 'elif'} k == {i}:\n                la_v_9 = True" for i in range(12)],
     "        elif x & 4:",
     "            c_v_p = True",
     "    except ParserStop as exc:",
     "        err = exc.args[0]",
     "    else:",
     "        err = 0",
     "    out = [err]",
     "    if a_v_p: out.append('a')",
     "    if b_v_p: out.append('b')",
     "    if c_v_p: out.append('c')",
     "    return out"])


def test_each_set_of_valid_headers_gets_its_version_and_every_path_the_same_result():
    assert PARSER.count("la_v_9 = True") > simplify.MAX_PARSER_EXITS
    out = simplified(PARSER)
    # b is valid on most paths: its version comes first; the lookahead flag (bound on some paths only)
    # is never tested.
    # (a is valid wherever the parser ends: propagation drops it from the tests.)
    assert "if b_v_p and (not c_v_p):" in out and "elif c_v_p and (not b_v_p):" in out
    assert "la_v_9" not in out.split("except ParserStop")[1]
    start = out.index("if b_v_p and")
    first = out[start:out.index("elif", start)]
    assert "if b_v_p" not in first.split(":", 1)[1] and "out.append('b')" in first     # folded in its version
    for x in range(256):
        assert run(out, x) == run(PARSER, x), x


def test_the_router_s_fast_function_has_versions_and_no_validity_tests_in_the_first():
    src = fast_source(program("ipv4_router"))
    start = src.index("if h_ethernet_v_p and h_ipv4_v_p and (not h_arp_v_p)")
    first = src[start:src.index("elif ", start)]
    assert "if h_ipv4_v_p" not in first.splitlines()[1:] and "if h_ethernet_v_p" not in first.splitlines()[1:]
    assert "if h_ipv4_options_v_p" not in first


def test_the_router_s_fast_path_and_its_stage_functions_agree_on_a_fat_tree_s_frames():
    """The frames a fat-tree router received, as they are and with IPv4 header bytes changed (options,
    bad checksums, TTL 1, other protocols), through fast() and through the traced stage functions of the
    same configured device: the same outputs and drop reasons."""
    import random

    from dataplane.bench import router_frames

    from .test_fused import outcome
    dev, frames = router_frames(400)
    frames = list(frames[:400])
    rng = random.Random(5)
    mutated = []
    for port, frame in frames[:200]:
        data = bytearray(frame)
        where = rng.choice([14, 14, 22, 23, 24, 25, 20, 21, 16, 17])       # IHL, TTL, protocol, checksum...
        data[where] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data) + 1)]
        mutated.append((port, bytes(data)))
    forwarded = 0
    for port, frame in frames + mutated:
        fast = dev.process(port, frame)
        staged = dev.process(port, frame, trace=True)
        assert outcome(fast) == outcome(staged), frame.hex()
        forwarded += bool(fast.outputs)
    assert dev.internal_errors == [] and forwarded > len(frames) * 0.9
