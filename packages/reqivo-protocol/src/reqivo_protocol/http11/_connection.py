"""``ClientConnection``: the sans-IO HTTP/1.1 client machine.

Feed it what the socket gave (``receive_data``), pull events (``next_event``), and
write what ``send`` returns. States and transitions are in ``_state.py``; the head
parser in ``_head.py``; body readers in ``_body.py``; request serialization in
``_writer.py``.

Response framing follows RFC 9112 section 6.3, in its order:

1. a response to HEAD, a 1xx, 204 or 304 has no body;
2. a 2xx to CONNECT switches to a tunnel (like a 101 to an Upgrade request): no body,
   the following bytes are ``trailing_data``;
3. ``Transfer-Encoding`` with chunked last: chunked; with anything else last: read
   until close. With ``Content-Length`` as well, Transfer-Encoding wins and the
   connection is not reused (a smuggling signal); the same in an HTTP/1.0 response;
4. ``Content-Length``: decimal digits; a list of identical values (``5, 5``, or repeated
   fields) counts as one, differing or malformed values are a ``RemoteProtocolError``;
5. otherwise the body runs until the peer closes (not reusable).

Keep-alive: an HTTP/1.1 response is reusable unless either message says
``Connection: close``; an HTTP/1.0 one only with ``Connection: keep-alive``.
"""

from __future__ import annotations

from typing import Final, NoReturn

from reqivo_protocol._exceptions import LocalProtocolError, RemoteProtocolError
from reqivo_protocol._headers import Headers, HeaderTypes
from reqivo_protocol.http11._body import (
    BodyReader,
    ChunkedReader,
    ContentLengthReader,
    UntilCloseReader,
)
from reqivo_protocol.http11._buffer import ReceiveBuffer
from reqivo_protocol.http11._events import (
    NEED_DATA,
    Data,
    EndOfMessage,
    InformationalResponse,
    PeerClosed,
    ReceiveResult,
    Request,
    Response,
    make_head,
)
from reqivo_protocol.http11._head import (
    Fields,
    check_size,
    field_values,
    find_blank_line,
    parse_status_head,
)
from reqivo_protocol.http11._limits import MAX_HEADER_COUNT, MAX_HEADER_SIZE, MAX_LINE_SIZE
from reqivo_protocol.http11._state import (
    CLOSED,
    DONE,
    ERROR,
    IDLE,
    MUST_CLOSE,
    OURS_AFTER_END,
    OURS_AFTER_REQUEST,
    SEND_BODY,
    SEND_RESPONSE,
    SWITCHED_PROTOCOL,
    THEIR_TRANSITIONS,
    THEIRS_AFTER_END,
    THEIRS_AFTER_REQUEST,
    THEIRS_AFTER_RESPONSE,
    ClientState,
    Switch,
    Unsolicited,
    settle,
)
from reqivo_protocol.http11._writer import (
    CHUNKED,
    NO_BODY,
    PreparedRequest,
    frame_chunk,
    serialize_request,
    serialize_trailers,
)

__all__ = ["ClientConnection"]

_PREFIX: Final = b"HTTP/"
_NONE: Final[frozenset[str]] = frozenset()


def _list_elements(values: list[str]) -> set[str] | frozenset[str]:
    """The lower-cased elements of a comma-separated list field (``Connection``)."""
    if len(values) == 1 and "," not in values[0]:  # the usual single token: no split
        return {values[0].strip().lower()}
    return {part.strip().lower() for value in values for part in value.split(",")}


def _content_length(values: list[str]) -> int:
    """The body length ``Content-Length`` gives: identical repeated values count as one,
    differing or malformed ones are a ``RemoteProtocolError``."""
    if len(values) == 1 and "," not in values[0]:  # the usual single value: no set
        value = values[0].strip()
    else:
        distinct = {part.strip() for value in values for part in value.split(",")}
        if len(distinct) != 1:
            raise RemoteProtocolError(f"conflicting Content-Length values: {', '.join(values)!r}")
        value = distinct.pop()
    # 1 to 19 ASCII digits (str methods: cheaper than a regular expression here).
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise RemoteProtocolError(f"invalid Content-Length: {', '.join(values)!r}")
    return int(value)


