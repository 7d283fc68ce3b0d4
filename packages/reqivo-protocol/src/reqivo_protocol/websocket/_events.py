"""Events produced by ``WebSocketConnection.events()``: frozen, slotted dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from reqivo_protocol._exceptions import WebSocketProtocolError

__all__ = [
    "BytesMessage",
    "CloseReceived",
    "ConnectionFailed",
    "Event",
    "Ping",
    "Pong",
    "TextMessage",
]


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (all fragments joined, UTF-8 validated and decoded)."""

    data: str


@dataclass(frozen=True, slots=True)
class BytesMessage:
    """A complete binary message (all fragments joined)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """The server sent a ping; the matching pong is already queued in ``data_to_send()``."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """The server sent a pong."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The server sent a valid close frame.

    ``code`` is 1005 when the frame carried no code. If we had not sent a close frame
    yet, the echo is queued in ``data_to_send()``. Always the last event.
    """

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The connection failed; always the last event.

    Either the server violated the protocol or a limit (``error`` is the
    ``WebSocketProtocolError`` or ``MessageTooBig``, ``code`` its close code; a close
    frame with that code is queued in ``data_to_send()`` unless we had already sent
    one), or the transport ended without a close frame (``code`` 1006, ``error`` None).
    The I/O layer should send what is queued, then close the transport.
    """

    code: int
    reason: str
    error: WebSocketProtocolError | None


Event = TextMessage | BytesMessage | Ping | Pong | CloseReceived | ConnectionFailed
