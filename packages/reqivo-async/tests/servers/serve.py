"""Child-process entry point: serve :data:`servers.app.app` on an inherited listening socket.

Run as ``python -m servers.serve KIND --fd N [--certfile C --keyfile K] [--client-ca CA]
[--legacy-tls]`` with ``KIND`` one of :data:`KINDS` (hypercorn: TLS with ALPN h2 and
http/1.1, with or without a client CA, no legacy TLS; on cleartext it also takes h2 prior
knowledge).
The parent (:mod:`servers.process`) binds the socket, so the port is known before the
child starts and no port race exists. SIGTERM stops the server (graceful, at most one
second). With ``--watch-stdin`` the server also stops when its standard input reaches end
of file: the parent holds the other end of that pipe, so a test run that dies without
teardown (SIGKILL) leaves no server behind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import ssl
import sys
import threading
import warnings
from typing import Any, Literal, cast

from servers.app import app

__all__ = ["KINDS", "Kind", "main", "server_context"]

Kind = Literal["uvicorn-h11", "uvicorn-httptools", "hypercorn"]
KINDS: tuple[Kind, ...] = ("uvicorn-h11", "uvicorn-httptools", "hypercorn")


def server_context(
    certfile: str, keyfile: str, *, client_ca: str | None = None, legacy_tls: bool = False
) -> ssl.SSLContext:
    """The server-side TLS context: mTLS when ``client_ca``, only TLS 1.0/1.1 when legacy."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(["http/1.1"])
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    if legacy_tls:
        # OpenSSL 3 refuses TLS < 1.2 at security level 1 and above.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # deprecated on purpose: this server is the bad peer
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


def _run_uvicorn(kind: Kind, sock: socket.socket, context: ssl.SSLContext | None) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        http="h11" if kind == "uvicorn-h11" else "httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=1,
    )
    config.load()
    if context is not None:
        config.ssl = context  # after load(): uvicorn then wraps the socket with our context
    uvicorn.Server(config).run(sockets=[sock])


async def _run_hypercorn(
    fd: int, certfile: str | None, keyfile: str | None, client_ca: str | None
) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{fd}"]
    # With a certificate hypercorn offers h2 and http/1.1 by ALPN (its default list); on
    # cleartext it speaks HTTP/1.1 and HTTP/2 with prior knowledge (and h2c upgrade).
    config.certfile, config.keyfile = certfile, keyfile
    if client_ca is not None:
        config.ca_certs, config.verify_mode = client_ca, ssl.CERT_REQUIRED
    config.graceful_timeout = 1.0
    config.accesslog = None
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await serve(cast(Any, app), config, shutdown_trigger=stop.wait)


def _stop_on_stdin_eof() -> None:
    def watch() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the parent closed it or died
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m servers.serve")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--client-ca")
    parser.add_argument("--legacy-tls", action="store_true")
    parser.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args(argv)
    if args.watch_stdin:
        _stop_on_stdin_eof()
    kind = cast(Kind, args.kind)
    if kind == "hypercorn":
        if args.legacy_tls:
            parser.error("legacy TLS is served by uvicorn only")
        asyncio.run(_run_hypercorn(args.fd, args.certfile, args.keyfile, args.client_ca))
        return
    context = None
    if args.certfile:
        context = server_context(
            args.certfile, args.keyfile, client_ca=args.client_ca, legacy_tls=args.legacy_tls
        )
    _run_uvicorn(kind, socket.socket(fileno=args.fd), context)


if __name__ == "__main__":
    main()
