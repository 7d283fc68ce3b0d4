"""Fixtures of reqivo-ws's tests: echo servers started on loopback inside the test's loop,
and the ``--mode`` option.

reqivo-async's test servers (trustme CA, tinyproxy, the scripted raw server) are reused
by putting its tests folder on ``sys.path``, as its conftest's docstring describes.
``--mode=sync|async|both`` (default both) chooses which API the dual suite (``dual/``)
runs against, as in reqivo-sync's tests; nox runs each mode as its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.server import ServerConnection

_ASYNC_TESTS = str(Path(__file__).resolve().parents[2] / "reqivo-async" / "tests")
if _ASYNC_TESTS not in sys.path:
    sys.path.insert(0, _ASYNC_TESTS)

from servers.fixtures import (  # noqa: E402
    auth_proxy_server,  # noqa: F401
    proxy_server,  # noqa: F401
    raw_server,  # noqa: F401
    server_logs,  # noqa: F401
    tls_certs,  # noqa: F401
)


def pytest_addoption(parser: pytest.Parser) -> None:
    # reqivo-sync's conftest adds the same option when it is loaded first in one run.
    with contextlib.suppress(ValueError):
        parser.addoption(
            "--mode",
            choices=("sync", "async", "both"),
            default="both",
            help="which API the dual suites run against (reqivo-sync's and reqivo-ws's tests)",
        )


Handler = Callable[[ServerConnection], Awaitable[None]]


async def echo(ws: ServerConnection) -> None:
    """Echo every message; answer 'close:CODE' by closing with CODE."""
    async for message in ws:
        if isinstance(message, str) and message.startswith("close:"):
            await ws.close(int(message[6:]), "asked to")
            return
        await ws.send(message)


@contextlib.asynccontextmanager
async def ws_server(handler: Handler = echo, **kwargs: Any) -> AsyncIterator[str]:
    """A websockets server on 127.0.0.1; yields its ws:// base URL."""
    kwargs.setdefault("max_size", None)
    async with websockets.serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if kwargs.get("ssl") else "ws"
        yield f"{scheme}://127.0.0.1:{port}/"


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    """The URL of a websockets echo server (compression on, as by default)."""
    async with ws_server() as url:
        yield url


async def settle() -> None:
    """Let pending callbacks run."""
    for _ in range(5):
        await asyncio.sleep(0)
