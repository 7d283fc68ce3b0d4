"""MockTransport: a function answers requests."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import AsyncSession
from reqivo_async._transports._mock import MockTransport


async def test_sync_handler_sees_the_body() -> None:
    def handler(request: AsyncRequest) -> Response:
        return Response(201, content=request.content[::-1])

    async def body() -> AsyncGenerator[bytes, None]:
        yield b"ab"
        yield b"c"

    async with AsyncSession(transport=MockTransport(handler)) as session:
        response = await session.post("http://h/", content=body())
    assert (response.status_code, response.content) == (201, b"cba")
    assert response.request.method == "POST"


async def test_async_handler_and_streaming_response() -> None:
    class Chunks:
        async def __aiter__(self) -> AsyncGenerator[bytes, None]:
            for chunk in (b"a", b"b"):
                yield chunk

        async def aclose(self) -> None:
            return None

    async def handler(request: AsyncRequest) -> Response:
        return Response(200, stream=Chunks())

    session = AsyncSession(transport=MockTransport(handler))
    async with session, session.stream("GET", "http://h/") as response:
        assert [c async for c in response.aiter_raw()] == [b"a", b"b"]


async def test_handler_keeps_its_own_request_and_rejects_non_responses() -> None:
    other = AsyncRequest("GET", "http://other/")
    transport = MockTransport(lambda request: Response(200, request=other))
    response = await transport.handle_async_request(AsyncRequest("GET", "http://h/"))
    assert response.request is other
    bad = MockTransport(lambda request: "nope")  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="str"):
        await bad.handle_async_request(AsyncRequest("GET", "http://h/"))
    async with MockTransport(lambda request: Response(200)) as transport:
        assert transport.handler is not None
