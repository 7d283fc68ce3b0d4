"""Capture real HTTP/1.1 response byte streams as fixtures for reqivo-protocol's parser.

Run by hand (never in CI), from the repository root, after installing nginx
(``apt-get install -y nginx``; uvicorn, httptools, hypercorn and h11 come with the dev
dependencies)::

    uv run python scripts/capture_responses.py            # every server
    uv run python scripts/capture_responses.py --only nginx --only hypercorn

What it does:

* starts each server bound to 127.0.0.1 on a free port: nginx (its config and document
  root are written to a temporary directory, never /etc), uvicorn with its h11 parser,
  uvicorn with its httptools parser, and hypercorn, the last three serving the small
  ASGI ``app`` defined in this file; every server is stopped before the script exits;
* for each scenario, opens a raw TCP socket, sends the exact request bytes (with pauses
  where the scenario needs them, e.g. ``Expect: 100-continue``), and reads until the
  expected responses are complete, then until the server closes the connection (when
  the last response says so) or a short idle timeout;
* parses what it received with h11 (``h11.Connection(h11.CLIENT)``), independently of
  reqivo, and checks the scenario's own claims (e.g. "this one really is chunked");
* writes ``packages/reqivo-protocol/tests/captures/<server>-<scenario>.bin`` (the raw
  bytes received) and ``.json`` (metadata and the expected parse results).

JSON fields: ``server``, ``server_version``, ``scenario``, ``description``,
``request_bytes`` (the exact bytes sent, as a Latin-1 string), ``requests`` (method,
target, headers, body and HTTP version of every request, in order: what a parser must be
told it sent), ``server_closed`` (the capture ends with the server closing the
connection) and ``responses``: for each final response, ``informational`` (the 1xx
responses before it), ``status_code``, ``reason``, ``http_version``, ``headers`` (every
field in wire order, original case), ``body_length`` and ``body_sha256`` (of the body
with the transfer coding removed and the content coding kept), ``trailers`` and
``reusable`` (the connection may carry another request after this response) and
``wire_end`` (the offset in the ``.bin`` just past this response's last byte).

Not captured: 103 Early Hints (nginx 1.22 has no ``early_hints``; uvicorn and hypercorn
offer the ASGI early-hint and trailer extensions over HTTP/2 only), so chunked trailers
come from nginx's ``add_trailer``; 101 upgrades are out of scope.

Fixtures carry real ``Date``/``ETag``/``Last-Modified`` values, so a re-run changes them;
commit a re-run only on purpose (e.g. a new server version or a new scenario).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import importlib.metadata
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
OUT_DIR = REPO / "packages" / "reqivo-protocol" / "tests" / "captures"
HOST = "reqivo.test"

# --------------------------------------------------------------------------------------
# The ASGI application served by uvicorn and hypercorn
# --------------------------------------------------------------------------------------

FIXED_BODY = b"Hello from the reqivo capture app.\n" * 30  # 1050 bytes
STREAM_PARTS = [b"first part\n", b"", b"x" * 3000 + b"\n", b"last part\n"]
ECHO_PREFIX = b"received "


async def _read_body(receive: Callable[[], Any]) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return bytes(body)


async def app(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[..., Any]) -> None:
    """A small ASGI app with one route per response shape the fixtures need."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    text = [(b"content-type", b"text/plain; charset=utf-8")]

    async def respond(status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    if path == "/fixed":
        await respond(200, [*text, (b"content-length", str(len(FIXED_BODY)).encode())], FIXED_BODY)
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": text})
        for part in STREAM_PARTS:
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/no-content":
        await respond(204, [(b"x-reason", b"nothing to say")])
    elif path == "/not-modified":
        await respond(304, [(b"etag", b'"v1"'), (b"cache-control", b"max-age=60")])
    elif path == "/echo":
        body = await _read_body(receive)
        reply = ECHO_PREFIX + str(len(body)).encode() + b" bytes, sha256 "
        reply += hashlib.sha256(body).hexdigest().encode() + b"\n"
        await respond(200, [*text, (b"content-length", str(len(reply)).encode())], reply)
    elif path == "/many-headers":
        headers = [*text, (b"content-length", b"3")]
        headers += [(b"x-many-%02d" % i, b"value-%02d-" % i + b"v" * 60) for i in range(60)]
        await respond(200, headers, b"ok\n")
    elif path == "/cookies":
        headers = [
            *text,
            (b"content-length", b"3"),
            (b"set-cookie", b"session=abc123; Path=/; HttpOnly"),
            (b"set-cookie", b"theme=dark; Max-Age=3600; Path=/"),
            (b"set-cookie", b"expires=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/"),
        ]
        await respond(200, headers, b"ok\n")
    elif path == "/redirect":
        await respond(302, [(b"location", b"/fixed"), (b"content-length", b"0")])
    elif path == "/status-599":
        await respond(599, [*text, (b"content-length", b"15")], b"unknown status\n")
    else:
        await respond(404, [*text, (b"content-length", b"10")], b"not found\n")


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One request: what goes on the wire and what a parser must be told it sent."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    http_version: str = "1.1"

    def all_headers(self) -> list[tuple[str, str]]:
        return [("Host", HOST), *self.headers]

    def head_bytes(self) -> bytes:
        lines = [f"{self.method} {self.target} HTTP/{self.http_version}"]
        lines += [f"{name}: {value}" for name, value in self.all_headers()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def wire(self) -> bytes:
        return self.head_bytes() + self.body


@dataclass(frozen=True)
class Pause:
    """Wait, collecting whatever the server sends meanwhile."""

    seconds: float


@dataclass(frozen=True)
class Await:
    """Read until this many final responses are complete."""

    responses: int


Step = bytes | Pause | Await
Check = Callable[[list[dict[str, Any]], bool], None]


@dataclass
class Scenario:
    name: str
    description: str
    requests: list[Req]
    steps: list[Step] | None = None  # default: every request sent at once
    responses: int | None = None  # default: one per request
    checks: list[Check] = field(default_factory=list)
    raw_request: bytes | None = None  # send these bytes instead of the requests' own

    def plan(self) -> list[Step]:
        if self.steps is not None:
            return self.steps
        if self.raw_request is not None:
            return [self.raw_request]
        return [b"".join(r.wire() for r in self.requests)]

    def expected_count(self) -> int:
        return len(self.requests) if self.responses is None else self.responses


def _header(resp: dict[str, Any], name: str) -> list[str]:
    return [v for n, v in resp["headers"] if n.lower() == name]


def status(*codes: int) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        got = [r["status_code"] for r in results]
        assert got == list(codes), f"statuses {got} != {list(codes)}"

    return check


def chunked(index: int = 0) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        te = _header(results[index], "transfer-encoding")
        assert te == ["chunked"], f"response {index} is not chunked: {te}"

    return check


def close_delimited(index: int = 0) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        resp = results[index]
        assert not _header(resp, "transfer-encoding"), "unexpected Transfer-Encoding"
        assert not _header(resp, "content-length"), "unexpected Content-Length"
        assert closed, "server did not close"

    return check


def reusable(*flags: bool) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        got = [r["reusable"] for r in results]
        assert got == list(flags), f"reusable {got} != {list(flags)}"

    return check


def body_is(index: int, data: bytes, *, gzipped: bool = False) -> Check:
    digest = hashlib.sha256(data).hexdigest()

    def check(results: list[dict[str, Any]], closed: bool) -> None:
        resp = results[index]
        if gzipped:
            assert _header(resp, "content-encoding") == ["gzip"], "not gzip-encoded"
            body = gzip.decompress(resp["_body"])
            assert body == data, "gzip body does not decompress to the served file"
        else:
            assert resp["body_sha256"] == digest, f"body of response {index} differs"

    return check


def informational(index: int, *codes: int) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        got = [i["status_code"] for i in results[index]["informational"]]
        assert got == list(codes), f"informational {got} != {list(codes)}"

    return check


def has_trailers(index: int = 0) -> Check:
    def check(results: list[dict[str, Any]], closed: bool) -> None:
        assert results[index]["trailers"], "no trailers"

    return check


KIB_FILE = b"".join(b"%-31s\n" % (b"line %02d of the 1 KiB file" % i) for i in range(32))
MIB_FILE = bytes(range(256)) * 4096
LOREM = (
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    b"incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam.\n"
) * 40

GET = "GET"
HEAD = "HEAD"
POST = "POST"
GZ = (("Accept-Encoding", "gzip"),)
CLOSE = (("Connection", "close"),)


def nginx_scenarios(etag: str, last_modified: str) -> list[Scenario]:
    """Scenarios against the nginx config written by ``NginxServer``."""
    pipelined = [Req(GET, "/1k.txt"), Req(HEAD, "/1k.txt"), Req(GET, "/empty.txt")]
    seq = [Req(GET, "/1k.txt"), Req(GET, "/redirect"), Req(GET, "/missing")]
    body = b"body sent after 100-continue\n"
    expect = Req(
        POST,
        "/echo",
        (("Content-Length", str(len(body))), ("Expect", "100-continue")),
        body,
    )
    return [
        Scenario(
            "static-1k",
            "1 KiB static file, Content-Length",
            [Req(GET, "/1k.txt")],
            checks=[status(200), body_is(0, KIB_FILE), reusable(True)],
        ),
        Scenario(
            "static-empty",
            "0-byte static file",
            [Req(GET, "/empty.txt")],
            checks=[status(200), body_is(0, b"")],
        ),
        Scenario(
            "static-1m",
            "1 MiB static file (sendfile)",
            [Req(GET, "/1m.bin")],
            checks=[status(200), body_is(0, MIB_FILE)],
        ),
        Scenario(
            "head",
            "HEAD of the 1 KiB file: Content-Length 1024, no body",
            [Req(HEAD, "/1k.txt")],
            checks=[status(200), body_is(0, b"")],
        ),
        Scenario(
            "not-modified-etag",
            "304 for If-None-Match",
            [Req(GET, "/1k.txt", (("If-None-Match", etag),))],
            checks=[status(304)],
        ),
        Scenario(
            "not-modified-since",
            "304 for If-Modified-Since",
            [Req(GET, "/1k.txt", (("If-Modified-Since", last_modified),))],
            checks=[status(304)],
        ),
        Scenario(
            "range-206",
            "206 Partial Content for a byte range",
            [Req(GET, "/1k.txt", (("Range", "bytes=100-199"),))],
            checks=[status(206), body_is(0, KIB_FILE[100:200])],
        ),
        Scenario(
            "multi-range-206",
            "206 multipart/byteranges for two ranges",
            [Req(GET, "/1k.txt", (("Range", "bytes=0-9,100-109"),))],
            checks=[status(206)],
        ),
        Scenario(
            "not-found-404", "nginx's own 404 page", [Req(GET, "/missing")], checks=[status(404)]
        ),
        Scenario(
            "gzip-chunked",
            "dynamic gzip of a text file: chunked, content-coding gzip",
            [Req(GET, "/lorem.txt", GZ)],
            checks=[status(200), chunked(), body_is(0, LOREM, gzipped=True)],
        ),
        Scenario(
            "gzip-trailers",
            "dynamic gzip, chunked, with add_trailer trailer fields",
            [Req(GET, "/trailer/lorem.txt", GZ)],
            checks=[status(200), chunked(), has_trailers(), body_is(0, LOREM, gzipped=True)],
        ),
        Scenario(
            "autoindex-chunked",
            "autoindex directory listing: chunked, no content-coding",
            [Req(GET, "/dir/")],
            checks=[status(200), chunked()],
        ),
        Scenario(
            "redirect-301",
            "return 301 with nginx's HTML body",
            [Req(GET, "/redirect")],
            checks=[status(301)],
        ),
        Scenario(
            "no-content-204",
            "return 204",
            [Req(GET, "/no-content")],
            checks=[status(204), body_is(0, b"")],
        ),
        Scenario(
            "status-599",
            "return 599: a status nginx has no reason phrase for",
            [Req(GET, "/status-599")],
            checks=[status(599)],
        ),
        Scenario(
            "large-headers",
            "40 add_header fields plus three Set-Cookie",
            [Req(GET, "/headers/1k.txt")],
            checks=[status(200), body_is(0, KIB_FILE)],
        ),
        Scenario(
            "keepalive-pipelined",
            "GET, HEAD, GET pipelined on one connection",
            pipelined,
            checks=[
                status(200, 200, 200),
                reusable(True, True, True),
                body_is(0, KIB_FILE),
                body_is(1, b""),
                body_is(2, b""),
            ],
        ),
        Scenario(
            "keepalive-sequential",
            "GET 200, GET 301, GET 404 one after another",
            seq,
            steps=[seq[0].wire(), Await(1), seq[1].wire(), Await(2), seq[2].wire()],
            checks=[status(200, 301, 404), reusable(True, True, True)],
        ),
        Scenario(
            "keepalive-max-requests",
            "keepalive_requests 2: 3 pipelined requests, the 2nd response closes",
            [Req(GET, "/ka2/1k.txt"), Req(GET, "/ka2/1k.txt"), Req(GET, "/ka2/1k.txt")],
            responses=2,
            checks=[status(200, 200), reusable(True, False)],
        ),
        Scenario(
            "connection-close",
            "request with Connection: close",
            [Req(GET, "/1k.txt", CLOSE)],
            checks=[status(200), reusable(False)],
        ),
        Scenario(
            "http10",
            "HTTP/1.0 request: HTTP/1.1 response with Connection: close",
            [Req(GET, "/1k.txt", http_version="1.0")],
            checks=[status(200), reusable(False), body_is(0, KIB_FILE)],
        ),
        Scenario(
            "http10-gzip-close-delimited",
            "HTTP/1.0 request with gzip: body delimited by the connection close",
            [Req(GET, "/lorem.txt", GZ, http_version="1.0")],
            checks=[status(200), close_delimited(), body_is(0, LOREM, gzipped=True)],
        ),
        Scenario(
            "expect-100-continue",
            "POST with Expect: 100-continue, body sent after a 1 s pause",
            [expect],
            steps=[expect.head_bytes(), Pause(1.0), expect.body],
            checks=[status(200)],
        ),
        Scenario(
            "bad-request-400",
            "a malformed request line: 400 and close",
            [Req(GET, "/")],
            raw_request=b"GET /\x01 nonsense\r\n\r\n",
            checks=[status(400), reusable(False)],
        ),
    ]


def asgi_scenarios() -> list[Scenario]:
    """Scenarios against ``app`` (uvicorn and hypercorn)."""
    pipelined = [
        Req(GET, "/fixed"),
        Req(GET, "/stream"),
        Req(HEAD, "/fixed"),
        Req(GET, "/no-content"),
        Req(GET, "/cookies"),
    ]
    seq = [Req(GET, "/fixed"), Req(GET, "/redirect"), Req(GET, "/not-modified")]
    body = b"The request body, sent only after the interim response.\n" * 4
    expect = Req(
        POST,
        "/echo",
        (("Content-Length", str(len(body))), ("Expect", "100-continue")),
        body,
    )
    stream_body = b"".join(STREAM_PARTS)
    return [
        Scenario(
            "fixed",
            "Content-Length body",
            [Req(GET, "/fixed")],
            checks=[status(200), body_is(0, FIXED_BODY), reusable(True)],
        ),
        Scenario(
            "stream-chunked",
            "streamed body without Content-Length: chunked",
            [Req(GET, "/stream")],
            checks=[status(200), chunked(), body_is(0, stream_body)],
        ),
        Scenario(
            "no-content-204",
            "204, no body",
            [Req(GET, "/no-content")],
            checks=[status(204), body_is(0, b"")],
        ),
        Scenario(
            "not-modified-304",
            "304 with ETag",
            [Req(GET, "/not-modified", (("If-None-Match", '"v1"'),))],
            checks=[status(304), body_is(0, b"")],
        ),
        Scenario(
            "head-fixed",
            "HEAD: Content-Length, no body",
            [Req(HEAD, "/fixed")],
            checks=[status(200), body_is(0, b"")],
        ),
        Scenario(
            "head-stream",
            "HEAD of a streamed route",
            [Req(HEAD, "/stream")],
            checks=[status(200), body_is(0, b"")],
        ),
        Scenario(
            "expect-100-continue",
            "POST with Expect: 100-continue, body sent after a 1 s pause",
            [expect],
            steps=[expect.head_bytes(), Pause(1.0), expect.body],
            checks=[status(200), informational(0, 100)],
        ),
        Scenario(
            "many-headers",
            "60 extra header fields",
            [Req(GET, "/many-headers")],
            checks=[status(200)],
        ),
        Scenario(
            "set-cookie", "three Set-Cookie fields", [Req(GET, "/cookies")], checks=[status(200)]
        ),
        Scenario(
            "redirect-302",
            "302 with Location and empty body",
            [Req(GET, "/redirect")],
            checks=[status(302)],
        ),
        Scenario(
            "status-599",
            "a status code without a standard reason phrase",
            [Req(GET, "/status-599")],
            checks=[status(599)],
        ),
        Scenario(
            "keepalive-pipelined",
            "five requests pipelined on one connection",
            pipelined,
            checks=[
                status(200, 200, 200, 204, 200),
                reusable(True, True, True, True, True),
                body_is(1, stream_body),
                body_is(2, b""),
            ],
        ),
        Scenario(
            "keepalive-sequential",
            "200, 302, 304 one after another",
            seq,
            steps=[seq[0].wire(), Await(1), seq[1].wire(), Await(2), seq[2].wire()],
            checks=[status(200, 302, 304), reusable(True, True, True)],
        ),
        Scenario(
            "connection-close",
            "streamed response to a Connection: close request",
            [Req(GET, "/stream", CLOSE)],
            checks=[status(200), reusable(False), body_is(0, stream_body)],
        ),
        Scenario(
            "http10-stream",
            "HTTP/1.0 request for a streamed body",
            [Req(GET, "/stream", http_version="1.0")],
            checks=[status(200), reusable(False), body_is(0, stream_body)],
        ),
    ]


# --------------------------------------------------------------------------------------
# Independent verification with h11
# --------------------------------------------------------------------------------------


def _pairs(headers: Any) -> list[list[str]]:
    return [[n.decode("latin-1"), v.decode("latin-1")] for n, v in headers.raw_items()]


def h11_parse(
    data: bytes, requests: list[Req], count: int, eof: bool
) -> tuple[list[dict[str, Any]], bool]:
    """Parse ``data`` as the responses to ``requests``; return (complete responses, closed).

    ``closed`` is true when h11 saw the connection close after the last response.
    """
    import h11

    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=1 << 20)
    if data:  # h11 takes b"" as the end of the stream
        conn.receive_data(data)
    if eof:
        conn.receive_data(b"")
    results: list[dict[str, Any]] = []
    for req in requests[:count]:
        headers = req.all_headers()
        conn.send(h11.Request(method=req.method, target=req.target, headers=headers))
        if req.body:
            conn.send(h11.Data(data=req.body))
        conn.send(h11.EndOfMessage())
        resp: dict[str, Any] = {"informational": []}
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return results, False
            if isinstance(event, h11.InformationalResponse):
                resp["informational"].append(
                    {
                        "status_code": event.status_code,
                        "reason": event.reason.decode("latin-1"),
                        "http_version": event.http_version.decode("ascii"),
                        "headers": _pairs(event.headers),
                    }
                )
            elif isinstance(event, h11.Response):
                resp.update(
                    status_code=event.status_code,
                    reason=event.reason.decode("latin-1"),
                    http_version=event.http_version.decode("ascii"),
                    headers=_pairs(event.headers),
                )
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                resp["trailers"] = _pairs(event.headers)
                resp["wire_end"] = len(data) - len(conn.trailing_data[0])
                break
            else:
                raise AssertionError(f"unexpected h11 event {event!r}")
        resp["body_length"] = len(body)
        resp["body_sha256"] = hashlib.sha256(body).hexdigest()
        resp["_body"] = bytes(body)
        resp["reusable"] = conn.our_state is h11.DONE and conn.their_state is h11.DONE
        results.append(resp)
        if resp["reusable"]:
            conn.start_next_cycle()
        else:
            break
    if len(results) < count:
        return results, False
    closed = False
    if eof:
        event = conn.next_event()
        if isinstance(event, h11.ConnectionClosed):
            closed = True
        else:
            raise AssertionError(f"unexpected trailing event {event!r}")
    else:
        trailing, _ = conn.trailing_data
        assert not trailing, f"unexpected trailing bytes {bytes(trailing[:80])!r}"
    return results, closed


# --------------------------------------------------------------------------------------
# The raw socket client
# --------------------------------------------------------------------------------------


def exchange(port: int, scenario: Scenario) -> tuple[bytes, bool]:
    """Run the scenario's steps over one connection; return (bytes received, EOF seen)."""
    received = bytearray()
    eof = False
    count = scenario.expected_count()

    def complete(n: int) -> Callable[[], bool]:
        def done() -> bool:
            return len(h11_parse(bytes(received), scenario.requests, n, False)[0]) >= n

        return done

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:

        def read_until(done: Callable[[], bool], seconds: float) -> None:
            nonlocal eof
            deadline = time.monotonic() + seconds
            while not eof and not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                sock.settimeout(remaining)
                try:
                    chunk = sock.recv(1 << 16)
                except TimeoutError:
                    return
                except ConnectionResetError:
                    eof = True
                    return
                if chunk:
                    received.extend(chunk)
                else:
                    eof = True

        for step in scenario.plan():
            if isinstance(step, bytes):
                sock.sendall(step)
            elif isinstance(step, Pause):
                read_until(lambda: False, step.seconds)
            else:
                read_until(complete(step.responses), 10)
        read_until(complete(count), 10)
        results, _ = h11_parse(bytes(received), scenario.requests, count, False)
        if len(results) == count and not results[-1]["reusable"]:
            read_until(lambda: False, 5)  # until the server closes
        else:
            read_until(lambda: False, 0.3)  # idle: nothing more should come
    return bytes(received), eof


# --------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port}")


@contextmanager
def running(cmd: list[str], port: int, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            err = proc.stderr.read().decode(errors="replace").strip()
            if err:
                print(f"  [{cmd[0]} stderr] {err[-500:]}")


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/plain txt; text/html html; application/octet-stream bin; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30;
    gzip on;
    gzip_min_length 0;
    gzip_types text/plain;
    gzip_http_version 1.0;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {tmp}/www;
        location = /redirect {{ return 301 /1k.txt; }}
        location = /no-content {{ return 204; }}
        location = /status-599 {{ return 599 "unknown status\\n"; }}
        location = /echo {{ return 200 "ok\\n"; }}
        location /trailer/ {{
            add_trailer X-Checksum "not-a-real-checksum";
            add_trailer Server-Timing "total;dur=1";
        }}
        location /dir/ {{ autoindex on; }}
        location /headers/ {{
{many_headers}
            add_header Set-Cookie "session=abc123; Path=/; HttpOnly";
            add_header Set-Cookie "theme=dark; Max-Age=3600";
            add_header Set-Cookie "lang=en";
        }}
        location /ka2/ {{ keepalive_requests 2; }}
    }}
}}
"""


class NginxServer:
    name = "nginx"

    def __init__(self) -> None:
        out = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=True)
        self.version = out.stderr.strip().split("/", 1)[1]

    @contextmanager
    def start(self) -> Iterator[int]:
        with tempfile.TemporaryDirectory(prefix="reqivo-nginx-") as tmp_name:
            tmp = Path(tmp_name)
            www = tmp / "www"
            for sub in ("dir", "trailer", "headers", "ka2"):
                (www / sub).mkdir(parents=True)
            (www / "1k.txt").write_bytes(KIB_FILE)
            (www / "empty.txt").write_bytes(b"")
            (www / "1m.bin").write_bytes(MIB_FILE)
            (www / "lorem.txt").write_bytes(LOREM)
            (www / "trailer" / "lorem.txt").write_bytes(LOREM)
            (www / "headers" / "1k.txt").write_bytes(KIB_FILE)
            (www / "ka2" / "1k.txt").write_bytes(KIB_FILE)
            for name in ("a.txt", "b.txt", "c.bin"):
                (www / "dir" / name).write_bytes(b"x" * 10)
            many = "\n".join(
                f'            add_header X-Extra-{i:02d} "value {i:02d} {"h" * 100}";'
                for i in range(40)
            )
            port = free_port()
            conf = tmp / "nginx.conf"
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, many_headers=many))
            cmd = ["nginx", "-p", str(tmp), "-c", str(conf)]
            with running(cmd, port, tmp):
                yield port

    def scenarios(self, port: int) -> list[Scenario]:
        probe = Scenario("probe", "", [Req(HEAD, "/1k.txt")])
        data, eof = exchange(port, probe)
        (resp,), _ = h11_parse(data, probe.requests, 1, eof)
        return nginx_scenarios(_header(resp, "etag")[0], _header(resp, "last-modified")[0])


class AsgiServer:
    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        meta = importlib.metadata.version
        if kind == "hypercorn":
            self.version = f"{meta('hypercorn')} (h11 {meta('h11')})"
        else:
            self.version = f"{meta('uvicorn')} ({kind} {meta(kind)})"

    @contextmanager
    def start(self) -> Iterator[int]:
        port = free_port()
        if self.kind == "hypercorn":
            cmd = [
                sys.executable,
                "-m",
                "hypercorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "capture_responses:app",
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "capture_responses:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--http",
                self.kind,
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        with running(cmd, port, SCRIPTS):
            yield port

    def scenarios(self, port: int) -> list[Scenario]:
        return asgi_scenarios()


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def _dumps(meta: dict[str, Any]) -> str:
    """JSON with two-space indents, but each header ``[name, value]`` pair on one line."""
    text = json.dumps(meta, indent=2)
    pair = r'\[\n\s+("(?:[^"\\]|\\.)*"),\n\s+("(?:[^"\\]|\\.)*")\n\s+\]'
    return re.sub(pair, r"[\1, \2]", text)


def capture(server: Any, port: int, scenario: Scenario, out_dir: Path) -> str:
    data, eof = exchange(port, scenario)
    count = scenario.expected_count()
    results, closed = h11_parse(data, scenario.requests, count, eof)
    if len(results) != count:
        raise AssertionError(f"{len(results)} complete responses, expected {count}")
    for check in scenario.checks:
        check(results, closed)
    for resp in results:
        del resp["_body"]
    stem = f"{server.name}-{scenario.name}"
    sent = b"".join(s for s in scenario.plan() if isinstance(s, bytes))
    meta = {
        "server": server.name,
        "server_version": server.version,
        "scenario": scenario.name,
        "description": scenario.description,
        "request_bytes": sent.decode("latin-1"),
        "requests": [
            {
                "method": r.method,
                "target": r.target,
                "http_version": r.http_version,
                "headers": [list(h) for h in r.all_headers()],
                "body": r.body.decode("latin-1"),
            }
            for r in scenario.requests
        ],
        "server_closed": closed,
        "responses": results,
    }
    (out_dir / f"{stem}.bin").write_bytes(data)
    (out_dir / f"{stem}.json").write_text(_dumps(meta) + "\n")
    summary = ", ".join(
        f"{r['status_code']}{'+1xx' * len(r['informational'])} body={r['body_length']}"
        f"{' reuse' if r['reusable'] else ' close'}"
        for r in results
    )
    return f"{stem}: {len(data)} bytes; {summary}{'; server closed' if closed else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="server name(s) to capture")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    servers: list[Any] = []
    if shutil.which("nginx"):
        servers.append(NginxServer())
    else:
        print("nginx not found: skipped (apt-get install -y nginx)")
    servers += [
        AsgiServer("uvicorn-h11", "h11"),
        AsgiServer("uvicorn-httptools", "httptools"),
        AsgiServer("hypercorn", "hypercorn"),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for server in servers:
        if args.only and server.name not in args.only:
            continue
        print(f"== {server.name} {server.version}")
        with server.start() as port:
            for scenario in server.scenarios(port):
                try:
                    print("  " + capture(server, port, scenario, args.out))
                except AssertionError as exc:
                    failures += 1
                    print(f"  {server.name}-{scenario.name}: FAILED: {exc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
