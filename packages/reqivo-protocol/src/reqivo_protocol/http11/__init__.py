"""The sans-IO HTTP/1.1 client machine (RFC 9110 and RFC 9112).

Bytes in, events out::

    conn = ClientConnection()
    wire = conn.send(Request(method="GET", target="/", headers=[("Host", "example.com")]))
    wire += conn.send(EndOfMessage())
    ...                                  # write wire, read from the socket:
    conn.receive_data(received)          # b"" when the peer closed
    event = conn.next_event()            # Response, Data, EndOfMessage, ... or NEED_DATA

``send_request(method, target, headers, body)`` serializes a whole request in one call.
After the response's ``EndOfMessage``, ``reusable`` says whether the connection can
carry another request (``start_next_cycle()`` prepares it).
"""

from __future__ import annotations

from reqivo_protocol.http11._connection import ClientConnection
from reqivo_protocol.http11._events import (
    NEED_DATA,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    NeedData,
    PeerClosed,
    ReceiveResult,
    Request,
    Response,
)
from reqivo_protocol.http11._limits import MAX_HEADER_COUNT, MAX_HEADER_SIZE, MAX_LINE_SIZE
from reqivo_protocol.http11._state import ClientState

__all__ = [
    "MAX_HEADER_COUNT",
    "MAX_HEADER_SIZE",
    "MAX_LINE_SIZE",
    "NEED_DATA",
    "ClientConnection",
    "ClientState",
    "Data",
    "EndOfMessage",
    "Event",
    "InformationalResponse",
    "NeedData",
    "PeerClosed",
    "ReceiveResult",
    "Request",
    "Response",
]
