from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest

from reqivo_protocol import LocalProtocolError, MessageTooBig, WebSocketProtocolError
from reqivo_protocol.websocket import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    DeflateParams,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
)

from .conftest import FrameBuilder

Unmask = Callable[[bytes], list[tuple[int, bytes]]]
KEY = b"\x11\x22\x33\x44"


def conn(**kwargs: object) -> WebSocketConnection:
    return WebSocketConnection(mask_key_source=lambda: KEY, **kwargs)  # type: ignore[arg-type]


def assert_failed(c: WebSocketConnection, code: int, unmask: Unmask, match: str = "") -> None:
    events = c.events()
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == code
    assert events[-1].error is c.failure
    assert c.failure is not None and c.failure.close_code == code
    assert match in events[-1].reason
    assert c.state is ConnectionState.CLOSED
    assert c.close_code == code
    sent = unmask(c.data_to_send())
    assert sent[0][0] == 0x88
    assert int.from_bytes(sent[0][1][:2], "big") == code


# -- receiving ---------------------------------------------------------------------------


def test_single_frames(frame: FrameBuilder) -> None:
    c = conn()
    c.receive_data(frame(1, "héllo".encode()) + frame(2, b"\x00\x01") + frame(1, b""))
    assert c.events() == [TextMessage("héllo"), BytesMessage(b"\x00\x01"), TextMessage("")]
    assert c.events() == []
    assert c.data_to_send() == b""


@pytest.mark.parametrize("size", [125, 126, 65535, 65536, 70000])
def test_lengths(frame: FrameBuilder, size: int) -> None:
    c = conn(max_message_size=None)
    data = frame(2, b"z" * size)
    c.receive_data(data[:3])
    c.receive_data(data[3:11])
    c.receive_data(data[11:])
    assert c.events() == [BytesMessage(b"z" * size)]


def test_non_minimal_lengths_accepted(frame: FrameBuilder) -> None:
    # RFC 6455 asks for minimal lengths; like websockets and wsproto we are lenient.
    c = conn()
    c.receive_data(frame(2, b"ab", long_form=16) + frame(2, b"cd", long_form=64))
    assert c.events() == [BytesMessage(b"ab"), BytesMessage(b"cd")]


def test_byte_by_byte(frame: FrameBuilder) -> None:
    c = conn()
    data = frame(1, "日本".encode(), fin=False) + frame(9, b"p") + frame(0, "語".encode())
    data += frame(2, b"x" * 300)
    for i in range(len(data)):
        c.receive_data(data[i : i + 1])
    assert c.events() == [Ping(b"p"), TextMessage("日本語"), BytesMessage(b"x" * 300)]


def test_memoryview_and_bytearray_input(frame: FrameBuilder) -> None:
    c = conn()
    c.receive_data(memoryview(frame(2, b"a") + frame(2, b"b")[:1]))
    c.receive_data(bytearray(frame(2, b"b")[1:]))
    assert c.events() == [BytesMessage(b"a"), BytesMessage(b"b")]


def test_fragmented_with_interleaved_control(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(
        frame(2, b"ab", fin=False)
        + frame(9, b"ping")
        + frame(0, b"cd", fin=False)
        + frame(10, b"pong")
        + frame(0, b"ef")
    )
    assert c.events() == [Ping(b"ping"), Pong(b"pong"), BytesMessage(b"abcdef")]
    assert unmask(c.data_to_send()) == [(0x8A, b"ping")]


def test_ping_answered_with_pong(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(frame(9, b"") + frame(9, b"x" * 125))
    assert c.events() == [Ping(b""), Ping(b"x" * 125)]
    assert unmask(c.data_to_send()) == [(0x8A, b""), (0x8A, b"x" * 125)]


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        ([(2, b"x", {"mask_key": b"abcd"})], "masked"),
        ([(3, b"", {})], "reserved opcode"),
        ([(7, b"", {})], "reserved opcode"),
        ([(11, b"", {})], "reserved opcode"),
        ([(15, b"", {})], "reserved opcode"),
        ([(2, b"", {"rsv": 4})], "reserved bits"),
        ([(2, b"", {"rsv": 2})], "reserved bits"),
        ([(1, b"", {"rsv": 1})], "reserved bits"),
        ([(9, b"", {"rsv": 4})], "reserved bits"),
        ([(9, b"", {"fin": False})], "fragmented control"),
        ([(9, b"x" * 126, {})], "control frame payload"),
        ([(0, b"x", {})], "continuation"),
        ([(1, b"x", {"fin": False}), (1, b"y", {})], "inside a fragmented"),
        ([(2, b"x", {"fin": False}), (2, b"y", {})], "inside a fragmented"),
        ([(8, b"\x03", {})], "one-byte"),
        ([(8, b"\x03\xed", {})], "invalid close code"),
        ([(8, b"\x0b\xb7", {})], "invalid close code"),
    ],
)
def test_protocol_errors_1002(
    frame: FrameBuilder,
    unmask: Unmask,
    frames: list[tuple[int, bytes, dict[str, object]]],
    match: str,
) -> None:
    c = conn()
    c.receive_data(b"".join(frame(op, payload, **kw) for op, payload, kw in frames))
    assert_failed(c, 1002, unmask, match)


