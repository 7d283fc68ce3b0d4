"""Proof that every server fixture works, using only standard-library clients.

These tests check the test infrastructure, not Reqivo: when one fails, the servers that
Reqivo's own tests rely on are broken.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import http.client
import json
import os
import secrets
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from servers.app import (
    HAVE_BROTLI,
    HAVE_ZSTD,
    SAMPLE_JSON,
    SAMPLE_TEXT,
    compressed_payload,
    pattern,
)
from servers.fixtures import RawServerFactory
from servers.models import ProxyServer, Server, TLSServer, UnixServer
from servers.process import running_asgi_server
from servers.raw import (
    Close,
    HalfClose,
    ReadBytes,
    ReadHead,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Reset,
    Send,
    Sleep,
    Stall,
    Trickle,
    http_response,
)
from servers.tls import WRONG_NAME, TLSCertificates

Reply = tuple[int, http.client.HTTPMessage, bytes]


def request(
    server: Server,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request with http.client (on ``conn`` when given, else a new connection)."""
    own = conn is None
    if conn is None:
        if isinstance(server, TLSServer):
            conn = http.client.HTTPSConnection(
                server.host, server.port, timeout=10, context=server.context
            )
        else:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        if own:
            conn.close()


def get_json(server: Server, path: str, **kwargs: Any) -> tuple[int, Any]:
    status, _, body = request(server, path, **kwargs)
    return status, json.loads(body)


# --- the ASGI app on uvicorn (h11, httptools) and hypercorn ----------------------------------


def test_echo_every_method_on_one_connection(http_server: Server) -> None:
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=10)
    with contextlib.closing(conn):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            body = method.encode() * 3
            status, _, raw = request(
                http_server, "/echo/a%20b?x=1&y=%C3%A9", method, body, {"X-Test": "v"}, conn
            )
            data = json.loads(raw)
            assert status == 200
            assert data["method"] == method
            assert data["path"] == "/echo/a b"
            assert data["raw_path"] == "/echo/a%20b"
            assert data["query"] == "x=1&y=%C3%A9"
            assert ["x-test", "v"] in data["headers"]
            assert base64.b64decode(data["body_base64"]) == body
            assert data["body_length"] == len(body)
        status, headers, raw = request(http_server, "/echo", "HEAD", conn=conn)
        assert (status, raw) == (200, b"")
        assert int(headers["content-length"]) > 0


def test_status_headers_json_and_404(http_server: Server) -> None:
    for code in (200, 201, 204, 304, 404, 418, 500, 503):
        status, _, body = request(http_server, f"/status/{code}")
        assert status == code
        assert body == (b"" if code in (204, 304) else json.dumps({"status": code}).encode())
    assert get_json(http_server, "/json") == (200, SAMPLE_JSON)
    status, data = get_json(http_server, "/headers", headers={"X-A": "1"})
    assert ["x-a", "1"] in data["headers"]
    assert request(http_server, "/nope")[0] == 404
    assert request(http_server, "/bytes/notanumber")[0] == 404
    assert request(http_server, "/status/99")[0] == 400


def test_bytes_with_length_and_stream_chunked(http_server: Server) -> None:
    status, headers, body = request(http_server, "/bytes/200000?chunk_size=7000")
    assert status == 200
    assert headers["content-length"] == "200000"
    assert headers["transfer-encoding"] is None
    assert body == pattern(200000)
    status, headers, body = request(http_server, "/stream/5000?chunk=999")
    assert headers["content-length"] is None
    assert headers["transfer-encoding"] == "chunked"
    assert body == pattern(5000)
    assert pattern(10, 251) == pattern(10)


def test_redirects(http_server: Server) -> None:
    status, headers, _ = request(http_server, "/redirect/3?status=307")
    assert (status, headers["location"]) == (307, "/redirect/2?status=307")
    status, headers, _ = request(http_server, "/redirect/1?absolute=1")
    assert (status, headers["location"]) == (302, f"{http_server.url}/redirect/0?absolute=1")
    status, data = get_json(http_server, "/redirect/0", method="POST", body=b"kept")
    assert (status, data["method"], data["body_length"]) == (200, "POST", 4)
    status, headers, _ = request(
        http_server, "/redirect-to?url=http%3A%2F%2Fexample.com%2F&status=308"
    )
    assert (status, headers["location"]) == (308, "http://example.com/")
    assert request(http_server, "/redirect-to?url=../x")[1]["location"] == "../x"
    # urllib follows the whole chain to /echo
    with urllib.request.urlopen(http_server.join("/redirect/4"), timeout=10) as response:
        assert json.loads(response.read())["path"] == "/redirect/0"


