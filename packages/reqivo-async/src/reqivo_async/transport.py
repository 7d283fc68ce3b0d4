"""The surface reqivo-async keeps for its sibling packages and for custom transports.

``reqivo_async`` itself exports what a client user needs; this module adds what code
built *on* reqivo-async needs: reqivo-sync's blocking wrappers, reqivo-ws's WebSocket
handshake, and your own transports or wrappers. Everything here is public and kept
stable like the top-level names; nothing outside reqivo-async imports its ``_private``
modules (``tests/test_layering.py`` checks it; ADR-009 records the rule).

The transport stack, one layer on the other::

    AsyncBaseTransport          handle_async_request(request) -> Response; aclose()
     └ AsyncConnectionPool      the default transport (reqivo_async.AsyncConnectionPool)
        └ AsyncConnection       one origin; proxies through Proxy / open_tunnel
           └ HTTP11Connection   one HTTP/1.1 exchange at a time over an HTTP11Protocol
              └ HTTP11Protocol  the asyncio protocol, made by open_connection, upgraded
                                with start_tls; after a 101 the pool hands it over as a
                                NetworkStream (response.extensions["network_stream"])

- ``open_connection(protocol_factory, host, port, seconds=...)``, ``start_tls(...)``,
  ``open_tunnel(protocol, proxy, host, port, ...)``: the connection steps on their own;
  ``create_ssl_context(verify, cert)``: the TLS context the pool would use;
  ``proxy_for(transport, url)``: the proxy a transport would send ``url`` through.
- Sessions over other transports: ``SessionState`` (what ``AsyncSession.state``
  holds and ``AsyncSession.from_state(state, transport)`` shares), ``AsyncStreamContext``
  (what ``AsyncSession.stream`` returns), ``USE_SESSION`` and its type ``UseSession``.
- ``FlowProtocol``: the ``asyncio.Protocol`` base of the HTTP/1.1 and WebSocket protocol
  classes (write pause and drain, connection lost), with ``wake(waiter)`` and
  ``expire(waiter)`` to resolve its waiters.
- ``redact_url(url)``: a URL as text with its password hidden (for reprs and logs).
- ``override_default_transport(factory)``: a context manager under which every session
  built without ``transport=`` (a ``reqivo_sync.Session`` too) sends through
  ``factory(make_pool)``, a ``TransportFactory``; read once per session, for tests
  (``reqivo_async.testing`` and its pytest fixture use it); ``transport_overridden()``
  tells whether one is active; ``default_transport(make_pool)``:
  what such a session gets, for code that builds one's transport itself.
- ``DEFAULT_TIMEOUT``, ``DEFAULT_LIMITS``: the defaults of ``timeout=`` and ``limits=``.
- The type aliases of the public signatures: ``AuthTypes``, ``CertTypes``,
  ``CookieTypes``, ``EventHook``, ``EventHooks``, ``PinTypes``, ``ProxyTypes``,
  ``RequestContentTypes``, ``RequestData``, ``RequestFiles``, ``SocketOption``,
  ``TimeoutTypes``, ``TraceCallback``, ``VerifyTypes`` (and, from ``reqivo_protocol``,
  ``HeaderTypes``, ``QueryParamTypes``, ``URLTypes``).

The connection layers load on first use (PEP 562), as in ``reqivo_async`` itself:
importing this module costs nothing a session did not load already.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reqivo_async._auth import AuthTypes
from reqivo_async._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, TimeoutTypes
from reqivo_async._content import RequestContentTypes, RequestData, RequestFiles
from reqivo_async._cookies import CookieTypes
from reqivo_async._hooks import EventHook, EventHooks
from reqivo_async._logging import redact_url
from reqivo_async._session import USE_SESSION, AsyncStreamContext, UseSession
from reqivo_async._state import SessionState
from reqivo_async._trace import TraceCallback
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_async._transports._override import (
    TransportFactory,
    default_transport,
    override_default_transport,
    transport_overridden,
)

if TYPE_CHECKING:
    from reqivo_async._connection import AsyncConnection, ConnectionInfo
    from reqivo_async._flow import FlowProtocol, expire, wake
    from reqivo_async._http11 import HTTP11Connection, HTTP11Protocol, NetworkStream
    from reqivo_async._network import SocketOption, open_connection, start_tls
    from reqivo_async._pool import AsyncConnectionPool
    from reqivo_async._proxy import Proxy, ProxyTypes, open_tunnel
    from reqivo_async._tls import CertTypes, PinTypes, VerifyTypes, create_ssl_context
    from reqivo_protocol import URL

#: Public names defined in modules imported on first use: name -> module.
_LAZY = {
    "AsyncConnection": "reqivo_async._connection",
    "ConnectionInfo": "reqivo_async._connection",
    "FlowProtocol": "reqivo_async._flow",
    "expire": "reqivo_async._flow",
    "wake": "reqivo_async._flow",
    "HTTP11Connection": "reqivo_async._http11",
    "HTTP11Protocol": "reqivo_async._http11",
    "NetworkStream": "reqivo_async._http11",
    "SocketOption": "reqivo_async._network",
    "open_connection": "reqivo_async._network",
    "start_tls": "reqivo_async._network",
    "AsyncConnectionPool": "reqivo_async._pool",
    "Proxy": "reqivo_async._proxy",
    "ProxyTypes": "reqivo_async._proxy",
    "open_tunnel": "reqivo_async._proxy",
    "CertTypes": "reqivo_async._tls",
    "PinTypes": "reqivo_async._tls",
    "VerifyTypes": "reqivo_async._tls",
    "create_ssl_context": "reqivo_async._tls",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reqivo_async.transport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def proxy_for(transport: AsyncBaseTransport, url: URL) -> Proxy | None:
    """The proxy ``transport`` would send a request for ``url`` through, or None.

    An ``AsyncConnectionPool`` answers with its ``proxy=`` or, with ``trust_env``, the
    environment's choice (``HTTPS_PROXY``, ``NO_PROXY``...); other transports have none.
    """
    from reqivo_async._pool import AsyncConnectionPool  # loaded already by any pool

    if isinstance(transport, AsyncConnectionPool):
        return transport._proxy_for(url)
    return None


__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "USE_SESSION",
    "AsyncBaseTransport",
    "AsyncConnection",
    "AsyncConnectionPool",
    "AsyncStreamContext",
    "AuthTypes",
    "CertTypes",
    "ConnectionInfo",
    "CookieTypes",
    "EventHook",
    "EventHooks",
    "FlowProtocol",
    "HTTP11Connection",
    "HTTP11Protocol",
    "NetworkStream",
    "PinTypes",
    "Proxy",
    "ProxyTypes",
    "RequestContentTypes",
    "RequestData",
    "RequestFiles",
    "SessionState",
    "SocketOption",
    "TimeoutTypes",
    "TraceCallback",
    "TransportFactory",
    "UseSession",
    "VerifyTypes",
    "create_ssl_context",
    "default_transport",
    "expire",
    "open_connection",
    "open_tunnel",
    "override_default_transport",
    "proxy_for",
    "redact_url",
    "start_tls",
    "transport_overridden",
    "wake",
]
