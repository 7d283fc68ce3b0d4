"""Cookies: the dict-like jar, and the session keeping it across requests and redirects."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reqivo_async._cookies import Cookies
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol._cookiejar import CookieConflict, CookieJar
from reqivo_protocol._cookies import Cookie
from reqivo_protocol._url import URL
from servers.app import app
from servers.models import Server


def asgi_session(**options: Any) -> AsyncSession:
    return AsyncSession(transport=ASGITransport(app), base_url="http://test", **options)


def test_mapping_interface() -> None:
    cookies = Cookies({"a": "1"})
    cookies["b"] = "2"
    cookies.set("c", "3", domain="example.com", path="/x", secure=True)
    assert cookies["a"] == "1"
    assert cookies.get("c", domain="example.com") == "3"
    assert cookies.get("missing", "d") == "d"
    assert sorted(cookies) == ["a", "b", "c"]
    assert len(cookies) == 3
    assert "a" in cookies and "zz" not in cookies
    assert bool(cookies) and not Cookies()
    assert dict(cookies.items()) == {"a": "1", "b": "2", "c": "3"}
    assert "=..." in repr(cookies) and "1" not in repr(cookies)
    del cookies["a"]
    with pytest.raises(KeyError):
        del cookies["a"]
    with pytest.raises(KeyError):
        cookies["a"]
    cookies.delete("b")
    cookies.update({"d": "4"}, e="5")
    cookies.update(Cookies({"f": "6"}))
    cookies.update([Cookie("g", "7", domain="")])
    assert sorted(cookies) == ["c", "d", "e", "f", "g"]
    cookies.clear(domain="example.com")
    assert "c" not in cookies
    cookies.clear()
    assert len(cookies) == 0


def test_conflicts_and_copies() -> None:
    cookies = Cookies()
    cookies.set("n", "1", domain="a.com")
    cookies.set("n", "2", domain="b.com")
    with pytest.raises(CookieConflict):
        cookies["n"]
    assert cookies.get("n", domain="b.com") == "2"
    copy = Cookies(cookies)
    copy.delete("n", domain="a.com")
    assert len(copy) == 1 and len(cookies) == 2
    assert len(Cookies(cookies.jar)) == 2
    assert isinstance(cookies.jar, CookieJar)


def test_header_for_and_extract() -> None:
    cookies = Cookies()
    url = URL("https://example.com/app/page")
    assert cookies.header_for(url) is None
    cookies.extract_set_cookie(url, ["s=1; Path=/app; Secure", "t=2; Max-Age=0", "bad"])
    assert cookies.header_for(url) == "s=1"
    assert cookies.header_for(URL("http://example.com/app/")) is None
    expires = time.time() + 3600
    cookies.set("u", "3", domain="example.com", expires=expires)
    assert cookies.header_for(URL("https://sub.example.com/")) == "u=3"


async def test_session_keeps_cookies() -> None:
    async with asgi_session() as session:
        response = await session.get("/cookies/set?a=1&b=2")
        assert response.cookies["a"] == "1"
        assert sorted(response.cookies) == ["a", "b"]
        assert session.cookies["b"] == "2"
        body = (await session.get("/cookies")).json()
        assert body["cookies"] == {"a": "1", "b": "2"}
        # Per-request cookies are added for that request only.
        body = (await session.get("/cookies", cookies={"c": "3"})).json()
        assert body["cookies"] == {"a": "1", "b": "2", "c": "3"}
        assert "c" not in session.cookies
        # An explicit Cookie header wins.
        body = (await session.get("/cookies", headers={"Cookie": "x=y"})).json()
        assert body["cookies"] == {"x": "y"}
        session.cookies = {"only": "me"}
        body = (await session.get("/cookies")).json()
        assert body["cookies"] == {"only": "me"}
        # A response without Set-Cookie has empty cookies.
        assert len((await session.get("/health")).cookies) == 0


async def test_cookies_given_to_the_session() -> None:
    async with asgi_session(cookies={"k": "v"}) as session:
        assert (await session.get("/cookies")).json()["cookies"] == {"k": "v"}


async def test_cookies_across_redirects() -> None:
    async with asgi_session() as session:
        response = await session.get("/cookies/set?r=1&_redirect=/cookies")
        assert response.json()["cookies"] == {"r": "1"}
        assert response.history[0].cookies["r"] == "1"
        assert session.cookies["r"] == "1"


async def test_cookie_check_redirect_to_the_same_url() -> None:
    def handler(request: AsyncRequest) -> Response:
        if "cookie" not in request.headers:
            return Response(302, headers={"Location": "/page", "Set-Cookie": "check=ok"})
        return Response(200, content=request.headers["cookie"].encode())

    async with AsyncSession(transport=MockTransport(handler)) as session:
        response = await session.get("http://h/page")
        assert response.content == b"check=ok"
        assert len(response.history) == 1


async def test_cookies_not_sent_to_other_domains() -> None:
    seen: dict[str, str | None] = {}

    def handler(request: AsyncRequest) -> Response:
        seen[request.url.host] = request.headers.get("cookie")
        if request.url.host == "a.example":
            return Response(302, headers={"Location": "http://b.example/", "Set-Cookie": "mine=1"})
        return Response(200)

    async with AsyncSession(transport=MockTransport(handler)) as session:
        await session.get("http://a.example/")
        assert seen == {"a.example": None, "b.example": None}
        await session.get("http://a.example/")
        assert seen["a.example"] == "mine=1"
        assert seen["b.example"] is None


def test_response_cookies_without_request() -> None:
    response = Response(200, headers={"Set-Cookie": "a=1"})
    assert len(response.cookies) == 0


async def test_real_server_cookies(http_server: Server) -> None:
    async with AsyncSession(base_url=http_server.url) as session:
        response = await session.get("/cookies/set?a=1&b=2&_redirect=/cookies")
        assert response.json()["cookies"] == {"a": "1", "b": "2"}
        await session.get("/cookies/set?a=&max-age=0")
        assert (await session.get("/cookies")).json()["cookies"] == {"b": "2"}
