"""A scripted raw TCP (or TLS) server for the faults no real server produces.

A test lists what the server does on each connection, step by step::

    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nhalf"), Reset()]
    )
    ...  # point the client at server.url
    assert server.request_count == 1          # e.g. a POST was not sent twice

``raw_server(script_a, script_b)`` runs ``script_a`` on the first connection and
``script_b`` on the second and every later one (the last script repeats). A script that
ends without ``Close``/``Reset``/``Stall`` closes the connection gracefully.

Design: the server runs on its own event loop in its own thread (not a subprocess), so the
test reads what it recorded (connections, request heads and bodies) directly, and sync and
async tests use it alike. Starting one takes about a millisecond; ``close()`` cancels every
connection, stops the loop, joins the thread and closes the loop: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeAlias

__all__ = [
    "Close",
    "HalfClose",
    "RawRequest",
    "RawServer",
    "ReadBody",
    "ReadBytes",
    "ReadHead",
    "ReadRequest",
    "ReadUntilEOF",
    "Repeat",
    "Reset",
    "Script",
    "Send",
    "Sleep",
    "Stall",
    "Step",
    "Trickle",
    "http_response",
]

MAX_HEAD = 1 << 20


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` (and wait until the transport's buffer drains)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Trickle:
    """Write ``data`` one byte at a time, ``interval`` seconds apart."""

    data: bytes
    interval: float = 0.01


@dataclass(frozen=True, slots=True)
class ReadHead:
    """Read one request head (through the blank line) and record it as a request.

    At end of input before any byte of it, the script ends quietly (the client closed
    an idle connection); in the middle of a head, the partial head is recorded in
    ``RawServer.partial_heads`` and the script ends.
    """


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read the body the last head announced (Content-Length or chunked; none otherwise)."""


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """``ReadHead`` then ``ReadBody``."""


@dataclass(frozen=True, slots=True)
class ReadBytes:
    """Read exactly ``n`` bytes (they count as received, not as a request)."""

    n: int


@dataclass(frozen=True, slots=True)
class ReadUntilEOF:
    """Read and discard until the client closes its side."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Do nothing for ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Close:
    """Close gracefully (FIN; TLS close_notify over TLS)."""


@dataclass(frozen=True, slots=True)
class HalfClose:
    """Shut down the write side only (FIN), keep reading possible (not over TLS)."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Abort with a TCP RST (SO_LINGER 0), dropping anything not yet sent."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Neither read nor write until the server closes: the peer's writes eventually block."""


@dataclass(frozen=True, slots=True)
class Repeat:
    """Run ``steps`` ``times`` times, or until a ``ReadHead`` meets a clean end of input."""

    steps: tuple[Step, ...]
    times: int | None = None


Step: TypeAlias = (
    Send
    | Trickle
    | ReadHead
    | ReadBody
    | ReadRequest
    | ReadBytes
    | ReadUntilEOF
    | Sleep
    | Close
    | HalfClose
    | Reset
    | Stall
    | Repeat
)
Script: TypeAlias = Sequence[Step]


@dataclass(slots=True)
class RawRequest:
    """One request as the raw server read it."""

    connection: int  # 0 for the first connection
    head: bytes
    body: bytes = b""

    @property
    def method(self) -> str:
        return self.head.split(b" ", 1)[0].decode("latin-1")

    @property
    def target(self) -> str:
        parts = self.head.split(b"\r\n", 1)[0].split(b" ")
        return parts[1].decode("latin-1") if len(parts) > 1 else ""

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        wanted = name.lower().encode("latin-1")
        for line in self.head.split(b"\r\n")[1:]:
            key, sep, value = line.partition(b":")
            if sep and key.strip().lower() == wanted:
                return value.strip().decode("latin-1")
        return None


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    *,
    reason: str = "OK",
    chunked: bool = False,
    content_length: bool = True,
) -> bytes:
    """Bytes of a well-formed HTTP/1.1 response (a building block for scripts)."""
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    else:
        if content_length:
            lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class _EndScript(Exception):
    """The script stops here (clean end of input, or the connection is gone)."""


@dataclass(slots=True)
class _Conn:
    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last: RawRequest | None = None
    closed: bool = False


@dataclass(slots=True)
class _Record:
    connections: int = 0
    requests: list[RawRequest] = field(default_factory=list)
    partial_heads: list[bytes] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)
    errors: list[BaseException] = field(default_factory=list)


