"""The ASGI application every real test server runs: one route per thing a client does.

Plain ASGI 3 (no framework), so uvicorn (h11 and httptools) and hypercorn serve the very
same bytes-level behaviour. Routes (``{x}`` are path parameters, ``?x=`` query options):

- ``/health``                      200 "ok" (the readiness probe).
- ``/echo``                        any method: JSON of method, path, raw_path, query,
                                   http_version, scheme, headers (list of pairs), body_base64,
                                   body_length.
- ``/headers``                     JSON ``{"headers": [[name, value], ...]}``.
- ``/status/{code}``               that status (no body for 204/304), ``?reason=`` unused by
                                   servers but accepted.
- ``/bytes/{n}``                   ``n`` bytes of :func:`pattern` with Content-Length,
                                   ``?chunk_size=`` bytes per ASGI message (default 64 KiB).
- ``/stream/{n}``                  the same bytes without Content-Length (chunked),
                                   ``?chunk=`` bytes per chunk (default 1024).
- ``/redirect/{n}``                a chain of ``n`` redirects ending at ``/echo``;
                                   ``?status=`` (default 302), ``?absolute=1`` for an absolute
                                   Location.
- ``/redirect-to?url=&status=``    one redirect to ``url`` (absolute or relative).
- ``/cookies/set?name=value``      one Set-Cookie per pair; the attribute names Path, Domain,
                                   Max-Age, Expires, Secure, HttpOnly and SameSite (any case)
                                   are attributes of every cookie set; ``_redirect=`` answers 302
                                   to that location instead of 200.
- ``/cookies``                     JSON of the Cookie header: ``{"cookies": {..}, "header": ..}``.
- ``/basic-auth/{user}/{passwd}``  200 or 401 with ``WWW-Authenticate: Basic``.
- ``/digest-auth/{qop}/{user}/{passwd}[/{algorithm}]``  RFC 7616 digest: qop ``auth``,
                                   ``auth-int`` or ``none``; algorithm MD5 (default), MD5-sess,
                                   SHA-256, SHA-256-sess. 401 with the challenge until the
                                   client's Authorization verifies.
- ``/bearer``                      200 when ``Authorization: Bearer <token>`` (``?token=`` to
                                   require a given token), 401 otherwise.
- ``/gzip`` ``/deflate`` ``/brotli`` ``/zstd``  a JSON body with that Content-Encoding;
                                   ``?chunked=1`` streams it in pieces, ``/deflate?raw=1`` sends
                                   raw deflate instead of zlib; brotli/zstd answer 501 when the
                                   library is missing (see :data:`HAVE_BROTLI`, :data:`HAVE_ZSTD`).
- ``/bomb/{n}``                    gzip of ``n`` zero bytes (a decompression bomb).
- ``/delay/{seconds}``             sleeps, then answers like ``/echo``.
- ``/slow-body?chunks=&interval=&size=&length=1``  headers at once, then ``chunks`` pieces of
                                   ``size`` bytes every ``interval`` seconds (Content-Length
                                   only with ``length=1``).
- ``/charset/{name}``              :data:`SAMPLE_TEXT` (or ``?text=``) in that charset with
                                   ``Content-Type: text/plain; charset=name`` (``?declare=0``
                                   leaves the charset out).
- ``/json``                        :data:`SAMPLE_JSON`.
- ``/upload``                      streams the body in: JSON of length, sha256, and the
                                   Content-Length / Transfer-Encoding headers received.
- ``/expect``                      for ``Expect: 100-continue``: reads the body (the server then
                                   sends 100 Continue) and returns JSON of the Expect header and
                                   length; ``?reject=417`` answers that status without reading
                                   (uvicorn then sends no 100; hypercorn sends 100 at once).
- ``/retry-after``                 503 with ``Retry-After: ?seconds=`` (``?date=1`` for an
                                   HTTP-date, ``?status=`` for another status); with ``?key=k&
                                   failures=n`` it fails n times for that key and then answers 200.
- ``/counter/{key}``               counts hits per key (``?peek=1`` reads without counting):
                                   proves a request was (not) sent twice to a real server.
- ``/multipart``                   parses multipart/form-data: fields, file names, sizes, sha256.
- ``/set-many-headers?n=&size=``   ``n`` response headers ``X-Many-{i}`` of ``size`` bytes.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import gzip
import hashlib
import hmac
import importlib.util
import json
import re
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

#: Whether the optional encoders are installed (imported lazily: the server starts faster).
HAVE_BROTLI = importlib.util.find_spec("brotli") is not None
HAVE_ZSTD = importlib.util.find_spec("zstandard") is not None

__all__ = [
    "HAVE_BROTLI",
    "HAVE_ZSTD",
    "SAMPLE_JSON",
    "SAMPLE_TEXT",
    "app",
    "compressed_payload",
    "pattern",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Text served by ``/charset/{name}`` (characters a charset lacks become "?").
SAMPLE_TEXT = "Grüße aus Köln: café, naïve, Ærø; 日本語テキスト ✓"
#: Document served by ``/json`` (and inside the compressed bodies).
SAMPLE_JSON: dict[str, Any] = {
    "name": "reqivo",
    "unicode": "snowman ☃ and 🚀",
    "numbers": [0, -1, 2.5, 10**20],
    "nested": {"ok": True, "none": None, "list": [{"a": 1}, {"b": [1, 2, 3]}]},
}

_PERIOD = 251  # a prime, so a dropped or repeated block of any power-of-two size shows
_BLOCK = bytes(i % _PERIOD for i in range(_PERIOD * 256))  # 64,256 bytes, whole periods
_REALM = "reqivo-test"
_SECRET = secrets.token_bytes(16)
_MAX_BYTES = 1 << 30
_counters: dict[str, int] = {}


def pattern(n: int, offset: int = 0) -> bytes:
    """The deterministic bytes ``/bytes/{n}`` and ``/stream/{n}`` serve: byte i is i % 251."""
    start = offset % _PERIOD
    whole = _BLOCK * (1 + (start + n) // len(_BLOCK))
    return whole[start : start + n]


def _chunks(n: int, size: int) -> Iterable[bytes]:
    offset = 0
    while offset < n:
        take = min(size, n - offset)
        yield pattern(take, offset)
        offset += take


def compressed_payload(encoding: str) -> bytes:
    """The uncompressed JSON body that ``/{encoding}`` compresses."""
    return json.dumps(
        {"encoding": encoding, "data": SAMPLE_JSON, "text": SAMPLE_TEXT * 20}
    ).encode()


@dataclass(slots=True)
class Request:
    """The parts of an ASGI HTTP scope the routes use."""

    scope: Scope
    receive: Receive
    params: tuple[str, ...]

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.scope["headers"]]

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.scope["headers"]:
            if key.lower() == wanted:
                return str(value.decode("latin-1"))
        return None

    @property
    def query_string(self) -> str:
        return str(self.scope["query_string"].decode("latin-1"))

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def qint(self, name: str, default: int) -> int:
        return int(self.query.get(name, default))

    def qfloat(self, name: str, default: float) -> float:
        return float(self.query.get(name, default))

    @property
    def target(self) -> str:
        """The request-target as the client sent it (path and query, undecoded)."""
        raw = self.scope.get("raw_path") or self.scope["path"].encode("utf-8")
        qs = self.scope["query_string"]
        return str((raw + b"?" + qs if qs else raw).decode("latin-1"))

    async def iter_body(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def body(self) -> bytes:
        return b"".join([chunk async for chunk in self.iter_body()])


Headers = list[tuple[str, str]]


async def _start(send: Send, status: int, headers: Headers) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )


async def _body(send: Send, data: bytes, *, more: bool = False) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})


async def respond(
    send: Send, status: int, body: bytes = b"", headers: Headers | None = None
) -> None:
    """Send a whole response with Content-Length."""
    all_headers = list(headers or [])
    if status not in (204, 304):
        all_headers.append(("content-length", str(len(body))))
    else:
        body = b""
    await _start(send, status, all_headers)
    await _body(send, body)


async def respond_json(
    send: Send, data: Any, status: int = 200, headers: Headers | None = None
) -> None:
    body = json.dumps(data).encode("utf-8")
    await respond(send, status, body, [("content-type", "application/json"), *(headers or [])])


# --- routes -------------------------------------------------------------------------------


async def health(req: Request, send: Send) -> None:
    await respond(send, 200, b"ok", [("content-type", "text/plain")])


async def echo(req: Request, send: Send) -> None:
    body = await req.body()
    await respond_json(
        send,
        {
            "method": req.method,
            "path": req.scope["path"],
            "raw_path": req.target.partition("?")[0],
            "query": req.query_string,
            "http_version": req.scope.get("http_version"),
            "scheme": req.scope.get("scheme"),
            "headers": req.headers,
            "body_base64": base64.b64encode(body).decode("ascii"),
            "body_length": len(body),
        },
    )


async def headers_route(req: Request, send: Send) -> None:
    await respond_json(send, {"headers": req.headers})


async def status(req: Request, send: Send) -> None:
    code = int(req.params[0])
    if not 200 <= code <= 999:
        await respond_json(send, {"error": "status must be 200..999"}, 400)
        return
    await respond_json(send, {"status": code}, code)


async def bytes_route(req: Request, send: Send) -> None:
    n = min(int(req.params[0]), _MAX_BYTES)
    size = max(1, req.qint("chunk_size", 65536))
    await _start(
        send, 200, [("content-type", "application/octet-stream"), ("content-length", str(n))]
    )
    for chunk in _chunks(n, size):
        await _body(send, chunk, more=True)
    await _body(send, b"")


async def stream(req: Request, send: Send) -> None:
    n = min(int(req.params[0]), _MAX_BYTES)
    size = max(1, req.qint("chunk", 1024))
    await _start(send, 200, [("content-type", "application/octet-stream")])
    for chunk in _chunks(n, size):
        await _body(send, chunk, more=True)
    await _body(send, b"")


async def redirect(req: Request, send: Send) -> None:
    n = int(req.params[0])
    if n <= 0:
        await echo(req, send)
        return
    location = f"/redirect/{n - 1}"
    if req.query_string:
        location += "?" + req.query_string
    if req.query.get("absolute") == "1":
        location = f"{req.scope.get('scheme', 'http')}://{req.header('host')}{location}"
    await respond(send, req.qint("status", 302), b"", [("location", location)])


async def redirect_to(req: Request, send: Send) -> None:
    # The body first: hypercorn's HTTP/2 drops the connection when DATA comes for a
    # stream the app answered already (tests POST to this route, then follow on).
    await req.body()
    query = req.query
    if "url" not in query:
        await respond_json(send, {"error": "url is required"}, 400)
        return
    await respond(send, int(query.get("status", 302)), b"", [("location", query["url"])])


_COOKIE_ATTRIBUTES = {
    "path": "Path",
    "domain": "Domain",
    "max-age": "Max-Age",
    "expires": "Expires",
    "secure": "Secure",
    "httponly": "HttpOnly",
    "samesite": "SameSite",
}
_FLAG_ATTRIBUTES = {"Secure", "HttpOnly"}


async def cookies_set(req: Request, send: Send) -> None:
    attributes: list[str] = []
    cookies: list[tuple[str, str]] = []
    redirect_location = None
    for name, value in req.query_pairs():
        attribute = _COOKIE_ATTRIBUTES.get(name.lower())
        if name == "_redirect":
            redirect_location = value
        elif attribute in _FLAG_ATTRIBUTES:
            attributes.append(attribute)
        elif attribute is not None:
            attributes.append(f"{attribute}={value}")
        else:
            cookies.append((name, value))
    lines = ["; ".join([f"{name}={value}", *attributes]) for name, value in cookies]
    headers = [("set-cookie", line) for line in lines]
    if redirect_location is not None:
        await respond(send, 302, b"", [*headers, ("location", redirect_location)])
    else:
        await respond_json(send, {"set": lines}, 200, headers)


async def cookies(req: Request, send: Send) -> None:
    header = req.header("cookie")
    jar: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            jar[name] = value
    await respond_json(send, {"cookies": jar, "header": header})


async def basic_auth(req: Request, send: Send) -> None:
    user, passwd = req.params
    expected = "Basic " + base64.b64encode(f"{user}:{passwd}".encode()).decode("ascii")
    if req.header("authorization") == expected:
        await respond_json(send, {"authenticated": True, "user": user})
    else:
        await respond_json(
            send,
            {"authenticated": False},
            401,
            [("www-authenticate", f'Basic realm="{_REALM}", charset="UTF-8"')],
        )


async def bearer(req: Request, send: Send) -> None:
    scheme, _, token = (req.header("authorization") or "").partition(" ")
    wanted = req.query.get("token")
    if scheme.lower() == "bearer" and token and (wanted is None or token == wanted):
        await respond_json(send, {"authenticated": True, "token": token})
    else:
        await respond_json(
            send, {"authenticated": False}, 401, [("www-authenticate", f'Bearer realm="{_REALM}"')]
        )


_DIGEST_HASHES: dict[str, Callable[[bytes], Any]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_AUTH_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def _new_nonce() -> str:
    stamp = secrets.token_hex(8)
    return stamp + hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:16]


def _nonce_ok(nonce: str) -> bool:
    stamp, mac = nonce[:16], nonce[16:]
    expected = hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:16]
    return len(nonce) == 32 and hmac.compare_digest(mac, expected)


def _parse_auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in _AUTH_PARAM.finditer(text):
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
    return params


async def digest_auth(req: Request, send: Send) -> None:
    qop, user, passwd = req.params[:3]
    algorithm = req.params[3] if len(req.params) > 3 and req.params[3] else "MD5"
    base_algorithm = algorithm.upper().removesuffix("-SESS")
    if qop not in ("auth", "auth-int", "none") or base_algorithm not in _DIGEST_HASHES:
        await respond_json(send, {"error": "unsupported qop or algorithm"}, 400)
        return
    body = await req.body()
    opaque = hashlib.sha256(_SECRET + b"opaque").hexdigest()[:32]

    def h(data: str | bytes) -> str:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return str(_DIGEST_HASHES[base_algorithm](raw).hexdigest())

    scheme, _, rest = (req.header("authorization") or "").partition(" ")
    reason = "no digest credentials"
    if scheme.lower() == "digest":
        p = _parse_auth_params(rest)
        nonce, cnonce, nc = p.get("nonce", ""), p.get("cnonce", ""), p.get("nc", "")
        ha1 = h(f"{user}:{_REALM}:{passwd}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{req.method}:{p.get('uri', '')}")
        if qop == "auth-int":
            ha2 = h(f"{req.method}:{p.get('uri', '')}:{h(body)}")
        if qop == "none":
            expected = h(f"{ha1}:{nonce}:{ha2}")
        else:
            expected = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        checks = [
            (p.get("username") == user, "username"),
            (p.get("realm") == _REALM, "realm"),
            (_nonce_ok(nonce), "nonce"),
            (p.get("uri") == req.target, "uri"),
            (p.get("opaque") == opaque, "opaque"),
            (p.get("algorithm", "MD5").upper() == algorithm.upper(), "algorithm"),
            (p.get("qop") == (None if qop == "none" else qop), "qop"),
            (qop == "none" or bool(cnonce and nc), "cnonce/nc"),
            (hmac.compare_digest(p.get("response", ""), expected), "response"),
        ]
        failed = [name for ok, name in checks if not ok]
        if not failed:
            await respond_json(send, {"authenticated": True, "user": user})
            return
        reason = "wrong " + ", ".join(failed)
    challenge = f'Digest realm="{_REALM}", nonce="{_new_nonce()}", opaque="{opaque}"'
    challenge += f", algorithm={algorithm}"
    if qop != "none":
        challenge += f', qop="{qop}"'
    await respond_json(
        send, {"authenticated": False, "reason": reason}, 401, [("www-authenticate", challenge)]
    )


def _compress(encoding: str, data: bytes, raw: bool) -> bytes | None:
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "deflate":
        compressor = zlib.compressobj(wbits=-15 if raw else 15)
        return compressor.compress(data) + compressor.flush()
    if encoding == "brotli" and HAVE_BROTLI:
        import brotli

        return bytes(brotli.compress(data))
    if encoding == "zstd" and HAVE_ZSTD:
        import zstandard

        return bytes(zstandard.ZstdCompressor().compress(data))
    return None


async def compressed(req: Request, send: Send) -> None:
    encoding = req.scope["path"].strip("/")
    data = _compress(encoding, compressed_payload(encoding), req.query.get("raw") == "1")
    if data is None:
        await respond_json(send, {"error": f"{encoding} is not installed on the server"}, 501)
        return
    token = {"brotli": "br"}.get(encoding, encoding)
    headers = [("content-type", "application/json"), ("content-encoding", token)]
    if req.query.get("chunked") != "1":
        await respond(send, 200, data, headers)
        return
    await _start(send, 200, headers)
    step = max(1, len(data) // 7)
    for i in range(0, len(data), step):
        await _body(send, data[i : i + step], more=True)
    await _body(send, b"")


async def bomb(req: Request, send: Send) -> None:
    n = min(int(req.params[0]), 1 << 34)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    await _start(send, 200, [("content-type", "text/plain"), ("content-encoding", "gzip")])
    left = n
    while left > 0:
        out = compressor.compress(zeros[: min(left, len(zeros))])
        left -= min(left, len(zeros))
        if out:
            await _body(send, out, more=True)
    await _body(send, compressor.flush())


async def delay(req: Request, send: Send) -> None:
    await asyncio.sleep(min(float(req.params[0]), 60.0))
    await echo(req, send)


async def slow_body(req: Request, send: Send) -> None:
    chunks = req.qint("chunks", 5)
    interval = min(req.qfloat("interval", 0.1), 60.0)
    size = max(1, req.qint("size", 1))
    headers = [("content-type", "application/octet-stream")]
    if req.query.get("length") == "1":
        headers.append(("content-length", str(chunks * size)))
    await _start(send, 200, headers)
    for i in range(chunks):
        if i:
            await asyncio.sleep(interval)
        await _body(send, pattern(size, i * size), more=True)
    await _body(send, b"")


async def charset(req: Request, send: Send) -> None:
    name = req.params[0]
    text = req.query.get("text", SAMPLE_TEXT)
    try:
        data = text.encode(name, errors="replace")
    except LookupError:
        await respond_json(send, {"error": f"unknown charset {name!r}"}, 400)
        return
    content_type = (
        "text/plain" if req.query.get("declare") == "0" else f"text/plain; charset={name}"
    )
    await respond(send, 200, data, [("content-type", content_type)])


async def json_route(req: Request, send: Send) -> None:
    await respond_json(send, SAMPLE_JSON)


async def upload(req: Request, send: Send) -> None:
    digest = hashlib.sha256()
    length = 0
    async for chunk in req.iter_body():
        digest.update(chunk)
        length += len(chunk)
    await respond_json(
        send,
        {
            "length": length,
            "sha256": digest.hexdigest(),
            "content_length": req.header("content-length"),
            "transfer_encoding": req.header("transfer-encoding"),
        },
    )


async def expect(req: Request, send: Send) -> None:
    reject = req.query.get("reject")
    if reject:
        await respond_json(send, {"rejected": True, "expect": req.header("expect")}, int(reject))
        return
    body = await req.body()
    await respond_json(
        send,
        {
            "expect": req.header("expect"),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        },
    )


async def retry_after(req: Request, send: Send) -> None:
    query = req.query
    key = query.get("key")
    if key is not None:
        _counters["retry:" + key] = attempts = _counters.get("retry:" + key, 0) + 1
        if attempts > int(query.get("failures", 1)):
            await respond_json(send, {"attempts": attempts})
            return
    seconds = float(query.get("seconds", 1))
    if query.get("date") == "1":
        value = email.utils.formatdate(time.time() + seconds, usegmt=True)
    else:
        value = str(int(seconds))
    await respond_json(
        send, {"retry_after": value}, int(query.get("status", 503)), [("retry-after", value)]
    )


async def counter(req: Request, send: Send) -> None:
    key = "counter:" + req.params[0]
    if req.query.get("peek") != "1":
        await req.body()
        _counters[key] = _counters.get(key, 0) + 1
    await respond_json(send, {"count": _counters.get(key, 0)})


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        raise ValueError("not multipart/form-data with a boundary")
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    sections = body.split(b"\r\n" + delimiter)
    if not sections[0].startswith(delimiter) or not sections[-1].startswith(b"--"):
        raise ValueError("missing opening or closing boundary")
    sections[0] = sections[0][len(delimiter) :]
    fields: list[tuple[str, str]] = []
    files: list[dict[str, Any]] = []
    for section in sections[:-1]:
        head, sep, content = section.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"\r\n"):
            raise ValueError("malformed part")
        part_headers: dict[str, str] = {}
        for line in head[2:].decode("utf-8").split("\r\n"):
            name, _, value = line.partition(":")
            part_headers[name.strip().lower()] = value.strip()
        params = _parse_auth_params(part_headers.get("content-disposition", "").partition(";")[2])
        field = params.get("name", "")
        if "filename" in params:
            files.append(
                {
                    "field": field,
                    "filename": params["filename"],
                    "content_type": part_headers.get("content-type"),
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
            )
        else:
            fields.append((field, content.decode("utf-8")))
    return {"fields": dict(fields), "field_list": fields, "files": files}


async def multipart(req: Request, send: Send) -> None:
    body = await req.body()
    try:
        result = _parse_multipart(req.header("content-type") or "", body)
    except (ValueError, UnicodeDecodeError) as exc:
        await respond_json(send, {"error": str(exc)}, 400)
        return
    await respond_json(send, result)


async def set_many_headers(req: Request, send: Send) -> None:
    n = req.qint("n", 100)
    size = req.qint("size", 16)
    value = "v" * size
    await respond(send, 200, b"ok", [(f"x-many-{i}", value) for i in range(n)])


Handler = Callable[[Request, Send], Awaitable[None]]
_ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(p), h)
    for p, h in [
        (r"/health", health),
        (r"/echo(?:/.*)?", echo),
        (r"/headers", headers_route),
        (r"/status/(\d+)", status),
        (r"/bytes/(\d+)", bytes_route),
        (r"/stream/(\d+)", stream),
        (r"/redirect/(\d+)", redirect),
        (r"/redirect-to", redirect_to),
        (r"/cookies/set", cookies_set),
        (r"/cookies", cookies),
        (r"/basic-auth/([^/]+)/([^/]+)", basic_auth),
        (r"/digest-auth/([^/]+)/([^/]+)/([^/]+)(?:/([^/]+))?", digest_auth),
        (r"/bearer", bearer),
        (r"/(?:gzip|deflate|brotli|zstd)", compressed),
        (r"/bomb/(\d+)", bomb),
        (r"/delay/(\d+(?:\.\d+)?)", delay),
        (r"/slow-body", slow_body),
        (r"/charset/([A-Za-z0-9_.:-]+)", charset),
        (r"/json", json_route),
        (r"/upload", upload),
        (r"/expect", expect),
        (r"/retry-after", retry_after),
        (r"/counter/([^/]+)", counter),
        (r"/multipart", multipart),
        (r"/set-many-headers", set_many_headers),
    ]
]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI 3 entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return  # no WebSocket routes: the server refuses the handshake
    path = scope["path"]
    for regex, handler in _ROUTES:
        match = regex.fullmatch(path)
        if match is not None:
            params = tuple(g or "" for g in match.groups())
            try:
                await handler(Request(scope, receive, params), send)
            except ValueError as exc:  # a malformed number in the path or query
                await respond_json(send, {"error": str(exc)}, 400)
            return
    await respond_json(send, {"error": f"no route for {path}"}, 404)
