"""The states of an HTTP/1.1 client connection, and every transition between them.

Theory of operation
-------------------

A connection carries one request/response cycle at a time. Two parties take part: *our*
side (the request we send) and *their* side (the response the server sends). Each side
has its own state, both drawn from ``ClientState``; the connection tracks the pair.

Our side::

    IDLE --Request--> SEND_BODY --Data--> SEND_BODY --EndOfMessage--> DONE

Their side::

    IDLE --(our Request)--> SEND_RESPONSE --InformationalResponse--> SEND_RESPONSE
    SEND_RESPONSE --Response--> SEND_BODY --Data--> SEND_BODY --EndOfMessage--> DONE
    SEND_RESPONSE --Response switching protocols (101, 2xx to CONNECT)--> SWITCHED_PROTOCOL
    IDLE / DONE / MUST_CLOSE --unsolicited bytes--> MUST_CLOSE
    IDLE / DONE / MUST_CLOSE / CLOSED --PeerClosed--> CLOSED

Their side may reach ``DONE`` while ours is still in ``SEND_BODY`` (an early response,
for example a 413 or a refused ``Expect: 100-continue``): both tables are independent.

On top of the event-driven transitions, ``settle()`` applies the state-triggered ones:

* when the cycle cannot be followed by another (``keep_alive`` is false: a
  ``Connection: close`` on either side, an HTTP/1.0 response without keep-alive, a body
  read until close, a response with both Transfer-Encoding and Content-Length), a side
  in ``DONE`` moves to ``MUST_CLOSE``;
* when their side switches protocols, ours follows into ``SWITCHED_PROTOCOL``: HTTP is
  over and the connection belongs to the next protocol;
* once they have closed, our side can only be ``MUST_CLOSE`` (unless already finished
  differently).

Errors bypass the tables: a protocol error from the peer puts *their* side in ``ERROR``;
an invalid body from us (too long, too short) puts *our* side in ``ERROR``. A request
refused before any byte of it was produced leaves both sides untouched.

The connection is reusable exactly when both sides are ``DONE``; ``start_next_cycle()``
then returns both to ``IDLE``.
"""

from __future__ import annotations

import enum
from typing import Final

from reqivo_protocol.http11._events import (
    Data,
    EndOfMessage,
    InformationalResponse,
    PeerClosed,
    Request,
    Response,
)

__all__ = [
    "OURS_AFTER_END",
    "OURS_AFTER_REQUEST",
    "OUR_TRANSITIONS",
    "THEIRS_AFTER_END",
    "THEIRS_AFTER_REQUEST",
    "THEIRS_AFTER_RESPONSE",
    "THEIR_TRANSITIONS",
    "ClientState",
    "Switch",
    "Unsolicited",
    "settle",
]


class ClientState(enum.Enum):
    """The state of one side (ours or theirs) of an HTTP/1.1 client connection."""

    #: No message in progress (ours: ready to send a request; theirs: none owed).
    IDLE = "IDLE"
    #: Theirs only: a request was sent, the response head is owed.
    SEND_RESPONSE = "SEND_RESPONSE"
    #: A message head has been sent/received; its body is in progress.
    SEND_BODY = "SEND_BODY"
    #: The message is complete and the connection may carry another cycle.
    DONE = "DONE"
    #: The message is complete (or the peer misbehaved) and the connection must be closed.
    MUST_CLOSE = "MUST_CLOSE"
    #: Theirs: the peer closed its side. Ours: never reached through an event.
    CLOSED = "CLOSED"
    #: HTTP is over: a 101 or a 2xx to CONNECT handed the connection to another protocol.
    SWITCHED_PROTOCOL = "SWITCHED_PROTOCOL"
    #: A protocol error happened; the connection is unusable.
    ERROR = "ERROR"


class Switch:
    """Pseudo-event: a final response that switches protocols (101, 2xx to CONNECT)."""


class Unsolicited:
    """Pseudo-event: bytes arrived while no response was owed."""


IDLE: Final = ClientState.IDLE
SEND_RESPONSE: Final = ClientState.SEND_RESPONSE
SEND_BODY: Final = ClientState.SEND_BODY
DONE: Final = ClientState.DONE
MUST_CLOSE: Final = ClientState.MUST_CLOSE
CLOSED: Final = ClientState.CLOSED
SWITCHED_PROTOCOL: Final = ClientState.SWITCHED_PROTOCOL
ERROR: Final = ClientState.ERROR

#: Our side: (state, event type sent) -> new state. A missing pair is a LocalProtocolError.
OUR_TRANSITIONS: Final[dict[tuple[ClientState, type], ClientState]] = {
    (IDLE, Request): SEND_BODY,
    (SEND_BODY, Data): SEND_BODY,
    (SEND_BODY, EndOfMessage): DONE,
}

#: Their side: (state, event type) -> new state. ``Request`` is the request *we* sent,
#: which opens their turn. The parser only produces events allowed here.
THEIR_TRANSITIONS: Final[dict[tuple[ClientState, type], ClientState]] = {
    (IDLE, Request): SEND_RESPONSE,
    (IDLE, Unsolicited): MUST_CLOSE,
    (IDLE, PeerClosed): CLOSED,
    (SEND_RESPONSE, InformationalResponse): SEND_RESPONSE,
    (SEND_RESPONSE, Response): SEND_BODY,
    (SEND_RESPONSE, Switch): SWITCHED_PROTOCOL,
    (SEND_BODY, Data): SEND_BODY,
    (SEND_BODY, EndOfMessage): DONE,
    (DONE, Unsolicited): MUST_CLOSE,
    (DONE, PeerClosed): CLOSED,
    (MUST_CLOSE, Unsolicited): MUST_CLOSE,
    (MUST_CLOSE, PeerClosed): CLOSED,
    (CLOSED, PeerClosed): CLOSED,
}

# The transitions of the per-request path, looked up once here. The tables above stay
# the single source of truth, but on Python 3.11 every lookup keyed by an Enum member
# runs the Python-level ``Enum.__hash__``; these names cost a global load instead.
#: Our side after sending a Request / its EndOfMessage.
OURS_AFTER_REQUEST: Final = OUR_TRANSITIONS[(IDLE, Request)]
OURS_AFTER_END: Final = OUR_TRANSITIONS[(SEND_BODY, EndOfMessage)]
#: Their side after our Request / their final Response / their EndOfMessage.
THEIRS_AFTER_REQUEST: Final = THEIR_TRANSITIONS[(IDLE, Request)]
THEIRS_AFTER_RESPONSE: Final = THEIR_TRANSITIONS[(SEND_RESPONSE, Response)]
THEIRS_AFTER_END: Final = THEIR_TRANSITIONS[(SEND_BODY, EndOfMessage)]


def settle(
    ours: ClientState, theirs: ClientState, keep_alive: bool
) -> tuple[ClientState, ClientState]:
    """Apply the state-triggered transitions until nothing changes (see module doc)."""
    if theirs is SWITCHED_PROTOCOL and ours is not ERROR:
        return SWITCHED_PROTOCOL, theirs
    if not keep_alive:
        if ours is DONE:
            ours = MUST_CLOSE
        if theirs is DONE:
            theirs = MUST_CLOSE
    if theirs is CLOSED and ours in (IDLE, DONE):
        ours = MUST_CLOSE
    return ours, theirs
