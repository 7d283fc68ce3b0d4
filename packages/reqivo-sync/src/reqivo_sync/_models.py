"""``Request`` and ``Response``: the blocking views of ``AsyncRequest`` and the async ``Response``.

Both are subclasses of their async twins, so every attribute and every rule (decoding,
``raise_for_status``, ``json()``, the request body encoding) has one definition: the
async one. A response returned by the async client is turned into the sync class in place
(``__class__`` is switched, nothing is copied) and remembers the ``LoopBridge`` and the
event loop its body stream belongs to. The blocking methods (``read``, ``close``,
``iter_bytes``, ``iter_text``, ``iter_lines``, ``iter_raw``) run the async ones:

* on a body already in memory, or streamed over blocking I/O (a Session that drives its
  requests itself, ADR-015), by stepping the coroutine directly in the calling thread (it
  never suspends);
* on a body streamed on the event loop, one step per chunk through the bridge, on its one
  loop that every thread shares (ADR-012).

Either way a streamed response may be read and closed from any thread, also after the
thread that opened it has exited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from reqivo_async import AsyncRequest
from reqivo_async import Response as AsyncResponse
from reqivo_sync._driver import Suspended, drive

if TYPE_CHECKING:
    from types import TracebackType

    from reqivo_async import AsyncByteStream
    from reqivo_protocol import HeaderTypes
    from reqivo_sync._bridge import LoopBridge

__all__ = ["Request", "Response"]

_get_running_loop = asyncio._get_running_loop

T = TypeVar("T")
_DONE: Any = object()


def _drive(awaitable: Awaitable[T]) -> T:
    """Run an awaitable that completes without suspending (a body in memory, or one read
    with blocking I/O), without a loop; the end of an async generator gives ``_DONE``."""
    try:
        return drive(awaitable)
    except StopAsyncIteration:
        return _DONE  # type: ignore[no-any-return]
    except Suspended:
        raise RuntimeError(
            "this body is read asynchronously; use the async API to read it"
        ) from None


class Request(AsyncRequest):
    """An HTTP request for the blocking API: ``AsyncRequest`` with a blocking ``read()``.

    Build one with ``Session.build_request`` (session headers, cookies, base URL) or
    directly, with the same arguments as ``AsyncRequest``; send it with ``Session.send``.
    """

    __slots__ = ()

    def read(self) -> bytes:
        """Read a streamed body (bytes, a file, a sync iterable) into memory and return it."""
        return _drive(self.aread())

    def __repr__(self) -> str:
        from reqivo_async.transport import redact_url  # reprs are not a hot path

        return f"<Request [{self.method} {redact_url(self.url)}]>"


async def _step(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    if asyncio.get_running_loop() is not loop:
        if isinstance(awaitable, Coroutine):
            awaitable.close()
        raise RuntimeError(
            "this streamed response was opened by the parent process: after fork() its "
            "connection cannot be read in the child"
        )
    try:
        return await awaitable
    except StopAsyncIteration:
        return _DONE  # type: ignore[no-any-return]


class Response(AsyncResponse):
    """An HTTP response for the blocking API.

    Everything of the async ``Response`` (``status_code``, ``headers``, ``content``,
    ``text``, ``json()``, ``raise_for_status()``, ``history``, ``elapsed``, ...) plus
    blocking ``read()``, ``close()``, ``iter_bytes()``, ``iter_text()``, ``iter_lines()``
    and ``iter_raw()``; ``with response:`` closes it.
    """

    _bridge: LoopBridge[Any] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def __init__(
        self,
        status_code: int,
        *,
        headers: HeaderTypes | None = None,
        content: bytes | None = None,
        stream: Iterable[bytes] | AsyncByteStream | None = None,
        reason: str | None = None,
        http_version: str = "HTTP/1.1",
        request: AsyncRequest | None = None,
        extensions: dict[str, Any] | None = None,
        history: list[AsyncResponse] | None = None,
        default_encoding: str = "utf-8",
        max_decompressed_size: int | None = None,
        max_body_size: int | None = None,
        text: str | None = None,
        html: str | None = None,
        json: Any = None,
    ) -> None:
        """The async ``Response``'s arguments (``Response(200, json={...})`` builds one in
        memory, for tests); ``stream`` may also be a blocking iterable of bytes (a
        transport's streaming body: see ``BaseTransport``)."""
        if stream is not None and not hasattr(stream, "__aiter__"):
            from reqivo_sync._streams import IteratorStream  # only transports need it

            stream = IteratorStream(stream)
        super().__init__(
            status_code,
            headers=headers,
            content=content,
            stream=stream,  # type: ignore[arg-type]
            reason=reason,
            http_version=http_version,
            request=request,
            extensions=extensions,
            history=history,
            default_encoding=default_encoding,
            max_decompressed_size=max_decompressed_size,
            max_body_size=max_body_size,
            text=text,
            html=html,
            json=json,
        )

    def _run(self, make: Callable[[], Awaitable[T]]) -> T:
        # A body in memory, or a closed stream (which only raises StreamClosed), needs no
        # event loop: also not after the Session (a one-shot call's) closed its loop.
        if self._content is not None or self._closed or self._bridge is None or self._loop is None:
            return _drive(make())
        loop = self._loop
        return self._bridge.run(lambda _: _step(loop, make()))

    def read(self) -> bytes:
        """Read (the rest of) the body into memory and return it."""
        return self._run(self.aread)

    def close(self) -> None:
        """Release the connection; the rest of an unread body is discarded."""
        if not self.is_closed:
            self._run(self.aclose)

    def _iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        run = self._run
        finished = False
        try:
            while True:
                try:
                    item = run(iterator.__anext__)
                except BaseException:
                    finished = True  # an async generator that raised is finished
                    raise
                if item is _DONE:
                    finished = True
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if not finished and aclose is not None:  # the caller stopped early
                run(aclose)

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body as received (content coding not undone), chunk by chunk."""
        return self._iterate(self.aiter_raw(chunk_size))

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body with its content coding (gzip, deflate, br, zstd) undone."""
        return self._iterate(self.aiter_bytes(chunk_size))

    def iter_text(self) -> Iterator[str]:
        """The body decoded as text, chunk by chunk."""
        return self._iterate(self.aiter_text())

    def iter_lines(self) -> Iterator[str]:
        """The body as lines of text, without their line endings."""
        return self._iterate(self.aiter_lines())

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def as_sync_response(response: AsyncResponse, bridge: LoopBridge[Any] | None) -> Response:
    """Turn an async ``Response`` (and its history, requests) into the sync classes, in place.

    Called where the response was made: on the event loop its stream belongs to (its
    blocking reads then go through ``bridge``, to that loop), or with no loop running, for a
    response read with blocking I/O (its reads are driven in place; ``bridge`` is unused).
    """
    loop = _get_running_loop()
    return _as_sync(response, None if loop is None else bridge, loop)


def _as_sync(
    response: AsyncResponse,
    bridge: LoopBridge[Any] | None,
    loop: asyncio.AbstractEventLoop | None,
) -> Response:
    if type(response) is AsyncResponse:
        response.__class__ = Response
    elif not isinstance(response, Response):
        raise TypeError(
            f"a transport returned {type(response).__name__}; the sync API needs "
            "reqivo_async.Response itself"
        )
    synced: Response = response  # type: ignore[assignment]
    if loop is not None:  # else the class defaults (None) hold: blocking reads, in place
        synced._bridge = bridge
        synced._loop = loop
    request = response._request
    if request is not None and type(request) is AsyncRequest:
        request.__class__ = Request
    if response.next_request is not None and type(response.next_request) is AsyncRequest:
        response.next_request.__class__ = Request
    for previous in response.history:
        _as_sync(previous, None, loop)
    return synced
