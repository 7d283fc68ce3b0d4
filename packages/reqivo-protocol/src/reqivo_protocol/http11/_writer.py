"""Request serialization (RFC 9112 sections 3, 5, 6 and 7).

Everything is validated before any byte is produced: a refused request raises
``LocalProtocolError`` and leaves nothing half-written. The head is assembled as one
``str`` and encoded to Latin-1 once; the checks are a handful of regular-expression
scans over joined names and values, so their cost does not grow with Python-level loops
per character.

Rules:

* method: an RFC 9110 token;
* target: visible ASCII only (no space, control characters or non-ASCII), in one of the
  four forms: origin-form (``/path?query``), absolute-form (``scheme://...``, for
  proxies), authority-form (``host:port``, CONNECT only, and CONNECT needs it),
  asterisk-form (``*``, OPTIONS only);
* header names: tokens; values: no control characters except HTAB (so no CR, LF, NUL),
  Latin-1 encodable;
* ``Host``: exactly one (we always send HTTP/1.1);
* body framing: the user's ``Content-Length`` (digits, one value) or
  ``Transfer-Encoding`` (chunked last) if given, never both; otherwise from
  ``body_length``/``chunked`` of the ``Request``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Final, NamedTuple

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol._headers import Headers, HeaderTypes

__all__ = [
    "CHUNKED",
    "NO_BODY",
    "PreparedRequest",
    "frame_chunk",
    "serialize_request",
    "serialize_trailers",
]

#: ``PreparedRequest.body`` for a body without framing headers (none allowed).
NO_BODY: Final = -1
#: ``PreparedRequest.body`` for a chunked body.
CHUNKED: Final = -2


class _Patterns:
    """This module's regular expressions, each compiled on first use (compiling them at
    import would cost every client import time); then read as instance attributes."""

    @cached_property
    def token(self) -> re.Pattern[str]:
        return re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")

    @cached_property
    def target(self) -> re.Pattern[str]:
        return re.compile(r"[\x21-\x7e]+")

    @cached_property
    def absolute(self) -> re.Pattern[str]:
        return re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

    @cached_property
    def authority(self) -> re.Pattern[str]:
        return re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^/?#@\[\]:]+):[0-9]+")

    @cached_property
    def bad_value(self) -> re.Pattern[str]:
        return re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

    @cached_property
    def digits(self) -> re.Pattern[str]:
        return re.compile(r"[0-9]{1,19}")


_rx: Final = _Patterns()
#: Methods known to be tokens: a set lookup instead of a regex match for the usual ones.
_KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


_new_tuple: Final = tuple.__new__


class PreparedRequest(NamedTuple):
    """A serialized request head and what the connection must know about it."""

    wire: bytes
    method: str
    #: Content-Length to send (>= 0), ``NO_BODY`` or ``CHUNKED``.
    body: int
    keep_alive: bool
    upgrade: bool


def _text(value: object, what: str) -> str:
    """A non-``str`` method, target, name or value as text (bytes are Latin-1)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    raise LocalProtocolError(f"{what} must be str or bytes, not {type(value).__name__}")


def _items(headers: HeaderTypes) -> list[tuple[str, str]]:
    pairs: Iterable[tuple[str | bytes, str | bytes]]
    if type(headers) is list:  # the usual case: skip the isinstance checks (ABC: slow)
        pairs = headers
    elif isinstance(headers, Headers):
        return headers.multi_items()
    else:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
    items = []
    for pair in pairs:
        name, value = pair
        if type(name) is not str:
            name = _text(name, "header name")
        if type(value) is not str:
            value = _text(value, "header value")
        items.append((name, value))
    return items


