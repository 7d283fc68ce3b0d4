"""Security: WebSocket frames that violate RFC 6455 fail the connection with the right code.

Each case feeds one hostile server frame to ``WebSocketConnection`` (sans-IO) and checks
the three observable results: a ``ConnectionFailed`` event with the close code, the same
code in the close frame queued for the server (``data_to_send()``), and the connection
CLOSED, ignoring anything the server sends afterwards. See ``docs/security.md``.
"""

from __future__ import annotations

import struct

import pytest

from reqivo_protocol._exceptions import MessageTooBig, WebSocketProtocolError
from reqivo_protocol.websocket import ConnectionFailed, ConnectionState, WebSocketConnection


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
) -> bytes:
    """A raw frame as a (hostile) server would write it."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask is None:
        return head + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def close_code_sent(data: bytes) -> int:
    """The code of the close frame the client queued (client frames are masked)."""
    assert data[0] == 0x88, data[:2]
    assert data[1] & 0x80, "client frames must be masked"
    key = data[2:6]
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[6 : 6 + (data[1] & 0x7F)]))
    code: int = struct.unpack("!H", payload[:2])[0]
    return code


CASES = [
    pytest.param(frame(0x2, b"data", mask=b"\x01\x02\x03\x04"), 1002, id="masked-server-frame"),
    pytest.param(frame(0x1, b"caf\xc3"), 1007, id="truncated-utf8-text"),
    pytest.param(frame(0x1, b"\xff\xfe"), 1007, id="invalid-utf8-text"),
    pytest.param(frame(0x1, b"\xed\xa0\x80"), 1007, id="utf8-surrogate"),
    pytest.param(frame(0x8, b"\x03\xe8\xff"), 1007, id="invalid-utf8-close-reason"),
    pytest.param(frame(0x2, bytes(1025)), 1009, id="message-too-big"),
    pytest.param(
        frame(0x2, bytes(600), fin=False) + frame(0x0, bytes(600)), 1009, id="fragments-too-big"
    ),
    pytest.param(frame(0x3, b""), 1002, id="reserved-data-opcode-3"),
    pytest.param(frame(0x7, b""), 1002, id="reserved-data-opcode-7"),
    pytest.param(frame(0xB, b""), 1002, id="reserved-control-opcode-b"),
    pytest.param(frame(0xF, b""), 1002, id="reserved-control-opcode-f"),
    pytest.param(frame(0x9, b"ping", fin=False), 1002, id="fragmented-ping"),
    pytest.param(frame(0x8, b"", fin=False), 1002, id="fragmented-close"),
    pytest.param(frame(0x9, bytes(126)), 1002, id="control-payload-over-125"),
    pytest.param(frame(0x2, b"x", rsv=0b100), 1002, id="rsv1-without-extension"),
    pytest.param(frame(0x2, b"x", rsv=0b010), 1002, id="rsv2"),
    pytest.param(frame(0x0, b"x"), 1002, id="continuation-without-start"),
    pytest.param(
        frame(0x1, b"a", fin=False) + frame(0x2, b"b"), 1002, id="new-message-inside-fragments"
    ),
    pytest.param(frame(0x8, b"\x03"), 1002, id="close-payload-one-byte"),
    pytest.param(frame(0x8, struct.pack("!H", 1005)), 1002, id="close-code-1005-on-wire"),
    pytest.param(frame(0x8, struct.pack("!H", 999)), 1002, id="close-code-out-of-range"),
    pytest.param(struct.pack("!BBQ", 0x82, 127, 1 << 63) + b"x", 1002, id="64-bit-length-high-bit"),
]


@pytest.mark.parametrize(("wire", "code"), CASES)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "byte-by-byte"])
def test_protocol_violation_fails_with_close_code(wire: bytes, code: int, split: bool) -> None:
    conn = WebSocketConnection(max_message_size=1024)
    if split:
        for i in range(len(wire)):
            conn.receive_data(wire[i : i + 1])
    else:
        conn.receive_data(wire)
    events = conn.events()
    assert events, "a violation must produce an event"
    failed = events[-1]
    assert isinstance(failed, ConnectionFailed), events
    assert failed.code == code, failed
    assert isinstance(failed.error, WebSocketProtocolError)
    assert failed.error.close_code == code
    if code == 1009:
        assert isinstance(failed.error, MessageTooBig)
    assert conn.close_code == code
    assert conn.failure is failed.error
    assert close_code_sent(conn.data_to_send()) == code
    assert conn.state is ConnectionState.CLOSED
    # Nothing the server sends after the violation is parsed or answered.
    conn.receive_data(frame(0x1, b"after") + frame(0x9, b"ping"))
    assert conn.events() == []
    assert conn.data_to_send() == b""


def test_limits_count_decompressed_size_not_wire_size() -> None:
    """A compressed bomb (1 MiB of zeros in a few bytes) stops at max_message_size: 1009."""
    import zlib

    from reqivo_protocol.websocket import DeflateParams

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    payload = payload[:-4]  # RFC 7692: the sync flush tail is removed
    assert len(payload) < 2048
    conn = WebSocketConnection(deflate=DeflateParams(), max_message_size=64 * 1024)
    conn.receive_data(frame(0x2, payload, rsv=0b100))
    failed = conn.events()[-1]
    assert isinstance(failed, ConnectionFailed)
    assert failed.code == 1009
    assert close_code_sent(conn.data_to_send()) == 1009


def test_valid_frames_still_pass() -> None:
    """The control: well-formed frames split anywhere are accepted."""
    conn = WebSocketConnection(max_message_size=1024)
    conn.receive_data(frame(0x1, "café".encode()) + frame(0x9, b"p") + frame(0x8, b"\x03\xe8"))
    kinds = [type(e).__name__ for e in conn.events()]
    assert kinds == ["TextMessage", "Ping", "CloseReceived"]
