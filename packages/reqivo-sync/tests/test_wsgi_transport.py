"""``WSGITransport``: a WSGI app called in-process, checked against PEP 3333.

Apps are wrapped in ``wsgiref.validate.validator``, the standard library's PEP 3333
checker: it fails the request when the environ, ``start_response`` or the handling of
the app's iterable (``close()`` included) breaks the specification.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import demo_app
from wsgiref.validate import validator

import pytest

from reqivo_sync import RemoteProtocolError, Response, Session, WSGITransport

StartResponse = Callable[..., Callable[[bytes], object]]
Environ = dict[str, Any]

#: The environ keys an echoing app reports back (the rest are objects).
_REPORTED = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTP_HOST",
    "HTTP_X_MANY",
    "HTTP_COOKIE",
    "HTTP_USER_AGENT",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
)


def echo_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answers JSON of the environ's strings and the request body."""
    import json

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    report = {key: environ.get(key) for key in _REPORTED}
    report["body"] = body.decode("latin-1")
    payload = json.dumps(report).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def session_for(app: Any, **options: Any) -> Session:
    return Session(transport=WSGITransport(validator(app), **options), timeout=10.0)


def test_the_environ(uvicorn_h11_server: Any) -> None:
    with session_for(echo_app, remote_addr="10.1.2.3") as session:
        response = session.post(
            "http://app.test:8080/caf%C3%A9/x?q=1&r=%20",
            content=b"payload",
            headers=[("X-Many", "a"), ("X-Many", "b"), ("Content-Type", "text/plain")],
            cookies={"c1": "v1", "c2": "v2"},
        )
        assert type(response) is Response
        environ = response.json()
    assert environ == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/caf\u00c3\u00a9/x",  # the UTF-8 bytes as latin-1 characters
        "QUERY_STRING": "q=1&r=%20",
        "SERVER_NAME": "app.test",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.1.2.3",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "7",
        "HTTP_HOST": "app.test:8080",
        "HTTP_X_MANY": "a, b",
        "HTTP_COOKIE": environ["HTTP_COOKIE"],
        "HTTP_USER_AGENT": environ["HTTP_USER_AGENT"],
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "body": "payload",
    }
    assert sorted(environ["HTTP_COOKIE"].split("; ")) == ["c1=v1", "c2=v2"]
    assert environ["HTTP_USER_AGENT"].startswith("reqivo/")


def test_default_ports_script_name_and_an_empty_body() -> None:
    with session_for(echo_app, script_name="/mount/") as session:
        https = session.get("https://app.test/mount/users?x").json()
        outside = session.get("http://app.test/elsewhere").json()
    assert (https["SERVER_PORT"], https["wsgi.url_scheme"]) == ("443", "https")
    assert (https["SCRIPT_NAME"], https["PATH_INFO"]) == ("/mount", "/users")
    assert https["CONTENT_LENGTH"] is None and https["body"] == ""
    assert https["HTTP_HOST"] == "app.test"
    assert (outside["SERVER_PORT"], outside["PATH_INFO"]) == ("80", "/elsewhere")


def test_the_stdlib_demo_app() -> None:
    with session_for(demo_app) as session:
        response = session.get("http://app.test/hello")
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.text.startswith("Hello world!")
    assert "PATH_INFO = '/hello'" in response.text


def test_redirects_and_cookies_through_the_app() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/login":
            headers = [("Location", "/home"), ("Set-Cookie", "session=abc; Path=/")]
            start_response("302 Found", [("Content-Type", "text/plain"), *headers])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ.get("HTTP_COOKIE", "").encode()]

    with session_for(app) as session:
        response = session.get("http://app.test/login")
        assert response.text == "session=abc"
        assert [r.status_code for r in response.history] == [302]
        assert session.cookies.get("session") == "abc"


def test_a_streaming_body_arrives_while_the_app_still_produces_it() -> None:
    """The app produces its second chunk only once the client has the first."""
    got_first = threading.Event()
    closed: list[bool] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])

        def body() -> Iterator[bytes]:
            try:
                yield b"first;"
                assert got_first.wait(5), "the client never got the first chunk"
                yield b""
                yield b"second;"
                yield b"third"
            finally:
                closed.append(True)

        return body()

    with session_for(app) as session:
        with session.stream("GET", "http://app.test/") as response:
            chunks = response.iter_bytes()
            assert next(chunks) == b"first;"
            got_first.set()
            assert list(chunks) == [b"second;", b"third"]
        assert closed == [True]
        got_first.clear()
        with session.stream("GET", "http://app.test/") as response:
            assert next(response.iter_bytes()) == b"first;"
            got_first.set()
        assert closed == [True, True]  # closed early: the iterable's close() still ran


