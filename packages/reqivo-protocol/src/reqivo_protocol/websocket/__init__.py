"""The sans-IO WebSocket client: opening handshake, frame codec, permessage-deflate.

* ``ClientHandshake`` / ``build_handshake_request`` / ``validate_handshake_response``
  build the upgrade request's header fields and check the server's answer
  (RFC 6455 section 4, RFC 7692 negotiation).
* ``WebSocketConnection`` is the open connection: ``receive_data`` in, ``events()`` and
  ``data_to_send()`` out, ``send_*`` methods returning frame bytes.
* ``Opcode`` and ``CloseCode`` name the frame opcodes and the close codes (both
  ``IntEnum``: they compare equal to the plain ints on the wire).
"""

from __future__ import annotations

from reqivo_protocol.websocket._connection import WebSocketConnection
from reqivo_protocol.websocket._deflate import DeflateOffer, DeflateParams
from reqivo_protocol.websocket._events import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    Ping,
    Pong,
    TextMessage,
)
from reqivo_protocol.websocket._frames import CloseCode, Opcode, is_valid_close_code
from reqivo_protocol.websocket._handshake import (
    ClientHandshake,
    HandshakeResponse,
    HandshakeResult,
    accept_key,
    build_handshake_request,
    validate_handshake_response,
)
from reqivo_protocol.websocket._mask import mask
from reqivo_protocol.websocket._state import ConnectionState

__all__ = [
    "BytesMessage",
    "ClientHandshake",
    "CloseCode",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionState",
    "DeflateOffer",
    "DeflateParams",
    "Event",
    "HandshakeResponse",
    "HandshakeResult",
    "Opcode",
    "Ping",
    "Pong",
    "TextMessage",
    "WebSocketConnection",
    "accept_key",
    "build_handshake_request",
    "is_valid_close_code",
    "mask",
    "validate_handshake_response",
]
