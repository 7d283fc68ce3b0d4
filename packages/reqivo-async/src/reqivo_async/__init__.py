"""reqivo-async: Reqivo's async-first HTTP/1.1 client for asyncio.

    from reqivo_async import AsyncSession

    async with AsyncSession(base_url="https://api.example.com") as session:
        response = await session.get("/users", params={"page": 2})
        response.raise_for_status()
        users = response.json()

The exception hierarchy is defined once in reqivo-protocol and re-exported here, so
``except reqivo_async.ReadTimeout`` catches what every Reqivo package raises.
Rarely used names (digest auth, retries, the mock and ASGI transports, proxy and TLS
helpers) and the connection pool's transport stack load on first use, to keep
``import reqivo_async`` cheap.

Code built on reqivo-async (reqivo-sync, reqivo-ws, custom transports and wrappers) finds
what it needs beyond these names in ``reqivo_async.transport``: the connection layers,
``SessionState``, the type aliases of the public signatures (ADR-009).

Tests of code that builds its own sessions use ``reqivo_async.testing.ReqivoMock``, or
its pytest fixture ``reqivo_mock`` (``reqivo-async[testing]``): canned responses by
method and URL for every ``AsyncSession`` and ``reqivo_sync.Session`` built meanwhile.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reqivo_async._auth import Auth, BasicAuth, BearerAuth, FunctionAuth
from reqivo_async._config import Limits, Timeout
from reqivo_async._cookies import Cookies
from reqivo_async._models import AsyncByteStream, AsyncRequest, Response
from reqivo_async._session import USE_SESSION, AsyncSession
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_protocol import URL, Headers, QueryParams
from reqivo_protocol.exceptions import *  # noqa: F403
from reqivo_protocol.exceptions import __all__ as _exception_names

if TYPE_CHECKING:
    from reqivo_async._auth import DigestAuth
    from reqivo_async._connection import AsyncConnection, ConnectionInfo
    from reqivo_async._pool import AsyncConnectionPool
    from reqivo_async._proxy import Proxy
    from reqivo_async._retries import Retry
    from reqivo_async._tls import create_ssl_context
    from reqivo_async._transports._asgi import ASGITransport
    from reqivo_async._transports._mock import MockTransport

__version__ = "0.1.0"

#: Public names defined in modules that are imported on first use: name -> module.
#: The connection pool and its transport stack (HTTP/1.1 machine, TLS, proxies) load
#: with the first ``AsyncSession`` that needs them, not with ``import reqivo_async``.
_LAZY = {
    "AsyncConnection": "reqivo_async._connection",
    "ConnectionInfo": "reqivo_async._connection",
    "AsyncConnectionPool": "reqivo_async._pool",
    "DigestAuth": "reqivo_async._auth",
    "Proxy": "reqivo_async._proxy",
    "Retry": "reqivo_async._retries",
    "create_ssl_context": "reqivo_async._tls",
    "ASGITransport": "reqivo_async._transports._asgi",
    "MockTransport": "reqivo_async._transports._mock",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reqivo_async' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    *_exception_names,
    "URL",
    "USE_SESSION",
    "ASGITransport",
    "AsyncBaseTransport",
    "AsyncByteStream",
    "AsyncConnection",
    "AsyncConnectionPool",
    "AsyncRequest",
    "AsyncSession",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "ConnectionInfo",
    "Cookies",
    "DigestAuth",
    "FunctionAuth",
    "Headers",
    "Limits",
    "MockTransport",
    "Proxy",
    "QueryParams",
    "Response",
    "Retry",
    "Timeout",
    "__version__",
    "create_ssl_context",
]
