"""The dual suite: one behavioural WebSocket suite, written once, run against both APIs.

The facade follows reqivo-sync's dual suite (``packages/reqivo-sync/tests/dual``). Tests
are plain functions that use ``connect(url, **options)``: it opens a connection and
returns a ``Socket``, a facade with the blocking ``WebSocket``'s shape. In ``sync`` mode
it is a ``reqivo_ws.WebSocket`` called directly, in the test's thread (its loop runs in
its own thread, ADR-007). In ``async`` mode it is a ``reqivo_ws.AsyncWebSocket`` whose
coroutines run on a private event loop (an ``asyncio.Runner``, one per test): the facade
only awaits, it adds no behaviour. ``make_session(**options)`` gives the mode's session
(``reqivo_sync.Session`` or ``reqivo_async.AsyncSession``) for ``session=``.

Event-loop state between calls: in sync mode the ``WebSocket``'s loop thread serves the
connection all the time; in async mode the facade's loop runs only inside a call, as in
reqivo-sync's dual suite. ``idle(seconds)`` lets time pass the way each API lets it pass
(``time.sleep``; ``asyncio.sleep`` on the client's loop, as an async application's loop
keeps running while it waits), and ``idle.until(predicate)`` waits for a condition.

``--mode=sync|async|both`` (see ``tests/conftest.py``) selects the modes; test ids end
with ``[sync]`` or ``[async]``. A test marked ``sync_only`` (threads calling one
``WebSocket``) runs in sync mode only.

Servers run in a thread of their own (``servers.py``); ``servers`` starts them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import pytest

from reqivo_async import AsyncSession
from reqivo_sync import Session
from reqivo_ws import AsyncWebSocket, Data, WebSocket

from .servers import Servers, ServerThread

#: The root conftest's ``loop_factory`` fixture (``--loop``): ``None`` is asyncio's loop.
LoopFactory = Callable[[], asyncio.AbstractEventLoop]

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sync_only: a dual test that runs in sync mode only")
    config.addinivalue_line("markers", "deselect_in_async: internal, see pytest_generate_tests")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mode" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--mode", default="both")
        modes: list[Any] = ["sync", "async"] if chosen == "both" else [chosen]
        if metafunc.definition.get_closest_marker("sync_only") is not None:
            # Async-only runs deselect it (pytest_collection_modifyitems): not a skip.
            modes = [m for m in modes if m == "sync"] or [
                pytest.param("async", marks=pytest.mark.deselect_in_async)
            ]
        metafunc.parametrize("mode", modes)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [item for item in items if item.get_closest_marker("deselect_in_async")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


async def _wait(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _ping(ws: AsyncWebSocket, data: str | bytes | None) -> float:
    pong = await ws.ping(data)
    return await pong


class Socket:
    """The facade: the blocking ``WebSocket``'s shape over either API (``mode``).

    Attributes other than the methods below (``subprotocol``, ``response``,
    ``compression``, ``closed``, ``close_code``, ``close_reason``, ``reconnects``,
    ``get_extra_info``) are the socket's own.
    """

    def __init__(self, ws: Any, runner: asyncio.Runner | None) -> None:
        self.ws = ws
        self._runner = runner

    def _run(self, awaitable: Awaitable[T]) -> T:
        assert self._runner is not None
        return self._runner.run(_wait(awaitable))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ws, name)

    def send(self, message: Any) -> None:
        if self._runner is None:
            self.ws.send(message)
        else:
            self._run(self.ws.send(message))

    def recv(self, timeout: float | None = None) -> Data:
        if self._runner is None:
            message: Data = self.ws.recv(timeout)
        else:
            message = self._run(self.ws.recv(timeout))
        return message

    def __iter__(self) -> Iterator[Data]:
        if self._runner is None:
            yield from self.ws
            return
        iterator: AsyncIterator[Data] = aiter(self.ws)
        while True:
            try:
                yield self._run(anext(iterator))
            except StopAsyncIteration:
                return

    def ping(self, data: str | bytes | None = None) -> float:
        """Send a ping and wait for its pong; the round-trip time in seconds."""
        if self._runner is None:
            rtt: float = self.ws.ping(data)
            return rtt
        return self._run(_ping(self.ws, data))

    def pong(self, data: str | bytes = b"") -> None:
        if self._runner is None:
            self.ws.pong(data)
        else:
            self._run(self.ws.pong(data))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self._runner is None:
            self.ws.close(code, reason)
        else:
            self._run(self.ws.close(code, reason))

    def __enter__(self) -> Socket:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


Connect = Callable[..., Socket]
MakeSession = Callable[..., Any]


class Idle:
    """Let time pass between calls (see the module docstring)."""

    def __init__(self, runner: asyncio.Runner | None) -> None:
        self._runner = runner

    def __call__(self, seconds: float) -> None:
        if self._runner is None:
            time.sleep(seconds)
        else:
            self._runner.run(asyncio.sleep(seconds))

    def until(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        """Idle in small steps until ``predicate()`` is true (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"still not true after {timeout} s"
            self(0.01)


@pytest.fixture
def runner(mode: str, loop_factory: LoopFactory | None) -> Iterator[asyncio.Runner | None]:
    """The test's event loop in async mode (``None`` in sync mode)."""
    if mode == "sync":
        yield None
        return
    with asyncio.Runner(loop_factory=loop_factory) as loop_runner:
        yield loop_runner


@pytest.fixture
def connect(runner: asyncio.Runner | None, servers: Servers) -> Iterator[Connect]:
    """``connect(url, **options)`` -> an open ``Socket`` in this test's mode, closed after
    (before the servers stop: ``servers`` is set up first)."""
    opened: list[Socket] = []

    def factory(url: str, **options: Any) -> Socket:
        if runner is None:
            ws: Any = WebSocket(url, **options).connect()
        else:
            ws = runner.run(AsyncWebSocket(url, **options).connect())
        socket = Socket(ws, runner)
        opened.append(socket)
        return socket

    yield factory
    for socket in opened:
        socket.close()  # idempotent, also after a failure


@pytest.fixture
def make_session(runner: asyncio.Runner | None, servers: Servers) -> Iterator[MakeSession]:
    """``make_session(**options)`` -> a ``Session`` (sync) or ``AsyncSession`` (async)
    for ``connect(url, session=...)``, closed after the test."""
    made: list[Any] = []

    def factory(**options: Any) -> Any:
        session = Session(**options) if runner is None else AsyncSession(**options)
        made.append(session)
        return session

    yield factory
    for session in made:
        if runner is None:
            session.close()
        else:
            runner.run(session.aclose())


@pytest.fixture
def idle(runner: asyncio.Runner | None) -> Idle:
    """``idle(seconds)`` and ``idle.until(predicate)`` (see the module docstring)."""
    return Idle(runner)


@pytest.fixture(scope="session")
def server_thread() -> Iterator[ServerThread]:
    """The thread whose event loop runs the dual suite's servers."""
    thread = ServerThread()
    yield thread
    thread.close()


@pytest.fixture
def servers(server_thread: ServerThread) -> Iterator[Servers]:
    """Starts this test's servers (``servers.websockets(...)``...); stops them after."""
    started = Servers(server_thread)
    yield started
    started.close()
