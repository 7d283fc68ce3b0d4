"""Fixtures of reqivo-sync's tests: reqivo-async's real servers, ``--mode`` and ``--http``.

The servers are reqivo-async's (``packages/reqivo-async/tests/servers``; its conftest
explains the reuse): that folder goes on ``sys.path`` and the fixtures are imported here.
``--mode=sync|async|both`` (default both) chooses which API the dual suite (``dual/``)
runs against; nox runs each mode as its own session. ``--http=1.1|2|both`` (default
both) chooses the HTTP versions its HTTP tests run on (see ``dual/conftest.py``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

_ASYNC_TESTS = str(Path(__file__).resolve().parents[2] / "reqivo-async" / "tests")
if _ASYNC_TESTS not in sys.path:
    sys.path.insert(0, _ASYNC_TESTS)

from servers.fixtures import (  # noqa: E402, F401
    auth_proxy_server,
    http_server,
    https_server,
    https_wrong_host_server,
    hypercorn_h2_server,
    hypercorn_mtls_server,
    hypercorn_other_server,
    hypercorn_server,
    hypercorn_wrong_host_server,
    mtls_server,
    proxy_server,
    raw_server,
    server_logs,
    tls_certs,
    uvicorn_h11_server,
    uvicorn_httptools_server,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    # reqivo-ws's conftest adds the same option when it is loaded first in one run.
    with contextlib.suppress(ValueError):
        parser.addoption(
            "--mode",
            choices=("sync", "async", "both"),
            default="both",
            help="which API the dual suites run against (reqivo-sync's and reqivo-ws's tests)",
        )
    parser.addoption(
        "--http",
        choices=("1.1", "2", "both"),
        default="both",
        help="which HTTP versions reqivo-sync's dual suite runs its HTTP tests on",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "http1_only(reason): a dual test that runs on HTTP/1.1 only (the reason says why)",
    )


InterruptAfter = Callable[..., AbstractContextManager[None]]


@contextlib.contextmanager
def _interrupt_after(
    seconds: float = 0.05, first: Callable[[], object] | None = None
) -> Iterator[None]:
    """Ctrl-C in ``seconds`` (SIGALRM in the main thread), calling ``first()`` beforehand."""

    def interrupt(signum: int, frame: object) -> None:
        if first is not None:
            first()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def interrupt_after() -> InterruptAfter:
    """``with interrupt_after():`` raises ``KeyboardInterrupt`` inside the block after
    0.05 s (POSIX only), as a user's Ctrl-C would while a call waits."""
    return _interrupt_after
