"""Auth flows: Basic, Bearer, Digest (RFC 7616), functions, custom multi-step flows."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Generator
from typing import Any

import pytest

from reqivo_async._auth import (
    Auth,
    BasicAuth,
    BearerAuth,
    DigestAuth,
    FunctionAuth,
    parse_challenges,
    to_auth,
)
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import AsyncSession
from reqivo_async._transports._asgi import ASGITransport
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol._exceptions import RemoteProtocolError
from servers.app import app
from servers.models import Server


def asgi_session(**options: Any) -> AsyncSession:
    return AsyncSession(transport=ASGITransport(app), base_url="http://test", **options)


# -- Basic, Bearer, functions ---------------------------------------------------------------


async def test_basic_auth_tuple_and_class() -> None:
    async with asgi_session(auth=("user", "pass")) as session:
        assert (await session.get("/basic-auth/user/pass")).status_code == 200
        response = await session.get("/basic-auth/user/pass", auth=("user", "wrong"))
        assert response.status_code == 401
        response = await session.get("/basic-auth/ü/p", auth=BasicAuth("ü", b"p"))
        assert response.status_code == 200
    assert repr(BasicAuth("u", "p")) == "BasicAuth([secure])"


async def test_auth_none_overrides_session_auth() -> None:
    async with asgi_session(auth=("user", "pass")) as session:
        response = await session.get("/basic-auth/user/pass", auth=None)
        assert response.status_code == 401
        session.auth = None
        assert session.auth is None


async def test_bearer_auth() -> None:
    async with asgi_session() as session:
        response = await session.get("/bearer?token=t0k", auth=BearerAuth("t0k"))
        assert response.json()["authenticated"] is True
        assert (await session.get("/bearer?token=t0k", auth=BearerAuth("no"))).status_code == 401
    assert repr(BearerAuth("x")) == "BearerAuth([secure])"


async def test_function_auth_sync_and_async() -> None:
    def sync_auth(request: AsyncRequest) -> AsyncRequest:
        request.headers["Authorization"] = "Bearer s"
        return request

    async def async_auth(request: AsyncRequest) -> AsyncRequest:
        request.headers["Authorization"] = "Bearer a"
        return request

    async with asgi_session() as session:
        assert (await session.get("/bearer?token=s", auth=sync_auth)).status_code == 200
        assert (await session.get("/bearer?token=a", auth=async_auth)).status_code == 200


def test_function_auth_bare_generator() -> None:
    request = AsyncRequest("GET", "http://h/")
    flow = FunctionAuth(lambda r: r).auth_flow(request)
    assert next(flow) is request

    async def coroutine(r: AsyncRequest) -> AsyncRequest:
        return r

    with pytest.raises(TypeError, match="async"):
        next(FunctionAuth(coroutine).auth_flow(request))


def test_to_auth() -> None:
    assert to_auth(None) is None
    auth = BearerAuth("x")
    assert to_auth(auth) is auth
    assert isinstance(to_auth(("a", "b")), BasicAuth)
    assert isinstance(to_auth(lambda r: r), FunctionAuth)
    with pytest.raises(TypeError):
        to_auth(("a", "b", "c"))
    with pytest.raises(TypeError):
        to_auth(3)


# -- custom flows ----------------------------------------------------------------------------


class TokenRefresh(Auth):
    """Sends a token; on 401 fetches a new one (a second round trip), reading bodies."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self) -> None:
        self.token = "old"
        self.bodies: list[bytes] = []

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        self.bodies.append(request.content)
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            assert response.json()["authenticated"] is False
            self.token = "new"
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


async def test_custom_flow_with_bodies() -> None:
    auth = TokenRefresh()

    async def body() -> AsyncGenerator[bytes, None]:
        yield b"streamed"

    async with asgi_session() as session:
        response = await session.post("/bearer?token=new", content=body(), auth=auth)
        assert response.status_code == 200
        assert auth.bodies == [b"streamed"]


class AsyncFlow(Auth):
    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, Response]:
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = "Bearer z"
            yield request


async def test_async_flow_second_round_trip() -> None:
    async with asgi_session() as session:
        response = await session.get("/bearer?token=z", auth=AsyncFlow())
        assert response.status_code == 200


