"""Start a private nginx on loopback for benchmarks (files of known sizes, keep-alive).

nginx is the reference server of the design brief's measurements. When it is not
installed, ``start_nginx`` raises ``NginxUnavailable`` with the command that installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Files served from the document root: name -> size in bytes.
FILES = {"1k": 1024, "64m": 64 * 1024 * 1024}


class NginxUnavailable(RuntimeError):
    """nginx is not installed on this machine."""


@dataclass(frozen=True)
class Nginx:
    """A running nginx: where it listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: Fault endpoints added by ``start_nginx(faults=True)`` (used by the soak, ``soak.py``):
#: ``/fault/close`` closes the connection without a response (nginx's ``return 444``),
#: ``/fault/503`` answers 503, ``/fault/slow/<file>`` sends a file at 1 KiB/s.
_FAULTS = """
        location = /fault/close {{ return 444; }}
        location = /fault/503 {{ return 503 "unavailable"; }}
        location /fault/slow/ {{ alias {root}/www/; limit_rate 1k; limit_rate_after 0; }}
"""


def _config(root: Path, port: int, faults: bool = False) -> str:
    extra = _FAULTS.format(root=root) if faults else ""
    return f"""
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_requests 1000000;
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
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;
        # nginx reads and discards the body; the client still sends all of it.
        location = /upload {{ return 200 "ok"; }}
{extra}    }}
}}
"""


@contextlib.contextmanager
def start_nginx(*, faults: bool = False) -> Iterator[Nginx]:
    """Run nginx on a free loopback port for the duration of the ``with`` block.

    ``faults=True`` adds the fault endpoints of ``_FAULTS`` (abrupt close, 503, slow body).
    """
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if binary is None:
        raise NginxUnavailable("nginx is not installed (apt-get install -y nginx-light)")
    with tempfile.TemporaryDirectory(prefix="reqivo-nginx-") as tmp:
        root = Path(tmp)
        # nginx's workers run as an unprivileged user: they must be able to read the files.
        root.chmod(0o755)
        (root / "www").mkdir(mode=0o755)
        for name, size in FILES.items():
            with open(root / "www" / name, "wb") as out:
                block = bytes(range(256)) * 4096
                remaining = size
                while remaining:
                    piece = block[: min(len(block), remaining)]
                    out.write(piece)
                    remaining -= len(piece)
            (root / "www" / name).chmod(0o644)
        port = _free_port()
        (root / "nginx.conf").write_text(_config(root, port, faults))
        process = subprocess.Popen(
            [
                binary,
                "-c",
                str(root / "nginx.conf"),
                "-p",
                str(root),
                "-e",
                str(root / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "error.log").read_text() if (root / "error.log").exists() else ""
                    raise NginxUnavailable(f"nginx did not start: {log}")
                time.sleep(0.02)
            yield Nginx("127.0.0.1", port)
        finally:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
