from __future__ import annotations

import pytest

from reqivo_protocol import LocalProtocolError, WebSocketProtocolError
from reqivo_protocol.websocket import is_valid_close_code
from reqivo_protocol.websocket._frames import (
    build_close_payload,
    encode_frame,
    parse_close_payload,
)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1010, 1014, 3000, 4999])
def test_valid_close_codes(code: int) -> None:
    assert is_valid_close_code(code)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_codes(code: int) -> None:
    assert not is_valid_close_code(code)
    with pytest.raises(LocalProtocolError):
        build_close_payload(code, "")
    with pytest.raises(WebSocketProtocolError) as info:
        parse_close_payload(code.to_bytes(2, "big"))
    assert info.value.close_code == 1002


def test_close_payload_round_trip() -> None:
    payload = build_close_payload(1001, "going away ✓")
    assert parse_close_payload(payload) == (1001, "going away ✓")
    assert build_close_payload(None, "") == b""
    assert parse_close_payload(b"") == (1005, "")


def test_close_payload_local_errors() -> None:
    with pytest.raises(LocalProtocolError, match="requires a close code"):
        build_close_payload(None, "why")
    with pytest.raises(LocalProtocolError, match="at most 123"):
        build_close_payload(1000, "x" * 124)
    assert len(build_close_payload(1000, "x" * 123)) == 125
    with pytest.raises(LocalProtocolError, match="Unicode"):
        build_close_payload(1000, "\ud800")


def test_close_payload_remote_errors() -> None:
    with pytest.raises(WebSocketProtocolError, match="one-byte") as info:
        parse_close_payload(b"\x03")
    assert info.value.close_code == 1002
    with pytest.raises(WebSocketProtocolError, match="UTF-8") as info:
        parse_close_payload(b"\x03\xe8\xff")
    assert info.value.close_code == 1007


@pytest.mark.parametrize(
    ("size", "header_len"), [(0, 6), (125, 6), (126, 8), (65535, 8), (65536, 14)]
)
def test_encode_frame_lengths(size: int, header_len: int) -> None:
    key = b"\x00\x00\x00\x00"
    frame = encode_frame(0x82, b"a" * size, key)
    assert len(frame) == header_len + size
    assert frame[0] == 0x82
    assert frame[1] & 0x80
    assert frame[header_len - 4 : header_len] == key
    assert frame[header_len:] == b"a" * size
