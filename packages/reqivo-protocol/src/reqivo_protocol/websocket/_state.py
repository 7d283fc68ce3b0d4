"""The connection states and every transition between them, in one table.

Theory of operation: a client connection starts OPEN (the opening handshake is done
before the machine exists). It leaves OPEN in one of four ways:

* we send a close frame: CLOSING. We still parse incoming frames, including data
  messages, until the server's close frame arrives (then CLOSED).
* the server's close frame arrives: we queue the echo and go straight to CLOSED; the
  closing handshake is complete from our side and the server closes the TCP connection.
* the server violates the protocol (or a limit): we queue a close frame with the error
  code (unless we already sent one) and go to CLOSED without waiting for an answer
  (RFC 6455 section 7.1.7, "Fail the WebSocket Connection").
* the transport reports end of file before the close handshake: CLOSED (code 1006).

A trigger missing from the table is a local error (sending a close twice) or, for the
receiving triggers in CLOSED, something the machine ignores.
"""

from __future__ import annotations

import enum

__all__ = ["TRANSITIONS", "ConnectionState", "Trigger"]


class ConnectionState(enum.Enum):
    """Where the closing handshake stands."""

    OPEN = "OPEN"
    CLOSING = "CLOSING"  # we sent a close frame; the server's has not arrived yet
    CLOSED = "CLOSED"


class Trigger(enum.Enum):
    """What moves the machine."""

    SEND_CLOSE = "send close"
    RECEIVE_CLOSE = "receive close"
    FAIL = "protocol failure"
    EOF = "end of file"


_OPEN, _CLOSING, _CLOSED = ConnectionState.OPEN, ConnectionState.CLOSING, ConnectionState.CLOSED

TRANSITIONS: dict[tuple[ConnectionState, Trigger], ConnectionState] = {
    (_OPEN, Trigger.SEND_CLOSE): _CLOSING,
    (_OPEN, Trigger.RECEIVE_CLOSE): _CLOSED,
    (_OPEN, Trigger.FAIL): _CLOSED,
    (_OPEN, Trigger.EOF): _CLOSED,
    (_CLOSING, Trigger.RECEIVE_CLOSE): _CLOSED,
    (_CLOSING, Trigger.FAIL): _CLOSED,
    (_CLOSING, Trigger.EOF): _CLOSED,
}
