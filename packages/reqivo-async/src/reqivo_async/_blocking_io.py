"""Blocking socket I/O under the pool: ``AsyncConnectionPool(blocking=True)``.

Theory of operation
-------------------

reqivo-sync's ``Session`` runs ``AsyncSession`` *without an event loop*: it calls the
coroutine's ``send(None)`` once, and the coroutine must finish without suspending (ADR-015).
Policy (redirects, auth, cookies, retries, hooks), the pool and the HTTP/1.1 connection
stay the async code, written once; only the I/O underneath changes. Every place that would
wait for the loop waits here instead, blocking the calling thread:

* ``BlockingTransport`` is an ``asyncio.Transport`` over a non-blocking socket (or
  ``ssl.SSLSocket``) that nobody polls in the background. It behaves as asyncio's selector
  transport does: ``write`` sends what the socket takes and buffers the rest (pausing the
  protocol above the high-water mark), bytes received go to ``data_received``, the end to
  ``eof_received`` and ``connection_lost``. ``pump(seconds)`` is one turn of the missing
  event loop for this one socket: wait (``poll``) until it can read or write, then do so.
* ``BlockingHTTP11Protocol`` is the HTTP/1.1 protocol whose waits pump the transport
  (``readable``, ``wait_writable``, ``wait_lost``) instead of awaiting futures: what they
  return is already resolved, so ``await`` never suspends.
* ``open_connection`` and ``start_tls`` connect and run the TLS handshake blocking, each
  within the seconds given; a timeout is the built-in ``TimeoutError`` (the connection
  maps it to ``ConnectTimeout``, as for the loop's ``asyncio.timeout``).
* ``ThreadWaiter`` is the pool's waiter for a free connection across threads.
* ``Deadline(total)``: a request's total timeout. ``asyncio.timeout`` needs a task; here the
  deadline is a context variable that every wait above honours (it shortens the wait, and
  raises ``DeadlinePassed`` when the deadline is what ended it). ``DeadlinePassed`` is a
  ``BaseException``, as asyncio's cancellation is, so that no handler on the way takes it
  for an ordinary timeout; leaving the block turns it into ``TimeoutError``, as
  ``asyncio.timeout`` does, and the session into ``TotalTimeout``.

A connection nobody reads while idle does not see the server close it: the pool calls
``refresh`` (a non-blocking read) before it reuses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import select
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable
from contextvars import ContextVar, Token
from typing import Any, Final, TypeVar

from reqivo_async._http11 import HTTP11Protocol
from reqivo_async._network import (
    SocketOption,
    configure_socket,
    connect_error,
    handshake_error,
    map_error,
)
from reqivo_protocol import TlsError

__all__ = [
    "BlockingHTTP11Protocol",
    "BlockingTransport",
    "Deadline",
    "DeadlinePassed",
    "ThreadWaiter",
    "open_connection",
    "sleep",
    "start_tls",
]

_P = TypeVar("_P", bound=asyncio.BaseProtocol)

#: asyncio's selector transports pause the protocol above 64 KiB buffered, resume below 16.
HIGH_WATER: Final = 64 * 1024
LOW_WATER: Final = 16 * 1024
#: At most this many unread bytes are taken (and dropped) when a transport is closed.
DRAIN_LIMIT: Final = 1024 * 1024
_RETRY: Final = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_POLL: Final = hasattr(select, "poll")
#: Linux: a plain TCP socket stays in blocking mode, and a read waits in one ``recv``
#: bounded by ``SO_RCVTIMEO`` instead of ``poll`` then ``recv`` (each system call gives the
#: GIL away: with many threads, one fewer per wait is measurable); what must not wait
#: passes ``MSG_DONTWAIT``.
_DIRECT: Final = sys.platform.startswith("linux") and hasattr(socket, "MSG_DONTWAIT")
_NOWAIT: Final = getattr(socket, "MSG_DONTWAIT", 0)
_IN: Final = getattr(select, "POLLIN", 1)
_OUT: Final = getattr(select, "POLLOUT", 4)


class DeadlinePassed(BaseException):
    """A request's total timeout passed while it waited (``Deadline``)."""


