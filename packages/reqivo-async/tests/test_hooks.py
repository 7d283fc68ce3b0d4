"""Event hooks: sync and async callables on every request and response."""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_async._hooks import call_hooks, to_event_hooks
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_protocol._exceptions import HTTPStatusError
from servers.app import app


def asgi_session(**options: Any) -> AsyncSession:
    return AsyncSession(transport=ASGITransport(app), base_url="http://test", **options)


async def test_sync_and_async_hooks_see_every_request() -> None:
    events: list[str] = []

    def on_request(request: AsyncRequest) -> None:
        request.headers["X-Hooked"] = "yes"
        events.append(f"request {request.url.path}")

    async def on_response(response: Response) -> None:
        events.append(f"response {response.status_code}")

    hooks = {"request": [on_request], "response": [on_response]}
    async with asgi_session(event_hooks=hooks) as session:
        response = await session.get("/redirect/1")
        assert ["x-hooked", "yes"] in response.json()["headers"]
    assert events == ["request /redirect/1", "response 302", "request /redirect/0", "response 200"]


async def test_hooks_can_be_changed_on_the_session() -> None:
    seen: list[int] = []
    async with asgi_session() as session:
        session.event_hooks["response"].append(lambda r: seen.append(r.status_code))
        await session.get("/status/204")
        session.event_hooks = {"response": []}
        await session.get("/status/204")
        assert session.event_hooks == {"request": [], "response": []}
    assert seen == [204]


async def test_raising_hook_aborts_and_closes() -> None:
    def check(response: Response) -> None:
        response.raise_for_status()

    async with asgi_session(event_hooks={"response": [check]}) as session:
        with pytest.raises(HTTPStatusError) as info:
            await session.get("/status/404")
        assert info.value.response.is_closed
        assert (await session.get("/health")).status_code == 200


def test_validation() -> None:
    assert to_event_hooks(None) == {"request": [], "response": []}
    with pytest.raises(ValueError, match="unknown"):
        to_event_hooks({"sent": []})
    with pytest.raises(TypeError, match="callable"):
        to_event_hooks({"request": ["nope"]})  # type: ignore[list-item]


async def test_call_hooks_order() -> None:
    order: list[int] = []

    async def second(arg: object) -> None:
        order.append(2)

    await call_hooks([lambda arg: order.append(1), second], object())
    assert order == [1, 2]
