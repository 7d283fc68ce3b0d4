"""The dual suite's servers: real WebSocket servers on loopback, run by one event loop in
a thread of their own.

The servers cannot share the client's loop: in sync mode the client's loop belongs to
the ``WebSocket`` (its own thread), and in async mode the facade's loop runs only during
a call. So one daemon thread (``ServerThread``, one per test session) runs every server,
and each test starts the servers it needs through ``Servers`` (closed after the test).
Handlers are coroutines run in that thread; what they observe reaches the test through
messages sent back to the client, or through plain lists read once the server is done.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import websockets
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection

from ..conftest import Handler, echo

__all__ = [
    "AiohttpHandler",
    "Handler",
    "ServerThread",
    "Servers",
    "TcpHandler",
    "echo",
    "frame",
    "read_handshake",
    "request_headers",
    "send_request_headers",
    "switching_protocols",
]

T = TypeVar("T")
AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TcpHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def send_request_headers(conn: ServerConnection) -> None:
    """A handler: send the handshake request's header fields back as one JSON message
    (``request_headers(ws)`` reads it on the client's side)."""
    assert conn.request is not None
    headers: dict[str, list[str]] = {}
    for name, value in conn.request.headers.raw_items():
        headers.setdefault(name.lower(), []).append(value)
    await conn.send(json.dumps(headers))
    await conn.wait_closed()


def request_headers(ws: Any) -> dict[str, list[str]]:
    """The header fields (lower-case names) the server sent by ``send_request_headers``."""
    headers: dict[str, list[str]] = json.loads(ws.recv(timeout=5))
    return headers


async def read_handshake(reader: asyncio.StreamReader) -> bytes:
    """Read a client's upgrade request head; returns its ``Sec-WebSocket-Key``."""
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return value.strip()
    raise AssertionError(f"no Sec-WebSocket-Key in {head!r}")


def switching_protocols(key: bytes) -> bytes:
    """A ``101`` response accepting ``key`` (no extension, no subprotocol)."""
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked server frame (payload under 126 bytes)."""
    assert len(payload) < 126
    return bytes([0x80 | opcode, len(payload)]) + payload


class ServerThread:
    """An event loop run by a daemon thread, for the servers of the whole test session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="ws-test-servers", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the servers' loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Servers:
    """The servers of one test: ``websockets(...)`` and ``aiohttp(...)`` start one and
    return its URL; ``stop(url)`` stops one early; all stop after the test."""

    def __init__(self, thread: ServerThread) -> None:
        self._thread = thread
        self._stops: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}
        #: Exceptions that ended a handler (other than the connection closing).
        self.errors: list[BaseException] = []

    def websockets(self, handler: Handler = echo, **options: Any) -> str:
        """A ``websockets`` server (its keyword ``options``, e.g. ``compression=None``,
        ``subprotocols``, ``process_request``, ``ssl``); returns its ``ws://`` base URL.

        A handler that fails with anything but ``ConnectionClosed`` fails the test (when
        the servers close)."""
        options.setdefault("max_size", None)
        options.setdefault("close_timeout", 1.0)

        async def guarded(conn: ServerConnection) -> None:
            try:
                await handler(conn)
            except websockets.ConnectionClosed:
                pass
            except BaseException as exc:
                self.errors.append(exc)
                raise

        async def start() -> Server:
            return await websockets.serve(guarded, "127.0.0.1", 0, **options)

        server = self._thread.run(start())
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"{'wss' if options.get('ssl') else 'ws'}://127.0.0.1:{port}/"

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        self._stops[url] = stop
        return url

    def aiohttp(self, handler: AiohttpHandler, path: str = "/ws") -> str:
        """An aiohttp server with ``handler`` at ``path``; returns the ``ws://`` URL."""

        async def start() -> tuple[web.AppRunner, int]:
            app = web.Application()
            app.router.add_get(path, handler)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            server: Any = site._server
            return runner, server.sockets[0].getsockname()[1]

        runner, port = self._thread.run(start())
        url = f"ws://127.0.0.1:{port}{path}"
        self._stops[url] = runner.cleanup
        return url

    def tcp(self, handler: TcpHandler) -> str:
        """A scripted peer: ``handler(reader, writer)`` speaks raw bytes on each connection
        (see ``read_handshake``, ``switching_protocols``, ``frame``); the writer is closed
        after it. Returns a ``ws://`` URL."""

        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            except BaseException as exc:
                self.errors.append(exc)
                raise
            finally:
                writer.close()

        async def start() -> asyncio.Server:
            return await asyncio.start_server(guarded, "127.0.0.1", 0)

        server = self._thread.run(start())
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        self._stops[url] = stop
        return url

    def stop(self, url: str) -> None:
        """Stop the server at ``url`` now (its connections are closed: 1001)."""
        self._thread.run(self._stops.pop(url)())

    def close(self) -> None:
        """Stop every server still running; raise the first handler error, if any."""
        for url in list(self._stops):
            self.stop(url)
        if self.errors:
            raise AssertionError(f"a server handler failed: {self.errors[0]!r}") from (
                self.errors[0]
            )
