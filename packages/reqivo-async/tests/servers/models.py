"""What the server fixtures yield: small frozen records a test reads addresses from."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

__all__ = ["ProxyServer", "Server", "TLSServer", "UnixServer"]


@dataclass(frozen=True, slots=True)
class Server:
    """A running HTTP server: ``url`` is the base URL, e.g. ``"http://127.0.0.1:40123"``."""

    name: str
    host: str
    port: int
    scheme: str = "http"
    #: Seconds from spawning the process to its first answer (0 for in-process servers).
    started_in: float = 0.0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def join(self, path: str) -> str:
        """``url`` followed by ``path`` (which starts with "/")."""
        return self.url + path


@dataclass(frozen=True, slots=True)
class TLSServer(Server):
    """A running HTTPS server and what a client needs to trust it.

    ``ssl_context`` is a client-side context that trusts the test CA (and, for the mTLS
    server, presents the client certificate; for the legacy server, allows TLS 1.0/1.1).
    ``client_cert`` is ``(certfile, keyfile)`` for the mTLS server, else None.
    ``cert_hostname`` is the name the server's certificate is valid for.
    """

    scheme: str = "https"
    ca_bundle: str = ""
    ssl_context: ssl.SSLContext | None = None
    client_cert: tuple[str, str] | None = None
    cert_hostname: str = "127.0.0.1"

    @property
    def context(self) -> ssl.SSLContext:
        """``ssl_context``, never None (for typing)."""
        assert self.ssl_context is not None
        return self.ssl_context


@dataclass(frozen=True, slots=True)
class ProxyServer(Server):
    """A running forward proxy (HTTP absolute-form and CONNECT).

    ``username``/``password`` are set when it requires Proxy-Authorization (Basic);
    ``auth_url`` is then ``url`` with the credentials in it (``http://user:pass@host:port``).
    """

    username: str | None = None
    password: str | None = None

    @property
    def auth_url(self) -> str:
        if self.username is None:
            return self.url
        return f"{self.scheme}://{self.username}:{self.password}@{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class UnixServer(Server):
    """A running HTTP server on a Unix domain socket at ``path``.

    ``url`` (``http://localhost``) is what a client puts in the request (Host header);
    the connection goes to ``path``. ``port`` is 0.
    """

    host: str = "localhost"
    port: int = 0
    path: str = ""

    @property
    def url(self) -> str:
        return "http://localhost"
