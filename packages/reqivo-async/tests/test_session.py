"""AsyncSession: URL building, defaults, send/stream, timeouts, lifetime."""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from typing import Any

import pytest

from reqivo_async._config import Timeout
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import USE_SESSION, AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol import URL, __version__
from reqivo_protocol._exceptions import (
    ConnectError,
    InvalidURL,
    ReadTimeout,
    RemoteProtocolError,
    TotalTimeout,
)
from reqivo_protocol.content import supported_encodings
from servers.app import app
from servers.models import Server, TLSServer


def asgi_session(**options: Any) -> AsyncSession:
    options.setdefault("base_url", "http://test")
    return AsyncSession(transport=ASGITransport(app), **options)


def echo_handler(request: AsyncRequest) -> Response:
    return Response(
        200,
        headers={"content-type": "application/json"},
        content=json.dumps(
            {
                "method": request.method,
                "url": str(request.url),
                "headers": request.headers.multi_items(),
                "body": request.content.decode("latin-1"),
                "timeout": request.extensions["timeout"].as_dict(),
            }
        ).encode(),
    )


def mock_session(**options: Any) -> AsyncSession:
    return AsyncSession(transport=MockTransport(echo_handler), **options)


# -- URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("http://h/api", "users", "http://h/api/users"),
        ("http://h/api/", "/users", "http://h/api/users"),
        ("http://h/api", "users?x=1", "http://h/api/users?x=1"),
        ("http://h", "", "http://h/"),
        ("http://h/api?q=1#f", "a", "http://h/api/a"),
        ("http://h/api", "https://other/x", "https://other/x"),
    ],
)
def test_base_url_joining(base: str, url: str, expected: str) -> None:
    session = mock_session(base_url=base)
    assert str(session.build_request("GET", url).url) == expected


def test_base_url_with_url_objects_and_none() -> None:
    from reqivo_protocol._url import URL

    session = mock_session(base_url="http://h/api")
    assert str(session.base_url) == "http://h/api/"
    assert str(session.build_request("GET", URL("x/y")).url) == "http://h/api/x/y"
    absolute = URL("http://o/p")
    assert session.build_request("GET", absolute).url is absolute
    session.base_url = None
    assert session.base_url is None
    assert str(session.build_request("GET", URL("http://o/q")).url) == "http://o/q"
    with pytest.raises(InvalidURL):
        session.base_url = "ftp://h/"


async def test_relative_url_without_base_url_is_refused() -> None:
    async with mock_session() as session:
        with pytest.raises(InvalidURL):
            await session.get("/relative")


def test_default_headers_and_overrides() -> None:
    session = mock_session(headers={"X-Session": "1", "Accept": "application/json"})
    request = session.build_request(
        "GET", "http://h/", headers={"X-Request": "2", "X-Session": "3"}
    )
    assert request.headers["User-Agent"] == f"reqivo/{__version__}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Accept-Encoding"] == ", ".join(supported_encodings())
    assert request.headers["X-Session"] == "3"
    assert request.headers["X-Request"] == "2"
    assert "X-Request" not in session.headers
    session.headers = {"Only": "this"}
    assert list(session.headers) == ["Only"]


def test_url_cache_is_bounded() -> None:
    session = mock_session(base_url="http://h/")
    urls = [session.build_request("GET", f"/p{i}").url for i in range(300)]
    assert str(urls[-1]) == "http://h/p299"
    assert len(session.state.url_cache) <= 128
    assert session.build_request("GET", "/p299").url is urls[-1]


def test_params_merge() -> None:
    session = mock_session(params={"a": "1", "b": "2"})
    request = session.build_request("GET", "http://h/p?c=3", params={"b": "x"})
    assert request.url.params.multi_items() == [("c", "3"), ("a", "1"), ("b", "x")]
    session.params = None
    assert session.params is None
    assert str(session.build_request("GET", "http://h/p").url) == "http://h/p"