def test_cookies(http_server: Server) -> None:
    status, headers, _ = request(
        http_server, "/cookies/set?a=1&b=two&Path=/p&max-age=60&HttpOnly&SameSite=Lax"
    )
    assert status == 200
    assert headers.get_all("set-cookie") == [
        "a=1; Path=/p; Max-Age=60; HttpOnly; SameSite=Lax",
        "b=two; Path=/p; Max-Age=60; HttpOnly; SameSite=Lax",
    ]
    status, headers, _ = request(http_server, "/cookies/set?c=3&_redirect=/cookies")
    assert (status, headers["location"], headers["set-cookie"]) == (302, "/cookies", "c=3")
    status, data = get_json(http_server, "/cookies", headers={"Cookie": "a=1; b=two"})
    assert data == {"cookies": {"a": "1", "b": "two"}, "header": "a=1; b=two"}


def test_basic_and_bearer_auth(http_server: Server) -> None:
    status, headers, _ = request(http_server, "/basic-auth/u/p")
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic ")
    good = "Basic " + base64.b64encode(b"u:p").decode()
    assert get_json(http_server, "/basic-auth/u/p", headers={"Authorization": good}) == (
        200,
        {"authenticated": True, "user": "u"},
    )
    assert request(http_server, "/bearer")[0] == 401
    assert request(http_server, "/bearer?token=t", headers={"Authorization": "Bearer x"})[0] == 401
    status, data = get_json(http_server, "/bearer?token=t", headers={"Authorization": "Bearer t"})
    assert (status, data["token"]) == (200, "t")


def _digest_header(
    challenge: str, method: str, uri: str, user: str, passwd: str, body: bytes
) -> str:
    """A minimal RFC 7616 client, written from the RFC, to check the server side."""
    params: dict[str, str] = {}
    for item in challenge.removeprefix("Digest ").split(", "):
        key, _, value = item.partition("=")
        params[key] = value.strip('"')
    algorithm = params["algorithm"]
    hash_name = "sha256" if algorithm.upper().startswith("SHA-256") else "md5"

    def h(data: str | bytes) -> str:
        return hashlib.new(hash_name, data.encode() if isinstance(data, str) else data).hexdigest()

    nonce, cnonce, nc, qop = params["nonce"], secrets.token_hex(8), "00000001", params.get("qop")
    ha1 = h(f"{user}:{params['realm']}:{passwd}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}:{h(body)}") if qop == "auth-int" else h(f"{method}:{uri}")
    if qop is None:
        response = h(f"{ha1}:{nonce}:{ha2}")
        extra = ""
    else:
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        extra = f', qop={qop}, nc={nc}, cnonce="{cnonce}"'
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{nonce}", uri="{uri}", '
        f'algorithm={algorithm}, response="{response}", opaque="{params["opaque"]}"{extra}'
    )


@pytest.mark.parametrize(
    ("qop", "algorithm"),
    [("auth", "MD5"), ("auth", "SHA-256"), ("auth-int", "SHA-256-sess"), ("none", "MD5")],
)
def test_digest_auth(http_server: Server, qop: str, algorithm: str) -> None:
    uri = f"/digest-auth/{qop}/alice/pw/{algorithm}?q=1"
    body = b"payload" if qop == "auth-int" else b""
    status, headers, _ = request(http_server, uri, "POST", body)
    assert status == 401
    challenge = headers["www-authenticate"]
    assert f"algorithm={algorithm}" in challenge
    authorization = _digest_header(challenge, "POST", uri, "alice", "pw", body)
    status, data = get_json(
        http_server, uri, method="POST", body=body, headers={"Authorization": authorization}
    )
    assert (status, data) == (200, {"authenticated": True, "user": "alice"})
    wrong = _digest_header(challenge, "POST", uri, "alice", "bad", body)
    status, data = get_json(
        http_server, uri, method="POST", body=body, headers={"Authorization": wrong}
    )
    assert (status, data["reason"]) == (401, "wrong response")


