"""ASGITransport: an ASGI 3 app in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from reqivo_async._models import AsyncRequest
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_protocol._exceptions import RemoteProtocolError
from servers.app import app

Scope = dict[str, Any]


async def test_scope_and_streaming_request_body() -> None:
    scopes: list[Scope] = []
    received: list[bytes] = []

    async def echo(scope: Scope, receive: Any, send: Any) -> None:
        scopes.append(scope)
        while True:
            message = await receive()
            received.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"hel", "more_body": True})
        await send({"type": "http.response.body", "body": b"lo"})

    async def body() -> AsyncGenerator[bytes, None]:
        yield b"one"
        yield b"two"

    transport = ASGITransport(echo, root_path="/root", client=("10.0.0.1", 5))
    async with AsyncSession(transport=transport) as session:
        response = await session.post("http://example.org:8080/a%20b?q=1", content=body())
        assert response.content == b"hello"
        assert response.headers["x-a"] == "1"
        await session.put("https://example.org/", content=b"xyz")
    scope = scopes[0]
    assert scope["path"] == "/a b"
    assert scope["raw_path"] == b"/a%20b"
    assert scope["query_string"] == b"q=1"
    assert scope["root_path"] == "/root"
    assert scope["client"] == ("10.0.0.1", 5)
    assert scope["server"] == ("example.org", 8080)
    assert scope["headers"][0] == (b"host", b"example.org:8080")
    assert (b"transfer-encoding", b"chunked") in scope["headers"]
    assert received[:3] == [b"one", b"two", b""]
    assert scopes[1]["server"] == ("example.org", 443)
    assert (b"content-length", b"3") in scopes[1]["headers"]


async def test_app_exceptions_raised_or_500() -> None:
    async def broken(scope: Scope, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    async with AsyncSession(transport=ASGITransport(broken)) as session:
        with pytest.raises(ValueError, match="boom"):
            await session.get("http://h/")
    transport = ASGITransport(broken, raise_app_exceptions=False)
    async with AsyncSession(transport=transport) as session:
        assert (await session.get("http://h/")).status_code == 500


async def test_app_failing_mid_body() -> None:
    async def half(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("mid-body")

    async with AsyncSession(transport=ASGITransport(half)) as session:
        with pytest.raises(ValueError, match="mid-body"):
            await session.get("http://h/")
    transport = ASGITransport(half, raise_app_exceptions=False)
    async with AsyncSession(transport=transport) as session:
        assert (await session.get("http://h/")).content == b"part"


async def test_app_failing_after_the_body() -> None:
    async def late(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        await send({"type": "http.response.body", "body": b"ignored"})
        raise ValueError("after")

    async with AsyncSession(transport=ASGITransport(late)) as session:
        with pytest.raises(ValueError, match="after"):
            await session.get("http://h/")
    transport = ASGITransport(late, raise_app_exceptions=False)
    async with AsyncSession(transport=transport) as session:
        assert (await session.get("http://h/")).content == b"done"


async def test_app_without_response_and_without_end() -> None:
    async def silent(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"before start"})

    async with AsyncSession(transport=ASGITransport(silent)) as session:
        with pytest.raises(RemoteProtocolError, match="without sending"):
            await session.get("http://h/")

    async def unfinished(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.trailers"})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})

    async with AsyncSession(transport=ASGITransport(unfinished)) as session:
        assert (await session.get("http://h/")).content == b"x"


async def test_early_close_disconnects_and_cancels_the_app() -> None:
    events: list[str] = []

    async def endless(scope: Scope, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 100, "more_body": True})
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    session = AsyncSession(transport=ASGITransport(endless))
    async with session, session.stream("GET", "http://h/") as response:
        async for _chunk in response.aiter_bytes():
            break
    assert events == ["cancelled"]


async def test_disconnect_after_the_response() -> None:
    messages: list[str] = []
    done = asyncio.Event()

    async def watcher(scope: Scope, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        messages.append((await receive())["type"])
        done.set()

    async with AsyncSession(transport=ASGITransport(watcher)) as session:
        await session.get("http://h/")
    await asyncio.wait_for(done.wait(), 1)
    assert messages == ["http.disconnect"]


async def test_cancelled_before_the_response_starts() -> None:
    started = asyncio.Event()

    async def slow(scope: Scope, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(10)

    transport = ASGITransport(slow)
    task = asyncio.ensure_future(transport.handle_async_request(AsyncRequest("GET", "http://h/")))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_shared_test_app() -> None:
    async with AsyncSession(transport=ASGITransport(app), base_url="http://t") as session:
        response = await session.post("/upload", content=b"x" * 100_000)
        assert response.json()["length"] == 100_000
        async with session.stream("GET", "/bytes/300000?chunk_size=1000") as response:
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
        assert total == 300_000


async def test_late_messages_and_errors_after_disconnect() -> None:
    finished = asyncio.Event()

    async def lingering(scope: Scope, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.body", "body": b"dropped"})
        finished.set()
        raise ValueError("late")

    async with AsyncSession(transport=ASGITransport(lingering)) as session:
        with pytest.raises(ValueError, match="late"):
            await session.get("http://h/")
    assert finished.is_set()
