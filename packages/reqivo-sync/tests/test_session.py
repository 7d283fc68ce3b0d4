"""Wrapper-specific behaviour of ``reqivo_sync.Session``: threads, running loops, fork,
interpreter exit, ResourceWarning, shared settings, and parity with ``AsyncSession``."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

import reqivo_async
import reqivo_sync
from reqivo_sync import Limits, Request, Response, Session
from servers.models import Server
from servers.raw import ReadRequest, Repeat, Send, Sleep, http_response

POSIX = hasattr(os, "fork")
T = TypeVar("T")


def test_64_threads_share_one_session_and_its_cookies(uvicorn_httptools_server: Server) -> None:
    server = uvicorn_httptools_server
    errors: list[BaseException] = []
    barrier = threading.Barrier(64)
    # Two hosts (two cookie domains): a jar keeps at most 50 cookies per domain.
    hosts = [server.url, server.url.replace("127.0.0.1", "localhost")]
    with Session(timeout=20.0) as session:
        session.cookies.set("shared", "yes")

        def work(number: int) -> None:
            base = hosts[number % 2]
            try:
                barrier.wait()
                session.get(f"{base}/cookies/set?t{number}={number}")
                for _ in range(5):
                    sent = session.get(f"{base}/cookies").json()["cookies"]
                    assert sent["shared"] == "yes"
                    assert sent[f"t{number}"] == str(number)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(session.cookies) == 65
        for parity, base in enumerate(hosts):
            assert session.get(f"{base}/cookies").json()["cookies"] == {
                "shared": "yes",
                **{f"t{n}": str(n) for n in range(parity, 64, 2)},
            }


def test_settings_are_shared_by_every_thread(uvicorn_h11_server: Server) -> None:
    with Session(base_url=uvicorn_h11_server.url) as session:
        seen: list[dict[str, Any]] = []

        def request() -> None:
            seen.append(session.get("/echo").json())

        request()
        worker = threading.Thread(target=request)
        worker.start()
        worker.join()  # the worker's loop session exists now
        session.headers = {"X-Replaced": "1"}
        session.params = {"p": "1"}
        session.base_url = uvicorn_h11_server.url + "/echo/"
        for _ in range(2):
            worker = threading.Thread(target=request)
            worker.start()
            worker.join()
        request()
        for echo in seen[2:]:
            assert ["x-replaced", "1"] in [[n.lower(), v] for n, v in echo["headers"]]
            assert echo["query"] == "p=1"
        assert session.follow_redirects is True
        session.follow_redirects = False
        assert session.get("/../redirect/1").status_code == 302


async def test_inside_a_running_loop(uvicorn_h11_server: Server) -> None:
    with Session(base_url=uvicorn_h11_server.url) as session:
        response = session.get("/echo")
        assert isinstance(response, Response)
        with session.stream("GET", "/stream/50000") as streamed:
            assert sum(len(chunk) for chunk in streamed.iter_bytes()) == 50_000
        # The caller's loop keeps working between calls.
        await asyncio.sleep(0)
        assert (await asyncio.to_thread(session.get, "/health")).text == "ok"


def _in_a_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a new thread that ends before this returns; its result."""
    done: list[T] = []
    worker = threading.Thread(target=lambda: done.append(work()))
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    [result] = done
    return result


def test_64_threads_with_max_connections_10_open_at_most_10(raw_server: Any) -> None:
    # Each response takes 5 ms: 64 threads always want more than 10 connections at once.
    server = raw_server([Repeat((ReadRequest(), Sleep(0.005), Send(http_response(body=b"ok"))))])
    errors: list[BaseException] = []
    done: list[int] = []
    barrier = threading.Barrier(64)
    with Session(limits=Limits(max_connections=10), timeout=30.0) as session:

        def work() -> None:
            try:
                barrier.wait()
                for _ in range(8):
                    assert session.get(server.url).content == b"ok"
                    done.append(1)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(done) == 64 * 8
        assert 2 <= server.connections <= 10  # counted by the server: accepted connections
        pool = session.transport
        assert isinstance(pool, reqivo_async.AsyncConnectionPool)
        assert len(pool.connections) == server.connections  # every one kept, none more


