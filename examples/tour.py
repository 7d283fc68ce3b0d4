"""A tour of Reqivo, offline: it starts its own servers on loopback and talks to them.

    uv run python examples/tour.py

Each stop shows one layer doing its job. The tour grows with the project: today it
drives the sans-IO core (reqivo-protocol) over plain sockets, against the standard
library's HTTP server and a WebSocket echo server.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from protocol_over_sockets import http_get, websocket_echo

import reqivo_protocol
from reqivo_protocol import URL, CookieJar, Headers, QueryParams
from reqivo_protocol.content import ContentDecoder, MultipartEncoder


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "hello": "from the tour"}).encode()
        if self.path.startswith("/gzip"):
            import gzip

            body = gzip.compress(body * 50)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/gzip"):
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Set-Cookie", "session=tour; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    """The standard library's HTTP/1.1 server on a free loopback port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def websocket_server() -> Iterator[str | None]:
    """A WebSocket echo server (the websockets library, when installed)."""
    try:
        from websockets.asyncio.server import serve
    except ImportError:
        yield None
        return
    ready = threading.Event()
    stop: list[asyncio.AbstractEventLoop | asyncio.Event] = []
    url: list[str] = []

    async def main() -> None:
        async def echo(connection: object) -> None:
            async for message in connection:  # type: ignore[attr-defined]
                await connection.send(message)  # type: ignore[attr-defined]

        done = asyncio.Event()
        async with serve(echo, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url.append(f"ws://127.0.0.1:{port}/echo")
            stop.extend([asyncio.get_running_loop(), done])
            ready.set()
            await done.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield url[0] if url else None
    finally:
        if stop:
            loop, done = stop
            loop.call_soon_threadsafe(done.set)  # type: ignore[union-attr, arg-type]
        thread.join(10)


def stop(title: str) -> None:
    """Print a section title."""
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main() -> None:
    """Run every stop of the tour."""
    print(f"Reqivo {reqivo_protocol.__version__}: a tour, offline, on loopback only")

    stop("URLs, query parameters and headers (reqivo_protocol)")
    url = URL("http://user:secret@Example.COM:80/a b/../search").copy_merge_params(
        {"q": "sans-io", "page": 2}
    )
    print(f"URL:      {url!r}")
    print(f"target:   {url.target}   origin: {url.origin}")
    print(f"joined:   {url.join('../docs?x=1#top')}")
    print(f"params:   {QueryParams('a=1&b=2&a=3').get_list('a')}")
    headers = Headers([("Accept", "*/*"), ("Authorization", "Bearer s3cr3t")])
    print(f"headers:  {headers!r}  (credentials hidden)")

    with http_server() as base:
        stop(f"HTTP/1.1 over a plain socket, sans-IO ({base})")
        response, body = http_get(f"{base}/hello?lang=en")
        print(f"{response.http_version} {response.status_code} {response.reason}")
        print(f"body:     {body.decode()}")
        jar = CookieJar()
        jar.set_from_response(URL(base), response.headers.get_list("set-cookie"), now=0.0)
        print(f"cookies:  the next request sends Cookie: {jar.header_for(URL(base), now=1.0)}")

        response, body = http_get(f"{base}/gzip")
        decoder = ContentDecoder.for_encoding(response.headers.get("content-encoding"))
        text = decoder.decode(body) + decoder.flush()
        print(f"gzip:     {len(body)} bytes on the wire, {len(text)} decoded")

    stop("A streaming multipart body, never held whole")
    with Path(__file__).open("rb") as source:
        encoder = MultipartEncoder(
            {"note": "hello"}, {"file": ("tour.py", source, "text/x-python")}
        )
        chunks = list(encoder)
    print(f"{encoder.content_type}")
    print(
        f"{len(chunks)} chunks, {sum(map(len, chunks))} bytes"
        f" = content_length {encoder.content_length}"
    )

    with websocket_server() as ws_url:
        if ws_url is None:
            print("\n(websockets is not installed: the WebSocket stop is skipped)")
        else:
            stop(f"WebSocket over a plain socket, sans-IO ({ws_url})")
            replies = websocket_echo(ws_url, ["hello", "wörld", "x" * 10_000])
            print(f"echoed:   {[r[:12] + ('…' if len(r) > 12 else '') for r in replies]}")

    stop("Done")
    print("Every server above ran on 127.0.0.1 and is stopped; nothing is left running.")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
    _ = socket  # the tour uses sockets through protocol_over_sockets
