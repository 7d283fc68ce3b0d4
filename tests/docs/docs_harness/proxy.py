"""``proxy.example:3128``: a forward proxy that reaches the docs world's hosts by their names.

Why not tinyproxy (the proxy of the client tests, :mod:`servers.proxy`): it resolves the
names in CONNECT and absolute-form requests with the C library, which cannot see the docs
world's names (``httpbin.org`` must reach a loopback port, without touching /etc/hosts or
the network). This proxy does what tinyproxy does for a client, on the world's name map:

- ``CONNECT host:port``: ``200 Connection established``, then a byte tunnel (TLS, WebSocket).
- absolute-form (``GET http://host/path``): the request line rewritten to origin-form,
  ``Proxy-*`` fields dropped, ``Via: 1.1 proxy.example`` added, ``Connection: close`` (one
  request per upstream connection: the next one may be for another host), then the bytes
  both ways.
- ``Proxy-Authorization``: optional, but when sent it must be ``Basic`` for
  :data:`CREDENTIALS` (``http://user:pass@proxy.example:3128``), else 407.
- A name or port the world does not serve: 502.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from urllib.parse import urlsplit

__all__ = ["CREDENTIALS", "Routes", "handle", "parse_routes"]

CREDENTIALS = ("user", "pass")
#: ``(host, port)`` -> the loopback port that serves it.
Routes = dict[tuple[str, int], int]
_EXPECTED = "Basic " + base64.b64encode(":".join(CREDENTIALS).encode()).decode("ascii")
_HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


def parse_routes(spec: str) -> Routes:
    """``"httpbin.org:80=41000 httpbin.org:443=41001"`` -> ``{("httpbin.org", 80): 41000, ...}``."""
    routes: Routes = {}
    for item in spec.split():
        name, _, local = item.partition("=")
        host, _, port = name.rpartition(":")
        routes[(host, int(port))] = int(local)
    return routes


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _answer(writer: asyncio.StreamWriter, status: str, extra: str = "") -> None:
    writer.write(
        f"HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    with contextlib.suppress(OSError):
        await writer.drain()


async def handle(
    routes: Routes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one client connection (one CONNECT tunnel or one forwarded request)."""
    upstream: asyncio.StreamWriter | None = None
    try:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            return
        request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        fields = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines)]
        given = [v for n, v in fields if n.lower() == "proxy-authorization"]
        if given and given[0] != _EXPECTED:
            challenge = 'Proxy-Authenticate: Basic realm="proxy.example"\r\n'
            await _answer(writer, "407 Proxy Authentication Required", challenge)
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            path = ""
        else:
            url = urlsplit(target)
            host, port = url.hostname or "", str(url.port or 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        local = routes.get((host.lower().strip("[]"), int(port) if port.isdigit() else -1))
        if local is None:
            await _answer(writer, "502 Bad Gateway")
            return
        upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", local)
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            kept = [f"{n}: {v}" for n, v in fields if n.lower() not in _HOP_BY_HOP]
            forwarded = [f"{method} {path} {version}", *kept]
            forwarded += ["Via: 1.1 proxy.example", "Connection: close", "", ""]
            upstream.write("\r\n".join(forwarded).encode("latin-1"))
        await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))
    except OSError:
        return
    finally:
        for end in (writer, upstream):
            if end is not None:
                end.close()