def test_compressed_bodies(http_server: Server) -> None:
    decoders: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.decompress,
        "deflate": zlib.decompress,
    }
    if HAVE_BROTLI:
        import brotli

        decoders["brotli"] = brotli.decompress
    if HAVE_ZSTD:
        import zstandard

        decoders["zstd"] = zstandard.ZstdDecompressor().decompress
    for encoding, decode in decoders.items():
        for query in ("", "?chunked=1"):
            _, headers, body = request(http_server, f"/{encoding}{query}")
            assert headers["content-encoding"] == {"brotli": "br"}.get(encoding, encoding)
            assert (headers["transfer-encoding"] == "chunked") == bool(query)
            assert decode(body) == compressed_payload(encoding)
    _, _, body = request(http_server, "/deflate?raw=1")
    assert zlib.decompress(body, -15) == compressed_payload("deflate")
    _, headers, body = request(http_server, "/bomb/10000000")
    assert len(body) < 20000
    assert gzip.decompress(body) == bytes(10000000)


def test_delay_and_slow_body(http_server: Server) -> None:
    begin = time.perf_counter()
    assert request(http_server, "/delay/0.2")[0] == 200
    assert time.perf_counter() - begin >= 0.2
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=10)
    with contextlib.closing(conn):
        conn.request("GET", "/slow-body?chunks=4&interval=0.05&size=3&length=1")
        begin = time.perf_counter()
        response = conn.getresponse()
        assert time.perf_counter() - begin < 0.1  # the head comes at once
        assert response.headers["content-length"] == "12"
        assert response.read() == pattern(12)
        # three 0.05 s pauses between the four chunks, counted from the server's start,
        # which comes before ``begin`` (measured 0.1496 s once): allow that head start
        assert time.perf_counter() - begin >= 0.12


def test_charsets(http_server: Server) -> None:
    for name in ("utf-8", "iso-8859-1", "utf-16", "shift_jis", "cp1252"):
        _, headers, body = request(http_server, f"/charset/{name}")
        assert headers["content-type"] == f"text/plain; charset={name}"
        assert body == SAMPLE_TEXT.encode(name, errors="replace")
    _, headers, body = request(http_server, "/charset/latin-1?declare=0&text=caf%C3%A9")
    assert (headers["content-type"], body) == ("text/plain", b"caf\xe9")
    assert request(http_server, "/charset/no-such-charset")[0] == 400


def test_upload_with_length_and_chunked(http_server: Server) -> None:
    data = os.urandom(300_000)
    digest = hashlib.sha256(data).hexdigest()
    status, result = get_json(http_server, "/upload", method="PUT", body=data)
    assert (status, result["length"], result["sha256"]) == (200, len(data), digest)
    assert result["content_length"] == str(len(data))
    conn = http.client.HTTPConnection(http_server.host, http_server.port, timeout=10)
    with contextlib.closing(conn):
        pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]
        conn.request("POST", "/upload", body=iter(pieces), encode_chunked=True)
        result = json.loads(conn.getresponse().read())
    assert (result["length"], result["sha256"]) == (len(data), digest)
    assert (result["content_length"], result["transfer_encoding"]) == (None, "chunked")