def test_timeout_and_trace_extensions() -> None:
    def trace(event: str, info: dict[str, Any]) -> None:
        return None

    session = mock_session(timeout=5.0, trace=trace)
    request = session.build_request("GET", "http://h/")
    assert request.extensions["timeout"] == Timeout(5.0)
    assert request.extensions["trace"] is trace
    request = session.build_request("GET", "http://h/", timeout=None, extensions={"x": 1})
    assert request.extensions["timeout"] == Timeout(None)
    assert request.extensions["x"] == 1
    request = session.build_request("GET", "http://h/", timeout=Timeout(1.0, read=2.0))
    assert request.extensions["timeout"].read == 2.0
    session.timeout = 3
    assert session.timeout == Timeout(3)
    assert repr(USE_SESSION) == "USE_SESSION"


# -- sending ----------------------------------------------------------------------------


async def test_methods_and_bodies() -> None:
    async with asgi_session() as session:
        for method in ("get", "head", "options", "delete"):
            response = await getattr(session, method)("/echo")
            assert response.status_code == 200
            if method != "head":
                assert response.json()["method"] == method.upper()
        response = await session.post("/echo", json={"a": 1})
        body = response.json()
        assert body["method"] == "POST"
        assert body["body_length"] == len(b'{"a":1}')
        assert ["content-type", "application/json"] in body["headers"]
        response = await session.put("/echo", data={"k": "v"})
        assert response.json()["body_length"] == 3
        response = await session.patch("/echo", content=b"raw")
        assert response.json()["method"] == "PATCH"
        response = await session.post("/multipart", files={"f": ("a.txt", b"abc", "text/plain")})
        assert response.status_code == 200
        response = await session.request("DELETE", "/echo", content="x")
        assert response.json()["body_length"] == 1


async def test_response_attributes() -> None:
    async with asgi_session() as session:
        response = await session.get("/echo?x=1")
        assert response.url == "http://test/echo?x=1"
        assert response.http_version == "HTTP/1.1"
        assert response.reason == "OK"
        assert response.history == []
        assert response.elapsed.total_seconds() >= 0
        assert response.is_closed
        assert response.request.method == "GET"
        assert response.text.startswith("{")


async def test_streaming_and_send() -> None:
    async with asgi_session() as session:
        async with session.stream("GET", "/stream/5000?chunk=1000") as response:
            assert not response.is_stream_consumed
            chunks = [chunk async for chunk in response.aiter_bytes()]
        assert sum(map(len, chunks)) == 5000
        assert response.is_closed
        request = session.build_request("GET", "/bytes/10")
        response = await session.send(request)
        assert len(response.content) == 10
        response = await session.send(session.build_request("GET", "/bytes/10"), stream=True)
        assert not response.is_closed
        assert await response.aread() == response.content
        assert response.is_closed


async def test_stream_context_exit_without_reading_closes() -> None:
    async with asgi_session() as session:
        async with session.stream("GET", "/stream/100000") as response:
            pass
        assert response.is_closed


async def test_gzip_and_deflate_decoded() -> None:
    async with asgi_session() as session:
        for path in ("/gzip", "/deflate", "/deflate?raw=1", "/gzip?chunked=1"):
            response = await session.get(path)
            assert response.json()


async def test_default_encoding_and_max_decompressed_size() -> None:
    from reqivo_protocol._exceptions import DecompressionLimitExceeded

    async with asgi_session(default_encoding="latin-1", max_decompressed_size=1000) as session:
        response = await session.get("/charset/latin-1?declare=0")
        assert response.encoding == "latin-1"
        with pytest.raises(DecompressionLimitExceeded) as info:
            await session.get("/bomb/100000")
        assert info.value.request is not None


async def test_url_credentials_become_basic_auth() -> None:
    async with asgi_session(base_url=None) as session:
        response = await session.get("http://us%40er:p%3Ass@test/basic-auth/us@er/p:ss")
        assert response.status_code == 200


# -- timeouts ---------------------------------------------------------------------------


async def test_timeout_passed_to_transport() -> None:
    async with mock_session(timeout=Timeout(7.0, read=9.0)) as session:
        body = (await session.get("http://h/")).json()
        assert body["timeout"]["read"] == 9.0
        body = (await session.get("http://h/", timeout=1.0)).json()
        assert body["timeout"]["connect"] == 1.0
        request = AsyncRequest("GET", "http://h/")
        body = (await session.send(request)).json()
        assert body["timeout"]["read"] == 9.0