class Broken(Auth):
    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        yield request
        raise RuntimeError("flow failed")


class BrokenAsync(Auth):
    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, Response]:
        yield request
        raise RuntimeError("flow failed")


@pytest.mark.parametrize("auth", [Broken(), BrokenAsync()])
async def test_flow_errors_close_the_response(auth: Auth) -> None:
    async with asgi_session() as session:
        with pytest.raises(RuntimeError, match="flow failed"):
            await session.get("/health", auth=auth)


# -- Digest -------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"])
@pytest.mark.parametrize("qop", ["auth", "auth-int", "none"])
async def test_digest_against_test_app(algorithm: str, qop: str) -> None:
    auth = DigestAuth("user", "pass")
    async with asgi_session() as session:
        url = f"/digest-auth/{qop}/user/pass/{algorithm}"
        response = await session.get(url, auth=auth)
        assert response.status_code == 200, response.json()
        # Later requests answer the known challenge up front, with nc counting up.
        for _ in range(2):
            response = await session.post(url, auth=auth, content=b"body")
            assert response.status_code == 200, response.json()
        assert auth._nonce_count == 3


async def test_digest_wrong_password_gives_401_after_one_retry() -> None:
    sent: list[AsyncRequest] = []
    async with asgi_session(event_hooks={"request": [sent.append]}) as session:
        auth = DigestAuth("user", "wrong")
        response = await session.get("/digest-auth/auth/user/pass", auth=auth)
        assert response.status_code == 401
        assert len(sent) == 2
        # Known (wrong) challenge: the preemptive answer is refused and retried once.
        response = await session.get("/digest-auth/auth/user/pass", auth=auth)
        assert response.status_code == 401
        assert len(sent) == 4
    assert repr(auth) == "DigestAuth([secure])"


def _challenge_handler(challenge: str, seen: list[str]) -> Any:
    def handler(request: AsyncRequest) -> Response:
        header = request.headers.get("authorization")
        if header is None:
            return Response(401, headers={"WWW-Authenticate": challenge}, content=b"")
        seen.append(header)
        return Response(200, content=b"")

    return handler


async def test_digest_rfc2069_and_choice_of_strongest_algorithm() -> None:
    seen: list[str] = []
    challenge = (
        'Basic realm="x", Digest realm="r", nonce="n1", algorithm=MD5, '
        'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"'
    )
    transport = MockTransport(_challenge_handler(challenge, seen))
    async with AsyncSession(transport=transport) as session:
        response = await session.get("http://h/a?b=1", auth=DigestAuth("u", "p"))
    assert response.status_code == 200
    assert 'nonce="n2"' in seen[0]
    assert "algorithm=SHA-256" in seen[0]
    assert 'uri="/a?b=1"' in seen[0]
    assert "opaque" not in seen[0]

    seen.clear()
    transport = MockTransport(_challenge_handler('Digest realm="r", nonce="n"', seen))
    async with AsyncSession(transport=transport) as session:
        assert (await session.get("http://h/", auth=DigestAuth("u", "p"))).status_code == 200
    ha1 = hashlib.md5(b"u:r:p").hexdigest()
    ha2 = hashlib.md5(b"GET:/").hexdigest()
    expected = hashlib.md5(f"{ha1}:n:{ha2}".encode()).hexdigest()
    assert f'response="{expected}"' in seen[0]
    assert "qop" not in seen[0]


@pytest.mark.parametrize(
    "challenge",
    [
        'Digest realm="r", nonce="n", qop="auth-conf"',  # no usable qop
        'Digest realm="r", nonce="n", algorithm=SHA-512',  # unknown algorithm
        'Basic realm="r"',  # not digest
    ],
)
async def test_digest_unusable_challenges_return_the_401(challenge: str) -> None:
    seen: list[str] = []
    transport = MockTransport(_challenge_handler(challenge, seen))
    async with AsyncSession(transport=transport) as session:
        response = await session.get("http://h/", auth=DigestAuth("u", "p"))
    assert response.status_code == 401
    assert seen == []


async def test_digest_non_401_and_missing_header() -> None:
    async with AsyncSession(transport=MockTransport(lambda r: Response(401))) as session:
        assert (await session.get("http://h/", auth=DigestAuth("u", "p"))).status_code == 401
    async with AsyncSession(transport=MockTransport(lambda r: Response(204))) as session:
        assert (await session.get("http://h/", auth=DigestAuth("u", "p"))).status_code == 204