def test_a_connection_opened_by_one_thread_serves_another(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    with Session() as session:
        assert _in_a_thread(lambda: session.get(server.url).content) == b"ok"
        assert _in_a_thread(lambda: session.get(server.url).content) == b"ok"
        assert session.get(server.url).content == b"ok"
    assert server.connections == 1
    assert server.request_count == 3


def test_streamed_response_read_and_closed_in_another_thread(
    uvicorn_h11_server: Server,
) -> None:
    with Session() as session:
        response = _in_a_thread(
            lambda: session.send(
                session.build_request("GET", uvicorn_h11_server.join("/stream/100000")),
                stream=True,
            )
        )  # opened by a thread that has exited since
        chunks = response.iter_bytes()
        first = next(chunks)
        rest = _in_a_thread(lambda: b"".join(chunks))  # read on by another thread
        assert len(first) + len(rest) == 100000
        pool = session.transport
        assert isinstance(pool, reqivo_async.AsyncConnectionPool)
        _in_a_thread(response.close)  # and closed by a third
        assert response.is_closed
        assert pool.idle_connections == 1  # the connection went back to the one pool
        with session.stream("GET", uvicorn_h11_server.join("/bytes/10")) as streamed:
            assert _in_a_thread(streamed.read) == bytes(range(10))
        assert len(pool.connections) == 1  # one connection served all of it


def test_response_outlives_the_thread_that_made_it(uvicorn_h11_server: Server) -> None:
    with Session() as session:
        response = _in_a_thread(lambda: session.get(uvicorn_h11_server.join("/json")))
        assert response.json() == session.get(uvicorn_h11_server.join("/json")).json()
        assert response.read() == response.content
        response.close()
        assert response.request.url == uvicorn_h11_server.join("/json")


def test_closed_session(uvicorn_h11_server: Server) -> None:
    session = Session()
    session.get(uvicorn_h11_server.join("/health"))
    session.close()
    session.close()
    assert session.is_closed
    assert "closed" in repr(session)
    with pytest.raises(RuntimeError):
        session.get(uvicorn_h11_server.join("/health"))
    with pytest.raises(RuntimeError, match="reopen"):
        session.__enter__()


def test_unclosed_session_warns_when_collected(uvicorn_h11_server: Server) -> None:
    session = Session()
    session.get(uvicorn_h11_server.join("/health"))
    with pytest.warns(ResourceWarning, match="unclosed <Session"):  # noqa: PT031
        del session
        gc.collect()
    unused = Session()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del unused
        gc.collect()


_EXIT_SCRIPT = """
import asyncio, sys
from reqivo_sync import Session
url = sys.argv[1]
session = Session()
assert session.get(url + "/health").text == "ok"
stream = session.stream("GET", url + "/stream/100000").__enter__()
next(stream.iter_bytes())
async def main():
    inner = Session()
    assert inner.get(url + "/health").text == "ok"
    globals()["inner"] = inner
asyncio.run(main())
print("done")
"""


def test_clean_interpreter_exit_without_close(uvicorn_h11_server: Server) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", _EXIT_SCRIPT, uvicorn_h11_server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""


@pytest.mark.skipif(not POSIX, reason="needs os.fork")
def test_fork_child_gets_a_fresh_loop_and_pool(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    with Session() as session:
        assert session.get(server.url).content == b"ok"
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            code = 1
            try:
                ok = session.get(server.url).content == b"ok"
                os.write(write_end, b"ok" if ok else b"bad")
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        _, status = os.waitpid(pid, 0)
        assert os.read(read_end, 10) == b"ok"
        os.close(read_end)
        assert os.waitstatus_to_exitcode(status) == 0
        assert session.get(server.url).content == b"ok"
    assert server.connections == 2  # the child opened its own connection


def test_build_request_and_request_read(uvicorn_h11_server: Server) -> None:
    with Session() as session:
        request = session.build_request(
            "POST", uvicorn_h11_server.join("/upload"), content=iter([b"a", b"b"])
        )
        assert isinstance(request, Request)
        assert isinstance(request, reqivo_async.AsyncRequest)
        assert request.read() == b"ab"
        assert request.content == b"ab"
        response = session.send(request)
        assert response.json()["length"] == 2
        assert response.request is request
        assert "Request [POST" in repr(request)

    async def body() -> Any:
        await asyncio.sleep(0.001)
        yield b"x"

    with pytest.raises(RuntimeError):  # an async body needs the async API
        Request("POST", "http://h/", content=body()).read()


def test_user_transport_is_shared_and_closed_once() -> None:
    calls: list[str] = []

    def handler(request: Any) -> reqivo_async.Response:
        calls.append(threading.current_thread().name)
        return reqivo_async.Response(200, content=b"mocked")

    transport = reqivo_async.MockTransport(handler)
    with Session(transport=transport) as session:
        assert session.transport is transport
        assert session.get("http://example.test/").text == "mocked"
        worker = threading.Thread(target=session.get, args=("http://example.test/",))
        worker.start()
        worker.join()
    assert len(calls) == 2


def test_api_parity_with_async_session() -> None:
    for name in (
        *("request", "get", "head", "options", "delete", "post", "put", "patch"),
        *("__init__", "build_request", "stream", "send"),
    ):
        sync_params = inspect.signature(getattr(Session, name)).parameters
        async_params = inspect.signature(getattr(reqivo_async.AsyncSession, name)).parameters
        assert [(p.name, p.kind, p.default, p.annotation) for p in sync_params.values()] == [
            (p.name, p.kind, p.default, p.annotation) for p in async_params.values()
        ], name


def test_the_http_methods_pass_every_option_on() -> None:
    seen: list[tuple[str, str, str | None]] = []

    def handler(request: Any) -> reqivo_async.Response:
        seen.append((request.method, str(request.url), request.headers.get("x-a")))
        return reqivo_async.Response(200, content=request.content)

    with Session(transport=reqivo_async.MockTransport(handler)) as session:
        for name in ("get", "head", "options", "delete", "post", "put", "patch"):
            response = getattr(session, name)(
                "http://example.test/", params={"q": name}, headers={"X-A": name}
            )
            assert response.status_code == 200
        assert session.post("http://example.test/", content=b"body").content == b"body"
        with session.stream("PUT", "http://example.test/", json=[1]) as response:
            assert response.read() == b"[1]"
    assert seen[:2] == [
        ("GET", "http://example.test/?q=get", "get"),
        ("HEAD", "http://example.test/?q=head", "head"),
    ]
    assert [method for method, _, _ in seen] == [
        *("GET", "HEAD", "OPTIONS", "DELETE", "POST", "PUT", "PATCH", "POST", "PUT")
    ]


async def test_new_async_session_shares_the_state_over_a_pool_of_its_own() -> None:
    with Session(headers={"X-Team": "a"}, verify=False) as session:
        other, another = session.new_async_session(), session.new_async_session()
        assert other.state is another.state
        assert isinstance(other.transport, reqivo_async.AsyncConnectionPool)
        assert len({id(other.transport), id(another.transport), id(session.transport)}) == 3
        await another.aclose()
        session.headers["X-Team"] = "b"
        session.timeout = 2.0
        assert other.headers["x-team"] == "b" and other.timeout.read == 2.0
        await other.aclose()
        assert other.is_closed
    transport = reqivo_async.MockTransport(lambda r: reqivo_async.Response(200))
    with Session(transport=transport) as custom, pytest.raises(ValueError, match="transport="):
        custom.new_async_session()


def test_exports() -> None:
    for name in reqivo_sync.__all__:
        assert getattr(reqivo_sync, name) is not None
    assert reqivo_sync.ReadTimeout is reqivo_async.ReadTimeout
    assert reqivo_sync.Retry is reqivo_async.Retry
    assert reqivo_sync.DigestAuth is reqivo_async.DigestAuth
    assert reqivo_sync.Cookies is reqivo_async.Cookies
    with pytest.raises(AttributeError):
        reqivo_sync.Nope  # noqa: B018


def test_import_is_cheap() -> None:
    code = (
        "import sys, reqivo_sync; "
        "heavy = {'json', 'hashlib', 'http.cookies', 'email', 'urllib.parse', 'reqivo_sync._cli', "
        "'reqivo_sync._transports', 'reqivo_sync._wsgi', 'reqivo_sync._mock', "
        "'reqivo_sync._streams'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_docstring_example_shape() -> None:
    assert "Session" in textwrap.dedent(reqivo_sync.__doc__ or "")


def test_shared_cookie_jar_under_thread_contention() -> None:
    """The jar a Session shares is safe under contention (its lock; switch interval tiny)."""
    from reqivo_protocol import URL

    jar = reqivo_sync.Cookies()
    url = URL("http://example.test/")
    errors: list[BaseException] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def work(number: int) -> None:
        try:
            for step in range(200):
                jar.extract_set_cookie(url, [f"c{number}_{step % 7}={step}; Max-Age=60"])
                jar.header_for(url)
                list(jar)
                if step % 50 == 0:
                    jar.clear()
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