class RawServer:
    """A scripted server on 127.0.0.1 (or ``host``), its own loop in its own thread.

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    def __init__(
        self,
        *scripts: Script,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not scripts:
            raise ValueError("give at least one script")
        self._scripts = [tuple(s) for s in scripts]
        self.host = host
        self._ssl = ssl_context
        self.port = 0
        self._record = _Record()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop: asyncio.Event | None = None

    # --- what the test reads ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self._ssl else 'http'}://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """How many connections were accepted."""
        with self._lock:
            return self._record.connections

    @property
    def requests(self) -> list[RawRequest]:
        """Every request head read (with its body once ``ReadBody`` read it), in order."""
        with self._lock:
            return list(self._record.requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._record.requests)

    @property
    def partial_heads(self) -> list[bytes]:
        """Request heads cut off by the client's end of input."""
        with self._lock:
            return list(self._record.partial_heads)

    @property
    def received(self) -> bytes:
        """Every byte read from every connection, in order of reading."""
        with self._lock:
            return bytes(self._record.received)

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions in connection handlers (peer resets are not errors)."""
        with self._lock:
            return list(self._record.errors)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no connection is being served; False on timeout.

        From async tests: ``await asyncio.to_thread(server.wait_idle)``.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> RawServer:
        loop = asyncio.new_event_loop()
        started = threading.Event()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"raw-server-{id(self):x}", daemon=True)
        self._thread.start()
        started.wait()
        try:
            asyncio.run_coroutine_threadsafe(self._listen(), loop).result(timeout=10)
        except BaseException:
            self.close()
            raise
        return self

    async def _listen(self) -> None:
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(
            self._handle, self.host, 0, ssl=self._ssl, backlog=128, limit=MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        """Stop serving, abort every connection, stop and close the loop, join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._stop is not None:
            self._stop.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        loop = asyncio.get_running_loop()
        await loop.shutdown_asyncgens()
        await loop.shutdown_default_executor()

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- serving ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            index = self._record.connections
            self._record.connections += 1
            self._active += 1
        conn = _Conn(index, reader, writer)
        script = self._scripts[min(index, len(self._scripts) - 1)]
        try:
            with contextlib.suppress(_EndScript):
                await self._run(conn, script)
            if not conn.closed:
                await self._close(conn)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            writer.transport.abort()
        except asyncio.CancelledError:
            writer.transport.abort()
        except Exception as exc:  # recorded for the test to see, never raised in the loop
            with self._lock:
                self._record.errors.append(exc)
            writer.transport.abort()
        finally:
            self._tasks.discard(task)
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    async def _run(self, conn: _Conn, steps: Sequence[Step]) -> None:
        for step in steps:
            if conn.closed:
                return
            await self._step(conn, step)

    async def _step(self, conn: _Conn, step: Step) -> None:
        w = conn.writer
        match step:
            case Send(data):
                w.write(data)
                await w.drain()
            case Trickle(data, interval):
                for i in range(len(data)):
                    w.write(data[i : i + 1])
                    await w.drain()
                    if interval:
                        await asyncio.sleep(interval)
            case ReadHead():
                await self._read_head(conn)
            case ReadBody():
                await self._read_body(conn)
            case ReadRequest():
                await self._read_head(conn)
                await self._read_body(conn)
            case ReadBytes(n):
                self._got(await conn.reader.readexactly(n))
            case ReadUntilEOF():
                while data := await conn.reader.read(65536):
                    self._got(data)
            case Sleep(seconds):
                await asyncio.sleep(seconds)
            case Close():
                await self._close(conn)
            case HalfClose():
                w.write_eof()
            case Reset():
                sock = w.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                w.transport.abort()
                conn.closed = True
            case Stall():
                assert self._stop is not None
                await self._stop.wait()
            case Repeat(steps, times):
                count = 0
                while times is None or count < times:
                    await self._run(conn, steps)
                    count += 1

    def _got(self, data: bytes) -> None:
        with self._lock:
            self._record.received += data

    async def _read_head(self, conn: _Conn) -> None:
        try:
            head = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                with self._lock:
                    self._record.partial_heads.append(exc.partial)
                    self._record.received += exc.partial
            raise _EndScript from exc
        except asyncio.LimitOverrunError as exc:
            raise _EndScript from exc
        request = RawRequest(conn.index, head[:-4])
        conn.last = request
        with self._lock:
            self._record.received += head
            self._record.requests.append(request)

    async def _read_body(self, conn: _Conn) -> None:
        request = conn.last
        if request is None:
            return
        if (request.header("transfer-encoding") or "").lower().endswith("chunked"):
            body = await self._read_chunked(conn)
        else:
            body = await conn.reader.readexactly(int(request.header("content-length") or 0))
            self._got(body)
        with self._lock:
            request.body = body

    async def _read_chunked(self, conn: _Conn) -> bytes:
        body = bytearray()
        while True:
            size_line = await conn.reader.readuntil(b"\r\n")
            self._got(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (line := await conn.reader.readuntil(b"\r\n")) != b"\r\n":
                    self._got(line)  # trailers
                self._got(line)
                return bytes(body)
            chunk = await conn.reader.readexactly(size + 2)
            self._got(chunk)
            body += chunk[:-2]

    async def _close(self, conn: _Conn) -> None:
        conn.closed = True
        conn.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            await asyncio.wait_for(conn.writer.wait_closed(), 5)
