"""Fixtures of reqivo-async's tests: the real servers of :mod:`servers` (read its docstring).

``tests/`` goes on ``sys.path`` so that test modules (and the server child processes) import
the helper package as ``servers``. Other packages' tests (reqivo-sync, reqivo-ws) reuse the
servers the same way: put this folder on ``sys.path`` and import from ``servers.fixtures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from servers.fixtures import (  # noqa: E402, F401
    auth_proxy_server,
    h2_raw_server,
    http_server,
    https_expired_server,
    https_server,
    https_wrong_host_server,
    hypercorn_h2_server,
    hypercorn_h2c_server,
    hypercorn_server,
    legacy_tls_server,
    mtls_server,
    nghttpd_h2_server,
    nghttpd_h2c_server,
    nghttpd_server,
    nginx_h2_server,
    nginx_h2c_server,
    nginx_server,
    proxy_server,
    raw_server,
    server_logs,
    tls_certs,
    unix_server,
    uvicorn_h11_server,
    uvicorn_httptools_server,
)
