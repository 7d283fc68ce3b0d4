"""The pytest fixtures (imported by ``tests/conftest.py``; see :mod:`servers` for the list)."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NoReturn, Protocol, overload

import pytest

from servers.h2raw import H2RawServer, H2Script
from servers.models import ProxyServer, Server, TLSServer, UnixServer
from servers.nghttpd import NGHTTPD_MISSING, NghttpdOptions, nghttpd_path, running_nghttpd
from servers.nginx import NGINX_MISSING, NginxServer, nginx_path, running_nginx
from servers.process import HOST, running_asgi_server
from servers.proxy import TINYPROXY_MISSING, running_tinyproxy, tinyproxy_path
from servers.raw import RawServer, Script
from servers.serve import KINDS, Kind
from servers.tls import TLSCertificates, legacy_tls_unavailable, make_certificates

__all__ = [
    "H2RawServerFactory",
    "NghttpdFactory",
    "RawServerFactory",
    "auth_proxy_server",
    "h2_raw_server",
    "http_server",
    "https_expired_server",
    "https_server",
    "https_wrong_host_server",
    "hypercorn_h2_server",
    "hypercorn_h2c_server",
    "hypercorn_mtls_server",
    "hypercorn_other_server",
    "hypercorn_server",
    "hypercorn_wrong_host_server",
    "legacy_tls_server",
    "mtls_server",
    "nghttpd_h2_server",
    "nghttpd_h2c_server",
    "nghttpd_server",
    "nginx_h2_server",
    "nginx_h2c_server",
    "nginx_server",
    "proxy_server",
    "raw_server",
    "server_logs",
    "tls_certs",
    "unix_server",
    "uvicorn_h11_server",
    "uvicorn_httptools_server",
]

#: Proxy credentials of ``auth_proxy_server``.
PROXY_USER, PROXY_PASSWORD = "reqivo", "s3cret-proxy"


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when REQIVO_TEST_SERVICES=require (CI that must not skip silently)."""
    if os.environ.get("REQIVO_TEST_SERVICES") == "require":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder for the servers' logs and config files (kept by pytest for a few runs)."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> TLSCertificates:
    """A test CA and its certificates as PEM files (see :class:`TLSCertificates`)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _asgi_server(kind: Kind, logs: Path, name: str | None = None) -> Iterator[Server]:
    name = name or kind
    with running_asgi_server(kind, log_path=logs / f"{name}.log") as (port, started):
        yield Server(name=name, host=HOST, port=port, started_in=started.started_in)


@pytest.fixture(scope="session")
def uvicorn_h11_server(server_logs: Path) -> Iterator[Server]:
    """The test app on uvicorn with its h11 parser."""
    yield from _asgi_server("uvicorn-h11", server_logs)


@pytest.fixture(scope="session")
def uvicorn_httptools_server(server_logs: Path) -> Iterator[Server]:
    """The test app on uvicorn with its httptools parser."""
    yield from _asgi_server("uvicorn-httptools", server_logs)


@pytest.fixture(scope="session")
def hypercorn_server(server_logs: Path) -> Iterator[Server]:
    """The test app on hypercorn (HTTP/1.1)."""
    yield from _asgi_server("hypercorn", server_logs)


@pytest.fixture(scope="session")
def hypercorn_other_server(server_logs: Path) -> Iterator[Server]:
    """A second hypercorn process (HTTP/1.1 and h2 prior knowledge): another origin."""
    yield from _asgi_server("hypercorn", server_logs, "hypercorn-other")


@pytest.fixture(scope="session")
def unix_server(server_logs: Path) -> Iterator[UnixServer]:
    """The test app on uvicorn (h11) listening on a Unix domain socket (``.path``)."""
    path = server_logs / "uvicorn.sock"
    log = server_logs / "unix.log"
    with running_asgi_server("uvicorn-h11", log_path=log, unix_path=path) as (_, started):
        yield UnixServer(name="uvicorn-h11-unix", path=str(path), started_in=started.started_in)


_FIXTURE_OF_KIND = {kind: kind.replace("-", "_") + "_server" for kind in KINDS}


@pytest.fixture(scope="session", params=KINDS)
def http_server(request: pytest.FixtureRequest) -> Server:
    """Each of uvicorn-h11, uvicorn-httptools and hypercorn in turn (test ids name it)."""
    server: Server = request.getfixturevalue(_FIXTURE_OF_KIND[request.param])
    return server


def _tls_server(
    certs: TLSCertificates,
    logs: Path,
    name: str,
    cert: Path,
    key: Path,
    *,
    client_context: ssl.SSLContext,
    cert_hostname: str = HOST,
    mtls: bool = False,
    legacy: bool = False,
    kind: Kind = "uvicorn-h11",
) -> Iterator[TLSServer]:
    tls_args = ["--certfile", str(cert), "--keyfile", str(key)]
    if mtls:
        tls_args += ["--client-ca", str(certs.ca_bundle)]
    if legacy:
        tls_args.append("--legacy-tls")
    probe_context = client_context
    if cert_hostname != HOST or cert == certs.expired_cert:
        # The probe must get through; the tests then check that a verifying client does not.
        probe_context = certs.client_context(client_cert=mtls, legacy_tls=legacy)
        probe_context.check_hostname = False
        probe_context.verify_mode = ssl.CERT_NONE
    with running_asgi_server(
        kind,
        log_path=logs / f"{name}.log",
        tls_args=tls_args,
        client_context=probe_context,
    ) as (port, started):
        yield TLSServer(
            name=name,
            host=HOST,
            port=port,
            started_in=started.started_in,
            ca_bundle=str(certs.ca_bundle),
            ssl_context=client_context,
            client_cert=(str(certs.client_cert), str(certs.client_key)) if mtls else None,
            cert_hostname=cert_hostname,
        )


@pytest.fixture(scope="session")
def https_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """HTTPS (uvicorn, h11) with a certificate for 127.0.0.1, localhost and ::1."""
    yield from _tls_server(
        tls_certs,
        server_logs,
        "https",
        tls_certs.server_cert,
        tls_certs.server_key,
        client_context=tls_certs.client_context(),
    )


@pytest.fixture(scope="session")
def https_wrong_host_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """HTTPS whose certificate (from the trusted CA) names only ``wrong.reqivo.test``."""
    from servers.tls import WRONG_NAME

    yield from _tls_server(
        tls_certs,
        server_logs,
        "https-wrong-host",
        tls_certs.wrong_host_cert,
        tls_certs.wrong_host_key,
        client_context=tls_certs.client_context(),
        cert_hostname=WRONG_NAME,
    )


@pytest.fixture(scope="session")
def https_expired_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """HTTPS whose certificate (right names, trusted CA) expired yesterday."""
    yield from _tls_server(
        tls_certs,
        server_logs,
        "https-expired",
        tls_certs.expired_cert,
        tls_certs.expired_key,
        client_context=tls_certs.client_context(),
    )


@pytest.fixture(scope="session")
def mtls_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """HTTPS that requires a client certificate from the test CA (``.client_cert``)."""
    yield from _tls_server(
        tls_certs,
        server_logs,
        "mtls",
        tls_certs.server_cert,
        tls_certs.server_key,
        client_context=tls_certs.client_context(client_cert=True),
        mtls=True,
    )


@pytest.fixture(scope="session")
def legacy_tls_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """HTTPS offering only TLS 1.0 and 1.1 (skipped where OpenSSL cannot do them).

    Its ``ssl_context`` allows TLS 1.0/1.1; a client with a TLS 1.2 minimum must fail.
    """
    reason = legacy_tls_unavailable(tls_certs)
    if reason is not None:
        pytest.skip(reason)
    yield from _tls_server(
        tls_certs,
        server_logs,
        "legacy-tls",
        tls_certs.server_cert,
        tls_certs.server_key,
        client_context=tls_certs.client_context(legacy_tls=True),
        legacy=True,
    )


def _proxy(logs: Path, name: str, credentials: tuple[str, str] | None) -> Iterator[ProxyServer]:
    if tinyproxy_path() is None:
        _unavailable(TINYPROXY_MISSING)
    with running_tinyproxy(logs, name=name, credentials=credentials) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def proxy_server(server_logs: Path) -> Iterator[ProxyServer]:
    """A tinyproxy forward proxy (absolute-form HTTP and CONNECT), no authentication."""
    yield from _proxy(server_logs, "proxy", None)


@pytest.fixture(scope="session")
def auth_proxy_server(server_logs: Path) -> Iterator[ProxyServer]:
    """tinyproxy requiring ``Proxy-Authorization: Basic`` (``.username``, ``.password``)."""
    yield from _proxy(server_logs, "auth-proxy", (PROXY_USER, PROXY_PASSWORD))


class RawServerFactory(Protocol):
    """``raw_server(*scripts, host=..., ssl_context=...)`` -> a started :class:`RawServer`."""

    def __call__(
        self, *scripts: Script, host: str = HOST, ssl_context: ssl.SSLContext | None = None
    ) -> RawServer: ...


@pytest.fixture
def raw_server() -> Iterator[RawServerFactory]:
    """A factory of scripted raw servers (see :mod:`servers.raw`), all closed after the test."""
    started: list[RawServer] = []

    def factory(
        *scripts: Script, host: str = HOST, ssl_context: ssl.SSLContext | None = None
    ) -> RawServer:
        server = RawServer(*scripts, host=host, ssl_context=ssl_context).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.close()


# --- HTTP/2 servers ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nginx_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[NginxServer]:
    """One nginx: ``.http`` (HTTP/1.1), ``.https`` (ALPN h2 + http/1.1), ``.h2c`` (prior knowledge).

    Routes and HTTP/2 settings: :mod:`servers.nginx`. Skipped (or failed when
    REQIVO_TEST_SERVICES=require) where nginx is not installed.
    """
    if nginx_path() is None:
        _unavailable(NGINX_MISSING)
    with running_nginx(
        server_logs / "nginx",
        tls=(tls_certs.server_cert, tls_certs.server_key),
        ca_bundle=tls_certs.ca_bundle,
    ) as nginx:
        yield nginx


@pytest.fixture(scope="session")
def nginx_h2_server(nginx_server: NginxServer) -> TLSServer:
    """nginx over TLS offering h2 and http/1.1 by ALPN (``.ca_bundle`` is the test CA)."""
    assert nginx_server.https is not None
    return nginx_server.https


@pytest.fixture(scope="session")
def nginx_h2c_server(nginx_server: NginxServer) -> Server:
    """nginx speaking cleartext HTTP/2 with prior knowledge only (``http://`` URL)."""
    return nginx_server.h2c


@pytest.fixture(scope="session")
def hypercorn_h2_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """The test app on hypercorn over TLS, offering h2 and http/1.1 by ALPN."""
    tls_args = ["--certfile", str(tls_certs.server_cert), "--keyfile", str(tls_certs.server_key)]
    with running_asgi_server(
        "hypercorn",
        log_path=server_logs / "hypercorn-h2.log",
        tls_args=tls_args,
        client_context=tls_certs.client_context(),
    ) as (port, started):
        yield TLSServer(
            name="hypercorn-h2",
            host=HOST,
            port=port,
            started_in=started.started_in,
            ca_bundle=str(tls_certs.ca_bundle),
            ssl_context=tls_certs.client_context(),
        )


@pytest.fixture(scope="session")
def hypercorn_h2c_server(hypercorn_server: Server) -> Server:
    """The test app on hypercorn, cleartext: h2 with prior knowledge (and HTTP/1.1).

    The same process as ``hypercorn_server``: hypercorn tells the two apart by the preface.
    """
    return Server(
        name="hypercorn-h2c",
        host=hypercorn_server.host,
        port=hypercorn_server.port,
        started_in=hypercorn_server.started_in,
    )


@pytest.fixture(scope="session")
def hypercorn_wrong_host_server(
    tls_certs: TLSCertificates, server_logs: Path
) -> Iterator[TLSServer]:
    """``https_wrong_host_server``'s certificate on hypercorn (ALPN h2 and http/1.1)."""
    from servers.tls import WRONG_NAME

    yield from _tls_server(
        tls_certs,
        server_logs,
        "hypercorn-h2-wrong-host",
        tls_certs.wrong_host_cert,
        tls_certs.wrong_host_key,
        client_context=tls_certs.client_context(),
        cert_hostname=WRONG_NAME,
        kind="hypercorn",
    )


@pytest.fixture(scope="session")
def hypercorn_mtls_server(tls_certs: TLSCertificates, server_logs: Path) -> Iterator[TLSServer]:
    """``mtls_server`` on hypercorn (ALPN h2 and http/1.1): requires a client certificate."""
    yield from _tls_server(
        tls_certs,
        server_logs,
        "hypercorn-h2-mtls",
        tls_certs.server_cert,
        tls_certs.server_key,
        client_context=tls_certs.client_context(client_cert=True),
        mtls=True,
        kind="hypercorn",
    )


class NghttpdFactory(Protocol):
    """``nghttpd_server(tls=True, window_bits=.., ...)`` -> a running nghttpd (cached per options).

    The keywords are the fields of :class:`servers.nghttpd.NghttpdOptions`; with ``tls``
    (the default) it is a :class:`TLSServer` (ALPN h2 only), else a cleartext :class:`Server`.
    """

    @overload
    def __call__(self, *, tls: Literal[True] = ..., **options: object) -> TLSServer: ...
    @overload
    def __call__(self, *, tls: Literal[False], **options: object) -> Server: ...
    @overload
    def __call__(self, *, tls: bool, **options: object) -> Server: ...


@pytest.fixture(scope="session")
def nghttpd_server(
    tls_certs: TLSCertificates, server_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NghttpdFactory]:
    """A factory of nghttpd servers, one per distinct option set, kept for the session.

    ``nghttpd_server(max_concurrent_streams=1)``, ``nghttpd_server(tls=False, padding=32)``,
    ``nghttpd_server(trailers=(("x-checksum", "1"),))``, ``nghttpd_server(push=(("/1k",
    ("/push.txt",)),))``: see :mod:`servers.nghttpd`. Files: ``/1k``, ``/1m``, ``/push.txt``.
    """
    from servers.nghttpd import write_docroot

    if nghttpd_path() is None:
        _unavailable(NGHTTPD_MISSING)
    docroot = write_docroot(tmp_path_factory.mktemp("nghttpd-www"))
    running: dict[NghttpdOptions, Server] = {}
    with contextlib.ExitStack() as stack:

        def factory(**options: object) -> Server:
            key = NghttpdOptions(**options)  # type: ignore[arg-type]
            if key not in running:
                server = stack.enter_context(
                    running_nghttpd(
                        key,
                        docroot=docroot,
                        log_dir=server_logs,
                        tls=(tls_certs.server_cert, tls_certs.server_key),
                    )
                )
                if key.tls:
                    server = TLSServer(
                        name=server.name,
                        host=server.host,
                        port=server.port,
                        started_in=server.started_in,
                        ca_bundle=str(tls_certs.ca_bundle),
                        ssl_context=tls_certs.client_context(),
                    )
                running[key] = server
            return running[key]

        yield factory  # type: ignore[misc]


@pytest.fixture(scope="session")
def nghttpd_h2_server(nghttpd_server: NghttpdFactory) -> TLSServer:
    """nghttpd with its defaults over TLS (ALPN h2 only)."""
    return nghttpd_server()


@pytest.fixture(scope="session")
def nghttpd_h2c_server(nghttpd_server: NghttpdFactory) -> Server:
    """nghttpd with its defaults, cleartext HTTP/2 with prior knowledge."""
    return nghttpd_server(tls=False)


class H2RawServerFactory(Protocol):
    """``h2_raw_server(*scripts, tls=False)`` -> a started :class:`H2RawServer`."""

    def __call__(self, *scripts: H2Script, tls: bool = False) -> H2RawServer: ...


def h2_server_context(certs: TLSCertificates) -> ssl.SSLContext:
    """A server TLS context with the good certificate offering only ``h2`` by ALPN."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
    context.set_alpn_protocols(["h2"])
    return context


@pytest.fixture
def h2_raw_server(request: pytest.FixtureRequest) -> Iterator[H2RawServerFactory]:
    """A factory of scripted HTTP/2 peers (see :mod:`servers.h2raw`), closed after the test.

    Cleartext ones want prior knowledge (``http://`` URL); ``tls=True`` ones offer ALPN h2
    with the test CA's certificate (``tls_certs.ca_bundle``; ``https://`` URL).
    """
    started: list[H2RawServer] = []

    def factory(*scripts: H2Script, tls: bool = False) -> H2RawServer:
        context = None
        if tls:
            context = h2_server_context(request.getfixturevalue("tls_certs"))
        server = H2RawServer(*scripts, ssl_context=context)
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.close()