async def test_digest_malformed_challenge() -> None:
    seen: list[str] = []
    transport = MockTransport(_challenge_handler('Digest realm="r"', seen))
    async with AsyncSession(transport=transport) as session:
        with pytest.raises(RemoteProtocolError, match="nonce"):
            await session.get("http://h/", auth=DigestAuth("u", "p"))


async def test_digest_auth_int_with_streamed_body() -> None:
    seen: list[str] = []
    transport = MockTransport(_challenge_handler('Digest realm="r", nonce="n", qop=auth-int', seen))

    async def body() -> AsyncGenerator[bytes, None]:
        yield b"x"

    auth = DigestAuth("u", "p")
    async with AsyncSession(transport=transport) as session:
        # MockTransport reads streamed bodies into memory, so auth-int works here ...
        assert (await session.post("http://h/", content=body(), auth=auth)).status_code == 200
    # ... and without a body in memory it is refused.
    request = AsyncRequest("POST", "http://h/", content=body())
    flow = auth.auth_flow(request)
    with pytest.raises(RemoteProtocolError, match="auth-int"):
        next(flow)


async def test_digest_stale_nonce_retries() -> None:
    nonces = iter(["n1", "n2"])
    seen: list[str] = []

    def handler(request: AsyncRequest) -> Response:
        header = request.headers.get("authorization")
        if header is not None:
            seen.append(header)
        if header is None or ('nonce="n1"' in header and len(seen) > 1):
            challenge = f'Digest realm="r", nonce="{next(nonces)}", qop="auth", stale=true'
            return Response(401, headers={"WWW-Authenticate": challenge})
        return Response(200)

    auth = DigestAuth("u", "p")
    async with AsyncSession(transport=MockTransport(handler)) as session:
        assert (await session.get("http://h/", auth=auth)).status_code == 200
        assert (await session.get("http://h/", auth=auth)).status_code == 200
    assert "nc=00000001" in seen[0]
    assert "nc=00000002" in seen[1]
    assert 'nonce="n2"' in seen[2]
    assert "nc=00000001" in seen[2]


def test_parse_challenges() -> None:
    assert parse_challenges(
        ['Digest realm="a \\"q\\" b", nonce=abc, qop="auth,auth-int"', "Bearer tok68=="]
    ) == [
        ("digest", {"realm": 'a "q" b', "nonce": "abc", "qop": "auth,auth-int"}),
        ("bearer", {"": "tok68=="}),
    ]
    assert parse_challenges(["Negotiate", "Basic realm=x, , Foo"]) == [
        ("negotiate", {}),
        ("basic", {"realm": "x"}),
        ("foo", {}),
    ]
    assert parse_challenges(['"garbage']) == []


async def test_real_server_auth(http_server: Server) -> None:
    async with AsyncSession(base_url=http_server.url) as session:
        assert (await session.get("/basic-auth/u/p", auth=("u", "p"))).status_code == 200
        for algorithm in ("MD5", "SHA-256"):
            auth = DigestAuth("u", "p")
            for _ in range(2):
                response = await session.get(f"/digest-auth/auth/u/p/{algorithm}", auth=auth)
                assert response.status_code == 200


async def test_digest_same_nonce_refused_means_wrong_credentials() -> None:
    sent: list[str | None] = []

    def handler(request: AsyncRequest) -> Response:
        sent.append(request.headers.get("authorization"))
        return Response(401, headers={"WWW-Authenticate": 'Digest realm="r", nonce="same"'})

    auth = DigestAuth("u", "p")
    async with AsyncSession(transport=MockTransport(handler)) as session:
        assert (await session.get("http://h/", auth=auth)).status_code == 401
        assert (await session.get("http://h/", auth=auth)).status_code == 401
    # First request: challenge + one answer; second: the up-front answer only.
    assert len(sent) == 3
    assert sent[0] is None


async def test_base_auth_sends_the_request_unchanged() -> None:
    async with AsyncSession(transport=MockTransport(lambda r: Response(204))) as session:
        assert (await session.get("http://h/", auth=Auth())).status_code == 204
