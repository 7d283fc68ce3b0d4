"""Event hooks and auth flows given to the blocking API see the sync objects.

They get ``reqivo_sync.Request`` / ``Response`` (the classes themselves, not the async ones
they subclass) and are driven by reqivo-async's policies: redirects, auth round trips and
retries call them as they do in the async API. Where they run depends on the mechanism:
in the calling thread when the Session drives blocking I/O itself (HTTP/1.1, the default:
ADR-015), in a worker thread when it runs on its event loop (HTTP/2 on, here: ADR-013),
never on the loop. ``MECHANISMS`` runs the thread checks under both.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest

import reqivo_async
import reqivo_sync
from reqivo_async import AsyncRequest
from reqivo_sync import (
    Auth,
    DigestAuth,
    FunctionAuth,
    HTTPStatusError,
    MockTransport,
    Request,
    Response,
    Session,
)
from reqivo_sync._auth import Flow
from servers.models import Server

Seen = list[tuple[str, type, bool]]


#: ``Session`` options per mechanism, and whether user code then runs off the caller's thread.
MECHANISMS = pytest.mark.parametrize(
    ("options", "off_thread"),
    [({}, False), ({"http2": True}, True)],
    ids=["driven", "bridge"],
)


def _record(seen: Seen, what: str, obj: object, caller: int) -> None:
    """Note the object's exact class, and whether we run outside the caller's thread."""
    seen.append((what, type(obj), threading.get_ident() != caller))


# -- event hooks -------------------------------------------------------------------------


@MECHANISMS
def test_hooks_get_the_sync_request_and_response_on_every_hop(
    uvicorn_h11_server: Server, options: dict[str, Any], off_thread: bool
) -> None:
    seen: Seen = []
    statuses: list[int] = []
    caller = threading.get_ident()

    def on_request(request: Request) -> None:
        _record(seen, "request", request, caller)

    def on_response(response: Response) -> None:
        _record(seen, "response", response, caller)
        _record(seen, "its request", response.request, caller)
        statuses.append(response.status_code)

    hooks: dict[str, list[Any]] = {"request": [on_request], "response": [on_response]}
    with Session(event_hooks=hooks, timeout=10.0, **options) as session:
        response = session.get(uvicorn_h11_server.join("/redirect/2"))
    assert response.status_code == 200
    assert statuses == [302, 302, 200]
    hop = [
        ("request", Request, off_thread),
        ("response", Response, off_thread),
        ("its request", Request, off_thread),
    ]
    assert seen == hop * 3
    assert type(response) is Response
    assert all(type(previous) is Response for previous in response.history)


def test_a_request_hook_can_change_the_headers(uvicorn_h11_server: Server) -> None:
    def sign(request: Request) -> None:
        request.headers["X-Signed"] = f"{request.method} {request.url.path}"

    with Session(event_hooks={"request": [sign]}, timeout=10.0) as session:
        echoed = session.post(uvicorn_h11_server.join("/echo"), content=b"x").json()
    assert ["x-signed", "POST /echo"] in echoed["headers"]


class HookFailed(Exception):
    pass


def test_an_exception_from_a_hook_propagates_and_the_session_goes_on(
    uvicorn_h11_server: Server,
) -> None:
    calls = 0

    def fail_once(request: Request) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise HookFailed(request.url.path)

    def check(response: Response) -> None:
        response.raise_for_status()

    hooks: dict[str, list[Any]] = {"request": [fail_once], "response": [check]}
    with Session(event_hooks=hooks, timeout=10.0) as session:
        with pytest.raises(HookFailed, match="/health"):
            session.get(uvicorn_h11_server.join("/health"))
        with pytest.raises(HTTPStatusError) as caught:
            session.get(uvicorn_h11_server.join("/status/503"))
        assert type(caught.value.response) is Response
        assert session.get(uvicorn_h11_server.join("/health")).text == "ok"


def test_hooks_set_after_construction_are_adapted_too() -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        return Response(200, content=b"ok")

    def tag(name: str) -> Any:
        def hook(subject: Any) -> None:
            assert type(subject) in (Request, Response)
            seen.append(name)

        return hook

    first, second, third, fourth = tag("first"), tag("second"), tag("third"), tag("fourth")
    with Session(transport=MockTransport(handler)) as session:
        session.event_hooks = {"request": [first]}
        session.event_hooks["response"] = [second]
        session.event_hooks["request"].append(third)
        session.event_hooks["response"] += [fourth]
        session.event_hooks["response"].insert(0, tag("zeroth"))
        session.event_hooks["request"][0] = tag("replaced")
        session.event_hooks.update(response=[*session.event_hooks["response"], tag("last")])
        session.get("http://example.test/")
        assert seen == ["replaced", "third", "zeroth", "second", "fourth", "last"]
        # The hooks compare equal to the functions given: membership and removal work.
        assert third in session.event_hooks["request"]
        session.event_hooks["request"].remove(third)
        assert third not in session.event_hooks["request"]
        assert session.event_hooks["response"][1:3] == [second, fourth]
        assert [len(hooks) for hooks in session.event_hooks.values()] == [1, 4]
        session.event_hooks = session.event_hooks  # wrapped once, not twice
        seen.clear()
        session.get("http://example.test/")
        assert seen == ["replaced", "zeroth", "second", "fourth", "last"]


def test_coroutine_functions_and_bad_hooks_are_refused() -> None:
    async def async_hook(subject: Any) -> None:
        return None

    def plain(subject: Any) -> None:
        return None

    with pytest.raises(TypeError, match="coroutine function"):
        Session(event_hooks={"request": [async_hook]})
    with Session(event_hooks={"request": [plain]}) as session:
        with pytest.raises(TypeError, match="coroutine function"):
            session.event_hooks = {"response": [async_hook]}
        assert session.event_hooks["request"] == [plain]  # a refused assignment changes nothing
        with pytest.raises(TypeError, match="coroutine function"):
            session.event_hooks["response"].append(async_hook)
        with pytest.raises(TypeError, match="not callable"):
            session.event_hooks["response"].append("nope")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown event hook"):
            session.event_hooks["sent"] = [plain]
        with pytest.raises(ValueError, match="unknown event hook"):
            session.event_hooks = {"sent": [plain]}
        assert session.event_hooks["response"] == []


def test_a_hook_that_returns_an_awaitable_is_an_error() -> None:
    async def later() -> None:
        return None

    def sneaky(request: Request) -> Any:
        return later()

    transport = MockTransport(lambda request: Response(200))
    with Session(transport=transport, event_hooks={"request": [sneaky]}) as session:
        with pytest.raises(TypeError, match="returned an awaitable"):
            session.get("http://example.test/")


def test_a_response_hook_reads_a_body_in_memory() -> None:
    bodies: list[bytes] = []

    def read(response: Response) -> None:
        bodies.append(response.read())

    transport = MockTransport(lambda request: Response(200, content=b"in memory"))
    with Session(transport=transport, event_hooks={"response": [read]}) as session:
        assert session.get("http://example.test/").content == b"in memory"
    assert bodies == [b"in memory"]


def test_a_response_hook_reads_a_streamed_body_from_the_network(
    uvicorn_h11_server: Server,
) -> None:
    bodies: list[bytes] = []

    def read(response: Response) -> None:
        bodies.append(response.read())

    with Session(event_hooks={"response": [read]}, timeout=10.0) as session:
        response = session.get(uvicorn_h11_server.join("/bytes/5000"))
        assert response.content == bodies[0]
        assert len(bodies[0]) == 5000


@MECHANISMS
def test_hooks_of_a_session_called_inside_a_running_loop(
    uvicorn_h11_server: Server, options: dict[str, Any], off_thread: bool
) -> None:
    seen: Seen = []
    caller = threading.get_ident()

    def on_response(response: Response) -> None:
        _record(seen, "response", response, caller)

    async def main(session: Session) -> int:
        return session.get(uvicorn_h11_server.join("/health")).status_code

    with Session(event_hooks={"response": [on_response]}, timeout=10.0, **options) as session:
        assert asyncio.run(main(session)) == 200
    assert seen == [("response", Response, off_thread)]


# -- auth --------------------------------------------------------------------------------


class TokenAuth(Auth):
    """A three-step flow: try, fetch a token from another URL on a 401, retry with it."""

    requires_response_body = True

    def __init__(self, token_url: str, seen: Seen) -> None:
        self.token_url = token_url
        self.seen = seen
        self.caller = threading.get_ident()

    def auth_flow(self, request: AsyncRequest) -> Flow:
        _record(self.seen, "request", request, self.caller)
        response = yield request
        _record(self.seen, "response", response, self.caller)
        if response.status_code != 401:
            return
        token_response = yield Request("POST", self.token_url, json={"token": "t0k"})
        _record(self.seen, "token response", token_response, self.caller)
        echoed = token_response.json()  # its body is in memory (requires_response_body)
        token = json.loads(base64.b64decode(echoed["body_base64"]))["token"]
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@MECHANISMS
def test_a_custom_multi_step_flow_sees_sync_objects(
    uvicorn_h11_server: Server, options: dict[str, Any], off_thread: bool
) -> None:
    seen: Seen = []
    auth = TokenAuth(uvicorn_h11_server.join("/echo"), seen)
    statuses: list[int] = []

    def count(response: Response) -> None:
        statuses.append(response.status_code)

    hooks: dict[str, list[Any]] = {"response": [count]}
    with Session(auth=auth, event_hooks=hooks, timeout=10.0, **options) as session:
        assert session.auth is auth  # a sync Auth is used as is
        response = session.get(uvicorn_h11_server.join("/bearer?token=t0k"))
        assert response.status_code == 200
        assert type(response) is Response
        assert statuses == [401, 200, 200]
        assert seen == [
            ("request", Request, off_thread),
            ("response", Response, off_thread),
            ("token response", Response, off_thread),
        ]
        # The flow is used per request too, and by send() and stream().
        seen.clear()
        url = uvicorn_h11_server.join("/bearer?token=t0k")
        assert session.get(url, auth=None).status_code == 401
        plain = Session(timeout=10.0, **options)
        try:
            assert plain.get(url, auth=auth).status_code == 200
            assert plain.send(plain.build_request("GET", url), auth=auth).status_code == 200
            with plain.stream("GET", url, auth=auth) as streamed:
                assert streamed.status_code == 200
        finally:
            plain.close()
        assert [what for what, _, _ in seen] == ["request", "response", "token response"] * 3


def test_digest_and_basic_pass_through_unchanged(hypercorn_server: Server) -> None:
    digest = DigestAuth("ann", "pw")
    statuses: list[int] = []

    def count(response: Response) -> None:
        statuses.append(response.status_code)

    with Session(auth=digest, event_hooks={"response": [count]}, timeout=10.0) as session:
        assert session.auth is digest
        response = session.get(hypercorn_server.join("/digest-auth/auth/ann/pw/SHA-256"))
        assert response.status_code == 200, response.text
        assert statuses == [401, 200]
        basic = session.get(hypercorn_server.join("/basic-auth/ann/pw"), auth=("ann", "pw"))
        assert basic.status_code == 200


@MECHANISMS
def test_an_auth_function_runs_where_hooks_do_with_the_sync_request(
    uvicorn_h11_server: Server, options: dict[str, Any], off_thread: bool
) -> None:
    seen: Seen = []
    caller = threading.get_ident()

    # Typed with the async class: ``auth=`` takes reqivo-async's AuthTypes (a Request is one).
    def sign(request: AsyncRequest) -> AsyncRequest:
        _record(seen, "request", request, caller)
        request.headers["Authorization"] = "Bearer f"
        return request

    url = uvicorn_h11_server.join("/bearer?token=f")
    with Session(auth=sign, timeout=10.0, **options) as session:
        assert type(session.auth) is FunctionAuth
        assert session.get(url).status_code == 200
        session.auth = None
        assert session.get(url).status_code == 401
        assert session.get(url, auth=sign).status_code == 200
        session.auth = sign
        assert session.get(url).status_code == 200

        def typed(request: Request) -> Request:  # the setting takes the sync type too
            request.headers["Authorization"] = "Bearer f"
            return request

        session.auth = typed
        assert session.get(url).status_code == 200
    assert seen == [("request", Request, off_thread)] * 3


def test_coroutine_auth_functions_are_refused() -> None:
    async def sign(request: Any) -> Any:
        return request

    with pytest.raises(TypeError, match="coroutine function"):
        Session(auth=sign)
    with pytest.raises(TypeError, match="coroutine function"):
        FunctionAuth(sign)  # type: ignore[arg-type]


def test_an_async_package_auth_is_given_the_sync_objects() -> None:
    """A subclass of reqivo-async's Auth (plain flow or async flow) sees sync objects too."""
    seen: list[tuple[str, type]] = []

    class PlainFlow(reqivo_async.Auth):
        def auth_flow(self, request: AsyncRequest) -> Flow:
            seen.append(("plain request", type(request)))
            response = yield request
            seen.append(("plain response", type(response)))

    class AsyncFlow(reqivo_async.Auth):
        async def async_auth_flow(
            self, request: AsyncRequest
        ) -> AsyncGenerator[AsyncRequest, reqivo_async.Response]:
            seen.append(("async request", type(request)))
            response = yield request
            seen.append(("async response", type(response)))

    transport = MockTransport(lambda request: Response(200))
    with Session(transport=transport, auth=PlainFlow()) as session:
        session.get("http://example.test/")
        session.get("http://example.test/", auth=AsyncFlow())
        session.get("http://example.test/", auth=reqivo_async.FunctionAuth(lambda r: r))
    assert seen == [
        ("plain request", Request),
        ("plain response", Response),
        ("async request", Request),
        ("async response", Response),
    ]


