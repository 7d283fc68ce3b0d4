"""The security suite runs on the dual facade: the ``client`` / ``make_client`` fixtures and
the ``mode`` parametrization of ``tests/dual/conftest.py`` (one test, both APIs).

It has no ``--http`` axis: its HTTP/1.1 tests talk to scripted HTTP/1.1 servers (framing,
smuggling, header injection are HTTP/1.1's subject). Its HTTP/2 tests (``test_h2_*``) talk
to a hostile scripted HTTP/2 peer through :func:`hostile_h2`, on each transport in turn
(``h2c``: prior knowledge on cleartext; ``tls``: ALPN h2), in both modes.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dual.conftest import (  # noqa: E402, F401
    Client,
    MakeClient,
    client,
    make_client,
    parametrize_mode,
)
from servers.fixtures import (  # noqa: E402, F401
    h2_raw_server,
    https_expired_server,
    legacy_tls_server,
)
from servers.h2raw import H2RawServer, H2Script  # noqa: E402

#: ``hostile_h2(*scripts, **session_options)`` -> (the started peer, a client for it).
HostileH2 = Callable[..., tuple[H2RawServer, Client]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_mode(metafunc)


@pytest.fixture
def http_version() -> str:
    """HTTP/1.1: ``make_client`` makes clients with the default switches."""
    return "http1"


@pytest.fixture(params=["h2c", "tls"])
def h2_transport(request: pytest.FixtureRequest) -> str:
    """How the client reaches the hostile HTTP/2 peer: ``h2c`` or ``tls`` (ALPN h2)."""
    return str(request.param)


@pytest.fixture
def hostile_h2(mode: str, h2_transport: str, request: pytest.FixtureRequest) -> HostileH2:
    """A scripted HTTP/2 peer (one script per connection, the last one repeated: see
    ``servers/h2raw.py``) and a client in this test's mode that speaks HTTP/2 only to it,
    over this test's transport. Session options go to ``make_client`` (timeout 10 s unless
    given). ``mode`` is named so that the suite's ``pytest_generate_tests`` sees it."""

    peers = request.getfixturevalue("h2_raw_server")
    make: MakeClient = request.getfixturevalue("make_client")

    def start(*scripts: H2Script, **options: Any) -> tuple[H2RawServer, Client]:
        tls = h2_transport == "tls"
        server: H2RawServer = peers(*scripts, tls=tls)
        options.setdefault("base_url", server.url)
        if tls:
            options.setdefault("verify", request.getfixturevalue("tls_certs").ca_bundle)
            options.setdefault("http2", True)
        else:
            options.setdefault("http1", False)
            options.setdefault("http2", True)
        return server, make(**options)

    return start


@pytest.fixture
def traced() -> Iterator[None]:
    """tracemalloc on for the test (the bomb tests measure their peak allocations)."""
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()