class ClientConnection:
    """One HTTP/1.1 client connection, without I/O.

    ``max_header_size`` bounds a response head (status line, fields and the blank line
    ending it) and a trailer section, ``max_header_count`` the fields in either, and
    ``max_line_size`` one chunk-size line. Exceeding one raises the matching
    ``LimitExceeded`` subclass (``HeadersTooLarge``, ``TooManyHeaders``, ``LineTooLong``).
    """

    __slots__ = (
        "_buf",
        "_eof",
        "_error",
        "_keep_alive",
        "_last_head",
        "_last_prepared",
        "_method",
        "_our",
        "_reader",
        "_searched",
        "_send_body",
        "_their",
        "_upgrade",
        "max_header_count",
        "max_header_size",
        "max_line_size",
    )

    def __init__(
        self,
        *,
        max_header_size: int = MAX_HEADER_SIZE,
        max_header_count: int = MAX_HEADER_COUNT,
        max_line_size: int = MAX_LINE_SIZE,
    ) -> None:
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_line_size = max_line_size
        self._buf = ReceiveBuffer()
        self._eof = False
        self._error: RemoteProtocolError | None = None
        self._our = IDLE
        self._their = IDLE
        # send_request's memo: the last request head sent and its serialization.
        self._last_head: tuple[object, ...] | None = None
        self._last_prepared: PreparedRequest | None = None
        self._reset_cycle()

    def _reset_cycle(self) -> None:
        self._reader: BodyReader | None = None
        self._method = ""
        self._keep_alive = True
        self._upgrade = False
        self._send_body = NO_BODY  # bytes still to send, NO_BODY or CHUNKED
        self._searched = 0

    # -- state ---------------------------------------------------------------------------

    @property
    def our_state(self) -> ClientState:
        """The state of our side (the request)."""
        return self._our

    @property
    def their_state(self) -> ClientState:
        """The state of their side (the response)."""
        return self._their

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry another request after this cycle: both our
        request and their response are complete and nothing forbids keep-alive."""
        return self._our is DONE and self._their is DONE

    @property
    def trailing_data(self) -> bytes:
        """Bytes received and not parsed: after a 101 or a 2xx to CONNECT, the first
        bytes of the next protocol."""
        buf = self._buf
        return bytes(buf.data[buf.pos :])

    def start_next_cycle(self) -> None:
        """Reset both sides to ``IDLE`` for the next request on a reusable connection."""
        if self._our is not DONE or self._their is not DONE:  # not self.reusable
            raise LocalProtocolError(
                "connection cannot carry another request (our state "
                f"{self._our.name}, their state {self._their.name})"
            )
        self._our = IDLE
        self._their = IDLE
        self._reset_cycle()

    def _settle(self) -> None:
        their = self._their
        # settle() changes nothing unless keep-alive is off, their side switched
        # protocols or closed: the common case skips the call.
        if self._keep_alive and their is not SWITCHED_PROTOCOL and their is not CLOSED:
            return
        self._our, self._their = settle(self._our, their, self._keep_alive)

    # -- sending -------------------------------------------------------------------------

    def send(self, event: Request | Data | EndOfMessage) -> bytes:
        """The bytes to write for ``event``; ``LocalProtocolError`` (and no bytes) if
        it is not valid now."""
        kind = type(event)
        if kind is Data:
            return self._send_data(event.data)  # type: ignore[union-attr]
        if kind is EndOfMessage:
            return self._send_end(event.trailers)  # type: ignore[union-attr]
        if kind is Request:
            assert isinstance(event, Request)
            if self._our is not IDLE or self._their is not IDLE:
                self._refuse_request()
            prepared = serialize_request(
                event.method, event.target, event.headers, event.body_length, event.chunked
            )
            self._start_request(prepared)
            return prepared.wire
        raise LocalProtocolError(
            f"a client cannot send {kind.__name__}; send Request, Data or EndOfMessage"
        )

    def send_request(
        self,
        method: str | bytes,
        target: str | bytes,
        headers: HeaderTypes = (),
        body: bytes | None = None,
    ) -> bytes:
        """Fast path: the bytes of a whole request (head and body) in one call.

        ``body=None`` sends no body (and no framing header unless ``headers`` have
        one); bytes are sent with ``Content-Length`` added, or as one chunk if
        ``headers`` say ``Transfer-Encoding: chunked``. Our side ends in ``DONE``.
        """
        if self._our is not IDLE or self._their is not IDLE:
            self._refuse_request()
        size = None if body is None else len(body)
        # A keep-alive connection mostly sends the same head again (the same endpoint,
        # the same session headers): serializing is a pure function of these arguments,
        # so the last one is remembered and its validation and encoding are skipped.
        head = (method, target, size, tuple(headers)) if type(headers) is list else None
        prepared = self._last_prepared
        if head is None or head != self._last_head or prepared is None:
            prepared = serialize_request(
                method, target, headers, size, False, length_is_default=True
            )
            if head is not None:
                self._last_head, self._last_prepared = head, prepared
        framing = prepared.body
        wire = prepared.wire
        if framing == CHUNKED:
            wire += frame_chunk(body or b"") + b"0\r\n\r\n"
        elif framing != NO_BODY and framing != (size or 0):
            raise LocalProtocolError(
                f"Content-Length says {framing} bytes but the body has {size or 0}"
            )
        elif body:
            wire += body
        self._start_request(prepared)
        self._send_body = 0
        self._our = OURS_AFTER_END
        if not self._keep_alive:  # their side awaits the response: only this can settle
            self._settle()
        return wire

    def _refuse_request(self) -> NoReturn:
        reason = (
            " (bytes arrived from the peer while no request was outstanding)"
            if self._their is MUST_CLOSE and self._our is IDLE
            else ""
        )
        raise LocalProtocolError(
            f"cannot send a Request now: our state {self._our.name}, their state "
            f"{self._their.name}{reason}"
        )

    def _start_request(self, prepared: PreparedRequest) -> None:
        self._our = OURS_AFTER_REQUEST
        self._their = THEIRS_AFTER_REQUEST
        self._method = prepared.method
        self._keep_alive = prepared.keep_alive
        self._upgrade = prepared.upgrade
        self._send_body = prepared.body

    def _body_error(self, message: str) -> LocalProtocolError:
        self._our = ERROR
        return LocalProtocolError(message)

    def _send_data(self, data: bytes) -> bytes:
        if self._our is not SEND_BODY:
            raise LocalProtocolError(f"cannot send Data in our state {self._our.name}")
        framing = self._send_body
        if framing >= 0:
            size = len(data)
            if size > framing:
                raise self._body_error(
                    f"Data of {size} bytes exceeds the {framing} bytes left of the "
                    "request's Content-Length"
                )
            self._send_body = framing - size
            return data if type(data) is bytes else bytes(data)
        if framing == CHUNKED:
            return frame_chunk(data)
        if data:
            raise self._body_error(
                "this request has no body (give body_length=, chunked=True or a "
                "Content-Length/Transfer-Encoding header)"
            )
        return b""

    def _send_end(self, trailers: Headers) -> bytes:
        if self._our is not SEND_BODY:
            raise LocalProtocolError(f"cannot send EndOfMessage in our state {self._our.name}")
        framing = self._send_body
        wire = b""
        if framing == CHUNKED:
            try:
                wire = serialize_trailers(trailers)
            except LocalProtocolError as exc:
                raise self._body_error(str(exc)) from None
        elif trailers._fields:  # read directly: multi_items() would copy them
            raise self._body_error("trailers can only be sent with a chunked request body")
        elif framing > 0:
            raise self._body_error(
                f"request body ended {framing} bytes short of its Content-Length"
            )
        self._our = OURS_AFTER_END
        self._settle()
        return wire

    # -- receiving -----------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes received from the peer; ``b""`` means it closed (end of file)."""
        if not data:
            self._eof = True
            return
        if self._eof:
            raise LocalProtocolError("received data after the end of file")
        self._buf.feed(data)
        their = self._their
        if their is IDLE or their is DONE or their is MUST_CLOSE:
            self._their = THEIR_TRANSITIONS[(their, Unsolicited)]
            self._settle()

    def next_event(self) -> ReceiveResult:
        """The next event from the peer, or ``NEED_DATA``.

        Raises ``RemoteProtocolError`` (or a ``LimitExceeded`` subclass) if the peer
        violated the protocol; the connection is then in the ``ERROR`` state.
        """
        their = self._their
        try:
            if their is SEND_BODY:
                event = self._reader.read(self._buf, self._eof)  # type: ignore[union-attr]
                if type(event) is EndOfMessage:
                    self._end_of_response()
                return event
            if their is SEND_RESPONSE:
                return self._read_head()
        except RemoteProtocolError as exc:
            self._their = ERROR
            self._error = exc
            raise
        return self._between_messages()

    def _between_messages(self) -> ReceiveResult:
        their = self._their
        if their is ERROR:
            raise RemoteProtocolError(
                f"connection unusable after a protocol error: {self._error}"
            ) from self._error
        if their is SWITCHED_PROTOCOL:
            raise LocalProtocolError(
                "the connection switched protocols: there are no more HTTP events, "
                "the next protocol starts with trailing_data"
            )
        if self._eof:
            self._their = THEIR_TRANSITIONS[(their, PeerClosed)]
            self._settle()
            return PeerClosed()
        return NEED_DATA

    def _end_of_response(self) -> None:
        buf = self._buf
        self._their = THEIRS_AFTER_END
        if buf.pos < len(buf.data):  # bytes beyond the response: len(buf) without the call
            self._their = THEIR_TRANSITIONS[(DONE, Unsolicited)]
        if not self._keep_alive:  # neither DONE nor MUST_CLOSE settles otherwise
            self._settle()

    def _read_head(self) -> ReceiveResult:
        buf = self._buf
        data = buf.data
        pos = buf.pos
        available = len(data) - pos
        if available < 5:
            return self._head_incomplete(available)
        if not data.startswith(_PREFIX, pos):
            raise RemoteProtocolError(f"invalid status line: {bytes(data[pos : pos + 80])!r}")
        searched = self._searched
        limit = self.max_header_size
        end = find_blank_line(
            data, pos + searched - 2 if searched > 2 else pos, min(len(data), pos + limit)
        )
        if end < 0:
            check_size(available, limit, "response head")
            self._searched = available
            return self._head_incomplete(available)
        self._searched = 0
        block = data[pos:end] if type(data) is bytes else bytes(data[pos:end])
        buf.pos = end
        version, code, reason, fields, lowers = parse_status_head(block, self.max_header_count)
        headers = Headers._from_triples(fields)
        if code < 200:
            if code != 101:
                return make_head(InformationalResponse, code, reason, version, headers)
            if not self._upgrade:
                raise RemoteProtocolError(
                    "101 Switching Protocols in answer to a request without Upgrade"
                )
            self._their = THEIR_TRANSITIONS[(SEND_RESPONSE, Switch)]
            self._settle()
            return make_head(Response, code, reason, version, headers)
        if self._frame_response(code, version, fields, lowers):
            self._their = THEIR_TRANSITIONS[(SEND_RESPONSE, Switch)]
        else:
            self._their = THEIRS_AFTER_RESPONSE
        self._settle()
        return make_head(Response, code, reason, version, headers)

    def _head_incomplete(self, available: int) -> ReceiveResult:
        if self._eof:
            if available:
                raise RemoteProtocolError(
                    "peer closed connection in the middle of the response head "
                    f"(received {available} bytes)"
                )
            raise RemoteProtocolError("peer closed connection without sending a response")
        if available and not _PREFIX.startswith(self._buf.data[self._buf.pos :][:5]):
            raise RemoteProtocolError(
                f"invalid status line: {bytes(self._buf.data[self._buf.pos :][:80])!r}"
            )
        return NEED_DATA

    def _frame_response(self, code: int, version: str, fields: Fields, lowers: list[str]) -> bool:
        """Choose the body reader of a final response; True if it switches protocols."""
        # Each framing field is looked up only when its name is there (a C-level scan).
        length = (
            field_values(fields, lowers, "content-length") if "content-length" in lowers else None
        )
        coding = (
            field_values(fields, lowers, "transfer-encoding")
            if "transfer-encoding" in lowers
            else None
        )
        keep_alive = self._keep_alive
        tokens = (
            _list_elements(field_values(fields, lowers, "connection"))
            if "connection" in lowers
            else _NONE
        )
        if version == "1.1":
            if "close" in tokens:
                keep_alive = False
        elif "keep-alive" not in tokens:  # HTTP/1.0
            keep_alive = False

        method = self._method
        switched = False
        reader: BodyReader
        if method == "HEAD" or code == 204 or code == 304:
            reader = ContentLengthReader(0)
        elif method == "CONNECT" and code < 300:
            reader = ContentLengthReader(0)
            switched = True
        elif coding:
            codings = [part.strip().lower() for value in coding for part in value.split(",")]
            codings = [part for part in codings if part]
            if not codings or (codings[-1] == "chunked" and codings.count("chunked") > 1):
                raise RemoteProtocolError(f"invalid Transfer-Encoding: {', '.join(coding)!r}")
            if length or version == "1.0":
                keep_alive = False
            if codings[-1] == "chunked":
                reader = ChunkedReader(
                    self.max_line_size, self.max_header_size, self.max_header_count
                )
            else:
                reader = UntilCloseReader()
                keep_alive = False
        elif length:
            reader = ContentLengthReader(_content_length(length))
        else:
            reader = UntilCloseReader()
            keep_alive = False
        self._reader = reader
        self._keep_alive = keep_alive
        return switched
