from __future__ import annotations

import base64

import pytest

from reqivo_protocol import HandshakeError, Headers, LocalProtocolError
from reqivo_protocol.websocket import (
    ClientHandshake,
    DeflateOffer,
    DeflateParams,
    HandshakeResponse,
    accept_key,
    build_handshake_request,
    validate_handshake_response,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def test_accept_key_rfc_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def _ok(**extra: str) -> Headers:
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(KEY)),
    ]
    fields += list(extra.items())
    return Headers(fields)


def test_build_request_headers() -> None:
    headers, key = build_handshake_request(
        "example.com:8080",
        subprotocols=["chat", "superchat"],
        deflate=DeflateOffer(),
        headers={"Origin": "http://example.com"},
        key=KEY,
    )
    assert key == KEY
    assert headers.multi_items() == [
        ("Host", "example.com:8080"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
        ("Origin", "http://example.com"),
    ]


def test_build_request_random_key() -> None:
    headers, key = build_handshake_request("h")
    assert len(base64.b64decode(key)) == 16
    assert headers["sec-websocket-key"] == key
    assert "Sec-WebSocket-Protocol" not in headers
    assert "Sec-WebSocket-Extensions" not in headers
    assert build_handshake_request("h")[1] != key


@pytest.mark.parametrize("key", ["short", "!!!!", "é"])
def test_build_request_bad_key(key: str) -> None:
    with pytest.raises(LocalProtocolError):
        build_handshake_request("h", key=key)


def test_build_request_rejects_bad_input() -> None:
    with pytest.raises(LocalProtocolError, match="subprotocol"):
        build_handshake_request("h", subprotocols=["bad name"])
    with pytest.raises(LocalProtocolError, match="sets"):
        build_handshake_request("h", headers={"Upgrade": "h2c"})


def test_validate_success_and_negotiation() -> None:
    result = validate_handshake_response(
        101,
        _ok(**{"Sec-WebSocket-Protocol": "chat", "Sec-WebSocket-Extensions": "permessage-deflate"}),
        key=KEY,
        subprotocols=["chat"],
        deflate=DeflateOffer(),
    )
    assert result.subprotocol == "chat"
    assert result.deflate == DeflateParams()
    plain = validate_handshake_response(101, _ok(), key=KEY)
    assert plain.subprotocol is None
    assert plain.deflate is None


def test_validate_case_insensitive_tokens() -> None:
    headers = Headers(
        [
            ("upgrade", "WebSocket"),
            ("connection", "keep-alive, UPGRADE"),
            ("sec-websocket-accept", accept_key(KEY)),
        ]
    )
    assert validate_handshake_response(101, headers, key=KEY).subprotocol is None


@pytest.mark.parametrize(
    ("status", "headers", "match"),
    [
        (200, _ok(), "200"),
        (
            101,
            Headers([("Connection", "upgrade"), ("Sec-WebSocket-Accept", accept_key(KEY))]),
            "Upgrade",
        ),
        (101, Headers([("Upgrade", "h2c"), ("Connection", "upgrade")]), "Upgrade"),
        (
            101,
            Headers([("Upgrade", "websocket"), ("Sec-WebSocket-Accept", accept_key(KEY))]),
            "Connection",
        ),
        (101, Headers([("Upgrade", "websocket"), ("Connection", "close")]), "Connection"),
        (101, Headers([("Upgrade", "websocket"), ("Connection", "upgrade")]), "Accept"),
        (
            101,
            Headers(
                [("Upgrade", "websocket"), ("Connection", "upgrade"), ("Sec-WebSocket-Accept", "x")]
            ),
            "Accept",
        ),
        (101, _ok(**{"Sec-WebSocket-Protocol": "other"}), "not offered"),
        (101, _ok(**{"Sec-WebSocket-Protocol": "chat, other"}), "several"),
        (101, _ok(**{"Sec-WebSocket-Extensions": "x-webkit-deflate-frame"}), "not offered"),
        (
            101,
            _ok(**{"Sec-WebSocket-Extensions": "permessage-deflate, permessage-deflate"}),
            "twice",
        ),
        (101, _ok(**{"Sec-WebSocket-Extensions": "bad name"}), "invalid"),
        (101, _ok(**{"Sec-WebSocket-Extensions": "permessage-deflate; bad name"}), "invalid"),
        (101, _ok(**{"Sec-WebSocket-Extensions": "permessage-deflate; a=b c"}), "invalid"),
    ],
)
def test_validate_failures(status: int, headers: Headers, match: str) -> None:
    with pytest.raises(HandshakeError, match=match) as info:
        validate_handshake_response(
            status, headers, key=KEY, subprotocols=["chat"], deflate=DeflateOffer()
        )
    assert isinstance(info.value.response, HandshakeResponse)
    assert info.value.response.status_code == status
    assert info.value.response.headers is headers


def test_validate_extension_without_offer() -> None:
    with pytest.raises(HandshakeError, match="not offered"):
        validate_handshake_response(
            101, _ok(**{"Sec-WebSocket-Extensions": "permessage-deflate"}), key=KEY
        )


def test_validate_attaches_given_response() -> None:
    sentinel = object()
    with pytest.raises(HandshakeError) as info:
        validate_handshake_response(403, Headers(), key=KEY, response=sentinel)
    assert info.value.response is sentinel


def test_client_handshake_object() -> None:
    hs = ClientHandshake("h", subprotocols=["a"], deflate=DeflateOffer(), key=KEY)
    assert hs.key == KEY
    assert hs.headers["host"] == "h"
    headers = _ok(
        **{
            "Sec-WebSocket-Protocol": "a",
            "Sec-WebSocket-Extensions": 'permessage-deflate; server_max_window_bits="10"; '
            "client_max_window_bits=9 ; client_no_context_takeover",
        }
    )
    result = hs.validate(101, headers)
    assert result.subprotocol == "a"
    assert result.deflate == DeflateParams(
        client_no_context_takeover=True, server_max_window_bits=10, client_max_window_bits=9
    )
