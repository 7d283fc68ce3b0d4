"""The docs world's server process: every host of the world on sockets the parent bound.

Run as ``python tests/docs/docs_harness/serve.py --fds HTTP,HTTPS,MTLS,WS,WSS,PROXY
--certs DIR --routes SPEC`` (see :func:`docs_harness.world.running_world`). One process,
one event loop: hypercorn serves :mod:`docs_harness.httpbin` over HTTP/1.1 (cleartext) and
over TLS (ALPN h2 and http/1.1), and again over TLS with a required client certificate;
websockets serves the echo (permessage-deflate offered, as its default); the forward proxy
of :mod:`docs_harness.proxy`. It stops on SIGTERM or when its standard input reaches end
of file (the parent died).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
import socket
import ssl
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

if __name__ == "__main__":  # run as a script: import the harness as a package, not its folder
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from docs_harness import httpbin, proxy

#: The largest message the echo server takes (a snippet may send a few MiB).
MAX_MESSAGE = 16 * 2**20


async def _echo(ws: Any) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except Exception:  # noqa: S110 - a client that vanished mid-message is not our failure
        pass


def _send_reason_phrases() -> None:
    """Put reason phrases in hypercorn's HTTP/1.1 status lines, as httpbin.org's server does.

    hypercorn writes ``HTTP/1.1 200 `` (h11's default reason is empty); the docs show
    ``response.reason``, which must read ``OK`` here too. This process serves only the world.
    """
    import h11

    send = h11.Connection.send

    def send_with_reason(self: h11.Connection, event: Any) -> bytes | None:
        if type(event) in (h11.Response, h11.InformationalResponse) and not event.reason:
            with contextlib.suppress(ValueError):
                event = type(event)(
                    status_code=event.status_code,
                    headers=list(event.headers),
                    reason=HTTPStatus(event.status_code).phrase,
                    http_version=event.http_version,
                )
        data: bytes | None = send(self, event)
        return data

    h11.Connection.send = send_with_reason  # type: ignore[method-assign, assignment]


def _hypercorn_config(certs: Path, fds: list[int], insecure: list[int], mtls: bool) -> Any:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{fd}" for fd in fds]
    config.insecure_bind = [f"fd://{fd}" for fd in insecure]
    config.certfile, config.keyfile = str(certs / "server.crt"), str(certs / "server.key")
    if mtls:
        config.ca_certs, config.verify_mode = str(certs / "ca.pem"), ssl.CERT_REQUIRED
    config.graceful_timeout = 1.0
    config.accesslog = None
    config.loglevel = "WARNING"
    return config


async def serve(fds: list[int], certs: Path, routes: proxy.Routes) -> None:
    """Serve every host until SIGTERM (or end of file on stdin)."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from websockets.asyncio.server import serve as ws_serve

    http, https, mtls, ws, wss, proxy_fd = fds
    _send_reason_phrases()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def watch_stdin() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, name="watch-parent", daemon=True).start()

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certs / "server.crt", certs / "server.key")
    echo_servers = [
        await ws_serve(_echo, sock=socket.socket(fileno=ws), max_size=MAX_MESSAGE),
        await ws_serve(_echo, sock=socket.socket(fileno=wss), ssl=tls, max_size=MAX_MESSAGE),
    ]
    forward = await asyncio.start_server(
        functools.partial(proxy.handle, routes), sock=socket.socket(fileno=proxy_fd)
    )
    app = cast(Any, httpbin.app)
    try:
        await asyncio.gather(
            hypercorn_serve(
                app, _hypercorn_config(certs, [https], [http], False), shutdown_trigger=stop.wait
            ),
            hypercorn_serve(
                app, _hypercorn_config(certs, [mtls], [], True), shutdown_trigger=stop.wait
            ),
        )
    finally:
        forward.close()
        for server in echo_servers:
            server.close()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="docs_harness/serve.py")
    parser.add_argument("--fds", required=True, help="HTTP,HTTPS,MTLS,WS,WSS,PROXY descriptors")
    parser.add_argument("--certs", required=True, type=Path)
    parser.add_argument("--routes", required=True)
    args = parser.parse_args()
    fds = [int(fd) for fd in args.fds.split(",")]
    asyncio.run(serve(fds, args.certs, proxy.parse_routes(args.routes)))


if __name__ == "__main__":
    main()
