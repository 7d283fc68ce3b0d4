"""Programs that prove the docs world answers as the docs conventions promise.

``test_snippets.test_world_answers`` runs each like a docs snippet (through
:func:`docs_harness.run.run_snippet`), so they also prove the name map, the CA and the
working directory a snippet gets.
"""

from __future__ import annotations

from docs_harness.world import WORKDIR_FILES

__all__ = ["PROGRAMS"]

#: name -> a complete program (dedented before it runs); it must exit 0.
PROGRAMS = {
    "names": """
        import socket
        for name in ("api.example.com", "example.org", "your.server"):
            try:
                socket.getaddrinfo(name, 443)
            except socket.gaierror as exc:
                print(name, "->", exc)
            else:
                raise AssertionError(f"{name} resolved")
        try:
            socket.getaddrinfo("httpbin.org", 8080)
        except socket.gaierror as exc:
            print(exc)
        else:
            raise AssertionError("httpbin.org:8080 resolved")
        assert socket.getaddrinfo("httpbin.org", "https")[0][4][0] == "127.0.0.1"
        assert socket.gethostbyname("echo.websocket.org") == "127.0.0.1"
        assert socket.getaddrinfo("127.0.0.1", 1)[0][4] == ("127.0.0.1", 1)
    """,
    "workdir": """
        import os, ssl
        names = sorted(os.listdir("."))
        assert names == sorted(FILES), names
        assert os.path.getsize("data.bin") == 2**20
        assert os.environ["SSL_CERT_FILE"].endswith("ca.pem")
        ssl.create_default_context().load_cert_chain("client.crt", "client.key")
    """.replace("FILES", repr(list(WORKDIR_FILES))),
    "httpbin": """
        import asyncio
        from reqivo_async import AsyncSession

        async def main():
            async with AsyncSession() as s:
                r = await s.get("http://httpbin.org/get", params={"a": ["1", "2"], "b": "x"})
                assert r.json()["args"] == {"a": ["1", "2"], "b": "x"}, r.text
                assert r.json()["url"] == "http://httpbin.org/get?a=1&a=2&b=x", r.text
                r = await s.post("https://httpbin.org/post", json={"k": [1, 2]})
                assert r.http_version == "HTTP/1.1" and r.json()["json"] == {"k": [1, 2]}, r.text
                r = await s.post("https://httpbin.org/anything", data={"f": "v"},
                                 files={"up": ("a.txt", b"hello", "text/plain")})
                body = r.json()
                assert body["form"] == {"f": "v"} and body["files"] == {"up": "hello"}, r.text
                assert body["method"] == "POST"
                r = await s.get("https://httpbin.org/cookies/set?flavour=oat")
                assert r.json() == {"cookies": {"flavour": "oat"}}, r.text
                assert [h.status_code for h in r.history] == [302]
                r = await s.get("https://httpbin.org/redirect/3")
                assert r.url == "https://httpbin.org/get" and len(r.history) == 3, r.url
                r = await s.get("https://httpbin.org/absolute-redirect/2")
                assert r.status_code == 200 and len(r.history) == 2
                r = await s.get("https://httpbin.org/basic-auth/ann/pw", auth=("ann", "pw"))
                assert r.json() == {"authenticated": True, "user": "ann"}, r.text
                r = await s.get("https://httpbin.org/gzip")
                assert r.json()["gzipped"] is True
                r = await s.get("https://httpbin.org/stream/3")
                assert [__import__("json").loads(l)["id"] for l in r.text.splitlines()] == [0, 1, 2]
                assert (await s.get("https://httpbin.org/status/418")).status_code == 418
                assert len((await s.get("https://httpbin.org/bytes/1000")).content) == 1000
            async with AsyncSession(http2=True) as s:
                r = await s.get("https://httpbin.org/headers")
                assert r.http_version == "HTTP/2", r.http_version
                assert r.json()["headers"]["Host"] == "httpbin.org", r.text

        asyncio.run(main())
    """,
    "websocket": """
        import asyncio
        from reqivo_ws import AsyncWebSocket

        async def main():
            for url in ("ws://echo.websocket.org", "wss://echo.websocket.org/any/path"):
                async with AsyncWebSocket(url, compression="deflate") as ws:
                    await ws.send("hello")
                    assert await ws.recv() == "hello"
                    await ws.send(b"\\x00\\x01")
                    assert await ws.recv() == b"\\x00\\x01"

        asyncio.run(main())
    """,
    "mtls": """
        from reqivo_sync import Session, TlsError, ReqivoError

        with Session(cert=("client.crt", "client.key")) as s:
            assert s.get("https://mtls.example/get").status_code == 200
        with Session() as s:
            try:
                s.get("https://mtls.example/get")
            except ReqivoError as exc:
                print("refused without a certificate:", type(exc).__name__, exc)
            else:
                raise AssertionError("mtls.example answered without a client certificate")
    """,
    "proxy": """
        from reqivo_sync import Session

        for proxy in ("http://proxy.example:3128", "http://user:pass@proxy.example:3128"):
            with Session(proxy=proxy) as s:
                r = s.get("http://httpbin.org/headers")
                assert r.json()["headers"]["Via"] == "1.1 proxy.example", r.text
                assert s.get("https://httpbin.org/get").status_code == 200
        with Session(proxy="http://user:wrong@proxy.example:3128") as s:
            r = s.get("http://httpbin.org/get")
            assert r.status_code == 407, r.status_code
    """,
    "other_clients": """
        import asyncio, httpx, requests, urllib3, websockets.sync.client, aiohttp

        assert requests.get("https://httpbin.org/get").json()["url"] == "https://httpbin.org/get"
        assert httpx.get("https://httpbin.org/get").status_code == 200
        assert urllib3.request("GET", "https://httpbin.org/ip").status == 200
        with websockets.sync.client.connect("wss://echo.websocket.org") as ws:
            ws.send("hi")
            assert ws.recv() == "hi"

        async def main():
            async with aiohttp.ClientSession() as s:
                async with s.get("https://httpbin.org/get") as r:
                    assert r.status == 200

        asyncio.run(main())
    """,
    "uvloop": """
        import uvloop
        from reqivo_async import AsyncSession
        from websockets.asyncio.client import connect

        async def main():
            async with AsyncSession(http2=True) as s:
                assert (await s.get("https://httpbin.org/get")).status_code == 200
            async with connect("wss://echo.websocket.org") as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"

        uvloop.run(main())
    """,
}
