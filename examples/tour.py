"""A tour of Reqivo, offline: it starts its own servers on loopback and talks to them.

    uv run python examples/tour.py

Each stop shows one layer doing its job, bottom up: the sans-IO core (reqivo-protocol)
over plain sockets; reqivo-async's AsyncSession (JSON, cookies, redirects, gzip, a
streamed download with a progress bar); reqivo-sync's Session; the ``reqivo`` command
line tool; and a WebSocket echo. The servers are the standard library's HTTP server and
a WebSocket echo server, all on 127.0.0.1, all stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from protocol_over_sockets import http_get, websocket_echo

import reqivo_protocol
from reqivo_protocol import URL, CookieJar, Headers, QueryParams
from reqivo_protocol.content import ContentDecoder, MultipartEncoder


class _Handler(http.server.BaseHTTPRequestHandler):
    """The tour's server: a few routes, enough for every client layer to show its job.

    ``/echo`` (any method) answers JSON of the request; ``/gzip`` a compressed body;
    ``/cookie`` sets a cookie; ``/redirect`` answers 302 to ``/echo``; ``/bytes/N``
    streams N bytes in 64 KiB writes; ``/status/N`` answers that status.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms ACK waits

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _answer(self) -> None:
        path = self.path
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        if path.startswith("/bytes/"):
            size = int(path.removeprefix("/bytes/"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = bytes(range(256)) * 256
            for start in range(0, size, len(block)):
                self.wfile.write(block[: min(len(block), size - start)])
            return
        if path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            self._send(code, json.dumps({"status": code}).encode())
            return
        if path.startswith("/redirect"):
            self._send(302, b"", {"Location": "/echo?redirected=1"})
            return
        body = json.dumps(
            {
                "method": self.command,
                "path": path,
                "cookie": self.headers.get("Cookie"),
                "json": json.loads(received) if received.startswith(b"{") else None,
                "hello": "from the tour",
            }
        ).encode()
        headers = {"Set-Cookie": "session=tour; Path=/; HttpOnly"}
        if path.startswith("/gzip"):
            import gzip

            body = gzip.compress(body * 50)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # the default, 5, drops concurrent connects (1 s SYN retry)
    daemon_threads = True


@contextlib.contextmanager
def http_server() -> Iterator[str]:
    """The standard library's HTTP/1.1 server on a free loopback port."""
    server = _Server(("127.0.0.1", 0), _Handler)
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
            loop.call_soon_threadsafe(done.set)  # type: ignore[union-attr]
        thread.join(10)


DOWNLOAD_SIZE = 16 * 1024 * 1024


class ProgressBar:
    """A text progress bar: redrawn in place on a terminal, printed once otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = self.drawn = time.perf_counter()
        self.live = sys.stdout.isatty()

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.done / elapsed / 1e6
        filled = int(30 * self.done / self.total)
        eta = (self.total - self.done) / (rate * 1e6) if rate else 0.0
        return (
            f"[{'#' * filled}{'.' * (30 - filled)}] {100 * self.done / self.total:3.0f}%"
            f"  {self.done / 1e6:5.1f}/{self.total / 1e6:.1f} MB  {rate:6.1f} MB/s  ETA {eta:.1f} s"
        )

    def update(self, size: int) -> None:
        self.done += size
        if self.live and time.perf_counter() - self.drawn > 0.05:
            print("\r" + self.line(), end="", flush=True)
            self.drawn = time.perf_counter()

    def close(self) -> None:
        print(("\r" if self.live else "") + self.line())


async def async_stops(base: str) -> None:
    """reqivo-async: one AsyncSession, its pool, cookies and policies, on the tour's server."""
    from reqivo_async import AsyncSession

    async with AsyncSession(base_url=base) as session:
        response = await session.get("/echo", params={"lang": "en"})
        print(f"GET:      {response.http_version} {response.status_code} {response.reason}")
        print(f"          the server saw {response.json()['path']}")
        response = await session.post("/echo", json={"name": "Ada", "languages": ["py"]})
        print(f"POST:     JSON sent, the server read {response.json()['json']}")
        response = await session.get("/echo")
        print(f"cookies:  the session kept {dict(session.cookies)};", end=" ")
        print(f"it sent Cookie: {response.json()['cookie']}")
        response = await session.get("/redirect")
        hops = [f"{r.status_code} {r.url.path}" for r in response.history]
        print(f"redirect: {hops} -> {response.status_code} {response.url.target}")
        response = await session.get("/gzip")
        encoding = response.headers["content-encoding"]
        print(f"gzip:     Content-Encoding: {encoding}, {len(response.content)} bytes decoded")
        started = time.perf_counter()
        replies = await asyncio.gather(*(session.get(f"/echo?n={i}") for i in range(20)))
        ms = (time.perf_counter() - started) * 1000
        print(f"gather:   20 concurrent GETs, {len(replies)} answers in {ms:.0f} ms")
        print(f"stream:   GET /bytes/{DOWNLOAD_SIZE}, never held whole:")
        async with session.stream("GET", f"/bytes/{DOWNLOAD_SIZE}") as response:
            bar = ProgressBar(int(response.headers["content-length"]))
            async for chunk in response.aiter_bytes():
                bar.update(len(chunk))
            bar.close()


def sync_stop(base: str) -> bool:
    """reqivo-sync: the blocking Session (when the package provides it); False if not."""
    session_class: Any = getattr(importlib.import_module("reqivo_sync"), "Session", None)
    if session_class is None:
        return False
    with session_class(base_url=base) as session:
        response = session.get("/echo", params={"from": "sync"})
        print(f"GET:      {response.status_code} {response.reason}, {response.json()['path']}")
        response = session.post("/echo", json={"blocking": True})
        print(f"POST:     the server read {response.json()['json']}")
        started = time.perf_counter()
        for _ in range(200):
            session.get("/echo")
        per_call = (time.perf_counter() - started) / 200 * 1e6
        print(f"reuse:    200 sequential GETs, one pooled connection: {per_call:.0f} us each")
        print("          (most of it is the standard library's server, a thread per connection)")
    return True


def cli_stop(base: str) -> None:
    """The ``reqivo`` command, run as a user would (its output goes to ours)."""
    env = {key: value for key, value in os.environ.items() if key != "FORCE_COLOR"}
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "download.bin")
        for args in (
            ["-v", "POST", f"{base}/echo", "name=Ada", "age:=36", "X-Tour:yes"],
            ["--check-status", "-h", f"{base}/status/404"],
            ["-o", target, "--progress", f"{base}/bytes/{DOWNLOAD_SIZE // 4}"],
            ["--timeout", "2", "http://127.0.0.1:9/"],
        ):
            shown = " ".join(a if " " not in a else repr(a) for a in args).replace(folder, "$TMP")
            print(f"$ reqivo {shown}", flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "reqivo_sync._cli", *args],
                stdin=subprocess.DEVNULL,
                stdout=sys.stdout,
                stderr=sys.stdout,
                env=env,
                timeout=30,
                check=False,
            )
            print(f"\n(exit code {done.returncode})", flush=True)


def stop(title: str) -> None:
    """Print a section title."""
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main() -> None:
    """Run every stop of the tour."""
    print(f"Reqivo {reqivo_protocol.__version__}: a tour, offline, on loopback only", flush=True)

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

        stop(f"reqivo-async: AsyncSession ({base})")
        asyncio.run(async_stops(base))

        stop(f"reqivo-sync: Session, blocking ({base})")
        if not sync_stop(base):
            print("(reqivo_sync.Session is not in this build yet: the stop is skipped)")

        stop("The reqivo command line tool")
        cli_stop(base)

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
