"""An httpbin-compatible subset (ASGI 3), what ``httpbin.org`` answers in the docs world.

The JSON shapes follow httpbin's (https://github.com/postmanlabs/httpbin) so that a snippet
written against the docs world also runs against the real host: ``args`` and ``form`` map a
name to a string (a list when repeated), ``headers`` maps Title-Cased names to values,
``files`` maps a field to the file's text (a ``data:`` URL when binary), ``data`` is the raw
body as text, ``json`` is the body parsed as JSON or null, ``url`` is the URL the client
asked for. Routes (``{x}`` path parameters):

- ``/get`` ``/post`` ``/put`` ``/patch`` ``/delete`` (that method only; HEAD too for
  ``/get``), ``/anything[/...]`` (any method, with ``method``): the request echoed.
- ``/headers``, ``/ip``, ``/user-agent``, ``/uuid``.
- ``/status/{code}`` (3xx point at ``/redirect/1``), ``/redirect/{n}`` (relative, as
  ``/relative-redirect/{n}``), ``/absolute-redirect/{n}``, ``/redirect-to?url=&status_code=``.
- ``/cookies``, ``/cookies/set?name=value`` and ``/cookies/delete?name`` (then 302 to
  ``/cookies``).
- ``/basic-auth/{user}/{passwd}``, ``/digest-auth/{qop}/{user}/{passwd}[/{algorithm}]``,
  ``/bearer``: the test app's routes (:mod:`servers.app`), which answer as httpbin does.
- ``/bytes/{n}``, ``/stream-bytes/{n}?chunk_size=`` (``?seed=`` makes them repeatable),
  ``/stream/{n}`` (n JSON lines), ``/drip?duration=&numbytes=&code=&delay=``,
  ``/delay/{seconds}`` (at most 3 s here).
- ``/gzip``, ``/deflate``, ``/brotli`` (501 without the brotli module), ``/json``,
  ``/html``, ``/xml``, ``/response-headers?key=value``, ``/cache``, ``/cache/{n}``.
- ``/health``: the readiness probe of :mod:`servers.process`.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import email.utils
import gzip
import importlib.util
import json
import random
import re
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from email.message import Message as EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, quote

from servers.app import Receive, Request, Scope, Send
from servers.app import app as test_app

__all__ = ["app"]

Headers = list[tuple[str, str]]
JSON = dict[str, Any]

#: The longest ``/delay`` and ``/drip`` wait: a docs snippet must stay fast.
MAX_DELAY = 3.0
MAX_BYTES = 10 * 2**20

SLIDESHOW: JSON = {
    "slideshow": {
        "author": "Yours Truly",
        "date": "date of publication",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {
                "items": [
                    "Why <em>WonderWidgets</em> are great",
                    "Who <em>buys</em> WonderWidgets",
                ],
                "title": "Overview",
                "type": "all",
            },
        ],
        "title": "Sample Slide Show",
    }
}
HTML = (
    "<!DOCTYPE html>\n<html>\n  <head>\n  </head>\n  <body>\n"
    "      <h1>Herman Melville - Moby-Dick</h1>\n\n      <div>\n        <p>\n"
    "          Availing himself of the mild, summer-cool weather that now reigned in these"
    " latitudes, and in preparation for the peculiarly active pursuits shortly to be"
    " anticipated, Perth, the begrimed, blistered old blacksmith, had not removed his"
    " portable forge to the hold again, after concluding his contributory work for Ahab's"
    " leg, but still retained it on deck.\n        </p>\n      </div>\n  </body>\n</html>"
)
XML = (
    "<?xml version='1.0' encoding='us-ascii'?>\n\n<!--  A SAMPLE set of slides  -->\n\n"
    '<slideshow \n    title="Sample Slide Show"\n    date="Date of publication"\n'
    '    author="Yours Truly"\n    >\n\n    <!-- TITLE SLIDE -->\n    <slide type="all">\n'
    "      <title>Wake up to WonderWidgets!</title>\n    </slide>\n\n"
    '    <!-- OVERVIEW -->\n    <slide type="all">\n        <title>Overview</title>\n'
    "        <item>Why <em>WonderWidgets</em> are great</item>\n        <item/>\n"
    "        <item>Who <em>buys</em> WonderWidgets</item>\n    </slide>\n\n</slideshow>"
)


# --- the request, as httpbin shows it -------------------------------------------------------


def _multi(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """httpbin's ``args``/``form``: one value as a string, repeated names as a list."""
    result: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name not in result:
            result[name] = value
        else:
            previous = result[name]
            result[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    return result


def _headers(req: Request) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in req.headers:
        title = "-".join(part.capitalize() for part in name.split("-"))
        shown[title] = f"{shown[title]},{value}" if title in shown else value
    return shown


def _origin(req: Request) -> str:
    client = req.scope.get("client")
    return str(client[0]) if client else "127.0.0.1"


def _url(req: Request, path: str | None = None) -> str:
    host = req.header("host") or "httpbin.org"
    return f"{req.scope['scheme']}://{host}{path if path is not None else req.target}"


def _as_text(data: bytes, content_type: str = "application/octet-stream") -> str:
    """The body as text, or a ``data:`` URL when it is not UTF-8 (as httpbin shows it)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def _parse_body(content_type: str, body: bytes) -> JSON:
    form: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    data = ""
    kind = content_type.partition(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts() if message.is_multipart() else []:
            assert isinstance(part, EmailMessage)
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            if part.get_filename() is not None:
                files.append((name, _as_text(content, part.get_content_type())))
            else:
                form.append((name, content.decode("utf-8", "replace")))
    else:
        data = _as_text(body)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return {"data": data, "files": _multi(files), "form": _multi(form), "json": parsed}


async def _described(req: Request, *, body: bool = True, method: bool = False) -> JSON:
    info: JSON = {"args": _multi(req.query_pairs())}
    if body:
        info.update(_parse_body(req.header("content-type") or "", await req.body()))
    info["headers"] = _headers(req)
    if method:
        info["method"] = req.method
    info["origin"] = _origin(req)
    info["url"] = _url(req)
    return dict(sorted(info.items()))


# --- responses ------------------------------------------------------------------------------


async def _respond(
    req: Request, send: Send, status: int, body: bytes = b"", headers: Headers | None = None
) -> None:
    """A whole response with Content-Length (no body bytes for HEAD, 1xx, 204 and 304)."""
    fields = list(headers or [])
    if status not in (204, 304) and status >= 200:
        fields.append(("content-length", str(len(body))))
    if req.method == "HEAD" or status in (204, 304) or status < 200:
        body = b""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fields],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(
    req: Request, send: Send, data: Any, status: int = 200, extra: Headers | None = None
) -> None:
    body = (json.dumps(data, indent=2) + "\n").encode("utf-8")
    await _respond(req, send, status, body, [("content-type", "application/json"), *(extra or [])])


async def _redirect(req: Request, send: Send, location: str, status: int = 302) -> None:
    await _respond(req, send, status, b"", [("location", location)])


async def _stream(
    send: Send, chunks: list[bytes], headers: Headers, *, interval: float = 0.0
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    for chunk in chunks:
        if interval:
            await asyncio.sleep(interval)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


# --- routes ---------------------------------------------------------------------------------

_ONLY = {"/get": ("GET", "HEAD"), "/post": ("POST",), "/put": ("PUT",), "/patch": ("PATCH",)}


async def method_route(req: Request, send: Send) -> None:
    path = req.scope["path"]
    allowed = _ONLY.get(path, ("DELETE",))
    if req.method not in allowed:
        await _respond(req, send, 405, b"", [("allow", ", ".join(allowed))])
        return
    await _json(req, send, await _described(req, body=path != "/get"))


async def anything(req: Request, send: Send) -> None:
    await _json(req, send, await _described(req, method=True))


async def headers_route(req: Request, send: Send) -> None:
    await _json(req, send, {"headers": _headers(req)})


async def ip(req: Request, send: Send) -> None:
    await _json(req, send, {"origin": _origin(req)})


async def user_agent(req: Request, send: Send) -> None:
    await _json(req, send, {"user-agent": req.header("user-agent")})


async def uuid_route(req: Request, send: Send) -> None:
    await _json(req, send, {"uuid": str(uuid.uuid4())})


async def status(req: Request, send: Send) -> None:
    code = int(req.params[0])
    if not 100 <= code <= 599:
        await _json(req, send, {"error": "status must be 100..599"}, 400)
        return
    headers: Headers = []
    if code in (301, 302, 303, 305, 307, 308):
        headers.append(("location", "/redirect/1"))
    elif code == 401:
        headers.append(("www-authenticate", 'Basic realm="Fake Realm"'))
    elif code == 407:
        headers.append(("proxy-authenticate", 'Basic realm="Fake Realm"'))
    await _respond(req, send, code, b"", headers)


async def relative_redirect(req: Request, send: Send) -> None:
    n = int(req.params[0])
    await _redirect(req, send, "/get" if n <= 1 else f"/relative-redirect/{n - 1}")


async def absolute_redirect(req: Request, send: Send) -> None:
    n = int(req.params[0])
    path = "/get" if n <= 1 else f"/absolute-redirect/{n - 1}"
    await _redirect(req, send, _url(req, path))


async def redirect(req: Request, send: Send) -> None:
    if req.query.get("absolute", "false").lower() == "true":
        await absolute_redirect(req, send)
    else:
        await relative_redirect(req, send)


async def redirect_to(req: Request, send: Send) -> None:
    query = req.query
    code = int(query.get("status_code", 302))
    await _redirect(req, send, query.get("url", "/get"), code if 300 <= code < 400 else 302)


def _cookies(req: Request) -> dict[str, str]:
    jar: dict[str, str] = {}
    for piece in (req.header("cookie") or "").split(";"):
        name, sep, value = piece.strip().partition("=")
        if sep:
            jar[name] = value
    return jar


async def cookies(req: Request, send: Send) -> None:
    await _json(req, send, {"cookies": _cookies(req)})


async def cookies_set(req: Request, send: Send) -> None:
    pairs = req.query_pairs() or ([(req.params[0], req.params[1])] if req.params[0] else [])
    headers = [("set-cookie", f"{name}={quote(value)}; Path=/") for name, value in pairs]
    await _respond(req, send, 302, b"", [("location", "/cookies"), *headers])


async def cookies_delete(req: Request, send: Send) -> None:
    gone = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"
    headers = [("set-cookie", name + gone) for name, _ in req.query_pairs()]
    await _respond(req, send, 302, b"", [("location", "/cookies"), *headers])


def _random_bytes(req: Request, n: int) -> bytes:
    seed = req.query.get("seed")
    return random.Random(seed).randbytes(min(n, MAX_BYTES))


async def bytes_route(req: Request, send: Send) -> None:
    data = _random_bytes(req, int(req.params[0]))
    await _respond(req, send, 200, data, [("content-type", "application/octet-stream")])


async def stream_bytes(req: Request, send: Send) -> None:
    data = _random_bytes(req, int(req.params[0]))
    size = max(1, int(req.query.get("chunk_size", 10240)))
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    await _stream(send, chunks, [("content-type", "application/octet-stream")])


async def stream_lines(req: Request, send: Send) -> None:
    base = await _described(req, body=False)
    lines = [
        (json.dumps({**base, "id": i}) + "\n").encode() for i in range(min(int(req.params[0]), 100))
    ]
    await _stream(send, lines, [("content-type", "application/json")])


async def drip(req: Request, send: Send) -> None:
    query = req.query
    duration = min(float(query.get("duration", 2)), MAX_DELAY)
    numbytes = max(1, min(int(query.get("numbytes", 10)), MAX_BYTES))
    await asyncio.sleep(min(float(query.get("delay", 0)), MAX_DELAY))
    code = int(query.get("code", 200))
    head = [("content-type", "application/octet-stream"), ("content-length", str(numbytes))]
    if code != 200:
        await _respond(req, send, code, b"*" * numbytes, head[:1])
        return
    await _stream(send, [b"*"] * numbytes, head, interval=duration / numbytes)


async def delay(req: Request, send: Send) -> None:
    await asyncio.sleep(min(float(req.params[0]), MAX_DELAY))
    await _json(req, send, await _described(req))


async def compressed(req: Request, send: Send) -> None:
    coding = req.scope["path"].lstrip("/")
    flag = {"gzip": "gzipped", "deflate": "deflated", "brotli": "brotli"}[coding]
    document = {flag: True, "headers": _headers(req), "method": req.method, "origin": _origin(req)}
    raw = (json.dumps(document, indent=2) + "\n").encode()
    if coding == "gzip":
        body = gzip.compress(raw)
    elif coding == "deflate":
        body = zlib.compress(raw)
    elif importlib.util.find_spec("brotli") is None:
        await _json(req, send, {"error": "brotli is not installed here"}, 501)
        return
    else:
        import brotli

        body = brotli.compress(raw)
    headers = [
        ("content-type", "application/json"),
        ("content-encoding", coding.replace("brotli", "br")),
    ]
    await _respond(req, send, 200, body, headers)


async def json_route(req: Request, send: Send) -> None:
    await _json(req, send, SLIDESHOW)


async def html(req: Request, send: Send) -> None:
    await _respond(req, send, 200, HTML.encode(), [("content-type", "text/html; charset=utf-8")])


async def xml(req: Request, send: Send) -> None:
    await _respond(req, send, 200, XML.encode(), [("content-type", "application/xml")])


async def response_headers(req: Request, send: Send) -> None:
    pairs = req.query_pairs()
    document: JSON = {"Content-Type": "application/json", **_multi(pairs)}
    await _json(req, send, document, extra=pairs)


async def cache(req: Request, send: Send) -> None:
    if req.params[0]:
        extra = [("cache-control", f"public, max-age={int(req.params[0])}")]
        await _json(req, send, await _described(req, body=False), extra=extra)
    elif req.header("if-modified-since") or req.header("if-none-match"):
        await _respond(req, send, 304)
    else:
        extra = [
            ("last-modified", email.utils.formatdate(time.time(), usegmt=True)),
            ("etag", uuid.uuid4().hex),
        ]
        await _json(req, send, await _described(req, body=False), extra=extra)


async def health(req: Request, send: Send) -> None:
    await _respond(req, send, 200, b"ok", [("content-type", "text/plain")])


async def from_test_app(req: Request, send: Send) -> None:
    await test_app(req.scope, req.receive, send)


Handler = Callable[[Request, Send], Awaitable[None]]
ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(pattern), handler)
    for pattern, handler in [
        (r"/(?:get|post|put|patch|delete)", method_route),
        (r"/anything(?:/.*)?", anything),
        (r"/headers", headers_route),
        (r"/ip", ip),
        (r"/user-agent", user_agent),
        (r"/uuid", uuid_route),
        (r"/status/(\d+)", status),
        (r"/redirect/(\d+)", redirect),
        (r"/relative-redirect/(\d+)", relative_redirect),
        (r"/absolute-redirect/(\d+)", absolute_redirect),
        (r"/redirect-to", redirect_to),
        (r"/cookies", cookies),
        (r"/cookies/set(?:/([^/]+)/([^/]+))?", cookies_set),
        (r"/cookies/delete", cookies_delete),
        (r"/(?:basic-auth|digest-auth)/.+|/bearer", from_test_app),
        (r"/bytes/(\d+)", bytes_route),
        (r"/stream-bytes/(\d+)", stream_bytes),
        (r"/stream/(\d+)", stream_lines),
        (r"/drip", drip),
        (r"/delay/(\d+(?:\.\d+)?)", delay),
        (r"/(?:gzip|deflate|brotli)", compressed),
        (r"/json", json_route),
        (r"/html", html),
        (r"/xml", xml),
        (r"/response-headers", response_headers),
        (r"/cache(?:/(\d+))?", cache),
        (r"/health", health),
    ]
]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI 3 entry point (lifespan and unknown scopes go to the test app)."""
    if scope["type"] != "http":
        await test_app(scope, receive, send)
        return
    path = scope["path"]
    for regex, handler in ROUTES:
        match = regex.fullmatch(path)
        if match is not None:
            req = Request(scope, receive, tuple(g or "" for g in match.groups()))
            try:
                await handler(req, send)
            except ValueError as exc:  # a malformed number in the path or the query
                await _json(req, send, {"error": str(exc)}, 400)
            return
    req = Request(scope, receive, ())
    await _respond(req, send, 404, b"<h1>Not Found</h1>", [("content-type", "text/html")])
