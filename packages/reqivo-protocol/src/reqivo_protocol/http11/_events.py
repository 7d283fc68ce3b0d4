"""The events of the HTTP/1.1 client machine.

What we send: ``Request``, then ``Data`` (zero or more), then ``EndOfMessage``.
What we receive: ``InformationalResponse`` (zero or more), ``Response``, ``Data`` (zero
or more), ``EndOfMessage``; ``PeerClosed`` once the peer has closed its side.
``NEED_DATA`` is not an event: ``next_event()`` returns it when it needs more bytes.

Events are frozen, slotted dataclasses. The parser builds them through ``_make_*``
helpers that skip ``__init__`` (a frozen dataclass ``__init__`` pays one
``object.__setattr__`` per field); users still see immutable objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias

from reqivo_protocol._headers import Headers, HeaderTypes

__all__ = [
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "Event",
    "InformationalResponse",
    "NeedData",
    "PeerClosed",
    "Request",
    "Response",
]


class NeedData(enum.Enum):
    """The type of the ``NEED_DATA`` sentinel."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"

    __str__ = __repr__


#: Returned by ``ClientConnection.next_event()`` when more bytes must be received first.
NEED_DATA: Final = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True)
class Request:
    """The head of a request we send.

    ``method`` and ``target`` may be ``str`` or ``bytes`` (ASCII). ``headers`` is a
    ``Headers`` or any iterable of ``(name, value)`` pairs of ``str`` or ``bytes``; it is
    validated when the request is sent, not here, so building a ``Request`` is cheap.

    Body framing: if ``headers`` carry ``Content-Length`` or ``Transfer-Encoding``, they
    decide. Otherwise ``body_length=None`` (the default) means no body and no framing
    header, ``body_length=n`` adds ``Content-Length: n`` (``0`` for an empty POST), and
    ``chunked=True`` adds ``Transfer-Encoding: chunked``.
    """

    method: str | bytes
    target: str | bytes
    headers: HeaderTypes = ()
    body_length: int | None = None
    chunked: bool = False


@dataclass(frozen=True, slots=True)
class InformationalResponse:
    """A 1xx response head (100 Continue, 103 Early Hints, ...) before the final one.

    A ``101 Switching Protocols`` is reported as a ``Response``, since it ends HTTP.
    """

    status_code: int
    reason: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True)
class Response:
    """The final response head (status 2xx-5xx, or 101 Switching Protocols)."""

    status_code: int
    reason: str = ""
    http_version: str = "1.1"
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True)
class Data:
    """A piece of a message body (its framing removed)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The end of a message body; ``trailers`` are the chunked trailer fields, if any."""

    trailers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True)
class PeerClosed:
    """The peer closed its side of the connection (end of file)."""


Event: TypeAlias = InformationalResponse | Response | Data | EndOfMessage | PeerClosed
ReceiveResult: TypeAlias = Event | Literal[NeedData.NEED_DATA]

# -- fast construction for the parser ----------------------------------------------------
# The slot descriptors' own ``__set__`` (taken once here) writes a field of a frozen
# instance; it is cheaper than ``object.__setattr__``, which looks the name up first.

_new = object.__new__


def _setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_HEAD_FIELDS = ("status_code", "reason", "http_version", "headers")
_HEAD_SETTERS: Final = {
    Response: _setters(Response, *_HEAD_FIELDS),
    InformationalResponse: _setters(InformationalResponse, *_HEAD_FIELDS),
}
(_set_trailers,) = _setters(EndOfMessage, "trailers")
(_set_data,) = _setters(Data, "data")


def make_head(
    cls: type[Response] | type[InformationalResponse],
    status_code: int,
    reason: str,
    http_version: str,
    headers: Headers,
) -> Response | InformationalResponse:
    """Build a (final or informational) response head without running ``__init__``."""
    event = _new(cls)
    set_code, set_reason, set_version, set_headers = _HEAD_SETTERS[cls]
    set_code(event, status_code)
    set_reason(event, reason)
    set_version(event, http_version)
    set_headers(event, headers)
    return event


def make_end(trailers: Headers | None = None) -> EndOfMessage:
    """Build an ``EndOfMessage`` without running ``__init__`` and its default factory."""
    event = _new(EndOfMessage)
    _set_trailers(event, Headers._from_triples([]) if trailers is None else trailers)
    return event


def make_data(data: bytes) -> Data:
    """Build a ``Data`` event without running ``__init__``."""
    event = _new(Data)
    _set_data(event, data)
    return event
