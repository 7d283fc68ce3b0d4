"""``reqivo_async.testing.ReqivoMock`` and the ``override_default_transport`` seam."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

from reqivo_async import (
    AsyncRequest,
    AsyncSession,
    ConnectError,
    ConnectTimeout,
    MockTransport,
    Response,
    TransportError,
)
from reqivo_async.testing import ReqivoMock
from reqivo_async.transport import AsyncBaseTransport, override_default_transport
from servers.models import Server


async def test_routes_by_method_and_url_and_counts_calls() -> None:
    with ReqivoMock() as mock:
        users = mock.add_response(method="GET", url="https://api.test/users", json=[1, 2])
        created = mock.add_response(method="post", url="https://api.test/users", status_code=201)
        async with AsyncSession() as session:
            first = await session.get("https://api.test/users")
            second = await session.get("https://API.test:443/users")
            posted = await session.post("https://api.test/users", json={"name": "a"})
    assert (first.status_code, first.json(), second.json()) == (200, [1, 2], [1, 2])
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == "5"
    assert posted.status_code == 201
    assert (users.called, users.call_count, created.call_count) == (True, 2, 1)
    assert [r.method for r in mock.requests] == ["GET", "GET", "POST"]
    assert created.calls[0].content == b'{"name":"a"}'
    assert first.request is users.calls[0]


async def test_url_query_matches_in_any_order_and_a_url_without_query_only_without() -> None:
    with ReqivoMock() as mock:
        route = mock.add_response(url="https://api.test/search?q=x&page=2", text="found")
        async with AsyncSession() as session:
            found = await session.get("https://api.test/search", params={"page": 2, "q": "x"})
            with pytest.raises(TransportError, match="no route matches GET"):
                await session.get("https://api.test/search?q=x")
        mock.unmatched.clear()
    assert (found.text, found.headers["content-type"]) == ("found", "text/plain; charset=utf-8")
    assert route.call_count == 1


async def test_regex_params_headers_content_and_json_matchers() -> None:
    with ReqivoMock() as mock:
        item = mock.add_response(url=re.compile(r"https://api\.test/items/\d+$"), content=b"i")
        paged = mock.add_response(url=re.compile(".*/list"), params={"page": "2"}, content=b"p")
        tokened = mock.add_response(match_headers={"X-Token": "t"}, content=b"h")
        raw = mock.add_response(method="PUT", match_content=b"raw", content=b"c")
        parsed = mock.add_response(method="PUT", match_json={"a": [1]}, content=b"j")
        async with AsyncSession() as session:
            assert (await session.get("https://api.test/items/42")).content == b"i"
            listing = await session.get("https://api.test/list", params={"page": 2, "sort": "x"})
            assert listing.content == b"p"
            assert (await session.get("https://x.test/", headers={"x-token": "t"})).content == b"h"
            assert (await session.put("https://x.test/", content=b"raw")).content == b"c"
            assert (await session.put("https://x.test/", json={"a": [1]})).content == b"j"
            for attempt in (
                session.get("https://api.test/items/42/more"),
                session.get("https://api.test/list?page=3"),
                session.get("https://x.test/", headers={"x-token": "u"}),
                session.put("https://x.test/", content=b"not json"),
                session.put("https://x.test/", json={"a": [2]}),
            ):
                with pytest.raises(TransportError):
                    await attempt
        assert len(mock.unmatched) == 5
        mock.unmatched.clear()
    assert [r.call_count for r in (item, paged, tokened, raw, parsed)] == [1, 1, 1, 1, 1]


async def test_callbacks_plain_and_async_see_the_request() -> None:
    def echo(request: AsyncRequest) -> Response:
        return Response(200, content=request.content.upper())

    async def later(request: AsyncRequest) -> Response:
        await asyncio.sleep(0)
        return Response(202, content=request.url.path.encode())

    with ReqivoMock() as mock:
        mock.add_callback(echo, method="POST")
        mock.add_callback(later, method="GET")
        async with AsyncSession() as session:
            assert (await session.post("https://x.test/", content=b"abc")).content == b"ABC"
            response = await session.get("https://x.test/path")
    assert (response.status_code, response.content) == (202, b"/path")


async def test_exceptions_get_the_request_and_are_raised_where_sent() -> None:
    timeout = ConnectTimeout("too slow")
    with ReqivoMock() as mock:
        mock.add_exception(timeout, url="https://x.test/slow")
        mock.add_exception(ValueError("boom"), url="https://x.test/bug")
        async with AsyncSession() as session:
            with pytest.raises(ConnectTimeout) as caught:
                await session.get("https://x.test/slow")
            with pytest.raises(ValueError, match="boom"):
                await session.get("https://x.test/bug")
    assert caught.value.request is mock.requests[0]


async def test_first_unused_route_then_the_last_one_again() -> None:
    with ReqivoMock() as mock:
        mock.add_response(url="https://x.test/", status_code=503)
        mock.add_response(url="https://x.test/", status_code=200)
        async with AsyncSession() as session:
            codes = [(await session.get("https://x.test/")).status_code for _ in range(4)]
    assert codes == [503, 200, 200, 200]


async def test_unmatched_request_raises_and_fails_the_check_even_if_swallowed() -> None:
    mock = ReqivoMock()
    mock.add_response(url="https://x.test/a")
    mock.start()
    try:
        async with AsyncSession() as session:
            await session.get("https://x.test/a")
            with pytest.raises(TransportError) as caught:
                await session.get("https://user:secret@x.test/b")
    finally:
        mock.stop()
    message = str(caught.value)
    assert "no route matches GET https://user:[secure]@x.test/b" in message
    assert "secret" not in message
    assert "<Route any method https://x.test/a (called 1 times)>" in message
    with pytest.raises(AssertionError, match=r"1 request\(s\) matched no route") as failed:
        mock.check()
    assert "secret" not in str(failed.value)


async def test_without_routes_the_message_says_so() -> None:
    with ReqivoMock(assert_all_mocked=True) as mock:
        async with AsyncSession() as session:
            with pytest.raises(TransportError, match=r"\(none registered\)"):
                await session.get("https://x.test/")
        mock.reset()
    assert mock.requests == []


async def test_unused_routes_fail_the_check_unless_optional_or_allowed() -> None:
    mock = ReqivoMock()
    mock.add_response(url="https://x.test/used")
    mock.add_response(url="https://x.test/never", optional=True)
    with mock:
        async with AsyncSession() as session:
            await session.get("https://x.test/used")
    mock.add_response(method="DELETE", url="https://x.test/gone")
    with pytest.raises(AssertionError, match=r"1 route\(s\) never called") as failed:
        mock.check()
    assert "DELETE https://x.test/gone" in str(failed.value)
    mock.assert_all_called = False
    mock.check()


async def test_assert_all_mocked_false_answers_unmatched_with_an_empty_200() -> None:
    with ReqivoMock(assert_all_mocked=False) as mock:
        async with AsyncSession() as session:
            response = await session.get("https://x.test/anything")
    assert (response.status_code, response.content) == (200, b"")
    assert mock.unmatched == mock.requests


async def test_leaving_with_an_exception_skips_the_check() -> None:
    mock = ReqivoMock()
    mock.add_response(url="https://x.test/")

    def fails() -> None:
        with mock:
            raise KeyError("the test's own failure")

    with pytest.raises(KeyError):
        fails()
    with pytest.raises(AssertionError, match="never called"):
        mock.check()


async def test_get_requests_and_get_request() -> None:
    with ReqivoMock() as mock:
        mock.add_response()
        async with AsyncSession() as session:
            await session.get("https://x.test/a")
            await session.post("https://x.test/a", content=b"1")
            await session.post("https://x.test/b", content=b"2")
    assert len(mock.get_requests()) == 3
    assert [r.url.path for r in mock.get_requests(method="POST")] == ["/a", "/b"]
    single = mock.get_request(method="POST", url="https://x.test/b")
    assert single is not None and single.content == b"2"
    assert mock.get_request(url="https://x.test/none") is None
    with pytest.raises(AssertionError, match="3 requests match, not one"):
        mock.get_request()


def test_at_most_one_body_and_one_activation() -> None:
    mock = ReqivoMock()
    with pytest.raises(TypeError, match="at most one of content, text and json"):
        mock.add_response(text="a", json={})
    with mock, pytest.raises(RuntimeError, match="active already"):
        mock.start()
    mock.stop()  # stopping twice is harmless


async def test_sessions_from_other_threads_are_routed_too() -> None:
    codes: list[int] = []

    async def fetch() -> None:
        async with AsyncSession() as session:
            codes.append((await session.get("https://x.test/")).status_code)

    with ReqivoMock() as mock:
        route = mock.add_response(status_code=204)
        threads = [threading.Thread(target=asyncio.run, args=(fetch(),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert (codes, route.call_count) == ([204] * 4, 4)


async def test_override_read_once_at_construction_and_nesting_restores() -> None:
    def handler(request: AsyncRequest) -> Response:
        return Response(299)

    before = AsyncSession()
    outer = MockTransport(handler)
    with override_default_transport(lambda make_pool: outer):
        during = AsyncSession()
        explicit = AsyncSession(transport=MockTransport(handler))
        with ReqivoMock() as mock:
            inner = AsyncSession()
        after_inner = AsyncSession()
    after = AsyncSession()
    assert during.transport is outer and after_inner.transport is outer
    assert explicit.transport is not outer
    assert isinstance(inner.transport, MockTransport) and inner.transport is not outer
    assert type(before.transport).__name__ == type(after.transport).__name__
    assert type(after.transport).__name__ == "AsyncConnectionPool"
    # The session built inside keeps routing through the mock after it ended.
    mock.add_response(status_code=201)
    assert (await inner.get("https://x.test/")).status_code == 201
    for session in (before, during, explicit, inner, after_inner, after):
        await session.aclose()


async def test_the_factory_gets_the_pool_the_session_would_have_had() -> None:
    made: list[AsyncBaseTransport] = []

    def factory(make_pool: object) -> AsyncBaseTransport:
        assert callable(make_pool)
        pool = make_pool()
        assert isinstance(pool, AsyncBaseTransport)
        made.append(pool)
        return pool

    with override_default_transport(factory):
        async with AsyncSession(http2=True, trust_env=False) as session:
            assert session.transport is made[0]
    assert type(made[0]).__name__ == "AsyncConnectionPool"


async def test_pass_through_routes_go_to_the_network(uvicorn_h11_server: Server) -> None:
    base = uvicorn_h11_server.url
    with ReqivoMock() as mock:
        real = mock.add_pass_through(url=re.compile(re.escape(base)))
        fake = mock.add_response(url="https://api.test/", text="fake")
        async with AsyncSession() as session:
            echoed = await session.post(f"{base}/echo", content=b"hello")
            again = await session.get(f"{base}/health")
            faked = await session.get("https://api.test/")
    assert echoed.json()["body_length"] == 5
    assert (again.text, faked.text) == ("ok", "fake")
    assert (real.call_count, fake.call_count) == (2, 1)


async def test_errors_inside_a_pass_through_are_the_pools() -> None:
    with ReqivoMock() as mock:
        mock.add_pass_through(url="http://127.0.0.1:9/")  # the discard port: nothing listens
        async with AsyncSession(timeout=2) as session:
            with pytest.raises(ConnectError):
                await session.get("http://127.0.0.1:9/")