def test_64bit_length_msb(unmask: Unmask) -> None:
    c = conn()
    c.receive_data(b"\x82\x7f\x80" + b"\x00" * 7)
    assert_failed(c, 1002, unmask, "most significant bit")


def test_rsv1_on_continuation_with_deflate(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(deflate=DeflateParams())
    c.receive_data(frame(2, b"x", fin=False) + frame(0, b"y", rsv=4))
    assert_failed(c, 1002, unmask, "reserved bits")


@pytest.mark.parametrize(
    "frames",
    [
        [(1, b"\xff")],
        [(1, b"ok\xc3", False), (0, b"(")],
        [(1, b"\xed\xa0\x80")],  # surrogate
        [(1, b"\xf4\x90\x80\x80")],  # above U+10FFFF
        [(1, b"ok", False), (0, b"\xc3", True)],  # truncated at the end
    ],
)
def test_invalid_utf8_1007(frame: FrameBuilder, unmask: Unmask, frames: list[tuple]) -> None:  # type: ignore[type-arg]
    c = conn()
    c.receive_data(b"".join(frame(f[0], f[1], fin=f[2] if len(f) > 2 else True) for f in frames))
    assert_failed(c, 1007, unmask, "UTF-8")


def test_utf8_split_inside_code_point(frame: FrameBuilder) -> None:
    c = conn()
    encoded = "a€b".encode()
    c.receive_data(frame(1, encoded[:2], fin=False) + frame(0, encoded[2:3], fin=False))
    c.receive_data(frame(0, encoded[3:]))
    assert c.events() == [TextMessage("a€b")]


def test_utf8_fails_fast_inside_a_partial_frame(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    data = frame(1, b"hello\xffworld" + b"x" * 1000)
    c.receive_data(data[:10])  # the invalid byte arrives, the frame is far from complete
    assert_failed(c, 1007, unmask)


def test_utf8_fails_fast_in_partial_continuation(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(frame(1, b"ok", fin=False))
    data = frame(0, b"abc\xc0" + b"x" * 500)
    c.receive_data(data[:6])
    assert c.events() == []
    c.receive_data(data[6:9])
    assert_failed(c, 1007, unmask)


def test_partial_text_frames_assemble(frame: FrameBuilder) -> None:
    c = conn()
    text = "ünïcødé " * 40
    data = frame(1, text.encode()[:100], fin=False) + frame(0, text.encode()[100:])
    for i in range(0, len(data), 7):
        c.receive_data(data[i : i + 7])
    assert c.events() == [TextMessage(text)]
    # a partial binary frame, and a partial compressed frame, are simply waited for
    c.receive_data(frame(2, b"b" * 50)[:20])
    assert c.events() == []


def test_message_too_big(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(max_message_size=10)
    c.receive_data(frame(2, b"x" * 10))
    assert c.events() == [BytesMessage(b"x" * 10)]
    c.receive_data(frame(2, b"x" * 11)[:4])  # fails on the header, before the payload
    assert_failed(c, 1009, unmask, "max_message_size")
    assert isinstance(c.failure, MessageTooBig)


def test_message_too_big_across_fragments(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(max_message_size=10)
    c.receive_data(frame(1, b"x" * 6, fin=False) + frame(0, b"x" * 5))
    assert_failed(c, 1009, unmask)


def test_frame_too_big(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(max_frame_size=4)
    c.receive_data(frame(2, b"x" * 4, fin=False) + frame(0, b"x" * 4))
    assert c.events() == [BytesMessage(b"x" * 8)]
    c.receive_data(frame(2, b"x" * 5))
    assert_failed(c, 1009, unmask, "max_frame_size")
    c2 = conn(max_frame_size=4)
    c2.receive_data(frame(2, b"x", fin=False) + frame(0, b"x" * 5))
    assert_failed(c2, 1009, unmask, "max_frame_size")


def test_unlimited(frame: FrameBuilder) -> None:
    c = conn(max_message_size=None, deflate=DeflateParams())
    big = b"q" * 3_000_000
    c.receive_data(frame(2, big, fin=False) + frame(0, b""))
    assert c.events() == [BytesMessage(big)]


# -- closing -----------------------------------------------------------------------------


def test_server_initiated_close(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(frame(2, b"last") + frame(8, b"\x03\xe8bye") + frame(2, b"ignored"))
    assert c.events() == [BytesMessage(b"last"), CloseReceived(1000, "bye")]
    assert c.state is ConnectionState.CLOSED
    assert (c.close_code, c.close_reason) == (1000, "bye")
    assert unmask(c.data_to_send()) == [(0x88, b"\x03\xe8bye")]
    c.receive_data(frame(2, b"more"))
    c.receive_data(b"")
    assert c.events() == []
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        c.send_text("x")


def test_close_without_code(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(frame(8))
    assert c.events() == [CloseReceived(1005, "")]
    assert unmask(c.data_to_send()) == [(0x88, b"")]


def test_close_invalid_reason(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    c.receive_data(frame(8, b"\x03\xe8\xff"))
    assert_failed(c, 1007, unmask)


def test_client_initiated_close(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn()
    assert unmask(c.send_close(1001, "bye")) == [(0x88, b"\x03\xe9bye")]
    assert c.state is ConnectionState.CLOSING
    with pytest.raises(LocalProtocolError):
        c.send_close()
    with pytest.raises(LocalProtocolError, match="CLOSING"):
        c.send_bytes(b"x")
    with pytest.raises(LocalProtocolError):
        c.send_ping()
    with pytest.raises(LocalProtocolError):
        c.send_fragment(b"x", final=True)
    # data still arrives until the server's close; pings are no longer answered
    c.receive_data(frame(2, b"late") + frame(9, b"p") + frame(8, b"\x03\xe9"))
    assert c.events() == [BytesMessage(b"late"), Ping(b"p"), CloseReceived(1001, "")]
    assert c.data_to_send() == b""
    assert c.state is ConnectionState.CLOSED


def test_failure_while_closing_sends_nothing(frame: FrameBuilder) -> None:
    c = conn()
    c.send_close()
    c.receive_data(frame(3))
    events = c.events()
    assert isinstance(events[-1], ConnectionFailed)
    assert events[-1].code == 1002
    assert c.data_to_send() == b""


def test_send_close_without_code(unmask: Unmask) -> None:
    c = conn()
    assert unmask(c.send_close(None)) == [(0x88, b"")]
    with pytest.raises(LocalProtocolError):
        conn().send_close(1005)
    c2 = conn()
    with pytest.raises(LocalProtocolError):
        c2.send_close(1000, "x" * 124)
    assert c2.state is ConnectionState.OPEN


@pytest.mark.parametrize("closing", [False, True])
def test_eof_without_close(frame: FrameBuilder, closing: bool) -> None:
    c = conn()
    if closing:
        c.send_close()
    c.receive_data(frame(2, b"partial")[:4])
    c.receive_data(b"")
    assert c.events() == [ConnectionFailed(1006, "connection closed without a close frame", None)]
    assert c.close_code == 1006
    assert c.state is ConnectionState.CLOSED
    assert c.failure is None
    assert c.data_to_send() == b""


# -- sending -----------------------------------------------------------------------------


def test_send_messages(unmask: Unmask) -> None:
    c = conn()
    assert unmask(c.send_text("héllo")) == [(0x81, "héllo".encode())]
    assert unmask(c.send_bytes(b"\x00" * 200)) == [(0x82, b"\x00" * 200)]
    assert unmask(c.send_ping(b"p")) == [(0x89, b"p")]
    assert unmask(c.send_pong()) == [(0x8A, b"")]
    with pytest.raises(LocalProtocolError, match="125"):
        c.send_ping(b"x" * 126)
    with pytest.raises(LocalProtocolError, match="Unicode"):
        c.send_text("\ud800")


def test_masking_uses_the_key() -> None:
    c = conn()
    assert c.send_bytes(b"\x00\x00\x00\x00\x00") == b"\x82\x85" + KEY + KEY + KEY[:1]


def test_default_keys_are_random() -> None:
    c = WebSocketConnection()
    keys = {c.send_bytes(b"")[2:6] for _ in range(600)}
    assert len(keys) > 590


def test_send_fragments(unmask: Unmask) -> None:
    c = conn()
    sending = [c.sending_fragmented]
    out = c.send_fragment("ab", final=False)
    sending.append(c.sending_fragmented)
    with pytest.raises(LocalProtocolError, match="fragmented"):
        c.send_text("no")
    with pytest.raises(LocalProtocolError, match="all be str"):
        c.send_fragment(b"no", final=True)
    with pytest.raises(LocalProtocolError, match="Unicode"):
        c.send_fragment("\udfff", final=True)
    out += c.send_ping(b"between")
    out += c.send_fragment("cd", final=True)
    sending.append(c.sending_fragmented)
    assert sending == [False, True, False]
    out += c.send_fragment(b"x", final=False) + c.send_fragment(b"y", final=True)
    assert unmask(out) == [
        (0x01, b"ab"),
        (0x89, b"between"),
        (0x80, b"cd"),
        (0x02, b"x"),
        (0x80, b"y"),
    ]


# -- permessage-deflate ------------------------------------------------------------------


def _compress(data: bytes, c: zlib._Compress) -> bytes:
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


@pytest.mark.parametrize("takeover", [True, False])
def test_receive_compressed(frame: FrameBuilder, takeover: bool) -> None:
    c = conn(deflate=DeflateParams(server_no_context_takeover=not takeover))
    z = zlib.compressobj(wbits=-15)
    for _ in range(3):
        if not takeover:
            z = zlib.compressobj(wbits=-15)
        c.receive_data(frame(1, _compress("héllo".encode() * 20, z), rsv=4))
    # fragmented: RSV1 only on the first frame
    comp = _compress(b"abc" * 100, z)
    c.receive_data(frame(2, comp[:5], rsv=4, fin=False) + frame(9) + frame(0, comp[5:]))
    # an uncompressed message is allowed too
    c.receive_data(frame(2, b"plain"))
    assert c.events() == [TextMessage("héllo" * 20)] * 3 + [
        Ping(b""),
        BytesMessage(b"abc" * 100),
        BytesMessage(b"plain"),
    ]


def test_compressed_too_big(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(deflate=DeflateParams(), max_message_size=1000)
    z = zlib.compressobj(wbits=-15)
    c.receive_data(frame(2, _compress(b"\x00" * 1_000_000, z), rsv=4))
    assert_failed(c, 1009, unmask)


def test_compressed_invalid(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(deflate=DeflateParams())
    c.receive_data(frame(2, b"\xff\xff\xff\xff", rsv=4))
    assert_failed(c, 1002, unmask, "deflate")


def test_compressed_invalid_utf8(frame: FrameBuilder, unmask: Unmask) -> None:
    c = conn(deflate=DeflateParams())
    c.receive_data(frame(1, _compress(b"ok\xff", zlib.compressobj(wbits=-15)), rsv=4))
    assert_failed(c, 1007, unmask)


@pytest.mark.parametrize("no_takeover", [False, True])
def test_send_compressed(unmask: Unmask, no_takeover: bool) -> None:
    c = conn(
        deflate=DeflateParams(client_no_context_takeover=no_takeover, client_max_window_bits=10)
    )
    d = zlib.decompressobj(wbits=-10)
    for _ in range(3):
        if no_takeover:
            d = zlib.decompressobj(wbits=-10)
        [(b0, payload)] = unmask(c.send_text("hello hello hello"))
        assert b0 == 0xC1
        assert d.decompress(payload + b"\x00\x00\xff\xff") == b"hello hello hello"
    [(b0, payload)] = unmask(c.send_bytes(b"\x01" * 100))
    assert b0 == 0xC2
    out = unmask(c.send_fragment(b"ab", final=False) + c.send_fragment(b"cd", final=True))
    assert [f[0] for f in out] == [0x42, 0x80]
    if no_takeover:
        d = zlib.decompressobj(wbits=-10)
    d.decompress(payload + b"\x00\x00\xff\xff")
    assert d.decompress(out[0][1] + out[1][1] + b"\x00\x00\xff\xff") == b"abcd"
    # control frames are never compressed
    assert unmask(c.send_ping(b"ping")) == [(0x89, b"ping")]


def test_window_bits_8_sends_uncompressed(unmask: Unmask) -> None:
    c = conn(deflate=DeflateParams(client_max_window_bits=8))
    assert unmask(c.send_text("x")) == [(0x81, b"x")]
    assert c.deflate == DeflateParams(client_max_window_bits=8)


def test_protocol_error_is_remote_protocol_error(frame: FrameBuilder) -> None:
    c = conn()
    c.receive_data(frame(3))
    assert isinstance(c.failure, WebSocketProtocolError)