def _raw_exchange(server: Server, head: bytes) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(head)
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_expect_100_continue(http_server: Server) -> None:
    body = b"x" * 1000
    head = (
        b"POST /expect HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with _raw_exchange(http_server, head) as sock:
        assert _read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        reply = _read_until(sock, b"}")
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"length": 1000' in reply
    with _raw_exchange(http_server, head.replace(b"/expect", b"/expect?reject=417")) as sock:
        reply = _read_until(sock, b"}")
    if http_server.name == "hypercorn":  # hypercorn sends 100 Continue at once, uvicorn waits
        assert reply.startswith(b"HTTP/1.1 100")
        reply = reply.partition(b"\r\n\r\n")[2]
    assert reply.startswith(b"HTTP/1.1 417")


def test_retry_after_and_counter(http_server: Server) -> None:
    status, headers, _ = request(http_server, "/retry-after?seconds=2")
    assert (status, headers["retry-after"]) == (503, "2")
    status, headers, _ = request(http_server, "/retry-after?date=1&status=429")
    assert status == 429
    assert headers["retry-after"].endswith(" GMT")
    key = f"{http_server.name}-{secrets.token_hex(4)}"
    codes = [request(http_server, f"/retry-after?key={key}&failures=2&seconds=0")[0] for _ in "abc"]
    assert codes == [503, 503, 200]
    for expected in (1, 2):
        assert get_json(http_server, f"/counter/{key}", method="POST")[1] == {"count": expected}
    assert get_json(http_server, f"/counter/{key}?peek=1")[1] == {"count": 2}


def test_multipart_and_many_headers(http_server: Server) -> None:
    boundary = "b0undary"
    content = b"\x00\r\nbinary\r\n--not-a-boundary\xff"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="k"\r\n\r\nvalue\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a b.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, data = get_json(
        http_server,
        "/multipart",
        method="POST",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200
    assert data["fields"] == {"k": "value"}
    assert data["files"] == [
        {
            "field": "f",
            "filename": "a b.bin",
            "content_type": "application/octet-stream",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    ]
    bad = request(http_server, "/multipart", "POST", b"x", {"Content-Type": "text/plain"})
    assert bad[0] == 400
    _, headers, _ = request(http_server, "/set-many-headers?n=90&size=40")
    many = [k for k in headers if k.lower().startswith("x-many-")]
    assert len(many) == 90
    assert headers["x-many-89"] == "v" * 40


def test_each_server_fixture_names_itself(
    uvicorn_h11_server: Server, uvicorn_httptools_server: Server, hypercorn_server: Server
) -> None:
    servers = (uvicorn_h11_server, uvicorn_httptools_server, hypercorn_server)
    assert [s.name for s in servers] == ["uvicorn-h11", "uvicorn-httptools", "hypercorn"]
    assert len({s.port for s in servers}) == 3
    for server in servers:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert 0 < server.started_in < 20
    # each really is a different implementation (their error pages differ)
    reasons = set()
    for server in servers:
        with _raw_exchange(server, b"GARBAGE\r\n\r\n") as sock:
            reasons.add(_read_until(sock, b"\r\n\r\n").split(b"\r\n\r\n")[0])
    assert all(r.startswith(b"HTTP/1.1 400") for r in reasons)


async def test_servers_serve_async_tests(http_server: Server, raw_server: RawServerFactory) -> None:
    reader, writer = await asyncio.open_connection(http_server.host, http_server.port)
    writer.write(b"GET /bytes/1000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 10)  # to the end: the server closes
    writer.close()
    await writer.wait_closed()
    assert data.startswith(b"HTTP/1.1 200")
    assert data.endswith(b"\r\n\r\n" + pattern(1000))
    raw = raw_server([ReadRequest(), Send(http_response(body=b"async"))])
    reader, writer = await asyncio.open_connection(raw.host, raw.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    assert data.endswith(b"\r\n\r\nasync")
    assert await asyncio.to_thread(raw.wait_idle)
    assert raw.request_count == 1


def test_unix_server(unix_server: UnixServer) -> None:
    assert (unix_server.url, unix_server.port) == ("http://localhost", 0)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(unix_server.path)
        sock.sendall(b"GET /echo?unix=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = _read_until(sock, b"never")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["query"] == "unix=1"


def test_server_process_leaves_nothing_behind(tmp_path: Any) -> None:
    fds_before = set(os.listdir("/proc/self/fd"))
    with running_asgi_server("uvicorn-h11", log_path=tmp_path / "log") as (port, started):
        assert request(Server("x", "127.0.0.1", port), "/health")[2] == b"ok"
    assert started.process.poll() is not None  # reaped
    assert set(os.listdir("/proc/self/fd")) == fds_before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- TLS ---------------------------------------------------------------------------------


def test_https_server(https_server: TLSServer, tls_certs: TLSCertificates) -> None:
    assert https_server.url.startswith("https://127.0.0.1:")
    status, data = get_json(https_server, "/echo")
    assert (status, data["scheme"]) == (200, "https")
    context = ssl.create_default_context(cafile=https_server.ca_bundle)
    url = f"https://localhost:{https_server.port}/json"
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        assert json.loads(response.read()) == SAMPLE_JSON
    with (
        socket.create_connection((https_server.host, https_server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.selected_alpn_protocol() in (None, "http/1.1")
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(https_server.join("/json"), timeout=10)  # system trust only
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def test_https_wrong_host_and_expired(
    https_wrong_host_server: TLSServer, https_expired_server: TLSServer
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        request(https_wrong_host_server, "/health")
    with socket.create_connection(("127.0.0.1", https_wrong_host_server.port), timeout=10) as raw:
        context = https_wrong_host_server.context
        with context.wrap_socket(raw, server_hostname=WRONG_NAME) as tls:
            assert tls.getpeercert() is not None  # the right name makes it pass
    assert https_wrong_host_server.cert_hostname == WRONG_NAME
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        request(https_expired_server, "/health")


def test_mtls_server(mtls_server: TLSServer, tls_certs: TLSCertificates) -> None:
    assert mtls_server.client_cert == (str(tls_certs.client_cert), str(tls_certs.client_key))
    assert get_json(mtls_server, "/echo")[0] == 200
    without = TLSServer(
        name="x", host=mtls_server.host, port=mtls_server.port,
        ssl_context=tls_certs.client_context(),
    )  # fmt: skip
    with pytest.raises((ssl.SSLError, ConnectionResetError, http.client.RemoteDisconnected)):
        request(without, "/echo")


def test_legacy_tls_server(legacy_tls_server: TLSServer, tls_certs: TLSCertificates) -> None:
    with (
        socket.create_connection(("127.0.0.1", legacy_tls_server.port), timeout=10) as raw,
        legacy_tls_server.context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() in ("TLSv1", "TLSv1.1")
    assert get_json(legacy_tls_server, "/echo")[0] == 200
    modern = TLSServer(
        name="x", host="127.0.0.1", port=legacy_tls_server.port,
        ssl_context=tls_certs.client_context(),
    )  # fmt: skip
    with pytest.raises(ssl.SSLError):
        request(modern, "/echo")


# --- forward proxy -------------------------------------------------------------------------


def test_proxy_absolute_form_and_connect(
    proxy_server: ProxyServer, http_server: Server, https_server: TLSServer
) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy_server.url, "https": proxy_server.url}),
        urllib.request.HTTPSHandler(context=https_server.context),
    )
    with opener.open(http_server.join("/echo?via=proxy"), timeout=10) as response:
        data = json.loads(response.read())
    assert (data["path"], data["query"]) == ("/echo", "via=proxy")
    assert any(name == "via" and "tinyproxy" in value for name, value in data["headers"])
    with opener.open(https_server.join("/echo"), timeout=10) as response:  # CONNECT tunnel
        data = json.loads(response.read())
    assert data["scheme"] == "https"
    assert not any(name == "via" for name, _ in data["headers"])  # end-to-end TLS


def test_auth_proxy(auth_proxy_server: ProxyServer, https_server: TLSServer) -> None:
    assert auth_proxy_server.username is not None
    assert auth_proxy_server.password is not None
    target = https_server.join("/echo").replace("https://", "http://")  # plain, via the proxy
    plain = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": auth_proxy_server.url})
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        plain.open(target, timeout=10)
    assert info.value.code == 407
    assert info.value.headers["proxy-authenticate"].startswith("Basic")
    info.value.close()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": auth_proxy_server.auth_url}),
        urllib.request.HTTPSHandler(context=https_server.context),
    )
    with opener.open(https_server.join("/echo"), timeout=10) as response:
        assert json.loads(response.read())["scheme"] == "https"
    conn = http.client.HTTPSConnection(
        auth_proxy_server.host, auth_proxy_server.port, timeout=10, context=https_server.context
    )
    conn.set_tunnel("127.0.0.1", https_server.port)  # no credentials: CONNECT refused
    with contextlib.closing(conn), pytest.raises(OSError, match="407"):
        conn.request("GET", "/echo")


# --- raw fault server ----------------------------------------------------------------------


def test_raw_server_serves_a_script_and_records(raw_server: RawServerFactory) -> None:
    server = raw_server([ReadRequest(), Send(http_response(201, b"made", [("X-Raw", "1")]))])
    status, headers, body = request(Server("raw", server.host, server.port), "/p?q", "POST", b"abc")
    assert (status, headers["x-raw"], body) == (201, "1", b"made")
    assert server.wait_idle()
    assert server.connections == 1
    [req] = server.requests
    assert (req.method, req.target, req.body, req.header("content-length")) == (
        "POST",
        "/p?q",
        b"abc",
        "3",
    )
    assert server.received.startswith(b"POST /p?q HTTP/1.1\r\n")
    assert server.errors == []


def test_raw_server_keep_alive_and_per_connection_scripts(raw_server: RawServerFactory) -> None:
    reply = http_response(200, b"ok")
    server = raw_server([ReadHead(), Close()], [Repeat((ReadRequest(), Send(reply)))])
    target = Server("raw", server.host, server.port)
    with pytest.raises(http.client.RemoteDisconnected):
        request(target, "/first")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    with contextlib.closing(conn):
        for _ in range(3):
            conn.request("PUT", "/", body=iter([b"a", b"bc"]), encode_chunked=True)
            assert conn.getresponse().read() == b"ok"
    assert server.wait_idle()
    assert server.connections == 2
    assert [r.connection for r in server.requests] == [0, 1, 1, 1]
    assert [r.body for r in server.requests] == [b"", b"abc", b"abc", b"abc"]


def test_raw_server_faults(raw_server: RawServerFactory) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    reset = raw_server([ReadRequest(), Send(head + b"x" * 10), Sleep(0.05), Reset()])
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        request(Server("raw", reset.host, reset.port), "/")
    truncated = raw_server(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
            Close(),
        ]
    )
    with pytest.raises(http.client.IncompleteRead):
        request(Server("raw", truncated.host, truncated.port), "/")
    garbage = raw_server([ReadHead(), Send(b"\x16\x03\x01garbage\r\n\r\n")])
    with pytest.raises(http.client.BadStatusLine):
        request(Server("raw", garbage.host, garbage.port), "/")
    stall = raw_server([ReadHead(), Stall()])
    with socket.create_connection((stall.host, stall.port), timeout=0.2) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)
    assert stall.request_count == 1
    half = raw_server([Send(b"bye"), HalfClose(), ReadUntilEOF()])
    with socket.create_connection((half.host, half.port), timeout=5) as sock:
        assert _read_until(sock, b"never") == b"bye"  # EOF after "bye"
        sock.sendall(b"still open")
        sock.shutdown(socket.SHUT_WR)
    assert half.wait_idle()
    assert half.received == b"still open"


def test_raw_server_trickle_partial_head_and_stall_without_reading(
    raw_server: RawServerFactory,
) -> None:
    server = raw_server([Trickle(b"abcde", 0.02)])
    begin = time.perf_counter()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        assert _read_until(sock, b"never") == b"abcde"
    assert time.perf_counter() - begin >= 0.08
    partial = raw_server([ReadHead()])
    with socket.create_connection((partial.host, partial.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHos")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""
    assert partial.wait_idle()
    assert (partial.request_count, partial.partial_heads) == (0, [b"GET / HTTP/1.1\r\nHos"])
    stall = raw_server([ReadBytes(1), Stall()])  # reads nothing more: the client's send blocks
    with socket.create_connection((stall.host, stall.port), timeout=0.3) as sock:
        sent = 0
        try:
            for _ in range(10_000):
                sent += sock.send(b"x" * 65536)
        except TimeoutError:
            pass
        else:
            pytest.fail(f"sent {sent} bytes to a stalled server without blocking")


def test_raw_server_tls_ipv6_and_cleanup(
    raw_server: RawServerFactory, tls_certs: TLSCertificates
) -> None:
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    tls = raw_server(
        [ReadRequest(), Send(http_response(body=b"secure"))], ssl_context=tls_certs.server_context()
    )
    assert tls.url.startswith("https://")
    target = TLSServer(
        name="raw", host=tls.host, port=tls.port, ssl_context=tls_certs.client_context()
    )
    assert request(target, "/")[2] == b"secure"
    assert threading.active_count() == threads + 1
    tls.close()
    tls.close()  # idempotent
    assert threading.active_count() == threads
    assert len(os.listdir("/proc/self/fd")) == fds
    if not socket.has_ipv6:
        return
    try:
        v6 = raw_server([ReadRequest(), Send(http_response(body=b"six"))], host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert v6.url == f"http://[::1]:{v6.port}"
    conn = http.client.HTTPConnection("::1", v6.port, timeout=5)
    with contextlib.closing(conn):
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"six"


def test_raw_server_records_script_errors(
    raw_server: RawServerFactory, tls_certs: TLSCertificates
) -> None:
    eof = raw_server([ReadRequest(), ReadBytes(3)])
    with socket.create_connection((eof.host, eof.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
        sock.shutdown(socket.SHUT_WR)  # ReadBytes(3) meets the end of input: not an error
        assert _read_until(sock, b"never") == b""
    assert eof.wait_idle()
    assert eof.errors == []
    assert eof.requests[0].body == b"ab"
    broken = raw_server([HalfClose()], ssl_context=tls_certs.server_context())  # TLS: no FIN
    with (
        contextlib.suppress(OSError),  # the server aborts: any way the client hears of it
        socket.create_connection((broken.host, broken.port), timeout=5) as raw,
        tls_certs.client_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.recv(1)
    assert broken.wait_idle()
    assert [type(e) for e in broken.errors] == [NotImplementedError]
