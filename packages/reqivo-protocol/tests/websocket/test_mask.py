"""Masking and frame encoding: the compiled accelerator and the pure-Python reference
give the same bytes (both are tested whenever the extension is built)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol.websocket import WebSocketConnection, _frames, _mask, mask

Mask = Callable[[bytes | bytearray | memoryview, bytes], bytes]
Encode = Callable[[int, bytes | bytearray | memoryview, bytes], bytes]

try:
    from reqivo_protocol.websocket import _speedups
except ImportError:  # a pure-Python build: only the reference is tested
    _speedups = None  # type: ignore[assignment]

MASKS: dict[str, Mask] = {"python": _mask.mask_python}
ENCODERS: dict[str, Encode] = {"python": _frames.encode_frame_python}
if _speedups is not None:
    MASKS["compiled"] = _speedups.mask
    ENCODERS["compiled"] = _speedups.encode_frame

#: CI builds the extension (REQIVO_REQUIRE_EXTENSIONS): its absence there is a failure.
requires_compiled = pytest.mark.skipif(
    _speedups is None and not os.environ.get("REQIVO_REQUIRE_EXTENSIONS"),
    reason="the compiled accelerator is not built here",
)


def _slow_mask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@pytest.fixture(params=sorted(MASKS))
def impl(request: pytest.FixtureRequest) -> Mask:
    return MASKS[request.param]


@pytest.fixture(params=sorted(ENCODERS))
def encode(request: pytest.FixtureRequest) -> Encode:
    return ENCODERS[request.param]


@pytest.mark.parametrize(
    "size", [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 125, 2047, 2048, 2049, 4099, 70000]
)
def test_mask_matches_reference(impl: Mask, size: int) -> None:
    data = os.urandom(size)
    key = os.urandom(4)
    assert impl(data, key) == _slow_mask(data, key)
    assert impl(impl(data, key), key) == data


@settings(max_examples=200)
@given(st.binary(max_size=5000), st.binary(min_size=4, max_size=4))
def test_mask_property(data: bytes, key: bytes) -> None:
    for impl in MASKS.values():
        masked = impl(data, key)
        assert type(masked) is bytes
        assert masked == _slow_mask(data, key)


def test_mask_accepts_bytearray_and_memoryview_and_leaves_them_alone(impl: Mask) -> None:
    data = os.urandom(3000)
    key = b"\x01\x02\x03\x04"
    source = bytearray(data)
    assert impl(source, key) == impl(memoryview(data), key) == _slow_mask(data, key)
    assert source == data
    assert impl(memoryview(data)[1:11], key) == _slow_mask(data[1:11], key)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70001])
def test_encode_frame_implementations_agree(encode: Encode, size: int) -> None:
    payload = os.urandom(size)
    key = os.urandom(4)
    for first_byte in (0x81, 0x82, 0x02, 0x80, 0xC1, 0x88):
        frame = encode(first_byte, payload, key)
        assert frame == _frames.encode_frame_python(first_byte, payload, key)
        header = len(frame) - size
        assert frame[0] == first_byte and frame[1] & 0x80
        assert frame[header - 4 : header] == key
        assert _slow_mask(frame[header:], key) == payload


@requires_compiled
def test_compiled_rejects_bad_arguments() -> None:
    assert _speedups is not None, "REQIVO_REQUIRE_EXTENSIONS is set but it was not built"
    with pytest.raises(ValueError, match="4 bytes"):
        _speedups.mask(b"abc", b"123")
    with pytest.raises(ValueError, match="4 bytes"):
        _speedups.encode_frame(0x82, b"abc", b"12345")
    with pytest.raises(ValueError, match="range"):
        _speedups.encode_frame(256, b"abc", b"1234")
    with pytest.raises(TypeError):
        _speedups.mask("text", b"1234")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _speedups.encode_frame(0x82, b"abc")  # type: ignore[call-arg]


@requires_compiled
def test_the_accelerator_is_used_unless_disabled() -> None:
    assert _speedups is not None, "REQIVO_REQUIRE_EXTENSIONS is set but it was not built"
    enabled = not os.environ.get("REQIVO_NO_EXTENSIONS")
    assert _mask.ACCELERATED is enabled
    assert (mask is _speedups.mask) is enabled
    assert (_frames.encode_frame is _speedups.encode_frame) is enabled
    probe = "from reqivo_protocol.websocket import _mask; print(_mask.ACCELERATED)"
    for switch, expected in (("1", "False"), ("", "True")):
        env = {**os.environ, "REQIVO_NO_EXTENSIONS": switch}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.parametrize(
    "view",
    [
        memoryview(b"abcdefgh").cast("I"),  # len() counts 2 items, the message is 8 bytes
        memoryview(b"abcdefgh")[::2],  # strided
        memoryview(bytearray(b"abcdefgh")).cast("B", (2, 4)),  # two dimensions
    ],
)
def test_any_memoryview_is_sent_as_its_bytes(view: memoryview) -> None:
    conn = WebSocketConnection(mask_key_source=lambda: b"\x00\x00\x00\x00")
    expected = view.tobytes()
    assert conn.send_bytes(view) == bytes((0x82, 0x80 | len(expected))) + bytes(4) + expected
    frame = conn.send_fragment(view, final=True)
    assert frame == bytes((0x82, 0x80 | len(expected))) + bytes(4) + expected