#: The running request's total-timeout deadline (``time.monotonic``), or None.
_DEADLINE: ContextVar[float | None] = ContextVar("reqivo_blocking_deadline", default=None)


class Deadline:
    """``asyncio.timeout(total)`` for blocking I/O: every blocking wait inside the block is
    bounded by ``total`` seconds from its start.

    It behaves as ``asyncio.timeout`` does, so the session's deadline code is one for both:
    an ``async with`` that never suspends, a ``DeadlinePassed`` ending the block turned into
    ``TimeoutError``, and ``expired()``. Plain ``with`` works too.
    """

    __slots__ = ("_expired", "_token", "_total")

    def __init__(self, total: float) -> None:
        self._total = total
        self._token: Token[float | None] | None = None
        self._expired = False

    def expired(self) -> bool:
        """Whether the deadline passed (and ended the block)."""
        return self._expired

    def __enter__(self) -> Deadline:
        self._token = _DEADLINE.set(time.monotonic() + self._total)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        assert self._token is not None
        _DEADLINE.reset(self._token)
        if exc_type is not None and issubclass(exc_type, DeadlinePassed):
            self._expired = True
            raise TimeoutError from exc

    async def __aenter__(self) -> Deadline:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _bounded(seconds: float | None) -> tuple[float | None, bool]:
    """``seconds`` shortened by the deadline, and whether the deadline is what binds."""
    until = _DEADLINE.get()
    if until is None:
        return seconds, False
    remaining = until - time.monotonic()
    if remaining <= 0:
        raise DeadlinePassed
    if seconds is None or remaining < seconds:
        return remaining, True
    return seconds, False


def sleep(seconds: float) -> None:
    """``asyncio.sleep`` for a blocking caller (a retry's back-off), within the deadline."""
    wait, bound = _bounded(seconds)
    assert wait is not None
    time.sleep(wait)
    if bound:
        raise DeadlinePassed


