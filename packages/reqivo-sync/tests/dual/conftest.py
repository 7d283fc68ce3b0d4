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

The HTTP tests (those using a client) also run on each HTTP version (``--http=1.1|2|both``;
ids ``[sync-http1]``, ``[async-http2]``). In ``http2`` mode the client is made with
``http1=False, http2=True`` and each server fixture a test names is the same test app on
an HTTP/2 server (:data:`H2_SERVERS`): hypercorn with prior knowledge (h2c) for the
cleartext ones, hypercorn over TLS negotiating h2 by ALPN for the TLS ones. The facade
checks that every response it returns came over HTTP/2, so a silent fallback to HTTP/1.1
fails the test. A test that needs an HTTP/1.1-only peer or behaviour (scripted HTTP/1.1
servers, its framing, a forwarding proxy) says so with ``@pytest.mark.http1_only(reason=...)``
and is generated for ``http1`` only.
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

#: ``--http`` -> the HTTP versions the HTTP tests run on.
HTTP_VERSIONS = {"1.1": ["http1"], "2": ["http2"], "both": ["http1", "http2"]}
#: The server fixture each one stands for in ``http2`` mode: the same app, speaking h2.
#: hypercorn takes h2 with prior knowledge on its cleartext port, so ``hypercorn_server``
#: stands for itself; two origins stay two origins (``uvicorn_h11_server`` is another one).
H2_SERVERS = {
    "uvicorn_h11_server": "hypercorn_other_server",
    "hypercorn_server": "hypercorn_server",
    "https_server": "hypercorn_h2_server",
    "https_wrong_host_server": "hypercorn_wrong_host_server",
    "mtls_server": "hypercorn_mtls_server",
}
#: What ``http_server`` (each server in turn) goes through per HTTP version.
HTTP_SERVERS = {
    "http1": ["uvicorn_h11_server", "uvicorn_httptools_server", "hypercorn_server"],
    "http2": ["hypercorn_server"],
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_mode(metafunc)
    if "http_version" in metafunc.fixturenames:
        _parametrize_http_version(metafunc)


def parametrize_mode(metafunc: pytest.Metafunc) -> None:
    """The ``mode`` axis alone (for suites on this facade that stay on HTTP/1.1)."""
    if "mode" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--mode", default="both")
        modes = ["sync", "async"] if chosen == "both" else [chosen]
        metafunc.parametrize("mode", modes)


def _parametrize_http_version(metafunc: pytest.Metafunc) -> None:
    versions = HTTP_VERSIONS[metafunc.config.getoption("--http", default="both")]
    only = metafunc.definition.get_closest_marker("http1_only")
    if only is not None:
        reason = only.kwargs.get("reason") or (only.args[0] if only.args else "")
        assert reason, f"{metafunc.definition.nodeid}: http1_only needs a reason"
        if versions == ["http2"]:
            skip = pytest.mark.skip(reason=f"HTTP/1.1 only: {reason}")
            metafunc.parametrize("http_version", [pytest.param("http1", marks=skip)])
            return
        versions = ["http1"]
    if "http_server_fixture" not in metafunc.fixturenames:
        metafunc.parametrize("http_version", versions)
        return
    pairs = [(version, name) for version in versions for name in HTTP_SERVERS[version]]
    ids = [f"{version}-{name.removesuffix('_server').replace('_', '-')}" for version, name in pairs]
    metafunc.parametrize(("http_version", "http_server_fixture"), pairs, ids=ids)


def _versioned_server(name: str) -> Any:
    """An override of the server fixture ``name``: itself, or its h2 stand-in in http2 mode."""

    @pytest.fixture(name=name)
    def server(request: pytest.FixtureRequest, http_version: str) -> Any:
        # Asked for by its own name, inside the override pytest gives the overridden
        # fixture (tests/conftest.py's), lazily: only the chosen versions' servers start.
        return request.getfixturevalue(H2_SERVERS[name] if http_version == "http2" else name)

    return server


uvicorn_h11_server = _versioned_server("uvicorn_h11_server")
hypercorn_server = _versioned_server("hypercorn_server")
https_server = _versioned_server("https_server")
https_wrong_host_server = _versioned_server("https_wrong_host_server")
mtls_server = _versioned_server("mtls_server")


@pytest.fixture
def http_server(request: pytest.FixtureRequest, http_server_fixture: str) -> Any:
    """Each server of :data:`HTTP_SERVERS` for this test's HTTP version in turn."""
    return request.getfixturevalue(http_server_fixture)


async def _wait(awaitable: Awaitable[T]) -> T:
    return await awaitable


class Client:
    """The facade: the blocking API's shape over either API (``mode``).

    With ``http_version="http2"`` every response it hands out must have come over HTTP/2.
    """

    def __init__(
        self,
        mode: str,
        runner: asyncio.Runner | None,
        options: dict[str, Any],
        http_version: str = "http1",
    ) -> None:
        self.mode = mode
        self.http_version = http_version
        self._runner = runner
        self.session: Any = Session(**options) if runner is None else AsyncSession(**options)

    def _run(self, awaitable: Awaitable[T]) -> T:
        assert self._runner is not None
        return self._runner.run(_wait(awaitable))

    def _checked(self, response: Any) -> Any:
        if self.http_version == "http2":
            assert response.http_version == "HTTP/2", f"{response.url}: {response.http_version}"
        return response

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.session, name)
        if name not in _METHODS:
            return attribute
        if self._runner is None:
            return lambda *args, **kwargs: self._checked(attribute(*args, **kwargs))
        return lambda *args, **kwargs: self._checked(self._run(attribute(*args, **kwargs)))

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
            return self._checked(self.session.send(request, **kwargs))
        return self._checked(self._run(self.session.send(request, **kwargs)))

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        if self._runner is None:
            with self.session.stream(method, url, **kwargs) as response:
                yield self._checked(response)
            return
        context = self.session.stream(method, url, **kwargs)
        response = self._run(context.__aenter__())
        try:
            yield self._checked(response)
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
def make_client(
    mode: str, http_version: str, loop_factory: LoopFactory | None
) -> Iterator[MakeClient]:
    """``make_client(**session_options)`` -> a ``Client`` in this test's mode, closed after.

    In ``http2`` mode the session speaks HTTP/2 only (``http1=False, http2=True``).
    """
    made: list[Client] = []
    with contextlib.ExitStack() as stack:
        runner = (
            None
            if mode == "sync"
            else stack.enter_context(asyncio.Runner(loop_factory=loop_factory))
        )

        def factory(**options: Any) -> Client:
            options.setdefault("timeout", 10.0)
            if http_version == "http2":
                options.setdefault("http1", False)
                options.setdefault("http2", True)
            client = Client(mode, runner, options, http_version)
            made.append(client)
            return client

        yield factory
        for client in made:
            client.close()


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    """A client with the default options (a 10 s timeout)."""
    return make_client()
