"""Redirects: the pure policy and the session's loop."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from reqivo_async._cookies import Cookies
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._redirects import (
    credentials_allowed,
    is_websocket_upgrade,
    next_redirect_request,
    redirect_key,
    redirect_method,
    redirect_url,
)
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol._exceptions import (
    RedirectLoopError,
    RemoteProtocolError,
    StreamConsumed,
    TooManyRedirects,
)
from reqivo_protocol._url import URL
from servers.app import app
from servers.models import Server


def asgi_session(**options: Any) -> AsyncSession:
    return AsyncSession(transport=ASGITransport(app), base_url="http://test", **options)


def redirect(status: int, location: str, **headers: str) -> Response:
    return Response(status, headers={"Location": location, **headers})


# -- the pure policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("POST", 301, "GET"),
        ("POST", 302, "GET"),
        ("PUT", 302, "PUT"),
        ("POST", 303, "GET"),
        ("PUT", 303, "GET"),
        ("HEAD", 303, "HEAD"),
        ("POST", 307, "POST"),
        ("PATCH", 308, "PATCH"),
        ("GET", 301, "GET"),
    ],
)
def test_redirect_method(method: str, status: int, expected: str) -> None:
    assert redirect_method(method, status) == expected


def test_method_rewrite_drops_body_and_content_headers() -> None:
    request = AsyncRequest(
        "POST",
        "http://h/form",
        json={"a": 1},
        headers={"Content-Language": "en", "Transfer-Encoding": "chunked", "X-Keep": "1"},
    )
    follow = next_redirect_request(request, redirect(302, "/done"))
    assert follow.method == "GET"
    assert follow.stream.length == 0
    assert list(follow.headers) == ["X-Keep"]


def test_307_keeps_method_and_body_and_refuses_streams() -> None:
    request = AsyncRequest("PUT", "http://h/a", content=b"data")
    follow = next_redirect_request(request, redirect(307, "/b"))
    assert (follow.method, follow.content, str(follow.url)) == ("PUT", b"data", "http://h/b")

    async def gen() -> AsyncGenerator[bytes, None]:
        yield b"x"

    streamed = AsyncRequest("POST", "http://h/a", content=gen())
    with pytest.raises(StreamConsumed, match="308"):
        next_redirect_request(streamed, redirect(308, "/b"))
    # ... but a 303 drops the body, so a stream is fine.
    assert next_redirect_request(streamed, redirect(303, "/b")).method == "GET"


def test_location_resolution_and_fragments() -> None:
    request = AsyncRequest("GET", "http://h/dir/page#frag")
    assert str(redirect_url(request, redirect(302, "other"))) == "http://h/dir/other#frag"
    assert str(redirect_url(request, redirect(302, "/x#new"))) == "http://h/x#new"
    assert str(redirect_url(request, redirect(302, "//o:81/p"))) == "http://o:81/p#frag"
    assert str(redirect_url(request, redirect(302, "https://o/ü"))) == "https://o/%C3%BC#frag"


@pytest.mark.parametrize(
    "location",
    [
        "ftp://h/file",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "http:no-host",
        "http://h:99999/",
    ],
)
def test_unusable_locations(location: str) -> None:
    request = AsyncRequest("GET", "http://h/")
    with pytest.raises(RemoteProtocolError) as info:
        redirect_url(request, redirect(302, location))
    assert info.value.request is request


def test_missing_location() -> None:
    with pytest.raises(RemoteProtocolError, match="no Location"):
        redirect_url(AsyncRequest("GET", "http://h/"), Response(302))


UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("websocket", True), ("WebSocket", True), ("h2c, websocket", True), ("h2c", False)],
)
def test_is_websocket_upgrade(value: str, expected: bool) -> None:
    assert is_websocket_upgrade(AsyncRequest("GET", "http://h/", headers={"Upgrade": value})) is (
        expected
    )
    assert not is_websocket_upgrade(AsyncRequest("GET", "http://h/"))


@pytest.mark.parametrize(
    ("start", "location", "expected"),
    [
        ("http://h/a", "ws://o/b", "http://o/b"),
        ("http://h/a", "wss://o:8443/b", "https://o:8443/b"),
        ("https://h/a", "wss://h/b", "https://h/b"),
        ("https://h/a", "https://o/b", "https://o/b"),
        ("http://h/a", "https://h/b", "https://h/b"),  # ws -> wss: an upgrade, allowed
        ("http://h/a", "http://o/b", "http://o/b"),
        ("http://h/a", "/b", "http://h/b"),
    ],
)
def test_websocket_handshake_locations(start: str, location: str, expected: str) -> None:
    """A handshake (``Upgrade: websocket``) may go to ws:/wss: URLs, sent as http/https."""
    request = AsyncRequest("GET", start, headers=UPGRADE)
    assert str(redirect_url(request, redirect(302, location))) == expected
    follow = next_redirect_request(request, redirect(302, location))
    assert (follow.method, follow.headers["upgrade"]) == ("GET", "websocket")


@pytest.mark.parametrize("location", ["ws://o/b", "http://o/b", "ws://h/b", "http://h/b"])
def test_websocket_handshake_is_never_downgraded(location: str) -> None:
    request = AsyncRequest("GET", "https://h/a", headers=UPGRADE)
    with pytest.raises(RemoteProtocolError, match="from wss:// to an unencrypted ws://"):
        redirect_url(request, redirect(302, location))


def test_plain_http_keeps_its_rules() -> None:
    """Without the upgrade: https -> http is followed (as requests and httpx do), ws: is not."""
    request = AsyncRequest("GET", "https://h/a")
    assert str(redirect_url(request, redirect(302, "http://h/b"))) == "http://h/b"
    with pytest.raises(RemoteProtocolError, match="non-HTTP"):
        redirect_url(request, redirect(302, "wss://h/b"))


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("http://h/a", "http://h/b", True),
        ("http://h/a", "https://h/b", True),
        ("http://h:8080/a", "https://h/b", False),
        ("https://h/a", "http://h/b", False),
        ("http://h/a", "http://h:81/b", False),
        ("http://h/a", "http://other/b", False),
    ],
)
def test_credentials_allowed(old: str, new: str, allowed: bool) -> None:
    assert credentials_allowed(URL(old), URL(new)) is allowed


def test_credentials_and_cookies_across_origins() -> None:
    headers = {"Authorization": "Basic x", "Proxy-Authorization": "y", "Cookie": "a=1", "Host": "h"}
    request = AsyncRequest("GET", "http://h/", headers=headers)
    jar = Cookies()
    jar.set("c", "2", domain="other")
    same = next_redirect_request(request, redirect(302, "/x"), cookies=jar)
    assert same.headers.get("authorization") == "Basic x"
    assert same.headers.get("host") == "h"
    assert "cookie" not in same.headers
    moved = next_redirect_request(request, redirect(302, "http://other/"), cookies=jar)
    assert "authorization" not in moved.headers
    assert "proxy-authorization" not in moved.headers
    assert "host" not in moved.headers
    assert moved.headers["cookie"] == "c=2"


def test_redirect_key_ignores_fragment() -> None:
    a = AsyncRequest("GET", "http://h/p#one")
    b = AsyncRequest("GET", "http://h/p")
    assert redirect_key(a) == redirect_key(b)
    assert redirect_key(AsyncRequest("POST", "http://h/p")) != redirect_key(b)


# -- the session loop --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_chain_and_history(status: int) -> None:
    async with asgi_session() as session:
        response = await session.get(f"/redirect/3?status={status}")
        assert response.status_code == 200
        assert response.url == f"http://test/redirect/0?status={status}"
        assert [r.status_code for r in response.history] == [status] * 3
        assert response.history[0].url == f"http://test/redirect/3?status={status}"
        response = await session.get("/redirect/2?absolute=1")
        assert len(response.history) == 2


async def test_post_303_becomes_get_and_307_resends() -> None:
    async with asgi_session() as session:
        response = await session.post("/redirect-to?url=/echo&status=303", content=b"abc")
        assert response.json()["method"] == "GET"
        assert response.json()["body_length"] == 0
        response = await session.post("/redirect-to?url=/echo&status=307", content=b"abc")
        assert response.json()["method"] == "POST"
        assert response.json()["body_length"] == 3


async def test_follow_redirects_false_sets_next_request() -> None:
    async with asgi_session(follow_redirects=False) as session:
        response = await session.get("/redirect/2")
        assert response.status_code == 302
        assert response.next_request is not None
        assert response.next_request.url == "http://test/redirect/1"
        followed = await session.send(response.next_request)
        assert followed.status_code == 302
        response = await session.get("/redirect/2", follow_redirects=True)
        assert response.status_code == 200
        # An unusable Location: no next_request, no error.
        response = await session.get("/redirect-to?url=ftp://x/")
        assert response.next_request is None


async def test_too_many_redirects() -> None:
    async with asgi_session(max_redirects=2) as session:
        assert (await session.get("/redirect/2")).status_code == 200
        with pytest.raises(TooManyRedirects, match="maximum of 2") as info:
            await session.get("/redirect/3")
        assert info.value.request.url == "http://test/redirect/1"
        session.max_redirects = 0
        with pytest.raises(TooManyRedirects):
            await session.get("/redirect/1")


async def test_redirect_loop_detected() -> None:
    async with asgi_session() as session:
        with pytest.raises(RedirectLoopError) as info:
            await session.get("/redirect-to?url=/redirect-to%3Furl%3D/redirect-to%253Furl%253D")
        # a -> b -> a: caught on the second visit, long before max_redirects.
        assert info.value.request is not None

    def handler(request: AsyncRequest) -> Response:
        return redirect(302, "/same")

    async with AsyncSession(transport=MockTransport(handler)) as session:
        with pytest.raises(RedirectLoopError, match="already"):
            await session.get("http://h/same")


async def test_same_url_with_a_new_cookie_is_not_a_loop() -> None:
    async with asgi_session() as session:
        # Sets a cookie and redirects to the page that checks it.
        url = "/cookies/set?seen=1&_redirect=/cookies"
        response = await session.get(url)
        assert response.json()["cookies"] == {"seen": "1"}


async def test_refused_scheme_raises() -> None:
    async with asgi_session() as session:
        with pytest.raises(RemoteProtocolError, match="non-HTTP"):
            await session.get("/redirect-to?url=file:///etc/passwd")


async def test_auth_kept_same_origin_dropped_cross_origin() -> None:
    seen: dict[str, dict[str, str]] = {}

    def handler(request: AsyncRequest) -> Response:
        seen[request.url.host] = dict(request.headers.items())
        if request.url.path == "/start":
            return redirect(302, "/same")
        if request.url.path == "/same":
            return redirect(302, "http://evil/")
        return Response(200)

    async with AsyncSession(transport=MockTransport(handler), auth=("u", "p")) as session:
        response = await session.get("http://good/start")
    assert len(response.history) == 2
    assert "Authorization" in seen["good"]
    assert "Authorization" not in seen["evil"]


async def test_redirect_body_read_failure_is_ignored() -> None:
    from reqivo_protocol._exceptions import ReadError

    class Failing:
        def __aiter__(self) -> Failing:
            return self

        async def __anext__(self) -> bytes:
            raise ReadError("reset")

        async def aclose(self) -> None:
            return None

    def handler(request: AsyncRequest) -> Response:
        if request.url.path == "/a":
            return Response(302, headers={"Location": "/b"}, stream=Failing())
        return Response(200, content=b"done")

    async with AsyncSession(transport=MockTransport(handler)) as session:
        assert (await session.get("http://h/a")).content == b"done"


async def test_errors_during_the_chain_close_the_response() -> None:
    closed: list[bool] = []

    class Stream:
        async def __aiter__(self) -> AsyncGenerator[bytes, None]:
            yield b""

        async def aclose(self) -> None:
            closed.append(True)

    make: Callable[[AsyncRequest], Response] = lambda request: Response(  # noqa: E731
        302, headers={"Location": "ftp://x/"}, stream=Stream()
    )
    async with AsyncSession(transport=MockTransport(make)) as session:
        with pytest.raises(RemoteProtocolError):
            await session.get("http://h/")
    assert closed == [True]


async def test_real_server_redirects(http_server: Server) -> None:
    async with AsyncSession(base_url=http_server.url, max_redirects=5) as session:
        response = await session.get("/redirect/3?absolute=1")
        assert [r.status_code for r in response.history] == [302, 302, 302]
        response = await session.post("/redirect-to?url=/echo&status=308", json={"a": 1})
        assert response.json()["method"] == "POST"
        assert response.json()["body_length"] == 7
        with pytest.raises(TooManyRedirects):
            await session.get("/redirect/6")
        assert (await session.get("/health")).text == "ok"


async def test_redirects_under_a_total_deadline() -> None:
    from reqivo_async._config import Timeout

    async with asgi_session(timeout=Timeout(5.0, total=5.0)) as session:
        response = await session.get("/redirect/2")
        assert len(response.history) == 2
        response = await session.get("/redirect/1", follow_redirects=False)
        assert response.status_code == 302
        async with session.stream("GET", "/redirect/1") as response:
            assert response.status_code == 200
