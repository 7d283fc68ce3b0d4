"""The dual suite: one behavioural test suite, written once, run against both APIs.

Tests are plain functions that use a ``client`` (or ``make_client(**options)``): a facade
with the blocking API's shape. In ``sync`` mode it is a ``reqivo_sync.Session`` called
directly, in the test's thread (the way blocking code uses it). In ``async`` mode it is a
``reqivo_async.AsyncSession`` whose coroutines run on a private event loop (an
``asyncio.Runner``, one per test): the facade only awaits, it adds no behaviour. Responses
are the APIs' own objects, so tests read ``status_code``, ``headers``, ``json()``... the
same way; body streaming goes through ``client.iter_bytes(response)`` and friends, which
call ``iter_bytes`` or ``aiter_bytes``.

``--mode=sync|async|both`` (see ``tests/conftest.py``) selects the modes; test ids end
with ``[sync]`` or ``[async]``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from reqivo_async import AsyncSession
from reqivo_sync import Session

#: The root conftest's ``loop_factory`` fixture (``--loop``): ``None`` is asyncio's loop.
LoopFactory = Callable[[], asyncio.AbstractEventLoop]

T = TypeVar("T")
_METHODS = frozenset({"request", "get", "post", "put", "patch", "delete", "head", "options"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mode" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--mode", default="both")
        modes = ["sync", "async"] if chosen == "both" else [chosen]
        metafunc.parametrize("mode", modes)


async def _wait(awaitable: Awaitable[T]) -> T:
    return await awaitable


class Client:
    """The facade: the blocking API's shape over either API (``mode``)."""

    def __init__(self, mode: str, runner: asyncio.Runner | None, options: dict[str, Any]) -> None:
        self.mode = mode
        self._runner = runner
        self.session: Any = Session(**options) if runner is None else AsyncSession(**options)

    def _run(self, awaitable: Awaitable[T]) -> T:
        assert self._runner is not None
        return self._runner.run(_wait(awaitable))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.session, name)
        if self._runner is None or name not in _METHODS:
            return attribute
        return lambda *args, **kwargs: self._run(attribute(*args, **kwargs))

    # the HTTP methods, typed for the tests (``__getattr__`` does the work)
    request: Callable[..., Any]
    get: Callable[..., Any]
    post: Callable[..., Any]
    put: Callable[..., Any]
    patch: Callable[..., Any]
    delete: Callable[..., Any]
    head: Callable[..., Any]
    options: Callable[..., Any]

    def send(self, request: Any, **kwargs: Any) -> Any:
        if self._runner is None:
            return self.session.send(request, **kwargs)
        return self._run(self.session.send(request, **kwargs))

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        if self._runner is None:
            with self.session.stream(method, url, **kwargs) as response:
                yield response
            return
        context = self.session.stream(method, url, **kwargs)
        response = self._run(context.__aenter__())
        try:
            yield response
        finally:
            self._run(context.__aexit__(None, None, None))

    def _iterate(self, response: Any, name: str, *args: Any) -> Iterator[Any]:
        if self._runner is None:
            yield from getattr(response, name)(*args)
            return
        iterator: AsyncIterator[Any] = getattr(response, "a" + name)(*args)
        while True:
            try:
                yield self._run(iterator.__anext__())
            except StopAsyncIteration:
                return

    def iter_bytes(self, response: Any, chunk_size: int | None = None) -> Iterator[bytes]:
        return self._iterate(response, "iter_bytes", chunk_size)

    def iter_raw(self, response: Any, chunk_size: int | None = None) -> Iterator[bytes]:
        return self._iterate(response, "iter_raw", chunk_size)

    def iter_text(self, response: Any) -> Iterator[str]:
        return self._iterate(response, "iter_text")

    def iter_lines(self, response: Any) -> Iterator[str]:
        return self._iterate(response, "iter_lines")

    def read(self, response: Any) -> bytes:
        body: bytes = response.read() if self._runner is None else self._run(response.aread())
        return body

    def close(self) -> None:
        if self._runner is None:
            self.session.close()
        else:
            self._run(self.session.aclose())


MakeClient = Callable[..., Client]


@pytest.fixture
def make_client(mode: str, loop_factory: LoopFactory | None) -> Iterator[MakeClient]:
    """``make_client(**session_options)`` -> a ``Client`` in this test's mode, closed after."""
    made: list[Client] = []
    with contextlib.ExitStack() as stack:
        runner = (
            None
            if mode == "sync"
            else stack.enter_context(asyncio.Runner(loop_factory=loop_factory))
        )

        def factory(**options: Any) -> Client:
            options.setdefault("timeout", 10.0)
            client = Client(mode, runner, options)
            made.append(client)
            return client

        yield factory
        for client in made:
            client.close()


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    """A client with the default options (a 10 s timeout)."""
    return make_client()
