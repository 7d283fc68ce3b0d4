"""Fixtures of reqivo-sync's tests: reqivo-async's real servers, and the ``--mode`` option.

The servers are reqivo-async's (``packages/reqivo-async/tests/servers``; its conftest
explains the reuse): that folder goes on ``sys.path`` and the fixtures are imported here.
``--mode=sync|async|both`` (default both) chooses which API the dual suite (``dual/``)
runs against; nox runs each mode as its own session.
"""

from __future__ import annotations

import contextlib
import sys
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
    hypercorn_server,
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