def serialize_request(
    method: str | bytes,
    target: str | bytes,
    headers: HeaderTypes,
    body_length: int | None,
    chunked: bool,
    *,
    length_is_default: bool = False,
) -> PreparedRequest:
    """Validate and serialize a request head.

    ``length_is_default`` makes ``body_length`` a fallback used only when the headers do
    not frame the body themselves (``send_request`` with a ``body``).
    """
    if type(method) is not str:
        method = _text(method, "method")
    if type(target) is not str:
        target = _text(target, "target")
    if method not in _KNOWN_METHODS and not _rx.token.fullmatch(method):
        raise LocalProtocolError(f"invalid method (not an RFC 9110 token): {method!r}")
    _check_target(method, target)

    items = _items(headers)
    names: tuple[str, ...]
    values: tuple[str, ...]
    # One C-level transpose of the pairs instead of two comprehensions.
    names, values = zip(*items, strict=True) if items else ((), ())
    if names and (not _rx.token.fullmatch("".join(names)) or "" in names):
        bad = next(name for name in names if not _rx.token.fullmatch(name))
        raise LocalProtocolError(f"invalid header name (not an RFC 9110 token): {bad!r}")
    if _rx.bad_value.search("".join(values)):
        name, value = next(item for item in items if _rx.bad_value.search(item[1]))
        raise LocalProtocolError(
            f"invalid header value for {name!r}: control characters (CR, LF, NUL, ...) "
            f"are not allowed: {value!r}"
        )
    lowered = [name.lower() for name in names]
    if lowered.count("host") != 1:
        raise LocalProtocolError(
            "an HTTP/1.1 request needs exactly one Host header"
            if "host" not in lowered
            else "an HTTP/1.1 request must not have several Host headers"
        )

    body = NO_BODY
    has_length = "content-length" in lowered
    has_encoding = "transfer-encoding" in lowered
    if has_length or has_encoding:
        if not length_is_default and (body_length is not None or chunked):
            raise LocalProtocolError(
                "body_length/chunked conflict with the Content-Length or Transfer-Encoding "
                "header; give one or the other"
            )
        body = _framing_from_headers(items, lowered, has_length, has_encoding)
        extra = ""
    elif chunked:
        if body_length is not None:
            raise LocalProtocolError("give body_length or chunked=True, not both")
        body = CHUNKED
        extra = "Transfer-Encoding: chunked\r\n"
    elif body_length is not None:
        if body_length < 0:
            raise LocalProtocolError(f"body_length must not be negative: {body_length}")
        body = body_length
        extra = f"Content-Length: {body_length}\r\n"
    else:
        extra = ""

    keep_alive = True
    if "connection" in lowered:
        tokens = _connection_tokens(items, lowered)
        keep_alive = "close" not in tokens
    head = "".join([f"{name}: {value}\r\n" for name, value in items])
    text = f"{method} {target} HTTP/1.1\r\n{head}{extra}\r\n"
    try:
        wire = text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(
            f"header value cannot be encoded as Latin-1: {text[exc.start : exc.end]!r} "
            "(percent-encode or RFC 8187-encode it)"
        ) from None
    # tuple.__new__ directly: the NamedTuple's generated __new__ is a Python-level call.
    return _new_tuple(PreparedRequest, (wire, method, body, keep_alive, "upgrade" in lowered))


def _check_target(method: str, target: str) -> None:
    if not _rx.target.fullmatch(target):
        raise LocalProtocolError(
            "invalid request target (empty, or contains space, control or non-ASCII "
            f"characters): {target!r}"
        )
    if method == "CONNECT":
        if not _rx.authority.fullmatch(target):
            raise LocalProtocolError(
                f"CONNECT needs an authority-form target (host:port): {target!r}"
            )
    elif target[0] == "/" or _rx.absolute.match(target):
        return
    elif target == "*":
        if method != "OPTIONS":
            raise LocalProtocolError("the asterisk-form target '*' is only for OPTIONS")
    else:
        raise LocalProtocolError(
            "request target must be origin-form ('/path?query'), absolute-form "
            f"('http://host/path'), '*' (OPTIONS) or host:port (CONNECT): {target!r}"
        )


def _framing_from_headers(
    items: list[tuple[str, str]], lowered: list[str], has_length: bool, has_encoding: bool
) -> int:
    if has_length and has_encoding:
        raise LocalProtocolError(
            "a request must not have both Content-Length and Transfer-Encoding"
        )
    if has_encoding:
        codings = [
            part.strip().lower()
            for i, (_, value) in enumerate(items)
            if lowered[i] == "transfer-encoding"
            for part in value.split(",")
        ]
        if not codings or codings[-1] != "chunked" or codings.count("chunked") != 1:
            raise LocalProtocolError(
                "a request Transfer-Encoding must end with chunked (applied once): "
                f"{', '.join(codings)!r}"
            )
        return CHUNKED
    lengths = [
        value.strip() for i, (_, value) in enumerate(items) if lowered[i] == "content-length"
    ]
    if len(lengths) != 1 or not _rx.digits.fullmatch(lengths[0]):
        raise LocalProtocolError(
            f"invalid Content-Length (one decimal value expected): {', '.join(lengths)!r}"
        )
    return int(lengths[0])


def _connection_tokens(items: list[tuple[str, str]], lowered: list[str]) -> set[str]:
    return {
        part.strip().lower()
        for i, (_, value) in enumerate(items)
        if lowered[i] == "connection"
        for part in value.split(",")
    }


def frame_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (empty data gives no bytes: it would end the body)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


def serialize_trailers(trailers: Headers) -> bytes:
    """The end of a chunked body: the last chunk, trailer fields, the final CRLF."""
    items = trailers.multi_items()
    if not items:
        return b"0\r\n\r\n"
    for name, value in items:
        if not _rx.token.fullmatch(name):
            raise LocalProtocolError(f"invalid trailer name (not an RFC 9110 token): {name!r}")
        if _rx.bad_value.search(value):
            raise LocalProtocolError(
                f"invalid trailer value for {name!r}: control characters are not allowed: {value!r}"
            )
    text = "0\r\n" + "".join([f"{name}: {value}\r\n" for name, value in items]) + "\r\n"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise LocalProtocolError("trailer value cannot be encoded as Latin-1") from None
