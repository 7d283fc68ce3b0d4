"""The states of an HTTP/2 stream as a client sees it, and every transition between them.

Theory of operation
-------------------

RFC 9113 section 5.1 gives a stream seven states; a client that refuses server push
(SETTINGS_ENABLE_PUSH=0) meets five of them::

    IDLE --send HEADERS--> OPEN
    OPEN --send END_STREAM--> HALF_CLOSED_LOCAL --recv END_STREAM--> CLOSED
    OPEN --recv END_STREAM--> HALF_CLOSED_REMOTE --send END_STREAM--> CLOSED
    any state but IDLE --send or recv RST_STREAM--> CLOSED

HEADERS and DATA keep a side's state while that side may still send. The inputs are
``StreamInput`` members; END_STREAM is an input of its own, applied after the HEADERS
or DATA frame that carried it. ``TRANSITIONS`` is the whole truth: ``transition`` looks
the pair up and a missing pair is an error, whose kind depends on who acted:

* our own input (``SEND_*``) in a state that forbids it: ``LocalProtocolError``, the
  frame is not sent;
* a received HEADERS or DATA on a half-closed (remote) stream: a stream error of type
  STREAM_CLOSED (section 5.1); on an idle stream: a connection error of type
  PROTOCOL_ERROR.

Frames on CLOSED streams never reach the table: a closed stream is forgotten (only a
bounded record of why it closed is kept), and the connection applies section 5.1's
rules for closed streams itself.

``Stream`` holds one open stream's state and flow-control windows. States and inputs
are ``IntEnum`` members so that the table's tuple keys hash in C.
"""

from __future__ import annotations

import enum
from typing import Final

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol.http2._errors import ErrorCode, HTTP2ProtocolError

__all__ = ["TRANSITIONS", "Stream", "StreamInput", "StreamState", "transition"]


class StreamState(enum.IntEnum):
    """The state of one stream (RFC 9113 section 5.1; no reserved states: no push)."""

    IDLE = 0
    OPEN = 1
    HALF_CLOSED_LOCAL = 2
    HALF_CLOSED_REMOTE = 3
    CLOSED = 4


class StreamInput(enum.IntEnum):
    """What happens to a stream: a frame (or its END_STREAM flag) sent or received."""

    SEND_HEADERS = 0
    SEND_DATA = 1
    SEND_END_STREAM = 2
    SEND_RST_STREAM = 3
    RECV_HEADERS = 4
    RECV_DATA = 5
    RECV_END_STREAM = 6
    RECV_RST_STREAM = 7


IDLE: Final = StreamState.IDLE
OPEN: Final = StreamState.OPEN
HALF_CLOSED_LOCAL: Final = StreamState.HALF_CLOSED_LOCAL
HALF_CLOSED_REMOTE: Final = StreamState.HALF_CLOSED_REMOTE
CLOSED: Final = StreamState.CLOSED
_In = StreamInput

#: (state, input) -> new state. A missing pair is an error (see ``transition``).
TRANSITIONS: Final[dict[tuple[StreamState, StreamInput], StreamState]] = {
    (IDLE, _In.SEND_HEADERS): OPEN,
    (OPEN, _In.SEND_HEADERS): OPEN,  # trailers (END_STREAM follows)
    (OPEN, _In.SEND_DATA): OPEN,
    (OPEN, _In.SEND_END_STREAM): HALF_CLOSED_LOCAL,
    (OPEN, _In.SEND_RST_STREAM): CLOSED,
    (OPEN, _In.RECV_HEADERS): OPEN,
    (OPEN, _In.RECV_DATA): OPEN,
    (OPEN, _In.RECV_END_STREAM): HALF_CLOSED_REMOTE,
    (OPEN, _In.RECV_RST_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, _In.SEND_RST_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, _In.RECV_HEADERS): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_LOCAL, _In.RECV_DATA): HALF_CLOSED_LOCAL,
    (HALF_CLOSED_LOCAL, _In.RECV_END_STREAM): CLOSED,
    (HALF_CLOSED_LOCAL, _In.RECV_RST_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, _In.SEND_HEADERS): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, _In.SEND_DATA): HALF_CLOSED_REMOTE,
    (HALF_CLOSED_REMOTE, _In.SEND_END_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, _In.SEND_RST_STREAM): CLOSED,
    (HALF_CLOSED_REMOTE, _In.RECV_RST_STREAM): CLOSED,
}

_LOCAL: Final = frozenset((_In.SEND_HEADERS, _In.SEND_DATA, _In.SEND_END_STREAM,
                           _In.SEND_RST_STREAM))  # fmt: skip


def transition(state: StreamState, event: StreamInput, stream_id: int = 0) -> StreamState:
    """The state after ``event`` in ``state``, or the error ``TRANSITIONS`` implies."""
    new = TRANSITIONS.get((state, event))
    if new is not None:
        return new
    if event in _LOCAL:
        raise LocalProtocolError(
            f"cannot {event.name.replace('_', ' ').lower()} on stream {stream_id} "
            f"in state {state.name}"
        )
    what = event.name[5:].replace("_", " ")
    if state is IDLE:
        raise HTTP2ProtocolError(f"{what} on idle stream {stream_id}")
    raise HTTP2ProtocolError(
        f"{what} on stream {stream_id} in state {state.name}",
        error_code=ErrorCode.STREAM_CLOSED,
        stream_id=stream_id,
    )


class Stream:
    """One stream we opened: its state, flow-control windows and response progress."""

    __slots__ = ("expected_length", "head_done", "id", "no_content", "outstanding",
                 "received_length", "recv_credit", "recv_window", "send_window",
                 "state")  # fmt: skip

    def __init__(self, stream_id: int, send_window: int, recv_window: int) -> None:
        self.id = stream_id
        self.state = IDLE
        #: What the peer's flow control lets us send / what we let the peer send.
        self.send_window = send_window
        self.recv_window = recv_window
        #: DATA bytes delivered to the application and not yet acknowledged by it.
        self.outstanding = 0
        #: Bytes acknowledged (or padding) not yet announced in a WINDOW_UPDATE.
        self.recv_credit = 0
        #: The final response head arrived (later HEADERS are trailers).
        self.head_done = False
        #: Our request was HEAD or CONNECT: content-length does not describe DATA.
        self.no_content = False
        #: The response's content-length (None: absent or not applicable).
        self.expected_length: int | None = None
        self.received_length = 0