class Closing:
    """An app's iterable with a ``close()`` (PEP 3333: the server must call it)."""

    def __init__(self, chunks: list[bytes], closed: list[str]) -> None:
        self.chunks = chunks
        self.closed = closed

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed.append("closed")


def test_the_iterable_is_closed_after_a_full_read_and_for_head() -> None:
    closed: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return Closing([b"he", b"llo"], closed)

    with session_for(app) as session:
        assert session.get("http://app.test/").text == "hello"
        assert closed == ["closed"]
        head = session.head("http://app.test/")
        assert (head.content, head.headers["content-length"]) == (b"", "5")
        assert closed == ["closed", "closed"]


def test_write_callable_and_a_lazy_start_response() -> None:
    def writing(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    def lazy(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b""
        yield b"late"

    # (The validator forbids write() after the iterable is returned, so no wrapping.)
    with Session(transport=WSGITransport(writing)) as session:
        assert session.get("http://app.test/").text == "written returned"
    with session_for(lazy) as session:
        response = session.get("http://app.test/")
        assert (response.status_code, response.reason, response.text) == (201, "Created", "late")


class AppFailed(Exception):
    pass


def failing_before(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    raise AppFailed("before the response")


def failing_in_body(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial"
    raise AppFailed("during the body")


def reporting(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Catches its own error and reports it with exc_info, as frameworks do."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise AppFailed("reported")
    except AppFailed:
        start_response("500 Internal Server Error", [("X-Error", "1")], sys.exc_info())
    return [b"error page"]


def late_report(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    """Reports an error with exc_info once the response has started: it must re-raise."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"started"
    try:
        raise AppFailed("too late")
    except AppFailed:
        start_response("500 Internal Server Error", [], sys.exc_info())
    yield b"never"


def test_app_exceptions_are_raised_by_default() -> None:
    with Session(transport=WSGITransport(failing_before)) as session:
        with pytest.raises(AppFailed, match="before the response"):
            session.get("http://app.test/")
    with Session(transport=WSGITransport(reporting)) as session:
        with pytest.raises(AppFailed, match="reported"):
            session.get("http://app.test/")
    for app in (failing_in_body, late_report):
        with Session(transport=WSGITransport(app)) as session:
            with session.stream("GET", "http://app.test/") as response:
                chunks = response.iter_bytes()
                assert next(chunks) in (b"partial", b"started")
                with pytest.raises(AppFailed):
                    next(chunks)


def test_app_exceptions_as_responses() -> None:
    def session_of(app: Any) -> Session:
        return Session(transport=WSGITransport(app, raise_app_exceptions=False))

    with session_of(failing_before) as session:
        response = session.get("http://app.test/")
        assert (response.status_code, response.content) == (500, b"")
    with session_of(reporting) as session:
        response = session.get("http://app.test/")
        assert (response.status_code, response.headers["x-error"]) == (500, "1")
        assert response.text == "error page"
    with session_of(failing_in_body) as session:
        assert session.get("http://app.test/").text == "partial"  # the body ends there


def test_an_app_that_answers_nothing_or_nonsense() -> None:
    def silent(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return []

    def bad_status(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("OK", [])
        return []

    def twice(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        start_response("204 No Content", [])
        return []

    def not_iterable(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", [])
        return None

    for app, error, match in [
        (silent, RemoteProtocolError, "without calling start_response"),
        (not_iterable, TypeError, "not iterable"),
        (bad_status, RemoteProtocolError, "invalid status"),
        (twice, RuntimeError, "a second time"),
    ]:
        with Session(transport=WSGITransport(app)) as session:
            with pytest.raises(error, match=match):
                session.get("http://app.test/")


def test_one_app_serves_several_threads() -> None:
    errors: list[BaseException] = []
    threads_seen: set[int] = set()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        threads_seen.add(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    with session_for(app) as session:

        def work(number: int) -> None:
            try:
                for _ in range(5):
                    assert session.get(f"http://app.test/{number}").text == f"/{number}"
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert threading.get_ident() not in threads_seen


def test_wsgi_errors_stream_and_direct_use() -> None:
    errors = io.StringIO()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.errors"].write("logged\n")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    transport = WSGITransport(validator(app), wsgi_errors=errors)
    from reqivo_sync import Request

    with transport:
        response = transport.handle_request(Request("GET", "http://app.test/"))
        assert response.read() == b"ok"
    assert errors.getvalue() == "logged\n"
