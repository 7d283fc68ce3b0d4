"""The security suite runs on the dual facade: the ``client`` / ``make_client`` fixtures and
the ``mode`` parametrization of ``tests/dual/conftest.py`` (one test, both APIs)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dual.conftest import client, make_client, pytest_generate_tests  # noqa: E402, F401
from servers.fixtures import https_expired_server, legacy_tls_server  # noqa: E402, F401
