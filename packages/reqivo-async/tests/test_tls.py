"""TLS: verification, trust stores, client certificates, pinning, the context cache."""

from __future__ import annotations

import base64
import hashlib
import ssl
from pathlib import Path
from typing import Any

import pytest

from reqivo_async._config import Timeout
from reqivo_async._connection import AsyncConnection
from reqivo_async._models import AsyncRequest
from reqivo_async._pool import AsyncConnectionPool
from reqivo_async._tls import check_pin, create_ssl_context, normalize_pins
from reqivo_protocol._exceptions import TlsError
from servers.models import TLSServer


async def _get(pool: AsyncConnectionPool, url: str) -> Any:
    request = AsyncRequest("GET", url, extensions={"timeout": Timeout(5.0)})
    response = await pool.handle_async_request(request)
    await response.aread()
    return response


def _leaf_sha256(tls_certs: Any) -> bytes:
    pem = Path(tls_certs.server_cert).read_text()
    first = pem[: pem.index("-----END CERTIFICATE-----") + 25]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).digest()


@pytest.mark.parametrize("how", ["path", "context", "env"])
async def test_trusted_ca(
    https_server: TLSServer, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "env":
        monkeypatch.setenv("SSL_CERT_FILE", https_server.ca_bundle)
        verify: Any = True
    else:
        verify = https_server.ca_bundle if how == "path" else https_server.context
    async with AsyncConnectionPool(verify=verify) as pool:
        response = await _get(pool, https_server.join("/echo"))
        assert response.json()["scheme"] == "https"
        await _get(pool, https_server.join("/echo"))
        assert pool.connections[0].requests == 2


async def test_untrusted_ca_is_refused(https_server: TLSServer) -> None:
    async with AsyncConnectionPool(verify=True, trust_env=False) as pool:
        with pytest.raises(TlsError, match="certificate verify failed") as info:
            await _get(pool, https_server.join("/echo"))
        assert info.value.request is not None
        assert isinstance(info.value.__cause__, ssl.SSLError)
        assert pool.active_connections == 0


async def test_wrong_host_and_expired(
    https_wrong_host_server: TLSServer, https_expired_server: TLSServer
) -> None:
    async with AsyncConnectionPool(verify=https_wrong_host_server.ca_bundle) as pool:
        with pytest.raises(TlsError, match=r"Hostname mismatch|IP address mismatch"):
            await _get(pool, https_wrong_host_server.join("/echo"))
        with pytest.raises(TlsError, match="expired"):
            await _get(pool, https_expired_server.join("/echo"))


async def test_verify_false_accepts_anything(https_wrong_host_server: TLSServer) -> None:
    async with AsyncConnectionPool(verify=False) as pool:
        assert (await _get(pool, https_wrong_host_server.join("/health"))).status_code == 200


async def test_mutual_tls(mtls_server: TLSServer, tls_certs: Any) -> None:
    assert mtls_server.client_cert is not None
    async with AsyncConnectionPool(verify=mtls_server.ca_bundle) as pool:
        with pytest.raises(TlsError):
            await _get(pool, mtls_server.join("/echo"))
        assert pool.active_connections == 0
    certs: list[Any] = [mtls_server.client_cert, str(tls_certs.client_pem)]
    for cert in certs:
        async with AsyncConnectionPool(verify=mtls_server.ca_bundle, cert=cert) as pool:
            assert (await _get(pool, mtls_server.join("/echo"))).status_code == 200


async def test_pool_ssl_context_is_its_connections(
    https_server: TLSServer, tls_certs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, client = https_server.ca_bundle, str(tls_certs.client_pem)
    pool = AsyncConnectionPool(verify=ca, cert=client)
    assert pool.ssl_context is create_ssl_context(ca, client)
    given = tls_certs.client_context()
    assert AsyncConnectionPool(verify=given).ssl_context is given
    assert AsyncConnectionPool(verify=False).ssl_context.verify_mode == ssl.CERT_NONE
    assert AsyncConnectionPool(trust_env=False).ssl_context is create_ssl_context(trust_env=False)
    # The default context follows trust_env (SSL_CERT_FILE), and the connections use it.
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    async with AsyncConnectionPool() as pool:
        context = pool.ssl_context
        assert context is create_ssl_context(trust_env=True)
        assert context is not create_ssl_context(trust_env=False)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert (await _get(pool, https_server.join("/health"))).status_code == 200
        (connection,) = pool._keys
        assert connection._ssl_context is context
        assert pool.ssl_context is context


def test_bad_client_certificate_and_bad_verify_path(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="client certificate"):
        create_ssl_context(cert=(str(tmp_path / "none.pem"), str(tmp_path / "key.pem"), "pw"))
    with pytest.raises(ValueError, match="no such CA bundle"):
        AsyncConnectionPool(verify=str(tmp_path / "missing.pem"))


def test_verify_directory_and_context_with_cert(tmp_path: Path, tls_certs: Any) -> None:
    context = create_ssl_context(str(tmp_path))
    assert context.verify_mode == ssl.CERT_REQUIRED
    given = ssl.create_default_context()
    assert create_ssl_context(given, cert=str(tls_certs.client_pem)) is given


def test_default_context_is_cached_and_secure() -> None:
    context = create_ssl_context()
    assert create_ssl_context() is context
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert create_ssl_context(False) is not context
    assert create_ssl_context(False).verify_mode == ssl.CERT_NONE


async def test_legacy_tls_refused(legacy_tls_server: TLSServer) -> None:
    async with AsyncConnectionPool(verify=False) as pool:
        with pytest.raises(TlsError):
            await _get(pool, legacy_tls_server.join("/health"))


async def test_pinning(https_server: TLSServer, tls_certs: Any) -> None:
    digest = _leaf_sha256(tls_certs)
    async with AsyncConnectionPool(verify=https_server.ca_bundle, pin_sha256=digest.hex()) as pool:
        assert (await _get(pool, https_server.join("/health"))).status_code == 200
    async with AsyncConnectionPool(verify=False, pin_sha256="00" * 32) as pool:
        with pytest.raises(TlsError, match="pinning failed"):
            await _get(pool, https_server.join("/health"))
        assert pool.active_connections == 0


def test_pin_formats() -> None:
    digest = hashlib.sha256(b"cert").digest()
    colons = ":".join(f"{b:02X}" for b in digest)
    b64 = base64.b64encode(digest).decode()
    assert normalize_pins(digest) == frozenset({digest})
    assert normalize_pins([colons, "sha256/" + b64, digest.hex().encode()]) == frozenset({digest})
    bad_pins: list[str | bytes] = ["zz" * 32, "abc", b"short"]
    for bad in bad_pins:
        with pytest.raises(ValueError, match="invalid SHA-256 pin"):
            normalize_pins(bad)
    with pytest.raises(ValueError, match="empty"):
        normalize_pins([])
    with pytest.raises(TlsError, match="no certificate"):
        check_pin(None, frozenset({digest}))


async def test_tls_trace_events(https_server: TLSServer) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    request = AsyncRequest(
        "GET",
        https_server.join("/health"),
        extensions={"trace": lambda event, info: seen.append((event, info))},
    )
    async with AsyncConnection(https_server.url, ssl_context=https_server.context) as conn:
        response = await conn.handle_async_request(request)
        await response.aread()
    events = [event for event, _ in seen]
    assert events[2:4] == ["connection.tls.started", "connection.tls.complete"]
    assert seen[3][1]["version"] in ("TLSv1.2", "TLSv1.3")
    assert sorted(seen[2][1]) == ["server_hostname", "time"]
    assert sorted(seen[3][1]) == ["elapsed", "time", "version"]
    failed: list[str] = []
    bad = AsyncRequest(
        "GET", https_server.join("/"), extensions={"trace": lambda e, i: failed.append(e)}
    )
    with pytest.raises(TlsError):
        await AsyncConnection(https_server.url, verify=True, trust_env=False).handle_async_request(
            bad
        )
    assert failed[-1] == "connection.tls.failed"
