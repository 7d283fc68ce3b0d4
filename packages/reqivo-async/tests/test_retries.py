"""Retries: the pure policy and the session's loop."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncGenerator

import pytest

from reqivo_async._models import AsyncRequest, Response
from reqivo_async._retries import (
    IDEMPOTENT_METHODS,
    Retry,
    RetryState,
    parse_retry_after,
    to_retry,
)
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol._exceptions import ConnectError, ConnectTimeout, ReadError
from servers.app import app


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits of the retry loop instead of sleeping."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        recorded.append(delay)
        await real_sleep(0)

    monkeypatch.setattr("reqivo_async._session.asyncio.sleep", fake_sleep)
    return recorded


def failing(errors: list[BaseException], final: int = 200) -> MockTransport:
    def handler(request: AsyncRequest) -> Response:
        if errors:
            raise errors.pop(0)
        return Response(final)

    return MockTransport(handler)


# -- the policy -------------------------------------------------------------------------------


def test_backoff() -> None:
    retry = Retry(backoff_factor=1.0, backoff_max=5.0)
    assert [retry.backoff(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert retry.backoff(2, rand=lambda: 0.25) == 0.5
    assert Retry(jitter=False, backoff_factor=0.5).backoff(3) == 2.0
    assert Retry(backoff_factor=0).backoff(5) == 0.0
    assert 0.0 <= Retry().backoff(1) <= 0.5


def test_validation_and_normalization() -> None:
    with pytest.raises(ValueError, match="counts"):
        Retry(total=-1)
    with pytest.raises(ValueError, match="wait"):
        Retry(backoff_factor=-1)
    retry = Retry(methods=["get"], statuses={500})
    assert retry.methods == frozenset({"GET"})
    assert retry.statuses == frozenset({500})
    assert retry == Retry(methods={"GET"}, statuses=[500])
    assert retry != Retry() and retry != "Retry"
    assert hash(retry) == hash(Retry(methods={"GET"}, statuses=[500]))
    assert repr(Retry()).startswith("Retry(total=3, connect=None")
    with pytest.raises(AttributeError, match="immutable"):
        retry.total = 5
    assert to_retry(None) is None
    assert to_retry(0) is None
    assert to_retry(2) == Retry(total=2)
    assert to_retry(retry) is retry
    with pytest.raises(TypeError):
        to_retry(True)
    assert "POST" not in IDEMPOTENT_METHODS


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after(" 12 ", now) == 12.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(30, abs=1.5)
    assert parse_retry_after(email.utils.formatdate(now - 100, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37", now) is None  # no zone


def test_state_decisions() -> None:
    request = AsyncRequest("GET", "http://h/")
    state = RetryState(Retry(total=2, connect=1, backoff_factor=0), rand=lambda: 1.0)
    assert state.after_error(request, ReadError("x")) is None
    assert state.after_error(request, ConnectError("x")) == 0.0
    assert state.after_error(request, ConnectTimeout("x")) is None  # connect budget spent
    assert state.after_response(request, Response(503), 0.0) == 0.0
    assert state.after_response(request, Response(503), 0.0) is None  # total spent
    post = AsyncRequest("POST", "http://h/")
    assert RetryState(Retry()).after_response(post, Response(503), 0.0) is None
    assert RetryState(Retry()).after_response(request, Response(500), 0.0) is None
    capped = RetryState(Retry(retry_after_max=5))
    assert capped.after_response(request, Response(429, headers={"Retry-After": "99"}), 0) == 5
    ignoring = RetryState(Retry(respect_retry_after=False, backoff_factor=0))
    assert ignoring.after_response(request, Response(429, headers={"Retry-After": "9"}), 0) == 0
    garbage = RetryState(Retry(backoff_factor=0))
    assert garbage.after_response(request, Response(429, headers={"Retry-After": "?"}), 0) == 0


# -- the session loop ---------------------------------------------------------------------------


async def test_connect_failures_retried_for_any_method(sleeps: list[float]) -> None:
    transport = failing([ConnectError("refused"), ConnectTimeout("slow")])
    retry = Retry(total=3, backoff_factor=0.1, jitter=False)
    async with AsyncSession(transport=transport, retries=retry) as session:
        response = await session.post("http://h/", content=b"x")
    assert response.status_code == 200
    assert sleeps == [0.1, 0.2]


async def test_connect_failures_exhausted_raise(sleeps: list[float]) -> None:
    transport = failing([ConnectError("1"), ConnectError("2"), ConnectError("3")])
    async with AsyncSession(transport=transport, retries=2) as session:
        with pytest.raises(ConnectError, match="3") as info:
            await session.get("http://h/")
    assert info.value.request is not None
    assert len(sleeps) == 2


async def test_other_errors_not_retried(sleeps: list[float]) -> None:
    transport = failing([ReadError("reset")])
    async with AsyncSession(transport=transport, retries=3) as session:
        with pytest.raises(ReadError):
            await session.get("http://h/")
    assert sleeps == []


async def test_non_replayable_body_never_retried(sleeps: list[float]) -> None:
    async def body() -> AsyncGenerator[bytes, None]:
        yield b"x"

    class Refusing(AsyncBaseTransport):
        async def handle_async_request(self, request: AsyncRequest) -> Response:
            raise ConnectError("refused")

    async with AsyncSession(transport=Refusing(), retries=3) as session:
        with pytest.raises(ConnectError):
            await session.post("http://h/", content=body())
    assert sleeps == []


async def test_statuses_with_retry_after_against_the_app(sleeps: list[float]) -> None:
    transport = ASGITransport(app)
    async with AsyncSession(transport=transport, base_url="http://t", retries=Retry()) as session:
        response = await session.get("/retry-after?seconds=2&key=k1&failures=2")
        assert response.status_code == 200
        assert sleeps == [2.0, 2.0]
        sleeps.clear()
        date = "/retry-after?date=1&seconds=1&key=k2&failures=1"
        assert (await session.get(date)).status_code == 200
        assert len(sleeps) == 1 and sleeps[0] <= 2.0
        sleeps.clear()
        # POST is not idempotent: the 503 comes back as is.
        response = await session.post("/retry-after?seconds=0&key=k3&failures=1")
        assert response.status_code == 503
        assert sleeps == []
        # Attempts exhausted: the last response is returned.
        response = await session.get("/retry-after?seconds=0")
        assert response.status_code == 503
        assert len(sleeps) == 3


async def test_retries_use_real_sleep_briefly() -> None:
    transport = failing([ConnectError("refused")])
    retry = Retry(backoff_factor=0.01)
    async with AsyncSession(transport=transport, retries=retry) as session:
        assert session.retries is retry
        assert (await session.get("http://h/")).status_code == 200
        session.retries = None
        assert session.retries is None
