"""Start and stop real servers in child processes, and wait until they answer.

ASGI servers get a listening socket that the parent bound to 127.0.0.1 port 0 and passes
down (``pass_fds``): the port is known at once and cannot be taken by anyone else. The
parent then polls the port with a real request (``GET /health``, over TLS when the server
speaks it) until it answers: no sleeps. Output of the child goes to a log file (never a
pipe, which could fill up and block the server); its tail is shown when a start fails.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOST",
    "ServerStartError",
    "free_port",
    "http_probe",
    "running_asgi_server",
    "running_process",
]

HOST = "127.0.0.1"
#: The folder that holds the ``servers`` package (put on the child's PYTHONPATH).
TESTS_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0


class ServerStartError(RuntimeError):
    """A test server did not come up; the message holds the tail of its log."""


@dataclass(slots=True)
class StartedProcess:
    """A running child process and where its output goes."""

    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float  # seconds from spawn to the first successful probe

    def log_tail(self, limit: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot take a socket)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _connect(address: tuple[str, int] | str) -> socket.socket:
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(1.0)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock
    return socket.create_connection(address, timeout=1.0)


def http_probe(
    address: tuple[str, int] | str,
    context: ssl.SSLContext | None = None,
    server_hostname: str = HOST,
) -> Callable[[], bool]:
    """A readiness check: ``GET /health`` answered by 200 (over TLS with ``context``).

    ``address`` is ``(host, port)`` or the path of a Unix socket. Returns False while the
    server is not there yet; TLS errors are raised at once because a server that is up but
    refuses the handshake will never become ready.
    """

    def probe() -> bool:
        try:
            with _connect(address) as raw:
                conn: socket.socket = raw
                if context is not None:
                    conn = context.wrap_socket(raw, server_hostname=server_hostname)
                with conn:
                    conn.sendall(
                        b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
                    )
                    data = b""
                    while b"\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    return data.startswith(b"HTTP/1.1 200")
        except ssl.SSLError:
            raise
        except OSError:
            return False

    return probe


def _wait_ready(started: StartedProcess, probe: Callable[[], bool], name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if started.process.poll() is not None:
            raise ServerStartError(
                f"{name} exited with {started.process.returncode} before answering:\n"
                + started.log_tail()
            )
        try:
            if probe():
                return
        except ssl.SSLError as exc:
            raise ServerStartError(f"{name} refused the TLS handshake: {exc}") from exc
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"{name} did not answer within {START_TIMEOUT} s:\n" + started.log_tail()
            )
        time.sleep(0.005)  # only reached when the probe failed fast (refused, reset)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_process(
    argv: Sequence[str],
    *,
    name: str,
    log_path: Path,
    probe: Callable[[], bool],
    pass_fds: Sequence[int] = (),
    before_wait: Callable[[], None] | None = None,
    stdin_pipe: bool = False,
) -> Iterator[StartedProcess]:
    """Run ``argv`` until the block exits; yield once ``probe()`` succeeds.

    The child is terminated (SIGTERM, then SIGKILL after 5 s) and reaped at exit, and its
    log file closed, whatever happens. With ``stdin_pipe`` the child's standard input is a
    pipe that closes when the test process ends, however it ends (see ``--watch-stdin``).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    env.pop("COVERAGE_PROCESS_START", None)
    begin = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=tuple(pass_fds),
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the child
        )
    started = StartedProcess(process, log_path, 0.0)
    try:
        if before_wait is not None:
            before_wait()
        _wait_ready(started, probe, name)
        started.started_in = time.perf_counter() - begin
        yield started
    finally:
        if process.stdin is not None:
            process.stdin.close()
        _stop(process)


@contextlib.contextmanager
def running_asgi_server(
    kind: str,
    *,
    log_path: Path,
    tls_args: Sequence[str] = (),
    client_context: ssl.SSLContext | None = None,
    unix_path: Path | None = None,
) -> Iterator[tuple[int, StartedProcess]]:
    """Serve the test app with ``kind`` (see :data:`servers.serve.KINDS`) on a fresh port.

    ``tls_args`` are ``serve``'s TLS options; ``client_context`` is then what the readiness
    probe connects with. With ``unix_path`` it listens on that Unix socket instead (port 0).
    Yields the port and the started process.
    """
    address: tuple[str, int] | str
    if unix_path is None:
        sock = socket.create_server((HOST, 0), backlog=512)
        port: int = sock.getsockname()[1]
        address = (HOST, port)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(unix_path))
        sock.listen(512)
        port, address = 0, str(unix_path)
    argv = [sys.executable, "-m", "servers.serve", kind, "--fd", str(sock.fileno())]
    argv += ["--watch-stdin", *tls_args]
    with (
        sock,
        running_process(
            argv,
            name=kind,
            log_path=log_path,
            probe=http_probe(address, client_context),
            pass_fds=[sock.fileno()],
            before_wait=sock.close,  # only the child keeps the listening socket
            stdin_pipe=True,
        ) as started,
    ):
        yield port, started
