"""nginx on loopback: HTTP/1.1, HTTPS with ALPN h2 + http/1.1, and cleartext h2 (prior knowledge).

The one nginx launcher of the workspace: the test fixtures (``nginx_server`` and friends in
:mod:`servers.fixtures`) and the benchmarks (``benchmarks/_nginx.py``) both start nginx here.

One nginx master with one worker listens on three loopback ports of one ``server`` block:

- ``http``: HTTP/1.1 (cleartext, what the HTTP/1.1 benchmarks measure);
- ``https``: TLS with ALPN ``h2`` and ``http/1.1`` (``listen ... ssl http2``), when a
  certificate is given;
- ``h2c``: HTTP/2 with prior knowledge (``listen ... http2`` without ssl: no HTTP/1.1 there).

Locations (every port serves the same):

- ``/health``               200 "ok" (the readiness probe, HTTP/1.1 port);
- ``/<name>``               the files of ``files`` (name -> size; :func:`file_bytes` is their
                            content), e.g. ``/1k``; ``/64m`` in the tests is sparse (zeros);
- ``/upload``               200 "ok" at once, the body discarded (HTTP/1.1: read and dropped;
                            HTTP/2: nginx stops granting window, so a large upload stalls:
                            upload to ``/echo`` over h2);
- ``/echo``                 POST: the request body back (only with nginx's echo module,
                            Debian ``libnginx-mod-http-echo``; see ``NginxServer.echo``);
- ``/headers``              200 with the response headers of :data:`RESPONSE_HEADERS`;
- ``/trailers``             the 1 KiB file followed by the trailers of :data:`TRAILERS`
                            (nginx ``add_trailer``: sent on HTTP/2 and on chunked HTTP/1.1);
- ``/redirect``             302 to ``/1k``;
- ``/slow/<name>``          a file at 64 KiB/s;
- ``/fault/close``          closes the connection without a response (``return 444``; on h2
                            nginx resets the stream); ``/fault/503`` 503;
                            ``/fault/slow/<name>`` a file at 1 KiB/s.

``keepalive_requests`` (default 1,000,000) bounds the requests of one connection: on
HTTP/2 (nginx >= 1.19.7) the request that reaches it is served and nginx sends GOAWAY
with that stream as the last one. ``access_log``, when given, is a file where nginx writes
one unbuffered line per request: ``$server_port $connection $connection_requests $status
$body_bytes_sent $request_uri`` (:data:`ACCESS_LOG_FIELDS`).

nginx cannot take a listening socket from us, so the ports are picked free just before it
starts and the start is retried with other ports when one was taken meanwhile.
HTTP/2 settings are nginx 1.22's defaults unless noted: 128 concurrent streams per
connection, 64 KiB initial stream window (``http2_body_preread_size``), 16 KiB frames.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from servers.models import Server, TLSServer
from servers.process import HOST, ServerStartError, free_port, http_probe, running_process

__all__ = [
    "ACCESS_LOG_FIELDS",
    "BENCH_FILES",
    "ECHO_MODULE",
    "NGINX_MISSING",
    "RESPONSE_HEADERS",
    "TEST_FILES",
    "TRAILERS",
    "NginxServer",
    "file_bytes",
    "nginx_path",
    "running_nginx",
]

NGINX_MISSING = "nginx is not installed (Debian package nginx): run scripts/ci-services.sh"
#: The echo module (``/echo``); loaded when present (Debian ``libnginx-mod-http-echo``).
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
#: Files the benchmarks serve: name -> size in bytes.
BENCH_FILES: Mapping[str, int] = {"1k": 1024, "64m": 64 * 1024 * 1024}
#: Files the test fixture serves; files of 16 MiB and more are written sparse (all zeros).
TEST_FILES: Mapping[str, int] = {"1k": 1024, "1m": 1024 * 1024, "64m": 64 * 1024 * 1024}
SPARSE_FROM = 16 * 1024 * 1024
#: The fields of an ``access_log`` line, in order (space-separated).
ACCESS_LOG_FIELDS = ("port", "connection", "connection_requests", "status", "bytes", "uri")
#: Response headers of ``/headers`` (name, value), in order.
RESPONSE_HEADERS = (
    ("x-reqivo-one", "1"),
    ("x-reqivo-repeated", "a"),
    ("x-reqivo-repeated", "b"),
    ("x-reqivo-long", "v" * 4000),
)
#: Trailers of ``/trailers`` (name, value).
TRAILERS = (("x-checksum", "reqivo-1k"), ("x-served-by", "nginx"))


def nginx_path() -> str | None:
    """Where the nginx binary is, or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/bin")


