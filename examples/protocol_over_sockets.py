"""reqivo-protocol on plain blocking sockets: the smallest possible custom transport.

reqivo-protocol never touches the network: a transport moves bytes, the state machine
turns them into events. These two functions are a complete (if minimal) HTTP/1.1 client
and WebSocket client, in about forty lines each.

    uv run python examples/protocol_over_sockets.py [HTTP_URL [WS_URL]]

(by default ``http://httpbin.org/get`` and ``ws://echo.websocket.org/``).
"""

from __future__ import annotations

import socket
import sys

from reqivo_protocol import URL, Headers
from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    Data,
    EndOfMessage,
    PeerClosed,
    Response,
)
from reqivo_protocol.websocket import (
    CloseReceived,
    ConnectionFailed,
    TextMessage,
    WebSocketConnection,
    build_handshake_request,
    validate_handshake_response,
)


def http_get(url: str, sock: socket.socket | None = None) -> tuple[Response, bytes]:
    """GET ``url`` over a new TCP connection (or ``sock``); return the head and body."""
    target = URL(url)
    sock = sock or socket.create_connection((target.host, target.effective_port or 80))
    conn = ClientConnection()
    sock.sendall(conn.send_request("GET", target.target, [("Host", target.netloc)]))
    head: Response | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            conn.receive_data(sock.recv(65536))  # b"" (the peer closed) is fed as EOF
        elif isinstance(event, Response):
            head = event
        elif isinstance(event, Data):
            body += event.data
        elif isinstance(event, EndOfMessage | PeerClosed):
            break
    if not conn.reusable:
        sock.close()
    assert head is not None
    return head, bytes(body)


def websocket_echo(url: str, messages: list[str]) -> list[str]:
    """Open a WebSocket, send ``messages``, collect the replies, close cleanly."""
    target = URL(url)
    sock = socket.create_connection((target.host, target.effective_port or 80))
    fields, key = build_handshake_request(target.netloc)
    http = ClientConnection()
    sock.sendall(http.send_request("GET", target.target, fields))
    while (event := http.next_event()) is NEED_DATA or not isinstance(event, Response):
        if event is NEED_DATA:
            http.receive_data(sock.recv(65536))
    result = validate_handshake_response(event.status_code, event.headers, key=key)
    ws = WebSocketConnection(deflate=result.deflate)
    if http.trailing_data:  # bytes that arrived right after the 101 head
        ws.receive_data(http.trailing_data)  # (never feed b"": it means end of stream)
    for text in messages:
        sock.sendall(ws.send_text(text))
    replies: list[str] = []
    while True:
        for ws_event in ws.events():
            if isinstance(ws_event, TextMessage):
                replies.append(ws_event.data)
                if len(replies) == len(messages):  # all echoed: start the close handshake
                    sock.sendall(ws.send_close(1000))
            elif isinstance(ws_event, CloseReceived | ConnectionFailed):
                sock.sendall(ws.data_to_send())
                sock.close()
                return replies
        sock.sendall(ws.data_to_send())  # pongs the machine queued on its own
        ws.receive_data(sock.recv(65536))


if __name__ == "__main__":
    args = sys.argv[1:]
    http_url = args[0] if args else "http://httpbin.org/get"
    ws_url = args[1] if len(args) > 1 else "ws://echo.websocket.org/"
    response, content = http_get(http_url)
    print(response.status_code, response.reason, Headers(response.headers).get("content-type"))
    print(f"{len(content)} bytes")
    print(websocket_echo(ws_url, ["hello", "sans-IO"]))
