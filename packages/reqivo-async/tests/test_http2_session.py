"""Everything above the connection works unchanged on HTTP/2: the session's features
against the ASGI test app on hypercorn over TLS (ALPN h2) and h2c (prior knowledge)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from reqivo_async import AsyncConnectionPool, AsyncSession, DigestAuth, Retry, Timeout
from reqivo_protocol import BodyTooLarge, ReadTimeout, TooManyHeaders, TotalTimeout
from servers.app import compressed_payload
from servers.models import Server, TLSServer


def h2_session(server: TLSServer, **options: Any) -> AsyncSession:
    return AsyncSession(http2=True, verify=server.ca_bundle, base_url=server.url, **options)


async def test_echo_over_h2(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        response = await session.get("/echo?x=1", headers={"X-Test": "yes"})
    assert response.http_version == "HTTP/2"
    data = response.json()
    assert data["http_version"] == "2"
    assert data["query"] == "x=1"
    headers = dict(data["headers"])
    assert headers["x-test"] == "yes"
    assert "connection" not in headers


async def test_h2c_prior_knowledge(hypercorn_h2c_server: Server) -> None:
    async with AsyncSession(http1=False, http2=True) as session:
        response = await session.post(hypercorn_h2c_server.url + "/echo", content=b"abc")
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"
    assert base64.b64decode(response.json()["body_base64"]) == b"abc"


async def test_redirects_cookies_and_history(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        response = await session.get("/redirect/3")
        assert [r.status_code for r in response.history] == [302, 302, 302]
        assert all(r.http_version == "HTTP/2" for r in response.history)
        await session.get("/cookies/set?flavour=oat")
        cookies = (await session.get("/cookies")).json()
    assert response.json()["path"] == "/redirect/0"
    assert cookies["cookies"] == {"flavour": "oat"}


async def test_basic_and_digest_auth(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        basic = await session.get("/basic-auth/user/pw", auth=("user", "pw"))
        digest = await session.get("/digest-auth/auth/user/pw", auth=DigestAuth("user", "pw"))
    assert basic.status_code == 200
    assert digest.status_code == 200
    assert digest.http_version == "HTTP/2"


async def test_large_upload_in_memory_and_streamed(hypercorn_h2_server: TLSServer) -> None:
    body = bytes(range(256)) * 4096 * 3  # 3 MiB: many windows' worth

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100_000):
            yield body[start : start + 100_000]

    async with h2_session(hypercorn_h2_server) as session:
        whole = (await session.post("/upload", content=body)).json()
        streamed = (await session.post("/upload", content=chunks())).json()
    digest = hashlib.sha256(body).hexdigest()
    assert whole["length"] == len(body) and whole["sha256"] == digest
    assert whole["content_length"] == str(len(body))
    assert streamed["length"] == len(body) and streamed["sha256"] == digest


async def test_streamed_download_and_decoding(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        async with session.stream("GET", "/stream/200000?chunk=1000") as response:
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
        gzipped = await session.get("/gzip")
    assert total == 200000
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.content == compressed_payload("gzip")


async def test_read_timeout_fails_one_stream_only(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        slow = session.get("/delay/2", timeout=Timeout(5, read=0.3))
        fast = [session.get("/echo") for _ in range(5)]
        results = await asyncio.gather(slow, *fast, return_exceptions=True)
        assert isinstance(results[0], ReadTimeout)
        assert all(r.status_code == 200 for r in results[1:])  # type: ignore[union-attr]
        after = await session.get("/echo")
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert after.status_code == 200
    assert len(connections) == 1 and connections[0].requests == 7


async def test_total_timeout_and_cancellation(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        with pytest.raises(TotalTimeout):
            await session.get("/delay/3", timeout=Timeout(5, total=0.3))
        task = asyncio.ensure_future(session.get("/delay/3"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        response = await session.get("/echo")
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert len(connections) == 1


async def test_max_body_size(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server, max_body_size=1000) as session:
        with pytest.raises(BodyTooLarge):
            await session.get("/bytes/5000")
        ok = await session.get("/bytes/500")
    assert len(ok.content) == 500


async def test_hooks_trace_and_retries(hypercorn_h2_server: TLSServer) -> None:
    seen: list[str] = []
    events: list[str] = []

    async def on_response(response: Any) -> None:
        seen.append(response.http_version)

    def trace(event: str, info: dict[str, Any]) -> None:
        events.append(event)

    retry = Retry(total=3, backoff_factor=0, statuses={503}, respect_retry_after=False)
    async with h2_session(
        hypercorn_h2_server, event_hooks={"response": [on_response]}, trace=trace, retries=retry
    ) as session:
        response = await session.get("/retry-after?key=h2-retry&failures=2&seconds=0")
    assert response.json()["attempts"] == 3
    assert seen == ["HTTP/2"] * 3
    assert "http2.send_request.started" in events
    assert "http2.response_body.complete" in events


async def test_many_concurrent_posts(hypercorn_h2_server: TLSServer) -> None:
    async with h2_session(hypercorn_h2_server) as session:
        responses = await asyncio.gather(*[session.post("/echo", json={"n": n}) for n in range(50)])
    bodies = [json.loads(base64.b64decode(r.json()["body_base64"])) for r in responses]
    assert [b["n"] for b in bodies] == list(range(50))


async def test_max_header_count_applies_to_h2(hypercorn_h2c_server: Server) -> None:
    pool = AsyncConnectionPool(http1=False, http2=True, max_header_count=20)
    async with AsyncSession(transport=pool, base_url=hypercorn_h2c_server.url) as session:
        assert (await session.get("/set-many-headers?n=10")).http_version == "HTTP/2"
        with pytest.raises(TooManyHeaders, match="max_header_count=20"):
            await session.get("/set-many-headers?n=30")
        assert (await session.get("/health")).text == "ok"  # only that stream was reset
        assert pool.active_connections + pool.idle_connections == 1
