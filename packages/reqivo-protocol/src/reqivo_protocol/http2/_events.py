"""The events of the HTTP/2 client connection (``ClientConnection.receive_data``).

Per stream, in order: ``InformationalResponse`` (zero or more), ``ResponseReceived``,
``DataReceived`` (zero or more), ``TrailersReceived`` (optional), ``StreamEnded``; or
a ``StreamReset`` at any point, after which the stream says nothing more. For the
connection: ``RemoteSettingsChanged``, ``SettingsAcknowledged``, ``WindowUpdated``,
``PingAcknowledged`` and ``ConnectionTerminated``.

Events are frozen, slotted dataclasses; the connection builds the per-response ones
through ``_make_*`` helpers that skip ``__init__`` (a frozen dataclass ``__init__``
pays one ``object.__setattr__`` per field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from reqivo_protocol.http2._errors import HTTP2ProtocolError
from reqivo_protocol.http2._frames import SettingCode

__all__ = [
    "ConnectionTerminated",
    "DataReceived",
    "Event",
    "InformationalResponse",
    "PingAcknowledged",
    "RemoteSettingsChanged",
    "ResponseReceived",
    "SettingsAcknowledged",
    "StreamEnded",
    "StreamReset",
    "TrailersReceived",
    "WindowUpdated",
]

Fields: TypeAlias = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """The final response head of a stream (pseudo-header fields removed)."""

    stream_id: int
    status_code: int
    headers: Fields


@dataclass(frozen=True, slots=True)
class InformationalResponse:
    """A 1xx response head (101 is refused: HTTP/2 has no protocol switch)."""

    stream_id: int
    status_code: int
    headers: Fields


@dataclass(frozen=True, slots=True)
class DataReceived:
    """Response content: one DATA frame's, or a run of unpadded DATA frames' on one
    stream received together. ``flow_controlled_length`` counts the padding too;
    acknowledge ``len(data)`` with ``acknowledge_received_data`` once consumed (the
    padding is credited back by the connection itself)."""

    stream_id: int
    data: bytes
    flow_controlled_length: int


@dataclass(frozen=True, slots=True)
class TrailersReceived:
    """The trailer fields of a response (always followed by ``StreamEnded``)."""

    stream_id: int
    headers: Fields


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The peer ended the stream (END_STREAM): the response is complete."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class StreamReset:
    """The stream is over, unfinished: the peer reset it (``remote=True``: RST_STREAM
    received, or a GOAWAY that left it unprocessed, then with REFUSED_STREAM: safe to
    retry on a new connection), or we did because of a stream error in what the peer
    sent (``remote=False``; ``error`` is that error, and RST_STREAM is queued)."""

    stream_id: int
    error_code: int
    remote: bool
    error: HTTP2ProtocolError | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class WindowUpdated:
    """A send window grew (``stream_id`` 0: the connection's): more may be sendable."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class RemoteSettingsChanged:
    """The peer's SETTINGS, now in force (and acknowledged)."""

    changed: dict[SettingCode | int, int]


@dataclass(frozen=True, slots=True)
class SettingsAcknowledged:
    """The peer acknowledged our SETTINGS: they now apply to what we receive."""


@dataclass(frozen=True, slots=True)
class PingAcknowledged:
    """The answer to one of our PINGs."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ConnectionTerminated:
    """The peer sent GOAWAY (streams above ``last_stream_id`` were not processed and
    have been reported as ``StreamReset`` with REFUSED_STREAM), or the connection hit
    end of file (``error_code`` NO_ERROR, ``last_stream_id`` the highest stream opened)."""

    error_code: int
    last_stream_id: int
    additional_data: bytes = b""


Event: TypeAlias = (
    ResponseReceived | InformationalResponse | DataReceived | TrailersReceived | StreamEnded
    | StreamReset | WindowUpdated | RemoteSettingsChanged | SettingsAcknowledged
    | PingAcknowledged | ConnectionTerminated
)  # fmt: skip

# -- fast construction for the per-response path -------------------------------------------

_new = object.__new__


def _setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_set_data_sid, _set_data, _set_data_length = _setters(
    DataReceived, "stream_id", "data", "flow_controlled_length"
)
(_set_end_sid,) = _setters(StreamEnded, "stream_id")
_HEAD_SETTERS: Final = {
    cls: _setters(cls, "stream_id", "status_code", "headers")
    for cls in (ResponseReceived, InformationalResponse)
}


def make_data(stream_id: int, data: bytes, length: int) -> DataReceived:
    """A ``DataReceived`` built without ``__init__``."""
    event = _new(DataReceived)
    _set_data_sid(event, stream_id)
    _set_data(event, data)
    _set_data_length(event, length)
    return event


def make_end(stream_id: int) -> StreamEnded:
    """A ``StreamEnded`` built without ``__init__``."""
    event = _new(StreamEnded)
    _set_end_sid(event, stream_id)
    return event


def make_head(
    cls: type[ResponseReceived] | type[InformationalResponse],
    stream_id: int,
    status_code: int,
    headers: Fields,
) -> ResponseReceived | InformationalResponse:
    """A response head event built without ``__init__``."""
    event = _new(cls)
    set_sid, set_code, set_headers = _HEAD_SETTERS[cls]
    set_sid(event, stream_id)
    set_code(event, status_code)
    set_headers(event, headers)
    return event
