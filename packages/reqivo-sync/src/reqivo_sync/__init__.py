"""reqivo-sync: Reqivo's blocking HTTP client, a thin wrapper over reqivo-async.

    from reqivo_sync import Session

    with Session(base_url="https://api.example.com") as session:
        response = session.get("/users", params={"page": 2})
        response.raise_for_status()
        users = response.json()

        with session.stream("GET", "/export") as response:
            for chunk in response.iter_bytes():
                ...

One-shot calls, as in requests and httpx: ``reqivo_sync.get(url)``, ``post``, ``put``,
``patch``, ``delete``, ``head``, ``options``, ``request(method, url)`` and ``with
reqivo_sync.stream(method, url) as response:`` each make a Session for that one request
and close it (keep a ``Session`` to reuse connections).

``Session``, ``Request``, ``Response``, ``Connection`` and ``ConnectionPool`` take the
same arguments and raise the same exceptions as their async twins, whose code they run
(ADR-012 explains how: one event loop, and one pool, that every calling thread shares).
The configuration classes, auth classes and the exception hierarchy are the async
package's own, re-exported, so ``except reqivo_sync.ReadTimeout`` catches what every
Reqivo package raises. Rarely used names (digest auth, retries) load on first use, to
keep ``import reqivo_sync`` cheap.

``LoopThread`` is the blocking-to-async handoff under these wrappers (an event loop run
by a daemon thread, and blocking calls to it), public for other blocking wrappers over
reqivo-async: reqivo-ws's blocking ``WebSocket`` uses it (ADR-006, ADR-009).

What users plug in is blocking code that sees the sync objects, run in a worker thread
(off the event loop): event hooks get the ``Request`` / ``Response``; ``Auth`` (the base
of custom schemes, ``auth_flow`` a generator as in httpx) and ``FunctionAuth`` run flows
that do; ``BaseTransport`` is the blocking transport interface (``handle_request(request)
-> Response``), with ``MockTransport(handler)`` and ``WSGITransport(app)`` built on it.
``ASGITransport`` is reqivo-async's (an ASGI app is async code), usable here as is.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reqivo_async import (
    USE_SESSION,
    BasicAuth,
    BearerAuth,
    Cookies,
    Limits,
    Timeout,
)
from reqivo_protocol import URL, Headers, QueryParams
from reqivo_protocol.exceptions import *  # noqa: F403
from reqivo_protocol.exceptions import __all__ as _exception_names
from reqivo_sync._auth import Auth, FunctionAuth
from reqivo_sync._loop_thread import LoopThread
from reqivo_sync._models import Request, Response
from reqivo_sync._session import Session

if TYPE_CHECKING:
    from reqivo_async import ASGITransport, ConnectionInfo, DigestAuth, Retry
    from reqivo_sync._api import delete, get, head, options, patch, post, put, request, stream
    from reqivo_sync._base_transport import BaseTransport
    from reqivo_sync._mock import MockTransport
    from reqivo_sync._transports import Connection, ConnectionPool
    from reqivo_sync._wsgi import WSGITransport

__version__ = "0.1.0"

#: Public names defined in modules that are imported on first use: name -> module.
_LAZY = {
    "ASGITransport": "reqivo_async",
    "ConnectionInfo": "reqivo_async",
    "DigestAuth": "reqivo_async",
    "Retry": "reqivo_async",
    "BaseTransport": "reqivo_sync._base_transport",
    "MockTransport": "reqivo_sync._mock",
    "Connection": "reqivo_sync._transports",
    "ConnectionPool": "reqivo_sync._transports",
    "WSGITransport": "reqivo_sync._wsgi",
    **dict.fromkeys(
        ("delete", "get", "head", "options", "patch", "post", "put", "request", "stream"),
        "reqivo_sync._api",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reqivo_sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    *_exception_names,
    "URL",
    "USE_SESSION",
    "ASGITransport",
    "Auth",
    "BaseTransport",
    "BasicAuth",
    "BearerAuth",
    "Connection",
    "ConnectionInfo",
    "ConnectionPool",
    "Cookies",
    "DigestAuth",
    "FunctionAuth",
    "Headers",
    "Limits",
    "LoopThread",
    "MockTransport",
    "QueryParams",
    "Request",
    "Response",
    "Retry",
    "Session",
    "Timeout",
    "WSGITransport",
    "__version__",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "request",
    "stream",
]
