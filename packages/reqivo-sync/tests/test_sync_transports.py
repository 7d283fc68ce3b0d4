"""Blocking transports: a custom ``BaseTransport``, ``MockTransport``, ``ASGITransport``.

A blocking transport gets the sync ``Request`` (body in memory) in a worker thread and
returns a ``Response``; the session's policies (redirects, cookies, auth, retries) apply
to it as to a server. Streaming bodies (``Response(stream=iterable)``) are pulled chunk by
chunk, off the loop, and closed with the response.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import reqivo_async
import reqivo_sync
from reqivo_async import AsyncRequest
from reqivo_sync import (
    BaseTransport,
    MockTransport,
    Request,
    Response,
    Retry,
    Session,
    Timeout,
    TooManyRedirects,
    TotalTimeout,
)
from reqivo_sync._auth import Flow


class Recording(BaseTransport):
    """Answers 200 with the request's method and body; notes what it saw and its closing."""

    def __init__(self) -> None:
        self.seen: list[tuple[type, bool, bytes]] = []
        self.closed: list[bool] = []
        self.caller = threading.get_ident()

    def handle_request(self, request: Request) -> Response:
        self.seen.append((type(request), threading.get_ident() != self.caller, request.content))
        return Response(200, content=request.method.encode() + b" " + request.content)

    def close(self) -> None:
        self.closed.append(threading.get_ident() != self.caller)


def test_a_custom_transport_gets_the_sync_request_in_a_worker_thread() -> None:
    transport = Recording()

    def chunks() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    with Session(transport=transport) as session:
        assert session.transport is transport
        response = session.post("http://example.test/", content=chunks())
        assert type(response) is Response
        assert response.text == "POST ab"
        assert session.put("http://example.test/", json=[1]).text == "PUT [1]"
    assert transport.seen == [(Request, True, b"ab"), (Request, True, b"[1]")]
    assert transport.closed == [True]  # closed once, by the Session, off the loop


def test_base_transport_is_abstract_and_a_context_manager() -> None:
    with pytest.raises(TypeError, match="abstract"):
        BaseTransport()  # type: ignore[abstract]
    with Recording() as transport:
        response = transport.handle_request(Request("GET", "http://example.test/"))
        assert response.content == b"GET "
    assert transport.closed == [False]  # closed by "with", in this thread
    assert isinstance(transport, reqivo_async.AsyncBaseTransport)


def test_a_blocking_transport_works_under_async_session_too() -> None:
    async def main() -> bytes:
        async with reqivo_async.AsyncSession(transport=Recording()) as session:
            response = await session.post("http://example.test/", content=b"hi")
            return response.content

    assert asyncio.run(main()) == b"POST hi"


def test_a_transport_returning_something_else_is_an_error() -> None:
    class Wrong(BaseTransport):
        def handle_request(self, request: Request) -> Any:
            return b"200 OK"

    with Session(transport=Wrong()) as session, pytest.raises(TypeError, match="not a Response"):
        session.get("http://example.test/")


def test_a_slow_transport_does_not_stall_the_loop_other_callers_share() -> None:
    """Two callers inside running loops share the Session's fallback loop: the first one's
    transport waits for the second one's request, which would deadlock on the loop."""
    first_waiting, second_done = threading.Event(), threading.Event()

    def handler(request: Request) -> Response:
        if request.url.path == "/first":
            first_waiting.set()
            assert second_done.wait(5), "the second request never completed"
        return Response(200, content=request.url.path.encode())

    results: dict[str, bytes] = {}

    with Session(transport=MockTransport(handler)) as session:

        def call(path: str) -> None:
            async def main() -> None:
                results[path] = session.get(f"http://example.test{path}").content
                if path == "/second":
                    second_done.set()

            asyncio.run(main())

        first = threading.Thread(target=call, args=("/first",))
        first.start()
        assert first_waiting.wait(5)
        call("/second")
        first.join(15)
    assert results == {"/first": b"/first", "/second": b"/second"}


