"""Field validation of RFC 9113 section 8: requests we send, responses we receive.

Requests (``check_request``, ``LocalProtocolError`` on anything wrong, before any byte
is queued): names are lowercase tokens, values carry no NUL, CR or LF and no leading or
trailing whitespace; pseudo-header fields come first, each once, and are ``:method``,
``:scheme``, ``:authority`` and ``:path`` (all four required; CONNECT takes only
``:method`` and ``:authority``); connection-specific fields (``connection``,
``keep-alive``, ``proxy-connection``, ``transfer-encoding``, ``upgrade``) are refused,
and ``te`` may only be ``trailers``. A ``cookie`` field with several crumbs is split
into one field per crumb (section 8.2.3) so that HPACK can index the crumbs.

Responses (``check_response``, trailers with ``check_trailers``): the same rules for
names and values; only ``:status`` (three digits), exactly once, before the regular
fields; no connection-specific field. A violation makes the response malformed: a
stream error of type PROTOCOL_ERROR (section 8.1.1), raised as ``HTTP2ProtocolError``
with the stream's id. ``content-length`` is parsed here and checked against the DATA
received by the connection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol.http2._errors import HTTP2ProtocolError

__all__ = ["check_request", "check_response", "check_trailers", "header_list_size"]

Fields = list[tuple[bytes, bytes]]
FieldSequence = Sequence[tuple[bytes, bytes]]

#: Connection-specific fields (section 8.2.2); ``te`` is handled apart.
CONNECTION_SPECIFIC: Final = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)
_REQUEST_PSEUDO: Final = frozenset((b":method", b":scheme", b":authority", b":path"))
# A regular field name: lowercase token characters (RFC 9110 section 5.6.2).
_NAME: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
# A value: no NUL, CR or LF anywhere, no whitespace at either end (section 8.2.1).
_BAD_VALUE: Final = re.compile(rb"[\x00\r\n]|^[ \t]|[ \t]$")
_STATUS: Final = re.compile(rb"[0-9]{3}")
_DIGITS: Final = re.compile(rb"[0-9]+")
_name_ok = _NAME.fullmatch
_bad_value = _BAD_VALUE.search


def header_list_size(fields: FieldSequence) -> int:
    """The size SETTINGS_MAX_HEADER_LIST_SIZE counts: names, values and 32 per field."""
    return sum(len(name) + len(value) for name, value in fields) + 32 * len(fields)


def _local(message: str) -> LocalProtocolError:
    return LocalProtocolError(message)


def _check_regular(name: bytes, value: bytes) -> None:
    if type(name) is not bytes or type(value) is not bytes:
        raise TypeError(f"HTTP/2 fields are (bytes, bytes) pairs, not ({name!r}, {value!r})")
    if not _name_ok(name):
        raise _local(f"invalid field name {name!r} (HTTP/2 names are lowercase tokens)")
    if _bad_value(value):
        raise _local(f"invalid value for field {name.decode('latin-1')}: {value!r}")
    if name in CONNECTION_SPECIFIC:
        raise _local(f"connection-specific field {name.decode()} is not allowed in HTTP/2")
    if name == b"te" and value.lower() != b"trailers":
        raise _local(f"te may only be 'trailers' in HTTP/2, not {value!r}")


def check_request(fields: FieldSequence) -> tuple[FieldSequence, bytes]:
    """Validate the fields of a request; return them (cookie crumbs split) and the
    method. ``LocalProtocolError`` if they cannot be sent."""
    pseudo: dict[bytes, bytes] = {}
    cookies = False
    regular = False
    for name, value in fields:
        if name[:1] == b":":
            if regular:
                raise _local(f"pseudo-header field {name!r} after a regular field")
            if name not in _REQUEST_PSEUDO:
                raise _local(f"unknown request pseudo-header field {name!r}")
            if name in pseudo:
                raise _local(f"duplicate pseudo-header field {name.decode()}")
            if type(value) is not bytes or not value or _bad_value(value):
                raise _local(f"invalid value for {name.decode()}: {value!r}")
            pseudo[name] = value
            continue
        regular = True
        _check_regular(name, value)
        if name == b"cookie":
            cookies = True
    method = pseudo.get(b":method")
    if method is None:
        raise _local("a request needs :method")
    if method == b"CONNECT":
        if len(pseudo) != 2 or b":authority" not in pseudo:
            raise _local("a CONNECT request takes :method and :authority only")
    elif len(pseudo) != 4:
        missing = sorted(n.decode() for n in _REQUEST_PSEUDO - pseudo.keys())
        raise _local(f"a request needs {', '.join(missing)}")
    if cookies:
        fields = _split_cookies(fields)
    return fields, method


def _split_cookies(fields: FieldSequence) -> Fields:
    result: Fields = []
    for name, value in fields:
        if name == b"cookie" and b"; " in value:
            result.extend((b"cookie", crumb) for crumb in value.split(b"; ") if crumb)
        else:
            result.append((name, value))
    return result


def check_trailers_to_send(fields: Fields) -> None:
    """Validate trailer fields we send (no pseudo-header fields)."""
    for name, value in fields:
        if name[:1] == b":":
            raise _local(f"pseudo-header field {name!r} in trailers")
        _check_regular(name, value)


def _malformed(message: str, stream_id: int) -> HTTP2ProtocolError:
    return HTTP2ProtocolError(f"malformed response on stream {stream_id}: {message}",
                              stream_id=stream_id)  # fmt: skip


def _check_received(name: bytes, value: bytes, stream_id: int) -> None:
    if not _name_ok(name):
        raise _malformed(f"invalid field name {name!r}", stream_id)
    if _bad_value(value):
        raise _malformed(f"invalid value for {name.decode('latin-1')}: {value!r}", stream_id)
    if name in CONNECTION_SPECIFIC or (name == b"te" and value != b"trailers"):
        raise _malformed(f"connection-specific field {name.decode()}", stream_id)


def check_response(fields: Fields, stream_id: int) -> tuple[int, Fields, int | None]:
    """The status, the regular fields and the content-length of a received response
    head; ``HTTP2ProtocolError`` (a stream error) if it is malformed."""
    if not fields or fields[0][0] != b":status":
        raise _malformed("it does not start with :status", stream_id)
    status = fields[0][1]
    if not _STATUS.fullmatch(status):
        raise _malformed(f"invalid :status {status!r}", stream_id)
    regular = fields[1:]
    length: int | None = None
    for name, value in regular:
        if name[:1] == b":":
            raise _malformed(f"pseudo-header field {name!r}", stream_id)
        _check_received(name, value, stream_id)
        if name == b"content-length":
            length = _content_length(value, length, stream_id)
    return int(status), regular, length


def _content_length(value: bytes, previous: int | None, stream_id: int) -> int:
    values = {v.strip() for v in value.split(b",")}
    if len(values) != 1 or not _DIGITS.fullmatch(next(iter(values))):
        raise _malformed(f"invalid content-length {value!r}", stream_id)
    length = int(next(iter(values)))
    if previous is not None and previous != length:
        raise _malformed("conflicting content-length values", stream_id)
    return length


def check_trailers(fields: Fields, stream_id: int) -> Fields:
    """Received trailer fields, validated (no pseudo-header fields)."""
    for name, value in fields:
        if name[:1] == b":":
            raise _malformed(f"pseudo-header field {name!r} in trailers", stream_id)
        _check_received(name, value, stream_id)
    return fields
