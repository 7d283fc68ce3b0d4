"""The security suite runs on the dual facade: the ``client`` / ``make_client`` fixtures and
the ``mode`` parametrization of ``tests/dual/conftest.py`` (one test, both APIs).

It runs on HTTP/1.1 only (no ``--http`` axis): most of its peers are scripted HTTP/1.1
servers, and its subject (framing, smuggling, header injection) is largely HTTP/1.1's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dual.conftest import client, make_client, parametrize_mode  # noqa: E402, F401
from servers.fixtures import https_expired_server, legacy_tls_server  # noqa: E402, F401


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_mode(metafunc)


@pytest.fixture
def http_version() -> str:
    """HTTP/1.1: ``make_client`` makes clients with the default switches."""
    return "http1"
