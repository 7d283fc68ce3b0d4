"""TLS faults: the server breaks the handshake, or presents a certificate for another
name. Each raises ``TlsError`` (a ``TransportError``), leaves the pool clean, and the
same client then completes a good TLS request to a server with the right certificate."""

from __future__ import annotations

import ssl

import pytest

from faults.conftest import Faults
from faults.test_matrix import GOOD
from reqivo_protocol._exceptions import TlsError, TransportError
from servers.models import TLSServer
from servers.raw import Close, ReadBytes, ReadRequest, Reset, Send, Step
from servers.tls import TLSCertificates

#: What the server does after reading the first bytes of the ClientHello (reading them
#: first makes sure the failure happens in the handshake, not while connecting).
HANDSHAKE_FAULTS: dict[str, list[Step]] = {
    "reset": [ReadBytes(5), Reset()],
    "close": [ReadBytes(5), Close()],
    "http-instead-of-tls": [ReadBytes(5), Send(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Close()],
}


def _wrong_host_context(certs: TLSCertificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs.wrong_host_cert), str(certs.wrong_host_key))
    return context


def _check_then_good_request(
    faults: Faults, certs: TLSCertificates, url: str, match: str | None = None
) -> None:
    good = faults.serve(GOOD, ssl_context=certs.server_context())
    client = faults.client(verify=str(certs.ca_bundle))
    error, elapsed = faults.raises(TlsError, TransportError, lambda: client.get(url))
    assert elapsed < 1.0
    if match is not None:
        assert match in str(error)
    faults.assert_pool(client, idle=0)
    assert client.get(good.url).content == b"ok"
    faults.assert_pool(client, idle=1)


@pytest.mark.parametrize("fault", HANDSHAKE_FAULTS.keys())
def test_handshake_failure(faults: Faults, tls_certs: TLSCertificates, fault: str) -> None:
    server = faults.serve(HANDSHAKE_FAULTS[fault])
    _check_then_good_request(faults, tls_certs, server.url.replace("http:", "https:"))
    faults.finish()


def test_wrong_hostname_raw(faults: Faults, tls_certs: TLSCertificates) -> None:
    server = faults.serve(GOOD, ssl_context=_wrong_host_context(tls_certs))
    _check_then_good_request(faults, tls_certs, server.url, match="certificate verify failed")
    assert server.request_count == 0  # nothing was sent over the refused connection
    faults.finish()


def test_wrong_hostname_uvicorn(
    faults: Faults, tls_certs: TLSCertificates, https_wrong_host_server: TLSServer
) -> None:
    url = https_wrong_host_server.join("/echo")
    _check_then_good_request(faults, tls_certs, url, match="certificate verify failed")
    faults.finish()


@pytest.mark.parametrize("fault", ["reset", "close"])
def test_new_tls_connection_dropped_before_response(
    faults: Faults, tls_certs: TLSCertificates, fault: str
) -> None:
    """Handshake done, request read, then dropped without a byte: on a *new* TLS
    connection this is reported as ``TlsError`` (ADR-004: TLS 1.3 reports a refused
    client certificate only this way), not the ``ReadError``/``RemoteProtocolError`` of
    plain HTTP."""
    drop: Step = Reset() if fault == "reset" else Close()
    server = faults.serve([ReadRequest(), drop], GOOD, ssl_context=tls_certs.server_context())
    client = faults.client(verify=str(tls_certs.ca_bundle))
    error, _ = faults.raises(TlsError, TransportError, lambda: client.get(server.url + "/fault"))
    assert "without answering" in str(error)
    faults.assert_pool(client, idle=0)
    assert client.get(server.url + "/after").content == b"ok"
    faults.assert_pool(client, idle=1)
    assert [(r.connection, r.target) for r in server.requests] == [(0, "/fault"), (1, "/after")]
    faults.finish()