class Resolved:
    """An awaitable whose value is known already: ``await`` returns it without suspending."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        yield from ()  # a generator that yields nothing
        return self.value


TIMED_OUT: Final = Resolved(False)
DONE: Final = Resolved(True)


def _wait_socket(sock: socket.socket, events: int, seconds: float | None) -> int:
    """Wait until ``sock`` is ready for ``events`` (``_IN``/``_OUT``); the ready events, or 0
    when ``seconds`` passed."""
    if _POLL:
        poller = select.poll()
        poller.register(sock, events)
        ready = poller.poll(None if seconds is None else max(0, int(seconds * 1000 + 0.999)))
        return ready[0][1] if ready else 0
    readers = [sock] if events & _IN else []  # pragma: no cover - Windows
    writers = [sock] if events & _OUT else []  # pragma: no cover
    r, w, x = select.select(readers, writers, [sock], seconds)  # pragma: no cover
    return (_IN if r or x else 0) | (_OUT if w else 0)  # pragma: no cover


class BlockingTransport(asyncio.Transport):
    """An asyncio transport over a non-blocking socket, driven by ``pump`` (see module)."""

    def __init__(
        self, sock: socket.socket, protocol: asyncio.Protocol, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self._info: dict[str, Any] = dict(extra or {})
        self._sock: socket.socket | None = sock
        self._protocol = protocol
        self._buffer = bytearray()
        self._high = HIGH_WATER
        self._low = LOW_WATER
        self._writing_paused = False
        self._reading_paused = False
        self._closing = False
        #: How many bytes one ``recv`` asks for (the HTTP/1.1 protocol adjusts it, as it
        #: does a selector transport's).
        self.max_size = 256 * 1024
        # A plain socket on Linux: blocking mode, SO_RCVTIMEO for waits (see _DIRECT).
        self._direct = _DIRECT and not isinstance(sock, ssl.SSLSocket)
        self._flags = _NOWAIT if self._direct else 0
        self._receive_timeout: float | None = None
        if self._direct:
            sock.setblocking(True)
        self._info.setdefault("socket", sock)
        with contextlib.suppress(OSError):
            self._info.setdefault("peername", sock.getpeername())
        with contextlib.suppress(OSError):
            self._info.setdefault("sockname", sock.getsockname())
        if isinstance(sock, ssl.SSLSocket):
            self._info.setdefault("ssl_object", sock)
            self._info.setdefault("peercert", sock.getpeercert())
            self._info.setdefault("cipher", sock.cipher())
            self._info.setdefault("compression", sock.compression())
            self._info.setdefault("sslcontext", sock.context)

    # -- the asyncio.Transport interface ---------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._info.get(name, default)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol  # type: ignore[assignment]

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return not self._reading_paused and not self._closing

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        self._high, self._low = high, low
        self._check_pause()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if not self._buffer:
            sock = self._sock
            assert sock is not None
            try:
                sent = sock.send(data, self._flags)
            except _RETRY:
                sent = 0
            except (OSError, ssl.SSLError) as exc:
                self._finish(exc)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        self._buffer += data
        self._check_pause()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        """Close now: what the socket takes at once of the buffer is sent, then the socket
        is closed (a blocking caller has no loop to flush the rest later). Bytes the peer
        sent that nobody read are taken first (up to ``DRAIN_LIMIT``), as asyncio's
        transport, reading all along, would have: closing a socket with unread bytes sends
        a reset instead of a FIN, which the server sees as an error."""
        if self._closing:
            return
        sock = self._sock
        if sock is not None and self._buffer:
            with contextlib.suppress(*_RETRY, OSError, ssl.SSLError):
                sock.send(self._buffer, self._flags)
        self._finish(None)

    def abort(self) -> None:
        """Close now without sending what is buffered (unread bytes are taken first, as
        for ``close``)."""
        self._finish(None)

    # -- driving it ------------------------------------------------------------------

    def pump(self, seconds: float | None) -> bool:
        """Wait up to ``seconds`` for the socket to be readable (unless reading is paused)
        or writable (while bytes wait to be sent), and read or write; False if nothing
        happened in time."""
        received = self.receive(seconds)
        if received is not None:
            return received
        sock = self._sock
        if sock is None:
            return True
        reading = not self._reading_paused
        if reading and isinstance(sock, ssl.SSLSocket) and sock.pending():
            self._read()  # decrypted bytes wait in the TLS layer: no need to poll
            return True
        events = (_IN if reading else 0) | (_OUT if self._buffer else 0)
        if not events:
            return False
        try:
            ready = _wait_socket(sock, events, seconds)
        except (OSError, ValueError) as exc:  # the socket was closed meanwhile
            self._finish(exc if isinstance(exc, OSError) else OSError(errno.EBADF, str(exc)))
            return True
        if not ready:
            return False
        if ready & ~_IN and self._buffer:
            self._flush()
        if ready & ~_OUT and reading and self._sock is not None:
            self._read()
        return True

    def receive(self, seconds: float | None) -> bool | None:
        """The direct wait to read (a plain TCP socket on Linux, nothing to send, reading
        not paused): one blocking ``recv``, False if nothing came within ``seconds``; None
        when this transport must wait through ``pump``'s poll instead."""
        sock = self._sock
        if sock is None or self._reading_paused or not self._direct or self._buffer:
            return None
        return self._receive(sock, seconds)

    def refresh(self) -> None:
        """Take what arrived while nobody read (an idle connection: the server's close)."""
        sock = self._sock
        if sock is None or self._reading_paused:
            return
        if self._direct or _wait_socket(sock, _IN, 0):
            self._read()  # direct: a recv that does not wait says as much as a poll

    def detach(self) -> socket.socket:
        """Give up the socket without closing it (a TLS upgrade wraps it next)."""
        sock = self._sock
        assert sock is not None
        self._sock = None
        self._closing = True
        return sock

    # -- internals -------------------------------------------------------------------

    def _read(self) -> None:
        """Receive what the socket holds: one ``recv``, and more while each fills the read
        size (a bulk transfer: the protocol gets several blocks for one wait) until the
        protocol pauses reading, as asyncio's transport would deliver them one per loop
        iteration."""
        sock = self._sock
        assert sock is not None
        flags = self._flags
        while True:
            size = self.max_size
            try:
                data = sock.recv(size, flags)
            except _RETRY:
                return
            except (OSError, ssl.SSLError) as exc:
                self._finish(exc)
                return
            if not self._deliver(data):
                return
            if len(data) < size and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                return

    def _deliver(self, data: bytes) -> bool:
        """Hand received bytes (``b""``: the end) to the protocol; whether to read on."""
        if not data:
            self._reading_paused = True
            if not self._protocol.eof_received():
                self.close()
            return False
        self._protocol.data_received(data)
        return self._sock is not None and not self._reading_paused

    def _receive(self, sock: socket.socket, seconds: float | None) -> bool:
        """The direct wait: one blocking ``recv`` bounded by ``SO_RCVTIMEO``, then what
        else the socket holds (``_read``); False if nothing came within ``seconds``."""
        if seconds != self._receive_timeout:
            self._receive_timeout = seconds
            whole = 0.0 if seconds is None else max(seconds, 1e-6)
            micros = round((whole - int(whole)) * 1e6)
            try:
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(whole), micros)
                )
            except OSError as exc:
                self._finish(exc)
                return True
        size = self.max_size
        try:
            data = sock.recv(size)
        except BlockingIOError:  # SO_RCVTIMEO passed
            return False
        except OSError as exc:
            self._finish(exc)
            return True
        if self._deliver(data) and len(data) == size:
            self._read()  # a bulk transfer: take the rest without waiting
        return True

    def _flush(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            sent = sock.send(self._buffer, self._flags)
        except _RETRY:
            return
        except (OSError, ssl.SSLError) as exc:
            self._finish(exc)
            return
        del self._buffer[:sent]
        if self._writing_paused and len(self._buffer) <= self._low:
            self._writing_paused = False
            self._protocol.resume_writing()

    def _check_pause(self) -> None:
        if not self._writing_paused and len(self._buffer) > self._high:
            self._writing_paused = True
            self._protocol.pause_writing()

    def _finish(self, exc: BaseException | None) -> None:
        if self._sock is None and self._closing:
            return
        self._closing = True
        sock, self._sock = self._sock, None
        self._buffer.clear()
        if sock is not None:
            if exc is None:
                _drain(sock, self._flags)
            sock.close()
        self._protocol.connection_lost(exc)  # type: ignore[arg-type]


def _drain(sock: socket.socket, flags: int) -> None:
    """Take (and drop) up to ``DRAIN_LIMIT`` unread bytes without waiting."""
    drained = 0
    with contextlib.suppress(*_RETRY, OSError, ssl.SSLError):
        while drained < DRAIN_LIMIT:
            data = sock.recv(65536, flags)
            if not data:
                return
            drained += len(data)


class BlockingHTTP11Protocol(HTTP11Protocol):
    """``HTTP11Protocol`` whose waits pump its ``BlockingTransport`` (see the module)."""

    needs_loop = False

    def _pump_until(self, ready: Callable[[], bool], seconds: float | None) -> Resolved:
        if ready():
            return DONE
        wait, bound = _bounded(seconds)
        end = None if wait is None else time.monotonic() + wait
        transport: BlockingTransport = self.transport  # type: ignore[assignment]
        left = wait  # the first wait asks for exactly ``wait`` (the same value each request)
        while True:
            if (left is not None and left <= 0) or not transport.pump(left):
                if ready():
                    return DONE
                if bound:
                    raise DeadlinePassed
                return TIMED_OUT
            if ready():
                return DONE
            left = None if end is None else end - time.monotonic()

    def _has_input(self) -> bool:
        return bool(self._chunks) or self.eof or self.lost

    def readable(self, seconds: float | None) -> Any:
        if self._chunks or self.eof:
            return None
        if _DEADLINE.get() is None and (seconds is None or seconds > 0):
            # The usual wait (no total deadline): one recv, whatever it brings is input.
            received = self.transport.receive(seconds)  # type: ignore[union-attr]
            if received is not None:
                return None if received else TIMED_OUT
        return None if self._pump_until(self._has_input, seconds) is DONE else TIMED_OUT

    def _drained(self) -> bool:
        return not self.write_paused or self.lost

    async def wait_writable(self, seconds: float | None) -> bool:
        return self._pump_until(self._drained, seconds) is DONE

    async def wait_lost(self, seconds: float | None) -> bool:
        return True  # a blocking transport is gone as soon as it is closed


class ThreadWaiter:
    """The pool's waiter for a connection when its callers are threads, not tasks: the
    part of ``asyncio.Future`` the pool uses, plus a blocking ``wait``."""

    __slots__ = ("_event", "_result")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._result: bool | None = None

    def done(self) -> bool:
        return self._result is not None

    def cancelled(self) -> bool:
        return False

    def result(self) -> bool:
        return bool(self._result)

    def set_result(self, value: bool) -> None:
        self._result = value
        self._event.set()

    def wait(self, seconds: float | None) -> bool:
        """Wait to be woken (True) or for ``seconds`` (False; ``DeadlinePassed`` when the
        request's total timeout is what ended the wait)."""
        wait, bound = _bounded(seconds)
        if self._event.wait(wait):
            return True
        if bound:
            raise DeadlinePassed
        return False


def _connect_seconds(seconds: float | None) -> tuple[float | None, bool]:
    """A connect step's socket timeout (``seconds`` within the deadline) and whether the
    deadline binds it; ``TimeoutError`` when none is left (a socket timeout of 0 would
    mean non-blocking, not "expired")."""
    wait, bound = _bounded(seconds)
    if wait is not None and wait <= 0:
        raise TimeoutError("the connect timeout passed")
    return wait, bound


async def open_connection(
    protocol_factory: Callable[[], _P],
    host: str,
    port: int,
    *,
    seconds: float | None,
    uds: str | None = None,
    local_address: str | None = None,
    socket_options: Iterable[SocketOption] | None = None,
) -> tuple[BlockingTransport, _P]:
    """``_network.open_connection`` done blocking (it never suspends): connect to
    ``host:port`` (or the Unix socket ``uds``) within ``seconds``; a timeout raises
    ``TimeoutError`` (the caller maps it), a failure ``ConnectError``."""
    wait, bound = _connect_seconds(seconds)
    try:
        if uds is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(wait)
                sock.connect(uds)
            except BaseException:
                sock.close()
                raise
        else:
            source = (local_address, 0) if local_address else None
            sock = socket.create_connection((host, port), timeout=wait, source_address=source)
    except TimeoutError:
        if bound:
            raise DeadlinePassed from None
        raise
    except OSError as exc:
        raise connect_error(exc, host, port, uds) from exc
    try:
        configure_socket(sock, tcp=uds is None, socket_options=socket_options)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise map_error(exc, "connect") from exc
    except BaseException:
        sock.close()
        raise
    protocol = protocol_factory()
    transport = BlockingTransport(sock, protocol)  # type: ignore[arg-type]
    protocol.connection_made(transport)
    return transport, protocol


async def start_tls(
    transport: BlockingTransport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_hostname: str,
    *,
    seconds: float | None,
) -> BlockingTransport:
    """``_network.start_tls`` done blocking (it never suspends): the TLS handshake over
    ``transport``'s socket, within ``seconds``; the new transport feeds ``protocol``. Raises
    ``TlsError``, ``TimeoutError``; ``transport`` is closed on failure."""
    raw = transport.get_extra_info("socket")
    if isinstance(raw, ssl.SSLSocket):
        transport.abort()
        raise TlsError(
            "TLS inside TLS (an https origin through an https proxy) needs the event loop: "
            "use the async API, or a plain http proxy"
        )
    sock = transport.detach()
    try:
        wait, bound = _connect_seconds(seconds)
        sock.settimeout(wait)
        tls = context.wrap_socket(sock, server_hostname=server_hostname or None)
        tls.setblocking(False)
    except BaseException as exc:
        sock.close()
        if isinstance(exc, TimeoutError):
            if bound:
                raise DeadlinePassed from None
            raise
        if isinstance(exc, OSError | ssl.SSLError):
            raise handshake_error(exc) from exc
        raise
    return BlockingTransport(tls, protocol)  # type: ignore[arg-type]