# -- MockTransport -----------------------------------------------------------------------


def test_mock_transport_with_redirects_cookies_and_the_request_body() -> None:
    seen: list[tuple[type, str, str | None, bytes]] = []

    def handler(request: Request) -> Response:
        seen.append((type(request), request.url.path, request.headers.get("cookie"), b""))
        if request.url.path == "/login":
            return Response(303, headers={"Location": "/home", "Set-Cookie": "session=s1; Path=/"})
        if request.url.path == "/loop":
            return Response(302, headers={"Location": "/loop2"})
        if request.url.path == "/loop2":
            return Response(302, headers={"Location": "/loop"})
        return Response(200, content=b"home " + request.content)

    with Session(transport=MockTransport(handler)) as session:
        response = session.post("http://example.test/login", content=b"credentials")
        assert response.text == "home "  # a 303 turns the POST into a GET without a body
        assert [r.status_code for r in response.history] == [303]
        assert type(response.history[0]) is Response
        assert session.cookies.get("session") == "s1"
        with pytest.raises(TooManyRedirects):
            session.get("http://example.test/loop")
    assert seen[:2] == [
        (Request, "/login", None, b""),
        (Request, "/home", "session=s1", b""),
    ]


def test_mock_transport_with_retries_and_an_auth_round_trip() -> None:
    calls: list[str] = []

    def handler(request: Request) -> Response:
        calls.append(request.headers.get("authorization", "-"))
        if len(calls) == 1:
            return Response(503, headers={"Retry-After": "0"})
        if "authorization" not in request.headers:
            return Response(401)
        return Response(200, content=b"welcome")

    class Retrying(reqivo_sync.Auth):
        def auth_flow(self, request: AsyncRequest) -> Flow:
            response = yield request
            if response.status_code == 401:
                request.headers["Authorization"] = "Token x"
                yield request

    transport = MockTransport(handler)
    with Session(transport=transport, retries=Retry(total=2, backoff_factor=0)) as session:
        assert session.get("http://example.test/", auth=Retrying()).text == "welcome"
    assert calls == ["-", "-", "Token x"]


def test_mock_transport_refuses_async_handlers_and_bad_answers() -> None:
    async def handler(request: Any) -> Response:
        return Response(200)

    with pytest.raises(TypeError, match=r"reqivo_async\.MockTransport"):
        MockTransport(handler)  # type: ignore[arg-type]
    with Session(transport=MockTransport(lambda request: None)) as session:  # type: ignore[arg-type, return-value]
        with pytest.raises(TypeError, match="not a Response"):
            session.get("http://example.test/")
    # The async package's MockTransport (and an async handler) still works with a Session.
    with Session(transport=reqivo_async.MockTransport(handler)) as session:
        assert type(session.get("http://example.test/")) is Response


def test_mock_transport_used_directly() -> None:
    transport = MockTransport(lambda request: Response(201, content=request.content))
    response = transport.handle_request(Request("POST", "http://example.test/", json={"a": 1}))
    assert response.status_code == 201
    assert response.json() == {"a": 1}
    assert response.request.url.host == "example.test"


# -- streaming bodies from blocking code ------------------------------------------------


