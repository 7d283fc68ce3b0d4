"""A throw-away certificate authority (trustme) and the certificates the TLS servers use."""

from __future__ import annotations

import datetime
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["LEGACY_CIPHERS", "TLSCertificates", "legacy_tls_unavailable", "make_certificates"]

#: What both ends of a TLS 1.0/1.1 connection need under OpenSSL 3.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
#: The identities of the good server certificate.
SERVER_NAMES = ("127.0.0.1", "localhost", "::1")
WRONG_NAME = "wrong.reqivo.test"


@dataclass(frozen=True, slots=True)
class TLSCertificates:
    """PEM files issued by one test CA, written to ``directory``.

    ``server_*``: valid for 127.0.0.1, localhost and ::1. ``wrong_host_*``: valid only for
    :data:`WRONG_NAME`. ``expired_*``: right names, expired a day ago. ``client_*``: a client
    certificate for mTLS (``client_pem`` holds key and chain in one file).
    """

    ca: trustme.CA
    directory: Path
    ca_bundle: Path
    server_cert: Path
    server_key: Path
    wrong_host_cert: Path
    wrong_host_key: Path
    expired_cert: Path
    expired_key: Path
    client_cert: Path
    client_key: Path
    client_pem: Path

    def client_context(
        self, *, client_cert: bool = False, legacy_tls: bool = False
    ) -> ssl.SSLContext:
        """A client context trusting the CA; with the client certificate; or TLS 1.0/1.1 only."""
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        if client_cert:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        if legacy_tls:
            context.set_ciphers(LEGACY_CIPHERS)
            with warnings.catch_warnings():  # deprecated versions, wanted here
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.maximum_version = ssl.TLSVersion.TLSv1_1
        return context

    def server_context(self, *, mtls: bool = False) -> ssl.SSLContext:
        """A server-side context with the good server certificate (e.g. for a raw server)."""
        from servers.serve import server_context

        return server_context(
            str(self.server_cert),
            str(self.server_key),
            client_ca=str(self.ca_bundle) if mtls else None,
        )


def _write_leaf(leaf: trustme.LeafCert, directory: Path, stem: str) -> tuple[Path, Path]:
    cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
    for i, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(cert), append=i > 0)
    leaf.private_key_pem.write_to_path(str(key))
    return cert, key


def make_certificates(directory: Path) -> TLSCertificates:
    """Create a CA and every certificate the fixtures use, as files under ``directory``."""
    ca = trustme.CA(organization_name="Reqivo test CA")
    ca_bundle = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    server_cert, server_key = _write_leaf(ca.issue_cert(*SERVER_NAMES), directory, "server")
    wrong_cert, wrong_key = _write_leaf(ca.issue_cert(WRONG_NAME), directory, "wrong-host")
    now = datetime.datetime.now(datetime.UTC)
    expired = ca.issue_cert(
        *SERVER_NAMES,
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    expired_cert, expired_key = _write_leaf(expired, directory, "expired")
    client = ca.issue_cert("client@reqivo.test", common_name="reqivo test client")
    client_cert, client_key = _write_leaf(client, directory, "client")
    client_pem = directory / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    return TLSCertificates(
        ca=ca,
        directory=directory,
        ca_bundle=ca_bundle,
        server_cert=server_cert,
        server_key=server_key,
        wrong_host_cert=wrong_cert,
        wrong_host_key=wrong_key,
        expired_cert=expired_cert,
        expired_key=expired_key,
        client_cert=client_cert,
        client_key=client_key,
        client_pem=client_pem,
    )


def legacy_tls_unavailable(certs: TLSCertificates) -> str | None:
    """Why this OpenSSL cannot do a TLS 1.0/1.1 handshake, or None when it can.

    Tried in memory (two MemoryBIO ends), so no server is started to find out.
    """
    from servers.serve import server_context

    try:
        server = server_context(str(certs.server_cert), str(certs.server_key), legacy_tls=True)
        client = certs.client_context(legacy_tls=True)
    except (ssl.SSLError, ValueError) as exc:
        return f"cannot configure TLS 1.0/1.1: {exc}"
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(10):
        for name, end, out, peer_in in (("c", c, c_out, s_in), ("s", s, s_out, c_in)):
            if not done[name]:
                try:
                    end.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as exc:
                    return f"this OpenSSL refuses TLS 1.0/1.1: {exc}"
            peer_in.write(out.read())
        if all(done.values()):
            version = c.version()
            return None if version in ("TLSv1", "TLSv1.1") else f"negotiated {version}"
    return "TLS 1.0/1.1 handshake did not complete"
