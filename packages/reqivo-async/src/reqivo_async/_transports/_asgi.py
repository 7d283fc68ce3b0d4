"""``ASGITransport``: send requests to an ASGI 3 application in the same process.

No sockets: the app is called with an ``http`` scope; its ``receive`` streams the
request body chunk by chunk and its ``send`` messages become a ``Response`` whose body
streams as the app produces it (a bounded queue between the two keeps memory flat).
``response.aclose()`` before the end of the body tells the app the client disconnected
(``receive`` returns ``http.disconnect``) and cancels it if it is still producing.

An exception raised by the app is re-raised to the caller (``raise_app_exceptions=True``,
the default, handy in tests); with ``raise_app_exceptions=False`` an exception before the
response started becomes a ``500`` response and one during the body ends the body.
Lifespan events are not sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias
from urllib.parse import unquote

from reqivo_async._models import AsyncRequest, Response
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_protocol import RemoteProtocolError

__all__ = ["ASGIApp", "ASGITransport"]

Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
#: An ASGI 3 application ``app(scope, receive, send)``; loosely typed so that apps
#: annotated with any framework's aliases are accepted.
ASGIApp: TypeAlias = Callable[[Any, Any, Any], Awaitable[None]]

#: Body messages buffered between the app and the reader before the app waits.
_QUEUE_SIZE = 16


class _Done:
    """Queued when the app returned."""


class _Failed:
    """Queued when the app raised."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_DONE = _Done()


class _Exchange:
    """One request's link between the app task and the response stream."""

    __slots__ = (
        "body",
        "complete",
        "error",
        "queue",
        "raise_app_exceptions",
        "request_done",
        "task",
    )

    def __init__(self, request: AsyncRequest, raise_app_exceptions: bool) -> None:
        self.queue: asyncio.Queue[Message | _Done | _Failed] = asyncio.Queue(_QUEUE_SIZE)
        self.complete = asyncio.Event()
        self.body: AsyncIterator[bytes] = request.stream.__aiter__()
        self.request_done = False
        self.raise_app_exceptions = raise_app_exceptions
        self.error: Exception | None = None
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> Message:
        if self.request_done or self.complete.is_set():
            await self.complete.wait()
            return {"type": "http.disconnect"}
        try:
            chunk = await self.body.__anext__()
        except StopAsyncIteration:
            self.request_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        if self.complete.is_set():
            return  # the client is gone; late messages are dropped
        await self.queue.put(message)

    async def run(self, app: ASGIApp, scope: MutableMapping[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception as exc:
            if self.complete.is_set():
                self.error = exc
            else:
                await self.queue.put(_Failed(exc))
            return
        if not self.complete.is_set():
            await self.queue.put(_DONE)


class _ASGIStream:
    """The response body: the app's ``http.response.body`` messages."""

    __slots__ = ("_exchange",)

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        while not exchange.complete.is_set():
            message = await exchange.queue.get()
            if isinstance(message, _Done):
                exchange.complete.set()
                return
            if isinstance(message, _Failed):
                exchange.complete.set()
                if exchange.raise_app_exceptions:
                    raise message.error
                return
            if message.get("type") != "http.response.body":
                continue
            body = message.get("body", b"")
            if not message.get("more_body", False):
                exchange.complete.set()
            if body:
                yield bytes(body)

    async def aclose(self) -> None:
        exchange = self._exchange
        task = exchange.task
        assert task is not None
        finished = exchange.complete.is_set()
        exchange.complete.set()
        if not task.done():
            if finished:
                # The body is complete: let the app return (background work included).
                await asyncio.wait([task])
            else:
                task.cancel()
                await asyncio.wait([task])
        error, exchange.error = exchange.error, None
        queue = exchange.queue
        while not queue.empty():
            message = queue.get_nowait()
            if isinstance(message, _Failed) and error is None:
                error = message.error
        if error is not None and finished and exchange.raise_app_exceptions:
            raise error


class ASGITransport(AsyncBaseTransport):
    """Call an ASGI 3 ``app`` in-process instead of going to the network.

    ``root_path`` is the scope's mount point; ``client`` the (host, port) the app sees
    as the peer.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_app_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("127.0.0.1", 123),
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.root_path = root_path
        self.client = client

    def _scope(self, request: AsyncRequest) -> dict[str, Any]:
        url = request.url
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.multi_items()
        ]
        if "host" not in request.headers:
            headers.insert(0, (b"host", url.netloc.encode("ascii")))
        length = request.stream.length
        if length and "content-length" not in request.headers:
            headers.append((b"content-length", str(length).encode("ascii")))
        elif length is None and "transfer-encoding" not in request.headers:
            headers.append((b"transfer-encoding", b"chunked"))
        port = url.port if url.port is not None else url.effective_port
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": unquote(url.path),
            "raw_path": url.path.encode("ascii"),
            "query_string": (url.query or "").encode("ascii"),
            "root_path": self.root_path,
            "headers": headers,
            "client": self.client,
            "server": (url.host, port),
            "extensions": {},
        }

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        exchange = _Exchange(request, self.raise_app_exceptions)
        task = exchange.task = asyncio.get_running_loop().create_task(
            exchange.run(self.app, self._scope(request))
        )
        stream = _ASGIStream(exchange)
        try:
            while True:
                message = await exchange.queue.get()
                if isinstance(message, _Failed):
                    if self.raise_app_exceptions:
                        raise message.error
                    await stream.aclose()
                    return Response(500, content=b"", request=request)
                if isinstance(message, _Done):
                    raise RemoteProtocolError(
                        "the ASGI app returned without sending a response", request=request
                    )
                if message.get("type") == "http.response.start":
                    break
        except BaseException:
            exchange.complete.set()
            if not task.done():
                task.cancel()
            await asyncio.wait([task])
            raise
        headers = [
            (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
            for name, value in message.get("headers", ())
        ]
        return Response(
            int(message["status"]),
            headers=headers,
            stream=stream,
            request=request,
            http_version="HTTP/1.1",
        )
