"""Real servers on loopback for Reqivo's tests (helpers, not test modules).

Fixtures (``servers.fixtures``, imported by ``tests/conftest.py``):

================================  =======  ===============================================
fixture                           scope    yields
================================  =======  ===============================================
``uvicorn_h11_server``            session  :class:`Server` - the app on uvicorn, h11 parser
``uvicorn_httptools_server``      session  :class:`Server` - uvicorn, httptools parser
``hypercorn_server``              session  :class:`Server` - hypercorn (HTTP/1.1)
``http_server``                   session  each of the three above in turn (parametrized)
``unix_server``                   session  ``UnixServer`` - uvicorn on a Unix socket (``.path``)
``tls_certs``                     session  ``TLSCertificates`` - CA + PEM files
``https_server``                  session  :class:`TLSServer` - cert for 127.0.0.1/localhost/::1
``https_wrong_host_server``       session  :class:`TLSServer` - cert only for another name
``https_expired_server``          session  :class:`TLSServer` - expired certificate
``mtls_server``                   session  :class:`TLSServer` - requires a client certificate
``legacy_tls_server``             session  :class:`TLSServer` - TLS 1.0/1.1 only (or skipped)
``proxy_server``                  session  :class:`ProxyServer` - tinyproxy, HTTP + CONNECT
``auth_proxy_server``             session  :class:`ProxyServer` - tinyproxy with Basic auth
``raw_server``                    test     ``raw_server(*scripts)`` -> ``RawServer``
``server_logs``                   session  folder of the servers' logs (look there on failure)
``nginx_server``                  session  ``NginxServer``: ``.http``, ``.https``, ``.h2c``
``nginx_h2_server``               session  :class:`TLSServer` - nginx, ALPN h2 + http/1.1
``nginx_h2c_server``              session  :class:`Server` - nginx, h2 prior knowledge only
``hypercorn_h2_server``           session  :class:`TLSServer` - the app, ALPN h2 + http/1.1
``hypercorn_h2c_server``          session  :class:`Server` - the app, h2 prior knowledge
                                           (same process as ``hypercorn_server``)
``hypercorn_other_server``        session  :class:`Server` - a second hypercorn (another origin)
``hypercorn_wrong_host_server``   session  :class:`TLSServer` - hypercorn (ALPN h2), wrong host
``hypercorn_mtls_server``         session  :class:`TLSServer` - hypercorn (ALPN h2), mTLS
``nghttpd_server``                session  ``nghttpd_server(tls=.., window_bits=.., ...)``
                                           -> TLSServer / Server, one per option set
``nghttpd_h2_server``             session  :class:`TLSServer` - nghttpd defaults, ALPN h2
``nghttpd_h2c_server``            session  :class:`Server` - nghttpd defaults, cleartext
``h2_raw_server``                 test     ``h2_raw_server(*scripts, tls=False)``
                                           -> ``H2RawServer`` (scripted h2 peer)
================================  =======  ===============================================

HTTP/2: every TLS server above uses the certificate of ``tls_certs`` (trust
``server.ca_bundle``; ``server.ssl_context`` trusts it too and offers no ALPN of its own).
nginx's routes: :mod:`servers.nginx`; nghttpd's options: :mod:`servers.nghttpd`; the
scripted peer's steps: :mod:`servers.h2raw`; a reference h2 client to look at frames
(trailers, padding, pushes, SETTINGS): :mod:`servers.h2client`. nginx and nghttpd are
Debian packages (``scripts/ci-services.sh`` installs them); missing, their fixtures skip
like the proxy's.

Every server binds 127.0.0.1 on a port the OS picks and is stopped at teardown. The
routes of the app are listed in :mod:`servers.app`; the script steps of the raw server in
:mod:`servers.raw`. The proxy is tinyproxy (why: :mod:`servers.proxy`); where it is not
installed its fixtures skip with the install command (``scripts/ci-services.sh``), or fail
when ``REQIVO_TEST_SERVICES=require``.

Decision: real servers run in child processes, the raw server in a thread.
    uvicorn and hypercorn each run in their own process (``python -m servers.serve``) on a
    listening socket the test process binds and hands down, so the port is known and
    reserved before the child starts; readiness is a ``GET /health`` poll on that socket.
    A process shares nothing with the test: no event loop (pytest-asyncio gives each test
    its own loop, a server on it would stop between tests), no GIL contention skewing
    timeouts, no logging or signal handlers, and a crash or hang cannot take the test run
    with it. The cost is start time, paid once per session for each server: measured
    0.35-0.8 s per server on the 2-core machine under load (python start + importing
    uvicorn or hypercorn is most of it), about 4-6 s for the whole set; a thread would
    start in ~10 ms after a one-time ~0.4 s import, which is not worth the coupling.
    tinyproxy starts in ~5 ms. The raw server must share its records with the test (how
    many connections and requests it saw), so it runs on its own event loop in a thread
    of the test process, which sync and async tests can use alike; it starts in ~1 ms.
"""

from __future__ import annotations

# Only the light records here: the server child processes import this package too, and
# must not pay for trustme/cryptography (``servers.tls``) or pytest (``servers.fixtures``).
from servers.models import ProxyServer, Server, TLSServer, UnixServer

__all__ = ["ProxyServer", "Server", "TLSServer", "UnixServer"]
