from __future__ import annotations

import pytest
import websockets.frames
from hypothesis import given
from hypothesis import strategies as st

from reqivo_protocol import ConnectionClosedOK, LocalProtocolError, WebSocketProtocolError
from reqivo_protocol.websocket import CloseCode, Opcode, is_valid_close_code
from reqivo_protocol.websocket._frames import (
    build_close_payload,
    encode_frame,
    parse_close_payload,
    parse_header,
)

from .conftest import build_server_frame

# -- opcodes and close codes -------------------------------------------------------------


def test_opcodes() -> None:
    assert {op.name: op.value for op in Opcode} == {
        "CONT": 0x0,
        "TEXT": 0x1,
        "BINARY": 0x2,
        "CLOSE": 0x8,
        "PING": 0x9,
        "PONG": 0xA,
    }


def test_close_codes_are_rfc_6455_and_iana() -> None:
    assert {code.name: code.value for code in CloseCode} == {
        "NORMAL_CLOSURE": 1000,
        "GOING_AWAY": 1001,
        "PROTOCOL_ERROR": 1002,
        "UNSUPPORTED_DATA": 1003,
        "NO_STATUS_RCVD": 1005,
        "ABNORMAL_CLOSURE": 1006,
        "INVALID_DATA": 1007,
        "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009,
        "MANDATORY_EXTENSION": 1010,
        "INTERNAL_ERROR": 1011,
        "SERVICE_RESTART": 1012,
        "TRY_AGAIN_LATER": 1013,
        "BAD_GATEWAY": 1014,
        "TLS_HANDSHAKE": 1015,
    }


def test_names_match_websockets() -> None:
    # Users moving from websockets find the same names.
    assert [(c.name, c.value) for c in CloseCode] == [
        (c.name, c.value) for c in websockets.frames.CloseCode
    ]
    assert [(o.name, o.value) for o in Opcode] == [
        (o.name, o.value) for o in websockets.frames.Opcode
    ]


def test_close_codes_behave_as_ints() -> None:
    code: int = CloseCode.NORMAL_CLOSURE
    assert code == 1000
    assert 1001 in {CloseCode.GOING_AWAY}
    assert f"{CloseCode.MESSAGE_TOO_BIG}" == str(CloseCode.MESSAGE_TOO_BIG) == "1009"
    closed = ConnectionClosedOK(CloseCode.NORMAL_CLOSURE)
    assert str(closed) == "WebSocket connection closed with code 1000"


def test_only_the_reserved_close_codes_are_never_sent() -> None:
    reserved = {CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE}
    for code in CloseCode:
        assert is_valid_close_code(code) is (code not in reserved)


# -- the frame header --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "long_form", "header_len"),
    [
        (0, None, 2),
        (125, None, 2),
        (126, None, 4),
        (65535, None, 4),
        (65536, None, 10),
        (3, 16, 4),  # non-minimal lengths: accepted (as websockets and wsproto do)
        (3, 64, 10),
    ],
)
def test_parse_header(size: int, long_form: int | None, header_len: int) -> None:
    frame = build_server_frame(2, b"z" * size, long_form=long_form)
    assert parse_header(frame, 0, len(frame)) == (0x82, header_len, size)
    # Positions count in the whole buffer; bytes past ``end`` are not looked at.
    data = b"prefix" + frame + b"next"
    assert parse_header(data, 6, 6 + header_len) == (0x82, 6 + header_len, size)
    for cut in range(header_len):  # incomplete: start lies past end, by the header's size
        start = parse_header(data, 6, 6 + cut)[1]
        assert start > 6 + cut
        assert start - 6 == (2 if cut < 2 else header_len)


def test_parse_header_rejects_masked_frames_and_huge_lengths() -> None:
    masked = build_server_frame(2, b"x", mask_key=b"abcd")
    with pytest.raises(WebSocketProtocolError, match="masked") as info:
        parse_header(masked, 0, len(masked))
    assert info.value.close_code == CloseCode.PROTOCOL_ERROR
    huge = build_server_frame(2, length=2**63, long_form=64)
    with pytest.raises(WebSocketProtocolError, match="most significant bit"):
        parse_header(huge, 0, len(huge))


@given(
    st.booleans(),
    st.integers(0, 7),
    st.integers(0, 15),
    st.integers(0, 2**63 - 1),
    st.sampled_from([None, 16, 64]),
    st.binary(max_size=8),
)
def test_parse_header_round_trip(
    fin: bool, rsv: int, opcode: int, length: int, long_form: int | None, prefix: bytes
) -> None:
    if long_form == 16 and length > 0xFFFF:
        long_form = None
    header = build_server_frame(opcode, fin=fin, rsv=rsv, length=length, long_form=long_form)
    data = prefix + header
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    assert parse_header(data, len(prefix), len(data)) == (b0, len(data), length)
    for cut in range(len(prefix), len(data)):
        assert parse_header(data, len(prefix), cut)[1] > cut


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