def file_bytes(size: int) -> bytes:
    """The content of a served file of ``size`` bytes (below :data:`SPARSE_FROM` for tests)."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


@dataclass(frozen=True, slots=True)
class NginxServer:
    """A running nginx: its three ports as server records, and what it serves.

    ``http`` is HTTP/1.1 only; ``https`` (None without a certificate) offers h2 and
    http/1.1 by ALPN; ``h2c`` speaks HTTP/2 with prior knowledge only. ``echo`` tells
    whether ``/echo`` exists (the echo module was loaded). ``root`` is nginx's prefix.
    """

    http: Server
    https: TLSServer | None
    h2c: Server
    files: Mapping[str, int]
    echo: bool
    root: Path


def _write_files(www: Path, files: Mapping[str, int], sparse: bool) -> None:
    www.mkdir(mode=0o755, exist_ok=True)
    block = bytes(range(256)) * 4096
    for name, size in files.items():
        path = www / name
        with path.open("wb") as out:
            if sparse and size >= SPARSE_FROM:
                out.truncate(size)
            else:
                remaining = size
                while remaining:
                    piece = block[: min(len(block), remaining)]
                    out.write(piece)
                    remaining -= len(piece)
        # nginx's workers may run as an unprivileged user: they must be able to read them.
        path.chmod(0o644)


def _locations(root: Path, echo: bool) -> str:
    headers = "\n".join(f'            add_header {k} "{v}" always;' for k, v in RESPONSE_HEADERS)
    trailers = "\n".join(f'            add_trailer {k} "{v}";' for k, v in TRAILERS)
    echo_location = (
        """
        location = /echo {
            echo_read_request_body;
            echo_request_body;
        }"""
        if echo
        else ""
    )
    return f"""
        root {root}/www;
        location = /health {{ return 200 "ok"; }}
        # nginx reads and discards the body; the client still sends all of it.
        location = /upload {{ return 200 "ok"; }}
        location = /headers {{
{headers}
            return 200 "headers";
        }}
        location = /trailers {{
            alias {root}/www/1k;
{trailers}
        }}
        location = /redirect {{ return 302 /1k; }}
        location /slow/ {{ alias {root}/www/; limit_rate 64k; limit_rate_after 0; }}
        location = /fault/close {{ return 444; }}
        location = /fault/503 {{ return 503 "unavailable"; }}
        location /fault/slow/ {{ alias {root}/www/; limit_rate 1k; limit_rate_after 0; }}
{echo_location}"""


def _config(
    root: Path,
    ports: tuple[int, int, int],
    tls: tuple[Path, Path] | None,
    echo: bool,
    keepalive_requests: int = 1_000_000,
    access_log: Path | None = None,
) -> str:
    http_port, https_port, h2c_port = ports
    tls_lines = ""
    if tls is not None:
        tls_lines = f"""
        listen {HOST}:{https_port} ssl http2 backlog=4096;
        ssl_certificate {tls[0]};
        ssl_certificate_key {tls[1]};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:reqivo:1m;"""
    load = f"load_module {ECHO_MODULE};\n" if echo else ""
    log_lines = "    access_log off;"
    if access_log is not None:
        log_lines = f"""    log_format reqivo '$server_port $connection $connection_requests '
                      '$status $body_bytes_sent $request_uri';
    access_log {access_log} reqivo;"""
    # As root, nginx's workers would switch to "nobody", who cannot read pytest's private
    # temporary folders: keep them as the current user (a no-op warning for other users).
    user = ""
    if os.geteuid() == 0:
        user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};\n"
    return f"""{load}{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
{log_lines}
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_requests {keepalive_requests};
    keepalive_timeout 120s;
    client_max_body_size 0;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen {HOST}:{http_port} backlog=4096;
        listen {HOST}:{h2c_port} http2 backlog=4096;{tls_lines}
{_locations(root, echo)}    }}
}}
"""


def _three_free_ports() -> tuple[int, int, int]:
    while True:
        ports = (free_port(), free_port(), free_port())
        if len(set(ports)) == 3:
            return ports


@contextlib.contextmanager
def running_nginx(
    root: Path,
    *,
    tls: tuple[Path, Path] | None = None,
    ca_bundle: Path | None = None,
    files: Mapping[str, int] = TEST_FILES,
    sparse: bool = True,
    keepalive_requests: int = 1_000_000,
    access_log: Path | None = None,
) -> Iterator[NginxServer]:
    """Run nginx with its prefix in the folder ``root`` until the block exits.

    ``tls`` is ``(certificate chain, key)`` for the HTTPS port and ``ca_bundle`` the CA
    that issued it (recorded on ``NginxServer.https``). ``files`` are written under
    ``root/www`` (big ones sparse unless ``sparse=False``). ``keepalive_requests`` and
    ``access_log`` are described in the module docstring. Raises FileNotFoundError when
    nginx is not installed.
    """
    binary = nginx_path()
    if binary is None:
        raise FileNotFoundError(NGINX_MISSING)
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    _write_files(root / "www", files, sparse)
    echo = ECHO_MODULE.exists()
    last_error: ServerStartError | None = None
    for _ in range(5):
        ports = _three_free_ports()
        config = root / "nginx.conf"
        config.write_text(_config(root, ports, tls, echo, keepalive_requests, access_log))
        stack = contextlib.ExitStack()
        argv = [binary, "-c", str(config), "-p", str(root), "-e", str(root / "error.log")]
        try:
            started = stack.enter_context(
                running_process(
                    argv,
                    name="nginx",
                    log_path=root / "nginx.out",
                    probe=http_probe((HOST, ports[0])),
                )
            )
        except ServerStartError as exc:  # a free port was taken in between: try others
            error_log = root / "error.log"
            if error_log.exists() and "bind()" not in error_log.read_text(errors="replace"):
                raise ServerStartError(f"{exc}\n{error_log.read_text(errors='replace')}") from exc
            last_error = exc
            continue
        with stack:
            https = None
            if tls is not None:
                https = TLSServer(
                    name="nginx-https",
                    host=HOST,
                    port=ports[1],
                    started_in=started.started_in,
                    ca_bundle=str(ca_bundle or ""),
                    ssl_context=_client_context(ca_bundle),
                )
            yield NginxServer(
                http=Server("nginx-http", HOST, ports[0], started_in=started.started_in),
                https=https,
                h2c=Server("nginx-h2c", HOST, ports[2], started_in=started.started_in),
                files=dict(files),
                echo=echo,
                root=root,
            )
        return
    assert last_error is not None
    raise last_error


def _client_context(ca_bundle: Path | None) -> ssl.SSLContext | None:
    """A client context trusting ``ca_bundle`` (no ALPN: the client chooses its protocols)."""
    return None if ca_bundle is None else ssl.create_default_context(cafile=str(ca_bundle))