async def test_total_timeout_covers_body_and_closes_stream() -> None:
    async with asgi_session(timeout=Timeout(5.0, total=0.2)) as session:
        with pytest.raises(TotalTimeout) as info:
            await session.get("/slow-body?chunks=20&interval=0.05&size=10")
        assert isinstance(info.value, TimeoutError)
        assert info.value.request.url.path == "/slow-body"
        # The session stays usable.
        assert (await session.get("/health", timeout=5.0)).text == "ok"
        with pytest.raises(TotalTimeout):
            await session.get("/delay/1")


async def test_total_timeout_with_stream_covers_only_the_head() -> None:
    session = asgi_session(timeout=Timeout(5.0, total=0.3))
    url = "/slow-body?chunks=3&interval=0.2&size=1"
    async with session, session.stream("GET", url) as response:
        assert len(await response.aread()) == 3


async def test_inner_timeouts_are_not_total_timeouts() -> None:
    def handler(request: AsyncRequest) -> Response:
        raise ReadTimeout("slow")

    async with AsyncSession(transport=MockTransport(handler), timeout=Timeout(1.0, total=5)) as s:
        with pytest.raises(ReadTimeout) as info:
            await s.get("http://h/")
        assert not isinstance(info.value, TotalTimeout)
        assert info.value.request.url == "http://h/"