def test_a_flow_that_needs_the_request_body_gets_it_in_memory() -> None:
    bodies: list[bytes] = []

    class BodySigner(Auth):
        requires_request_body = True

        def auth_flow(self, request: AsyncRequest) -> Flow:
            bodies.append(request.content)
            request.headers["X-Length"] = str(len(request.content))
            yield request

    def handler(request: Request) -> Response:
        return Response(200, content=request.headers["x-length"].encode())

    def chunks() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    with Session(transport=MockTransport(handler), auth=BodySigner()) as session:
        assert session.post("http://example.test/", content=chunks()).text == "6"
    assert bodies == [b"abcdef"]


class FlowFailed(Exception):
    pass


def test_an_exception_in_a_flow_propagates() -> None:
    closed: list[bool] = []

    class Failing(Auth):
        def auth_flow(self, request: AsyncRequest) -> Flow:
            try:
                response = yield request
                raise FlowFailed(response.status_code)
            finally:
                closed.append(True)

    with Session(transport=MockTransport(lambda request: Response(401)), auth=Failing()) as s:
        with pytest.raises(FlowFailed, match="401"):
            s.get("http://example.test/")
    assert closed == [True]


def test_sync_auth_names_are_exported() -> None:
    assert issubclass(reqivo_sync.Auth, reqivo_async.Auth)
    assert issubclass(reqivo_sync.FunctionAuth, reqivo_sync.Auth)
    assert reqivo_sync.BasicAuth is reqivo_async.BasicAuth
    for name in ("Auth", "FunctionAuth", "BaseTransport", "MockTransport", "WSGITransport"):
        assert getattr(reqivo_sync, name).__doc__
