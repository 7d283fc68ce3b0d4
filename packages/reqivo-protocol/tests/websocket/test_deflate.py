from __future__ import annotations

import zlib

import pytest

from reqivo_protocol import HandshakeError, MessageTooBig, WebSocketProtocolError
from reqivo_protocol.websocket import DeflateOffer, DeflateParams
from reqivo_protocol.websocket._deflate import Deflater, Inflater


@pytest.mark.parametrize(
    "kwargs",
    [
        {"client_max_window_bits": 8},
        {"client_max_window_bits": 16},
        {"client_max_window_bits": False},
        {"server_max_window_bits": 7},
        {"server_max_window_bits": 16},
        {"compression_level": 10},
        {"mem_level": 0},
    ],
)
def test_offer_rejects_bad_config(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        DeflateOffer(**kwargs)  # type: ignore[arg-type]


def test_offer_header_value() -> None:
    offer = DeflateOffer(
        client_max_window_bits=10,
        server_max_window_bits=12,
        client_no_context_takeover=True,
        server_no_context_takeover=True,
    )
    assert offer.header_value() == (
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover; "
        "client_max_window_bits=10; server_max_window_bits=12"
    )
    assert DeflateOffer(client_max_window_bits=None).header_value() == "permessage-deflate"


P = list[tuple[str, str | None]]


@pytest.mark.parametrize(
    ("offer", "params", "match"),
    [
        (
            DeflateOffer(),
            [("server_max_window_bits", "10"), ("server_max_window_bits", "10")],
            "duplicate",
        ),
        (DeflateOffer(), [("foo", None)], "unknown"),
        (DeflateOffer(), [("client_no_context_takeover", "1")], "no value"),
        (DeflateOffer(), [("server_no_context_takeover", "")], "no value"),
        (DeflateOffer(server_no_context_takeover=True), [], "ignored"),
        (DeflateOffer(server_max_window_bits=10), [], "ignored"),
        (DeflateOffer(server_max_window_bits=10), [("server_max_window_bits", "11")], "exceeds"),
        (DeflateOffer(), [("server_max_window_bits", "7")], "invalid value"),
        (DeflateOffer(), [("server_max_window_bits", "16")], "invalid value"),
        (DeflateOffer(), [("server_max_window_bits", "09")], "invalid value"),
        (DeflateOffer(), [("server_max_window_bits", None)], "invalid value"),
        (DeflateOffer(), [("server_max_window_bits", "\uff11\uff10")], "invalid value"),
        (DeflateOffer(), [("server_max_window_bits", "100")], "invalid value"),
        (
            DeflateOffer(client_max_window_bits=None),
            [("client_max_window_bits", "10")],
            "not offered",
        ),
        (DeflateOffer(client_max_window_bits=10), [("client_max_window_bits", "11")], "exceeds"),
        (DeflateOffer(), [("client_max_window_bits", "x")], "invalid value"),
    ],
)
def test_accept_rejects(offer: DeflateOffer, params: P, match: str) -> None:
    with pytest.raises(HandshakeError, match=match):
        offer.accept(params)


def test_accept_values() -> None:
    assert DeflateOffer().accept([]) == DeflateParams()
    assert DeflateOffer(client_max_window_bits=10).accept([]).client_max_window_bits == 10
    got = DeflateOffer(client_no_context_takeover=True, server_no_context_takeover=True).accept(
        [("server_no_context_takeover", None), ("client_max_window_bits", "8")]
    )
    assert got == DeflateParams(
        client_no_context_takeover=True,
        server_no_context_takeover=True,
        client_max_window_bits=8,
    )
    assert (
        DeflateOffer(server_max_window_bits=12)
        .accept([("server_max_window_bits", "9")])
        .server_max_window_bits
        == 9
    )


@pytest.mark.parametrize("no_takeover", [False, True])
@pytest.mark.parametrize("bits", [9, 12, 15])
def test_deflater_inflater_round_trip(no_takeover: bool, bits: int) -> None:
    params = DeflateParams(
        client_no_context_takeover=no_takeover,
        server_no_context_takeover=no_takeover,
        client_max_window_bits=bits,
        server_max_window_bits=bits,
    )
    deflater, inflater = Deflater(params), Inflater(params)
    for message in [b"hello " * 100, b"", b"hello " * 100, bytes(range(256)) * 4]:
        compressed = deflater.compress(message, True)
        assert not compressed.endswith(b"\x00\x00\xff\xff") or message == b""
        assert inflater.decompress(compressed, True, None) == message
        assert inflater.decompress(deflater.compress(message, True), True, len(message)) == message


def test_fragmented_compression() -> None:
    params = DeflateParams()
    deflater, inflater = Deflater(params), Inflater(params)
    parts = [deflater.compress(b"abc" * 50, False), deflater.compress(b"def" * 50, True)]
    out = inflater.decompress(parts[0], False, None) + inflater.decompress(parts[1], True, None)
    assert out == b"abc" * 50 + b"def" * 50


def test_inflater_budget() -> None:
    params = DeflateParams()
    bomb = Deflater(params).compress(b"\x00" * 100_000, True)
    with pytest.raises(MessageTooBig) as info:
        Inflater(params).decompress(bomb, True, 1000)
    assert info.value.close_code == 1009
    assert info.value.limit == 1000
    # exactly at the limit is fine, one byte over is not
    data = Deflater(params).compress(b"x" * 1000, True)
    assert Inflater(params).decompress(data, True, 1000) == b"x" * 1000
    with pytest.raises(MessageTooBig):
        Inflater(params).decompress(Deflater(params).compress(b"x" * 1001, True), True, 1000)
    with pytest.raises(MessageTooBig):
        Inflater(params).decompress(Deflater(params).compress(b"x" * 1000, True), True, 0)


def test_inflater_invalid_data() -> None:
    with pytest.raises(WebSocketProtocolError, match="invalid permessage-deflate") as info:
        Inflater(DeflateParams()).decompress(b"\xff\xff\xff", True, None)
    assert info.value.close_code == 1002


def test_inflater_final_block() -> None:
    # A server may end the deflate stream with BFINAL; the next message starts afresh.
    c = zlib.compressobj(wbits=-15)
    ended = c.compress(b"hello") + c.flush(zlib.Z_FINISH)
    inflater = Inflater(DeflateParams())
    assert inflater.decompress(ended, True, None) == b"hello"
    assert inflater.decompress(ended, True, 100) == b"hello"
    with pytest.raises(WebSocketProtocolError, match="after the end"):
        Inflater(DeflateParams()).decompress(ended + b"junk", True, None)
