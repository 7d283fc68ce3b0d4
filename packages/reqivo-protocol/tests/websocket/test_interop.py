"""Our client machine against the server sides of wsproto and websockets, over a fake
wire: handshake, framing, fragmentation, ping/pong, close, permessage-deflate."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from wsproto import ConnectionType, WSConnection
from wsproto import events as wse
from wsproto.extensions import PerMessageDeflate

from reqivo_protocol import Headers
from reqivo_protocol.websocket import (
    BytesMessage,
    ClientHandshake,
    CloseReceived,
    ConnectionState,
    DeflateOffer,
    Ping,
    Pong,
    TextMessage,
    WebSocketConnection,
)

OFFERS: list[DeflateOffer | None] = [
    None,
    DeflateOffer(),
    DeflateOffer(client_max_window_bits=None),
    DeflateOffer(client_max_window_bits=9, server_max_window_bits=9),
    DeflateOffer(client_max_window_bits=12, server_max_window_bits=8),
    DeflateOffer(client_no_context_takeover=True),
    DeflateOffer(server_no_context_takeover=True),
    DeflateOffer(
        client_no_context_takeover=True,
        server_no_context_takeover=True,
        client_max_window_bits=10,
        server_max_window_bits=11,
    ),
]


def _request_bytes(hs: ClientHandshake) -> bytes:
    lines = ["GET /chat HTTP/1.1", *(f"{k}: {v}" for k, v in hs.headers.multi_items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _parse_response(data: bytes) -> tuple[int, Headers, bytes]:
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
    return int(status_line.split()[1]), Headers(fields), rest  # type: ignore[arg-type]


def _messages(n: int = 3) -> list[str | bytes]:
    return ["hello", b"\x00\x01\x02" * 50, "ünïcødé " * 300, b"", "", b"x" * 70000][:n] * 2


@pytest.mark.parametrize("offer", OFFERS)
def test_against_wsproto(offer: DeflateOffer | None) -> None:
    hs = ClientHandshake("localhost", subprotocols=["chat"], deflate=offer)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(_request_bytes(hs))
    request = next(server.events())
    assert isinstance(request, wse.Request)
    extensions = [PerMessageDeflate()] if offer is not None else []
    status, headers, rest = _parse_response(
        server.send(wse.AcceptConnection(subprotocol="chat", extensions=extensions))
    )
    assert rest == b""
    result = hs.validate(status, headers)
    assert result.subprotocol == "chat"
    # a server that cannot compress with an 8-bit window declines the extension
    declined = offer is not None and offer.server_max_window_bits == 8
    assert (result.deflate is None) == (offer is None or declined)
    client = WebSocketConnection(deflate=result.deflate, max_message_size=None)

    messages = _messages(6)
    # client -> server
    wire = b"".join(
        client.send_text(m) if isinstance(m, str) else client.send_bytes(m) for m in messages
    )
    # wsproto 1.3 loses the compression state of a message when a control frame is
    # interleaved between its fragments (its extension resets on any FIN frame), so
    # the interleaved ping is only sent uncompressed here; websockets covers the rest.
    wire += client.send_fragment("frag", final=False)
    wire += client.send_ping(b"p") if offer is None else b""
    wire += client.send_fragment("ment", final=True)
    server.receive_data(wire)
    got: list[Any] = []
    pending: Any = None
    for event in server.events():
        if isinstance(event, wse.Message):
            pending = event.data if pending is None else pending + event.data
            if event.message_finished:
                got.append(pending)
                pending = None
        elif isinstance(event, wse.Ping):
            got.append(("ping", event.payload))
    if offer is None:
        assert got == [*messages, ("ping", b"p"), "fragment"]
    else:
        assert got == [*messages, "fragment"]

    # server -> client
    out = b"".join(server.send(wse.Message(data=m)) for m in messages)
    out += server.send(wse.TextMessage(data="ab", message_finished=False))
    out += server.send(wse.Ping(payload=b"sp"))
    out += server.send(wse.TextMessage(data="cd", message_finished=True))
    client.receive_data(out)
    events = client.events()
    expected: list[Any] = [
        TextMessage(m) if isinstance(m, str) else BytesMessage(m) for m in messages
    ]
    assert events == [*expected, Ping(b"sp"), TextMessage("abcd")]
    server.receive_data(client.data_to_send())
    assert [type(e) for e in server.events()] == [wse.Pong]

    # close initiated by the server
    client.receive_data(server.send(wse.CloseConnection(code=1001, reason="bye")))
    assert client.events() == [CloseReceived(1001, "bye")]
    server.receive_data(client.data_to_send())
    assert [type(e) for e in server.events()] == [wse.CloseConnection]
    assert client.state is ConnectionState.CLOSED


@pytest.mark.parametrize("offer", OFFERS)
def test_against_websockets(offer: DeflateOffer | None) -> None:
    hs = ClientHandshake("localhost", deflate=offer)
    server = ServerProtocol(
        extensions=[ServerPerMessageDeflateFactory()] if offer is not None else None,
        max_size=None,
    )
    server.receive_data(_request_bytes(hs))
    [request] = server.events_received()
    response = server.accept(request)
    server.send_response(response)
    status, headers, _ = _parse_response(b"".join(server.data_to_send()))
    result = hs.validate(status, headers)
    declined = offer is not None and offer.server_max_window_bits == 8
    assert (result.deflate is None) == (offer is None or declined)
    client = WebSocketConnection(deflate=result.deflate, max_message_size=None)

    messages = _messages(6)
    wire = b"".join(
        client.send_text(m) if isinstance(m, str) else client.send_bytes(m) for m in messages
    )
    wire += client.send_fragment(b"ab", final=False) + client.send_ping(b"p")
    wire += client.send_fragment(b"cd", final=True)
    server.receive_data(wire)
    frames = server.events_received()
    assert [f.data for f in frames[: len(messages)]] == [
        m.encode() if isinstance(m, str) else m for m in messages
    ]
    assert [(f.opcode, f.data) for f in frames[len(messages) :]] == [
        (Opcode.BINARY, b"ab"),
        (Opcode.PING, b"p"),
        (Opcode.CONT, b"cd"),
    ]
    server.data_to_send()  # the server's pong

    for m in messages:
        if isinstance(m, str):
            server.send_text(m.encode())
        else:
            server.send_binary(m)
    server.send_binary(b"12", fin=False)
    server.send_ping(b"x")
    server.send_continuation(b"34", fin=True)
    server.send_pong(b"y")
    client.receive_data(b"".join(server.data_to_send()))
    expected: list[Any] = [
        TextMessage(m) if isinstance(m, str) else BytesMessage(m) for m in messages
    ]
    assert client.events() == [*expected, Ping(b"x"), BytesMessage(b"1234"), Pong(b"y")]
    server.receive_data(client.data_to_send())
    assert [f.opcode for f in server.events_received()] == [Opcode.PONG]

    # close initiated by the client
    server.receive_data(client.send_close(1000, "done"))
    closing = server.events_received()
    assert isinstance(closing[0], Frame)
    assert closing[0].opcode is Opcode.CLOSE
    client.receive_data(b"".join(server.data_to_send()))
    assert client.events() == [CloseReceived(1000, "done")]
    assert client.state is ConnectionState.CLOSED
    assert client.data_to_send() == b""
