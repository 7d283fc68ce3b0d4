"""nghttpd (Debian package ``nghttp2-server``): the nghttp2 library's own HTTP/2 server.

Why: nghttp2 is the HTTP/2 stack of curl, Apache and many CDNs, and nghttpd's options turn
on what other servers never do by default, each a case a client must get right:

- ``window_bits`` / ``connection_window_bits``: tiny flow-control windows (2**N - 1 bytes,
  per stream / for the connection) that an upload must wait on;
- ``max_concurrent_streams=1``: a client must queue its streams;
- ``padding``: DATA and HEADERS frames padded with up to N bytes;
- ``trailers``: trailer fields after every response with a body;
- ``header_table_size=0``: the server's HPACK decoder allows no dynamic table (the client's
  encoder must send a table size update and index nothing); ``encoder_header_table_size``
  limits the server's own encoder;
- ``push``: PUSH_PROMISE offers (``{"/1k": ["/push.txt"]}``) to clients that allow push;
- ``echo_upload``: POST and PUT bodies sent back; ``no_content_length``: no Content-Length.

It serves the files of :data:`FILES` (content: :func:`servers.nginx.file_bytes`) from a
document root, over TLS (ALPN h2 only) or cleartext with prior knowledge (``tls=False``).
nghttpd cannot take a listening socket: the port is picked free just before it starts
(retried with another when taken). It starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from servers.models import Server
from servers.process import HOST, ServerStartError, free_port, running_process

__all__ = [
    "FILES",
    "NGHTTPD_MISSING",
    "NghttpdOptions",
    "nghttpd_path",
    "running_nghttpd",
    "write_docroot",
]

NGHTTPD_MISSING = (
    "nghttpd is not installed (Debian package nghttp2-server): run scripts/ci-services.sh"
)
#: Files of the document root: name -> size.
FILES: Mapping[str, int] = {"1k": 1024, "1m": 1024 * 1024, "push.txt": 64}


@dataclass(frozen=True, slots=True)
class NghttpdOptions:
    """nghttpd's switches (None / empty: nghttpd's default). Hashable: fixtures cache by it."""

    tls: bool = True
    window_bits: int | None = None
    connection_window_bits: int | None = None
    max_concurrent_streams: int | None = None
    padding: int | None = None
    trailers: tuple[tuple[str, str], ...] = ()
    header_table_size: int | None = None
    encoder_header_table_size: int | None = None
    push: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    echo_upload: bool = False
    no_content_length: bool = False

    def argv(self) -> list[str]:
        """The command-line options (without port, key and certificate)."""
        args: list[str] = []
        if not self.tls:
            args.append("--no-tls")
        for flag, value in (
            ("--window-bits", self.window_bits),
            ("--connection-window-bits", self.connection_window_bits),
            ("--max-concurrent-streams", self.max_concurrent_streams),
            ("--padding", self.padding),
            ("--header-table-size", self.header_table_size),
            ("--encoder-header-table-size", self.encoder_header_table_size),
        ):
            if value is not None:
                args.append(f"{flag}={value}")
        args += [f"--trailer={name}: {value}" for name, value in self.trailers]
        args += [f"--push={path}={','.join(pushed)}" for path, pushed in self.push]
        if self.echo_upload:
            args.append("--echo-upload")
        if self.no_content_length:
            args.append("--no-content-length")
        return args

    @property
    def label(self) -> str:
        """A short name for logs and server records, e.g. ``nghttpd-tls-w10-m1``."""
        parts = ["nghttpd", "tls" if self.tls else "h2c"]
        for short, value in (
            ("w", self.window_bits),
            ("cw", self.connection_window_bits),
            ("m", self.max_concurrent_streams),
            ("pad", self.padding),
            ("c", self.header_table_size),
            ("ec", self.encoder_header_table_size),
        ):
            if value is not None:
                parts.append(f"{short}{value}")
        parts += ["trailers"] * bool(self.trailers) + ["push"] * bool(self.push)
        parts += ["echo"] * self.echo_upload + ["nocl"] * self.no_content_length
        return "-".join(parts)


def nghttpd_path() -> str | None:
    """Where the nghttpd binary is, or None."""
    return shutil.which("nghttpd") or shutil.which("nghttpd", path="/usr/sbin:/usr/bin")


def write_docroot(directory: Path, files: Mapping[str, int] = FILES) -> Path:
    """Write the files (content :func:`servers.nginx.file_bytes`) under ``directory``."""
    from servers.nginx import file_bytes

    directory.mkdir(parents=True, exist_ok=True)
    for name, size in files.items():
        (directory / name).write_bytes(file_bytes(size))
    return directory


def _connect_probe(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_nghttpd(
    options: NghttpdOptions,
    *,
    docroot: Path,
    log_dir: Path,
    tls: tuple[Path, Path] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Server]:
    """Run nghttpd with ``options`` on 127.0.0.1 until the block exits.

    ``tls`` is ``(certificate chain, key)``, required when ``options.tls``. Yields a plain
    :class:`Server` record (the fixtures wrap TLS ones into ``TLSServer``). Raises
    FileNotFoundError when nghttpd is not installed.
    """
    binary = nghttpd_path()
    if binary is None:
        raise FileNotFoundError(NGHTTPD_MISSING)
    if options.tls and tls is None:
        raise ValueError("options.tls needs the certificate and key")
    last_error: ServerStartError | None = None
    for _ in range(5):
        port = free_port()
        argv = [binary, f"--address={HOST}", f"--htdocs={docroot}", *options.argv(), *extra_args]
        argv.append(str(port))
        if options.tls and tls is not None:
            argv += [str(tls[1]), str(tls[0])]  # nghttpd wants the key first
        stack = contextlib.ExitStack()
        try:
            started = stack.enter_context(
                running_process(
                    argv,
                    name=options.label,
                    log_path=log_dir / f"{options.label}.log",
                    probe=functools.partial(_connect_probe, port),
                )
            )
        except ServerStartError as exc:  # the free port was taken in between: try another
            last_error = exc
            continue
        with stack:
            yield Server(
                name=options.label,
                host=HOST,
                port=port,
                scheme="https" if options.tls else "http",
                started_in=started.started_in,
            )
        return
    assert last_error is not None
    raise last_error
