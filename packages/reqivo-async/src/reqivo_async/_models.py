"""``AsyncRequest`` and ``Response``: what a session sends and what a transport returns.

Transports (the connection pool, ``MockTransport``, ``ASGITransport``, a user's own)
take an ``AsyncRequest`` and return a ``Response`` whose body is an ``AsyncByteStream``
of raw bytes (transfer coding undone, content coding not). ``Response`` undoes the
content coding, decodes text and parses JSON on demand.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from http import HTTPStatus
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from reqivo_async._content import RequestContent, encode_request_body
from reqivo_protocol import (
    URL,
    BodyTooLarge,
    Headers,
    HeaderTypes,
    HTTPStatusError,
    RequestNotRead,
    ResponseNotRead,
    StreamClosed,
    StreamConsumed,
)
from reqivo_protocol.content import ContentDecoder, LineDecoder, TextDecoder
from reqivo_protocol.content import charset_from_content_type as _charset

if TYPE_CHECKING:
    from reqivo_async._cookies import Cookies

__all__ = ["AsyncByteStream", "AsyncRequest", "Response"]

_second = itemgetter(1)


def _has_field(headers: Headers, lower_name: str) -> bool:
    """Whether ``headers`` has a field named ``lower_name`` (lowercase), scanned in C."""
    # Headers keeps (name, lower name, value) triples; reqivo packages share one version.
    return lower_name in map(_second, headers._fields)


@runtime_checkable
class AsyncByteStream(Protocol):
    """A response body as transports hand it over: async chunks, then ``aclose()``.

    A stream may also offer ``async aread_all() -> bytes`` (the rest of the body at
    once); ``Response.aread`` then uses it instead of iterating.
    """

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class _BytesStream:
    """An ``AsyncByteStream`` over bytes already in memory."""

    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body

    async def aclose(self) -> None:
        return None


class AsyncRequest:
    """An HTTP request: method, URL, headers and a body stream.

    Build one with ``AsyncSession.build_request`` (which applies the session's base
    URL, headers, cookies and auth) or directly; send it with ``AsyncSession.send``.
    Body arguments follow requests and httpx: ``content=`` (bytes, str, file, sync or
    async iterable), ``data=`` (a form), ``files=`` (multipart), ``json=``.
    """

    __slots__ = ("extensions", "headers", "method", "stream", "url")

    def __init__(
        self,
        method: str,
        url: URL | str,
        *,
        params: Any = None,
        headers: HeaderTypes | None = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        stream: RequestContent | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.method = method.upper() if isinstance(method, str) else method.decode("ascii").upper()
        self.url = url if isinstance(url, URL) else URL(url)
        if params is not None:
            self.url = self.url.copy_merge_params(params)
        self.headers = Headers(headers)
        self.extensions: dict[str, Any] = {} if extensions is None else extensions
        if stream is None:
            stream = encode_request_body(content=content, data=data, files=files, json=json)
            if stream.content_type and "content-type" not in self.headers:
                self.headers["Content-Type"] = stream.content_type
        self.stream = stream

    @property
    def content(self) -> bytes:
        """The body, when it is held in memory (``RequestNotRead`` for a stream)."""
        body = self.stream.body
        if body is None:
            raise RequestNotRead("the request body is a stream; it is not held in memory")
        return body

    async def aread(self) -> bytes:
        """Read a streamed body into memory (so that it can be sent again)."""
        if self.stream.body is None:
            body = b"".join([chunk async for chunk in self.stream])
            self.stream = RequestContent(
                body, length=len(body), content_type=self.stream.content_type, replayable=True
            )
        return self.stream.body or b""

    def __repr__(self) -> str:
        from reqivo_async._logging import redact_url  # reprs are not a hot path

        return f"<AsyncRequest [{self.method} {redact_url(self.url)}]>"


class Response:
    """An HTTP response.

    Read the whole body with ``content``/``text``/``json()`` (after ``await
    session.get(...)`` it is already read), or stream it from ``session.stream(...)``
    with ``aiter_bytes()``, ``aiter_text()``, ``aiter_lines()`` or ``aiter_raw()``.
    The names of requests and httpx users are here too: ``ok``, ``reason_phrase``,
    ``links``, ``num_bytes_downloaded``, and ``Response(200, json=...)`` for tests.
    """

    def __init__(
        self,
        status_code: int,
        *,
        headers: HeaderTypes | None = None,
        content: bytes | None = None,
        stream: AsyncByteStream | None = None,
        reason: str | None = None,
        http_version: str = "HTTP/1.1",
        request: AsyncRequest | None = None,
        extensions: dict[str, Any] | None = None,
        history: list[Response] | None = None,
        default_encoding: str = "utf-8",
        max_decompressed_size: int | None = None,
        max_body_size: int | None = None,
        text: str | None = None,
        html: str | None = None,
        json: Any = None,
    ) -> None:
        """``Response(200, json={...})`` builds a response in memory (for tests and mock
        transports, as httpx allows): ``content=`` bytes as they are, ``text=`` (UTF-8,
        ``text/plain``), ``html=`` (UTF-8, ``text/html``) or ``json=`` (compact UTF-8,
        ``application/json``) with Content-Type and Content-Length set unless ``headers``
        has them. Transports pass ``stream=`` instead: a body read later."""
        self.status_code = status_code
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        if stream is None and (text is not None or html is not None or json is not None):
            if self.headers is headers:  # the caller's object: add to a copy
                self.headers = Headers(headers)
            content = _body_in_memory(self.headers, content, text, html, json)
        self.http_version = http_version
        self._reason = reason
        self._request = request
        self.extensions: dict[str, Any] = {} if extensions is None else extensions
        self.history: list[Response] = [] if history is None else history
        # The attributes below that a response usually keeps at their class defaults are
        # stored only when they differ (each store is a cost of every response).
        if default_encoding != "utf-8":
            self.default_encoding = default_encoding
        if max_decompressed_size is not None:
            self.max_decompressed_size = max_decompressed_size
        if max_body_size is not None:
            self.max_body_size = max_body_size
        self._content = content
        self._stream: AsyncByteStream = (
            stream if stream is not None else _BytesStream(content or b"")
        )
        self._stream_consumed = content is not None
        self._closed = content is not None

    # Class defaults, shadowed by an instance attribute once set: building a response
    # costs nothing for them.
    #: Raw body bytes counted so far (see ``num_bytes_downloaded``).
    _num_bytes_downloaded = 0
    default_encoding: str = "utf-8"
    """The character set of ``text`` when Content-Type names none."""
    max_decompressed_size: int | None = None
    """Bytes a compressed body may expand to (None: no limit)."""
    max_body_size: int | None = None
    """Bytes the body may have as received (before content decoding); None: no limit."""
    next_request: AsyncRequest | None = None
    """The redirect a session did not follow (``follow_redirects=False``), or None."""
    _elapsed = 0.0  # seconds; a timedelta is built only when asked for
    _cookies: Cookies | None = None
    _text: str | None = None

    # -- status ------------------------------------------------------------------------

    @property
    def reason(self) -> str:
        """The reason phrase sent by the server, or the standard one when it sent none."""
        if self._reason:
            return self._reason
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def reason_phrase(self) -> str:
        """httpx's name of ``reason`` (the same value): the reason phrase."""
        return self.reason

    @property
    def ok(self) -> bool:
        """Whether ``raise_for_status()`` would not raise: not 4xx or 5xx (as requests)."""
        return not 400 <= self.status_code < 600

    @property
    def num_bytes_downloaded(self) -> int:
        """Body bytes received so far, as they came (before content decoding; as httpx).

        It grows while a streamed body is read (a progress count); transfer framing
        (HTTP/1.1 chunk sizes) is not counted. A body given to the constructor
        (``content=``, ``json=``...) counts as downloaded, as in httpx.
        """
        count = self._num_bytes_downloaded
        stream = self._stream
        if not count and type(stream) is _BytesStream:  # a body given to the constructor
            return len(stream._body)
        return count

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The ``Link`` header (RFC 8288) parsed, as requests and httpx show it.

        ``{"next": {"url": "/items?page=3", "rel": "next"}, ...}``: each link is keyed by
        its ``rel`` (or its URL without one); its parameters are included with their names
        lowercased and values unquoted. URLs are as the server wrote them (not resolved).
        ``{}`` without a Link header.
        """
        values = self.headers.get_list("link")
        if not values:
            return {}
        from reqivo_async._links import links_by_key  # lazily: few responses need it

        return links_by_key(values)

    @property
    def request(self) -> AsyncRequest:
        """The request this response answers."""
        if self._request is None:
            raise RuntimeError("this response was built without a request")
        return self._request

    @request.setter
    def request(self, request: AsyncRequest) -> None:
        self._request = request

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from sending the request to receiving the end of the response head."""
        return datetime.timedelta(seconds=self._elapsed)

    @elapsed.setter
    def elapsed(self, value: datetime.timedelta) -> None:
        self._elapsed = value.total_seconds()

    @property
    def cookies(self) -> Cookies:
        """The cookies this response set (its ``Set-Cookie`` fields), as ``Cookies``."""
        cookies = self._cookies
        if cookies is None:
            from reqivo_async._cookies import Cookies

            cookies = self._cookies = Cookies()
            values = self.headers.get_list("set-cookie")
            if values and self._request is not None:
                cookies.extract_set_cookie(self._request.url, values)
        return cookies

    @property
    def url(self) -> URL:
        """The URL of the request this response answers."""
        return self.request.url

    @property
    def is_informational(self) -> bool:
        """1xx."""
        return 100 <= self.status_code < 200

    @property
    def is_success(self) -> bool:
        """2xx."""
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        """A redirect status (301, 302, 303, 307, 308) with a ``Location`` header."""
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def is_client_error(self) -> bool:
        """4xx."""
        return 400 <= self.status_code < 500

    @property
    def is_server_error(self) -> bool:
        """5xx."""
        return 500 <= self.status_code < 600

    @property
    def is_error(self) -> bool:
        """4xx or 5xx."""
        return 400 <= self.status_code < 600

    def raise_for_status(self) -> Response:
        """Raise ``HTTPStatusError`` for a 4xx or 5xx response; return self otherwise."""
        if not self.is_error:
            return self
        kind = "Client error" if self.status_code < 500 else "Server error"
        message = f"{kind} '{self.status_code} {self.reason}' for url '{self.url}'"
        raise HTTPStatusError(message, request=self._request, response=self)

    # -- body in memory ----------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The decoded body (``ResponseNotRead`` for a stream not read yet)."""
        if self._content is None:
            raise ResponseNotRead(
                "the response body was not read: call 'await response.aread()' first"
            )
        return self._content

    @property
    def encoding(self) -> str:
        """The character set of ``text``: the Content-Type charset, else the default."""
        return _charset(self.headers.get("content-type")) or self.default_encoding

    @property
    def charset_encoding(self) -> str | None:
        """The charset named by Content-Type, or None."""
        return _charset(self.headers.get("content-type"))

    @property
    def text(self) -> str:
        """The body decoded as text (see ``encoding``; undecodable bytes become U+FFFD)."""
        if self._text is None:
            decoder = self._text_decoder()
            self._text = decoder.decode(self.content) + decoder.flush()
        return self._text

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (``json.loads`` keyword arguments are passed on)."""
        import json  # lazily: import time matters to every user

        return json.loads(self.text, **kwargs)

    async def aread(self) -> bytes:
        """Read (the rest of) the body into memory and return it."""
        if self._content is None:
            if (
                self._stream_consumed
                or self._closed
                or self.max_body_size is not None
                or _has_field(self.headers, "content-encoding")
            ):
                self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
            else:
                # The common case (no content coding) without the generator layers.
                self._stream_consumed = True
                stream = self._stream
                read_all = getattr(stream, "aread_all", None)
                try:
                    if read_all is not None:
                        content = await read_all()
                    else:
                        chunks = [chunk async for chunk in stream]
                        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                    self._content = content
                    self._num_bytes_downloaded = len(content)
                finally:
                    await self.aclose()
        return self._content

    # -- streaming ---------------------------------------------------------------------

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as received (content coding not undone), chunk by chunk."""
        if self._stream_consumed:
            raise StreamConsumed("the response body was already read")
        if self._closed:
            raise StreamClosed("the response was closed before its body was read")
        self._stream_consumed = True
        try:
            if self.max_body_size is not None:
                chunks = _limited(self._stream, self.max_body_size, self.headers)
            else:
                chunks = self._stream.__aiter__()
            if chunk_size is None:
                async for chunk in chunks:
                    self._num_bytes_downloaded += len(chunk)
                    yield chunk
            else:
                buffer = bytearray()
                async for chunk in chunks:
                    self._num_bytes_downloaded += len(chunk)
                    buffer += chunk
                    while len(buffer) >= chunk_size:
                        yield bytes(buffer[:chunk_size])
                        del buffer[:chunk_size]
                if buffer:
                    yield bytes(buffer)
        finally:
            await self.aclose()

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body with its content coding (gzip, deflate, br, zstd) undone."""
        if self._content is not None:
            content = self._content
            step = chunk_size or len(content) or 1
            for start in range(0, len(content), step):
                yield content[start : start + step]
            return
        decoder = ContentDecoder.for_encoding(
            self.headers.get_list("content-encoding"),
            max_decompressed_size=self.max_decompressed_size,
        )
        if decoder.is_identity:
            async for chunk in self.aiter_raw(chunk_size):
                yield chunk
            return
        async for raw in self.aiter_raw():
            for piece in decoder.iter_decode(raw):
                yield piece
        decoder.flush()

    async def aiter_text(self) -> AsyncIterator[str]:
        """The body decoded as text, chunk by chunk."""
        decoder = self._text_decoder()
        async for chunk in self.aiter_bytes():
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.flush()
        if tail:
            yield tail

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body as lines of text, without their line endings."""
        lines = LineDecoder()
        async for text in self.aiter_text():
            for line in lines.decode(text):
                yield line
        for line in lines.flush():
            yield line

    async def aclose(self) -> None:
        """Release the connection; the rest of an unread body is discarded."""
        if not self._closed:
            self._closed = True
            await self._stream.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether the body stream is closed."""
        return self._closed

    @property
    def is_stream_consumed(self) -> bool:
        """Whether the body was iterated."""
        return self._stream_consumed

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _text_decoder(self) -> TextDecoder:
        return TextDecoder.from_content_type(
            self.headers.get("content-type"), default_encoding=self.default_encoding
        )

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason}]>"


def _body_in_memory(
    headers: Headers, content: bytes | None, text: str | None, html: str | None, json: Any
) -> bytes:
    """The body of ``Response(text=... | html=... | json=...)``; sets its headers."""
    given = [
        name
        for name, value in (("content", content), ("text", text), ("html", html), ("json", json))
        if value is not None
    ]
    if len(given) > 1:
        raise TypeError(f"pass only one of content=, text=, html= and json= (got {given})")
    if json is not None:
        body = encode_request_body(json=json)
        encoded, content_type = body.body or b"", "application/json"
    elif text is not None:
        encoded, content_type = text.encode("utf-8"), "text/plain; charset=utf-8"
    else:
        assert html is not None
        encoded, content_type = html.encode("utf-8"), "text/html; charset=utf-8"
    if "content-type" not in headers:
        headers["Content-Type"] = content_type
    if "content-length" not in headers:
        headers["Content-Length"] = str(len(encoded))
    return encoded


async def _limited(stream: AsyncByteStream, limit: int, headers: Headers) -> AsyncIterator[bytes]:
    """``stream``'s chunks, raising ``BodyTooLarge`` once more than ``limit`` bytes came.

    A ``Content-Length`` over the limit fails before any byte is read.
    """
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(
            f"the response body has {int(declared)} bytes (Content-Length), more than "
            f"max_body_size={limit}",
            limit_name="max_body_size",
            limit=limit,
        )
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(
                f"the response body exceeds max_body_size={limit} bytes",
                limit_name="max_body_size",
                limit=limit,
            )
        yield chunk
