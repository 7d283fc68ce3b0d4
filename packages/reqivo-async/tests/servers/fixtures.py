"""The pytest fixtures (imported by ``tests/conftest.py``; see :mod:`servers` for the list)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn, Protocol

import pytest

from servers.models import ProxyServer, Server, TLSServer, UnixServer
from servers.process import HOST, running_asgi_server
from servers.proxy import TINYPROXY_MISSING, running_tinyproxy, tinyproxy_path
from servers.raw import RawServer, Script
from servers.serve import KINDS, Kind
from servers.tls import TLSCertificates, legacy_tls_unavailable, make_certificates

__all__ = [
    "RawServerFactory",
    "auth_proxy_server",
    "http_server",
    "https_expired_server",
    "https_server",
    "https_wrong_host_server",
    "hypercorn_server",
    "legacy_tls_server",
    "mtls_server",
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


def _asgi_server(kind: Kind, logs: Path) -> Iterator[Server]:
    with running_asgi_server(kind, log_path=logs / f"{kind}.log") as (port, started):
        yield Server(name=kind, host=HOST, port=port, started_in=started.started_in)


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
        "uvicorn-h11",
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