class Body:
    """A blocking body: chunks, a record of the threads that produced them, and close()."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.threads: set[int] = set()
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.threads.add(threading.get_ident())
            yield chunk

    def close(self) -> None:
        self.closed += 1


def test_a_streamed_body_is_pulled_off_the_loop_and_closed() -> None:
    body = Body(b"one ", b"", b"two ", b"three")
    with Session(transport=MockTransport(lambda request: Response(200, stream=body))) as session:
        with session.stream("GET", "http://example.test/") as response:
            assert list(response.iter_bytes()) == [b"one ", b"two ", b"three"]
        assert body.closed == 1
        assert threading.get_ident() not in body.threads
        early = Body(b"a", b"b", b"c")
        session_early = MockTransport(lambda request: Response(200, stream=early))
        with Session(transport=session_early) as other:
            with other.stream("GET", "http://example.test/") as response:
                assert next(response.iter_bytes()) == b"a"
            assert early.closed == 1  # closed early, once


def test_a_streamed_body_read_whole_and_a_generator_closed_early() -> None:
    finished: list[str] = []

    def generate() -> Iterator[bytes]:
        try:
            yield b"x" * 10
            yield b"y" * 10
        finally:
            finished.append("closed")

    def handler(request: Request) -> Response:
        return Response(200, headers={"Content-Type": "text/plain"}, stream=generate())

    with Session(transport=MockTransport(handler)) as session:
        assert session.get("http://example.test/").text == "x" * 10 + "y" * 10
        assert finished == ["closed"]
        with session.stream("GET", "http://example.test/") as response:
            assert response.read()[:1] == b"x"
        assert finished == ["closed", "closed"]


def test_a_response_with_a_blocking_stream_read_without_a_session() -> None:
    assert Response(200, stream=[b"a", b"b"]).read() == b"ab"
    body = Body(b"c", b"d")
    response = Response(200, stream=body)
    assert response.read() == b"cd"
    assert body.closed == 1
    assert threading.get_ident() in body.threads  # no loop: pulled in place
    one_chunk = Response(200, stream=b"bytes as one chunk")  # type: ignore[arg-type]
    assert one_chunk.read() == b"bytes as one chunk"


def test_a_failing_stream_fails_the_read() -> None:
    def generate() -> Iterator[bytes]:
        yield b"first"
        raise ConnectionAbortedError("the producer died")

    with Session(transport=MockTransport(lambda request: Response(200, stream=generate()))) as s:
        with s.stream("GET", "http://example.test/") as response:
            chunks = response.iter_bytes()
            assert next(chunks) == b"first"
            with pytest.raises(ConnectionAbortedError, match="producer died"):
                next(chunks)


# -- ASGITransport -----------------------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"asgi")]})
    for part in (scope["path"].encode(), b" ", body):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_asgi_transport_through_the_blocking_session_in_several_threads() -> None:
    assert reqivo_sync.ASGITransport is reqivo_async.ASGITransport
    errors: list[BaseException] = []
    with Session(transport=reqivo_sync.ASGITransport(asgi_app)) as session:

        def work(number: int) -> None:
            try:
                response = session.post(f"http://app.test/n/{number}", content=b"body")
                assert type(response) is Response
                assert response.headers["x-app"] == "asgi"
                assert response.text == f"/n/{number} body"
                with session.stream("GET", "http://app.test/s") as streamed:
                    assert b"".join(streamed.iter_bytes()) == b"/s "
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        work(99)
        for thread in threads:
            thread.join(15)
    assert errors == []


def test_the_total_deadline_holds_while_a_blocking_transport_still_runs() -> None:
    """The session stops waiting at its deadline; the handler's thread finishes later."""
    release = threading.Event()

    def handler(request: Request) -> Response:
        release.wait(5)
        return Response(200)

    with Session(transport=MockTransport(handler), timeout=Timeout(10.0, total=0.2)) as session:
        started = time.monotonic()
        with pytest.raises(TotalTimeout):
            session.get("http://example.test/")
        assert time.monotonic() - started < 2
        release.set()


def test_the_total_deadline_holds_while_a_streamed_body_is_produced() -> None:
    """A chunk pulled too late: the read stops at the deadline, and the body's close()
    runs once that pull is over (a generator cannot be closed while it runs)."""
    release, closed = threading.Event(), threading.Event()

    def generate() -> Iterator[bytes]:
        try:
            yield b"first"
            release.wait(5)
            yield b"late"
        finally:
            closed.set()

    transport = MockTransport(lambda request: Response(200, stream=generate()))
    with Session(transport=transport, timeout=Timeout(10.0, total=0.3)) as session:
        started = time.monotonic()
        with pytest.raises(TotalTimeout):
            session.get("http://example.test/")
        assert time.monotonic() - started < 2
        assert not closed.is_set()
        release.set()
        assert closed.wait(5)
