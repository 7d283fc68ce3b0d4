"""The compiled response-head parser (ADR-016) against the pure-Python reference.

For any block the compiled ``parse_status_head`` either returns exactly what
``parse_status_head_python`` returns, or None (and the reference decides). It never
accepts a head the reference refuses, and never raises.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import LimitExceeded, RemoteProtocolError
from reqivo_protocol.http11 import _head

try:
    from reqivo_protocol.http11 import _speedups
except ImportError:  # a pure-Python build: only the reference runs
    _speedups = None  # type: ignore[assignment]

#: CI builds the extension (REQIVO_REQUIRE_EXTENSIONS): its absence there is a failure.
requires_compiled = pytest.mark.skipif(
    _speedups is None and not os.environ.get("REQIVO_REQUIRE_EXTENSIONS"),
    reason="the compiled accelerator is not built here",
)

Parsed = tuple[str, int, str, list[tuple[str, str, str]], list[str]]


def reference(block: bytes, max_count: int) -> Parsed | type[Exception]:
    """The reference's result, or the class of what it raised."""
    try:
        return _head.parse_status_head_python(block, max_count)
    except (RemoteProtocolError, LimitExceeded) as exc:
        return type(exc)


def agree(block: bytes, max_count: int = 100) -> Parsed | None:
    """Check the compiled parser against the reference on ``block``; its result."""
    assert _speedups is not None, "REQIVO_REQUIRE_EXTENSIONS is set but it was not built"
    fast = _speedups.parse_status_head(block, max_count)
    if fast is not None:
        # Strict form ends with CRLF CRLF: a block the reference is defined for.
        assert fast == reference(block, max_count), block
        assert [type(part) for part in fast] == [str, int, str, list, list]
    return fast


NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 16:00:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n"
    b'Connection: keep-alive\r\nETag: "abc-400"\r\nAccept-Ranges: bytes\r\n\r\n'
)

STRICT = [
    NGINX,
    b"HTTP/1.1 200\r\n\r\n",  # no reason, no SP
    b"HTTP/1.1 204 \r\n\r\n",  # SP and an empty reason
    b"HTTP/1.0 404 Not\tFound \xe9\r\nA:b\r\n\r\n",  # HTAB and obs-text in the reason
    b"HTTP/1.1 999 Whatever\r\nx:\r\ny:   \t\r\nZ: \t a \t b \t\r\n\r\n",  # OWS stripped
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Obs: caf\xe9\xff\r\nUPPER-lower: V\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"A" * 300 + b": long name\r\n\r\n",  # a name past 128 bytes
]

NOT_STRICT = [
    b"HTTP/1.1 200 OK\nA: b\n\n",  # bare LF: the reference accepts it
    b"HTTP/1.1 200 OK\r\nA: b\n\r\n",
    b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",  # whitespace before the colon
    b"HTTP/1.1 200 OK\r\n : b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",  # an empty name
    b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",  # obs-fold
    b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",  # a bare CR
    b"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n",  # a control character
    b"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",  # DEL
    b"HTTP/1.1 200 OK\r\nA\xe9: b\r\n\r\n",  # a non-token name
    b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nC: d\r\n\r\n",  # an empty line inside the block
    b"HTTP/2.0 200 OK\r\n\r\n",
    b"HTTP/1.1 099 Low\r\n\r\n",
    b"HTTP/1.1 20x OK\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1  200 OK\r\n\r\n",
    b"HTTP/1.1 200\tOK\r\n\r\n",
    b"http/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n",  # no empty line
    b"HTTP/1.1 20\r\n\r\n",
    b"",
]


@requires_compiled
@pytest.mark.parametrize("block", STRICT)
def test_a_strict_head_is_parsed_in_c_as_the_reference_parses_it(block: bytes) -> None:
    assert agree(block) is not None


@requires_compiled
@pytest.mark.parametrize("block", NOT_STRICT)
def test_anything_else_is_left_to_the_reference(block: bytes) -> None:
    assert agree(block) is None


@requires_compiled
def test_too_many_fields_are_left_to_the_reference() -> None:
    block = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
    assert agree(block, 3) is not None
    assert agree(block, 2) is None
    assert reference(block, 2) is not None
    with pytest.raises(LimitExceeded):
        _head.parse_status_head(block, 2)


@requires_compiled
def test_wrong_arguments_are_type_errors() -> None:
    assert _speedups is not None, "REQIVO_REQUIRE_EXTENSIONS is set but it was not built"
    with pytest.raises(TypeError):
        _speedups.parse_status_head(bytearray(NGINX), 100)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _speedups.parse_status_head(NGINX)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _speedups.parse_status_head(NGINX, "100")  # type: ignore[arg-type]


# Heads assembled from the pieces a parser trips on: separators, whitespace, line endings,
# control characters and obs-text, in names, values and the status line.
_ATOMS = [
    b"\r\n",
    b"\n",
    b"\r",
    b":",
    b" ",
    b"\t",
    b"\x00",
    b"\x7f",
    b"\xe9",
    b"\xff",
    b"a",
    b"Z",
    b"-",
    b"0",
    b"9",
    b"!",
    b"(",
    b'"',
    b"HTTP/1.1 ",
    b"HTTP/1.0 ",
]
_pieces = st.lists(st.sampled_from(_ATOMS) | st.binary(max_size=4), max_size=12).map(b"".join)
_names = st.text("!#$%&'*+-.^_`|~09azAZ", min_size=1, max_size=8).map(str.encode)
_values = st.binary(max_size=12)
_lines = st.one_of(
    st.tuples(_names, _values).map(lambda pair: pair[0] + b":" + pair[1] + b"\r\n"),
    _pieces.map(lambda piece: piece + b"\r\n"),
)
_status = st.one_of(
    st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.0 302", b"HTTP/1.1 101 ", b"HTTP/1.1 999 x"]),
    _pieces,
)
_heads = st.tuples(_status, st.lists(_lines, max_size=6)).map(
    lambda head: head[0] + b"\r\n" + b"".join(head[1]) + b"\r\n"
)


@requires_compiled
@settings(max_examples=3000, deadline=None)
@given(block=_heads, max_count=st.integers(0, 8))
def test_the_compiled_parser_agrees_with_the_reference(block: bytes, max_count: int) -> None:
    agree(block, max_count)


@requires_compiled
@settings(max_examples=1000, deadline=None)
@given(block=st.binary(max_size=64))
def test_arbitrary_bytes_never_crash_it(block: bytes) -> None:
    agree(block)
    agree(b"HTTP/1.1 200 OK\r\n" + block + b"\r\n\r\n")


@requires_compiled
def test_the_accelerator_is_used_unless_disabled() -> None:
    enabled = not os.environ.get("REQIVO_NO_EXTENSIONS")
    assert _head.ACCELERATED is enabled
    probe = "from reqivo_protocol.http11 import _head; print(_head.ACCELERATED)"
    for switch, expected in (("1", "False"), ("", "True")):
        env = {**os.environ, "REQIVO_NO_EXTENSIONS": switch}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert out.stdout.strip() == expected, out.stderr