async def test_cancellation_propagates_and_closes() -> None:
    async with asgi_session() as session:
        task = asyncio.ensure_future(session.get("/slow-body?chunks=50&interval=0.02"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await session.get("/health")).status_code == 200


# -- errors and lifetime -----------------------------------------------------------------


async def test_exceptions_get_request_attached() -> None:
    def handler(request: AsyncRequest) -> Response:
        raise ConnectError("refused")

    async with AsyncSession(transport=MockTransport(handler)) as session:
        with pytest.raises(ConnectError) as info:
            await session.get("http://h/x")
        assert info.value.request.url == "http://h/x"


async def test_closed_session_refuses() -> None:
    session = mock_session()
    await session.aclose()
    await session.aclose()
    assert session.is_closed
    assert "closed" in repr(session)
    with pytest.raises(RuntimeError):
        await session.get("http://h/")
    with pytest.raises(RuntimeError):
        await session.__aenter__()


class _Recording(AsyncBaseTransport):
    def __init__(self) -> None:
        self.closed = False

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        return Response(200, content=b"")

    async def aclose(self) -> None:
        self.closed = True


async def test_aclose_closes_transport() -> None:
    transport = _Recording()
    async with AsyncSession(transport=transport, base_url="http://h/x") as session:
        assert session.transport is transport
        assert "base_url='http://h/x/'" in repr(session)
        await session.get("/")
    assert transport.closed


async def test_unclosed_session_warns_only_when_it_opened_its_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    fake = types.ModuleType("reqivo_async._pool")

    class AsyncConnectionPool(_Recording):
        def __init__(self, **options: Any) -> None:
            super().__init__()
            self.options = options

    fake.AsyncConnectionPool = AsyncConnectionPool  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reqivo_async._pool", fake)
    session = AsyncSession(verify=False, trust_env=False)
    assert session.transport.options["verify"] is False  # type: ignore[attr-defined]
    await session.get("http://h/")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del session
        gc.collect()
    assert [w.category for w in caught] == [ResourceWarning]
    # Never used, or given a transport: no warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unused = AsyncSession()
        del unused
        mocked = mock_session()
        await mocked.get("http://h/")
        del mocked
        gc.collect()
    assert caught == []


async def test_invalid_options() -> None:
    with pytest.raises(ValueError, match="max_redirects"):
        mock_session(max_redirects=-1)
    with pytest.raises(TypeError):
        mock_session(auth=42)
    with pytest.raises(ValueError, match="event hook"):
        mock_session(event_hooks={"bogus": []})


async def test_transport_returning_remote_error_keeps_it() -> None:
    def handler(request: AsyncRequest) -> Response:
        raise RemoteProtocolError("garbage", request=None)

    async with AsyncSession(transport=MockTransport(handler)) as session:
        with pytest.raises(RemoteProtocolError):
            await session.post("http://h/", content=b"x")


# -- real servers (uvicorn h11 / httptools, hypercorn) ----------------------------------------


async def test_real_server_bodies_and_streaming(http_server: Server) -> None:
    async with AsyncSession(base_url=http_server.url) as session:
        response = await session.get("/echo", params={"x": "1"})
        assert response.json()["query"] == "x=1"
        assert response.elapsed.total_seconds() > 0
        response = await session.post("/upload", content=b"x" * 200_000)
        assert response.json()["length"] == 200_000
        for path in ("/gzip", "/deflate", "/gzip?chunked=1"):
            assert (await session.get(path)).json()
        async with session.stream("GET", "/stream/100000") as response:
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
        assert total == 100_000
        # Closing a stream early does not poison the pool.
        async with session.stream("GET", "/bytes/1000000") as response:
            async for _chunk in response.aiter_raw():
                break
        assert (await session.get("/health")).text == "ok"


async def test_real_server_timeouts(http_server: Server) -> None:
    async with AsyncSession(base_url=http_server.url, timeout=Timeout(5.0, read=0.2)) as s:
        with pytest.raises(ReadTimeout) as read_info:
            await s.get("/delay/1")
        assert read_info.value.request.url.path == "/delay/1"
        with pytest.raises(TotalTimeout):
            await s.get("/slow-body?chunks=10&interval=0.05", timeout=Timeout(5.0, total=0.2))
        # The connection cut mid-body was closed, not returned to the pool.
        pool: Any = s.transport
        assert pool.active_connections == 0
        assert pool.idle_connections == 0
        for _ in range(3):
            assert (await s.get("/health")).text == "ok"
        assert pool.idle_connections == 1


async def test_real_https_server(https_server: TLSServer) -> None:
    async with AsyncSession(base_url=https_server.url, verify=https_server.context) as session:
        response = await session.get("/redirect/1")
        assert response.json()["scheme"] == "https"
        assert len(response.history) == 1


async def test_a_session_sharing_state_sends_through_its_own_transport() -> None:
    seen: list[str] = []

    def first(request: AsyncRequest) -> Response:
        return Response(200, headers={"Set-Cookie": "from=first"})

    def second(request: AsyncRequest) -> Response:
        seen.append(request.headers.get("cookie", "") + "|" + request.headers["x-team"])
        return Response(200, headers={"Set-Cookie": "from=second"})

    master = AsyncSession(transport=MockTransport(first), headers={"X-Team": "a"})
    other_transport = MockTransport(second)
    shared = AsyncSession.from_state(master.state, other_transport)
    assert shared.state is master.state
    assert shared.transport is other_transport and master.transport is not other_transport
    assert shared.cookies is master.cookies and shared.headers is master.headers
    await master.get("http://example.test/")
    await shared.get("http://example.test/")
    assert seen == ["from=first|a"]  # the master's cookie and headers, the other transport
    assert master.cookies.get("from") == "second"  # what it receives lands in the master
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # left unclosed: no ResourceWarning
        del shared
        gc.collect()
    await master.aclose()


async def test_settings_assigned_on_one_session_apply_to_every_session_sharing_its_state() -> None:
    master = AsyncSession(transport=MockTransport(lambda r: Response(200)))
    shared = AsyncSession.from_state(master.state, MockTransport(lambda r: Response(200)))
    master.base_url = "http://api.test/v1"
    master.headers = {"X-New": "1"}
    master.auth = ("user", "pass")
    master.timeout = 3.0
    shared.follow_redirects = False
    shared.max_body_size = 10
    assert shared.base_url == master.base_url == URL("http://api.test/v1/")
    assert shared.headers["x-new"] == "1"
    assert shared.auth is master.auth and shared.timeout.read == 3.0
    assert master.follow_redirects is False and master.max_body_size == 10
    request = shared.build_request("GET", "users")
    assert str(request.url) == "http://api.test/v1/users"
    await master.aclose()
    await shared.aclose()


async def test_a_session_from_state_may_leave_its_transport_open() -> None:
    closed: list[str] = []

    class Recording(MockTransport):
        async def aclose(self) -> None:
            closed.append("closed")

    transport = Recording(lambda r: Response(200))
    master = AsyncSession(transport=transport)
    shared = AsyncSession.from_state(master.state, transport, close_transport=False)
    await shared.aclose()
    assert shared.is_closed and not master.is_closed and closed == []
    with pytest.raises(RuntimeError, match="closed"):
        await shared.get("http://example.test/")
    await AsyncSession.from_state(master.state, transport).aclose()
    assert closed == ["closed"]
    await master.aclose()
