"""A real forward proxy for the tests: tinyproxy (Debian package ``tinyproxy-bin``).

Why tinyproxy: a small C proxy that Debian maintains, doing exactly what clients meet in
the field: absolute-form HTTP forwarding (it adds ``Via`` and rewrites the request line to
origin-form), CONNECT tunnels, and ``Proxy-Authorization: Basic`` (``BasicAuth``, 407
otherwise). It starts in a few milliseconds, runs unprivileged in the foreground with a
config file we write, and needs no network. ``tinyproxy-bin`` is the executable alone (no
init script starting a system-wide daemon on install). squid does the same but starts in
seconds and wants cache folders; the PyPI proxies (proxy.py, pproxy) are Python code of
uneven upkeep and would share the test suite's interpreter quirks rather than be a peer.

tinyproxy cannot take a pre-bound socket, so the port is picked free just before it starts
and the start is retried with another port if that one was taken meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from servers.models import ProxyServer
from servers.process import HOST, ServerStartError, free_port, running_process

__all__ = ["TINYPROXY_MISSING", "running_tinyproxy", "tinyproxy_path"]

TINYPROXY_MISSING = (
    "tinyproxy is not installed (Debian package tinyproxy-bin): run scripts/ci-services.sh"
)


def tinyproxy_path() -> str | None:
    """Where the tinyproxy binary is, or None."""
    return shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/sbin:/usr/bin")


def _connect_probe(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def _config(port: int, log: Path, credentials: tuple[str, str] | None) -> str:
    lines = [
        f"Port {port}",
        f"Listen {HOST}",
        "Timeout 60",
        "MaxClients 200",
        "LogLevel Warning",
        f'LogFile "{log}"',
        f"Allow {HOST}",
        # No ConnectPort line: CONNECT is allowed to every port (our servers use random ones).
    ]
    if credentials is not None:
        lines.append(f"BasicAuth {credentials[0]} {credentials[1]}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_tinyproxy(
    directory: Path, *, name: str, credentials: tuple[str, str] | None = None
) -> Iterator[ProxyServer]:
    """Run tinyproxy on 127.0.0.1 until the block exits; raises if it is not installed."""
    binary = tinyproxy_path()
    if binary is None:
        raise FileNotFoundError(TINYPROXY_MISSING)
    last_error: ServerStartError | None = None
    for _ in range(5):
        port = free_port()
        config = directory / f"{name}.conf"
        config.write_text(_config(port, directory / f"{name}.log", credentials))
        stack = contextlib.ExitStack()
        try:
            started = stack.enter_context(
                running_process(
                    [binary, "-d", "-c", str(config)],
                    name=f"tinyproxy ({name})",
                    log_path=directory / f"{name}.out",
                    probe=functools.partial(_connect_probe, port),
                )
            )
        except ServerStartError as exc:  # the free port was taken in between: try another
            last_error = exc
            continue
        with stack:
            user, password = credentials if credentials is not None else (None, None)
            yield ProxyServer(
                name=name,
                host=HOST,
                port=port,
                started_in=started.started_in,
                username=user,
                password=password,
            )
        return
    assert last_error is not None
    raise last_error
