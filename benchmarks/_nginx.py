"""A private nginx on loopback for the benchmarks: the tests' own launcher, reused.

nginx is the reference server of the design brief's measurements. The launcher and its
configuration live in ``packages/reqivo-async/tests/servers/nginx.py`` (one module for the
tests and the benchmarks); this module puts that folder on ``sys.path`` and adapts it:
files of known sizes (``FILES``, real bytes, not sparse), keep-alive, HTTP/1.1 on ``url``,
and with ``tls=True`` HTTPS offering h2 and http/1.1 by ALPN (``https_url``, trusted by
``ca_bundle``, a throw-away trustme CA) and cleartext h2 with prior knowledge
(``h2c_url``). The fault endpoints (``/fault/close``, ``/fault/503``, ``/fault/slow/<file>``)
are always served. ``keepalive_requests`` bounds the requests of a connection (on HTTP/2
nginx then sends GOAWAY) and ``access_log=True`` makes nginx log every request to
``Nginx.access_log`` (fields: ``ACCESS_LOG_FIELDS``). When nginx is not installed,
``start_nginx`` raises ``NginxUnavailable`` with the command that installs it.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "packages" / "reqivo-async" / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from servers.nginx import ACCESS_LOG_FIELDS, BENCH_FILES, running_nginx  # noqa: E402
from servers.process import ServerStartError  # noqa: E402

__all__ = ["ACCESS_LOG_FIELDS", "FILES", "Nginx", "NginxUnavailable", "start_nginx"]

#: Files served from the document root: name -> size in bytes.
FILES = BENCH_FILES


class NginxUnavailable(RuntimeError):
    """nginx is not installed on this machine (or did not start)."""


@dataclass(frozen=True)
class Nginx:
    """A running nginx: where it listens (``https_port``/``h2c_port`` 0 without TLS), and
    its access log (``""`` when off)."""

    host: str
    port: int
    https_port: int = 0
    h2c_port: int = 0
    ca_bundle: str = ""
    access_log: str = ""

    @property
    def url(self) -> str:
        """The HTTP/1.1 base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def https_url(self) -> str:
        """The HTTPS base URL (ALPN h2 and http/1.1)."""
        return f"https://{self.host}:{self.https_port}"

    @property
    def h2c_url(self) -> str:
        """The cleartext HTTP/2 base URL (prior knowledge only)."""
        return f"http://{self.host}:{self.h2c_port}"


@contextlib.contextmanager
def start_nginx(
    *, tls: bool = False, keepalive_requests: int = 1_000_000, access_log: bool = False
) -> Iterator[Nginx]:
    """Run nginx on free loopback ports for the duration of the ``with`` block.

    ``tls=True`` also creates a test CA and a certificate for 127.0.0.1 (needs trustme).
    """
    with tempfile.TemporaryDirectory(prefix="reqivo-nginx-") as tmp:
        root = Path(tmp)
        cert_files = ca_bundle = None
        log = root / "access.log" if access_log else None
        if tls:
            from servers.tls import make_certificates

            (root / "tls").mkdir()
            certs = make_certificates(root / "tls")
            cert_files, ca_bundle = (certs.server_cert, certs.server_key), certs.ca_bundle
        with contextlib.ExitStack() as stack:
            try:
                nginx = stack.enter_context(
                    running_nginx(
                        root / "nginx",
                        tls=cert_files,
                        ca_bundle=ca_bundle,
                        files=FILES,
                        sparse=False,
                        keepalive_requests=keepalive_requests,
                        access_log=log,
                    )
                )
            except (FileNotFoundError, ServerStartError) as exc:
                raise NginxUnavailable(str(exc)) from exc
            yield Nginx(
                host=nginx.http.host,
                port=nginx.http.port,
                https_port=nginx.https.port if nginx.https is not None else 0,
                h2c_port=nginx.h2c.port,
                ca_bundle=str(ca_bundle or ""),
                access_log=str(log or ""),
            )
