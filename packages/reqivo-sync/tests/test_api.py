"""The one-shot functions (``reqivo_sync.get`` ...) and the blocking ``Response``'s
in-memory constructor, against real loopback servers.

The edges both APIs share (``ok``, ``links``, tuple timeouts, ``retries=`` per request)
run in the dual suite (``dual/test_api_edges.py``).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import inspect
import itertools
import json
from typing import Any

import pytest

import reqivo_async
import reqivo_sync
from reqivo_sync import (
    ConnectError,
    HTTPStatusError,
    MockTransport,
    ReadTimeout,
    Response,
    Retry,
    Session,
    StreamClosed,
    Timeout,
    TlsError,
)
from servers.app import pattern
from servers.models import Server, TLSServer
from servers.raw import ReadRequest, Repeat, Send, http_response

_keys = itertools.count()
ONE_SHOT = ("request", "stream", "get", "head", "options", "delete", "post", "put", "patch")


def _echo(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


# -- the one-shot functions -----------------------------------------------------------------


def test_get_with_options(uvicorn_h11_server: Server) -> None:
    response = reqivo_sync.get(
        uvicorn_h11_server.join("/echo"),
        params={"q": "1"},
        headers={"X-A": "a"},
        cookies={"c": "v"},
        timeout=(5.0, 10.0),
    )
    assert type(response) is Response
    assert response.status_code == 200 and response.ok
    echo = _echo(response)
    assert echo["method"] == "GET" and echo["query"] == "q=1"
    headers = {name.lower(): value for name, value in echo["headers"]}
    assert headers["x-a"] == "a" and headers["cookie"] == "c=v"
    assert response.request.extensions["timeout"] == Timeout((5.0, 10.0))


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_methods_with_a_body(uvicorn_h11_server: Server, method: str) -> None:
    send = getattr(reqivo_sync, method)
    url = uvicorn_h11_server.join("/echo")
    for options, body in (
        ({"json": {"a": 1}}, b'{"a":1}'),
        ({"data": {"a": "1 2"}}, b"a=1+2"),
        ({"content": b"raw"}, b"raw"),
    ):
        echo = _echo(send(url, **options))
        assert echo["method"] == method.upper()
        assert base64.b64decode(echo["body_base64"]) == body
    files = send(uvicorn_h11_server.join("/multipart"), files={"f": ("a.txt", b"hi")})
    assert "a.txt" in repr(files.json())


@pytest.mark.parametrize("method", ["get", "options", "delete"])
def test_methods_without_a_body(uvicorn_h11_server: Server, method: str) -> None:
    response = getattr(reqivo_sync, method)(uvicorn_h11_server.join("/echo"))
    assert _echo(response)["method"] == method.upper()


def test_head_and_request(uvicorn_h11_server: Server) -> None:
    head = reqivo_sync.head(uvicorn_h11_server.join("/bytes/100"))
    assert head.headers["content-length"] == "100" and head.content == b""
    purge = reqivo_sync.request("PURGE", uvicorn_h11_server.join("/echo"), content=b"x")
    assert _echo(purge)["method"] == "PURGE" and _echo(purge)["body_length"] == 1


def test_stream(uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.join("/stream/100000?chunk=10000")
    with reqivo_sync.stream("GET", url) as response:
        assert type(response) is Response
        chunks = list(response.iter_bytes())
        assert len(chunks) > 1 and response.num_bytes_downloaded == 100_000
    assert b"".join(chunks) == pattern(100_000)
    assert response.is_closed
    with reqivo_sync.stream("POST", uvicorn_h11_server.join("/echo"), json=[1]) as posted:
        posted.read()
    assert base64.b64decode(_echo(posted)["body_base64"]) == b"[1]"


def test_stream_closes_when_the_block_raises(uvicorn_h11_server: Server) -> None:
    with (
        pytest.raises(KeyError),
        reqivo_sync.stream("GET", uvicorn_h11_server.join("/bytes/200000")) as response,
    ):
        raise KeyError("the caller's own error")
    assert response.is_closed
    with pytest.raises(StreamClosed):
        response.read()


def test_each_call_opens_and_closes_its_own_connection(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    assert reqivo_sync.get(server.url).text == "ok"
    assert reqivo_sync.post(server.url, content=b"x").text == "ok"
    with reqivo_sync.stream("GET", server.url) as response:
        assert response.read() == b"ok"
    assert server.wait_idle()  # every connection was closed by the client
    assert server.connections == 3 and server.request_count == 3
    gc.collect()  # nothing left unclosed (a ResourceWarning would fail the test)


def test_session_options(https_server: TLSServer, uvicorn_h11_server: Server) -> None:
    url = https_server.join("/health")
    with pytest.raises(TlsError):
        reqivo_sync.get(url, trust_env=False)
    assert reqivo_sync.get(url, verify=https_server.ca_bundle).text == "ok"
    assert reqivo_sync.get(url, verify=False).text == "ok"
    redirect = uvicorn_h11_server.join("/redirect/1")
    assert reqivo_sync.get(redirect).history[0].status_code == 302
    unfollowed = reqivo_sync.get(redirect, follow_redirects=False)
    assert unfollowed.status_code == 302 and unfollowed.next_request is not None
    basic = uvicorn_h11_server.join("/basic-auth/u/p")
    assert reqivo_sync.get(basic).status_code == 401
    assert reqivo_sync.get(basic, auth=("u", "p")).status_code == 200


def test_timeouts_retries_and_errors(uvicorn_h11_server: Server) -> None:
    with pytest.raises(ReadTimeout):
        reqivo_sync.get(uvicorn_h11_server.join("/delay/2"), timeout=(5.0, 0.2))
    key = f"one-shot-{next(_keys)}"
    flaky = uvicorn_h11_server.join(f"/retry-after?key={key}&failures=2&seconds=0")
    assert reqivo_sync.get(flaky, retries=Retry(total=3, backoff_factor=0)).ok
    with pytest.raises(HTTPStatusError):
        reqivo_sync.get(uvicorn_h11_server.join("/status/500")).raise_for_status()
    with pytest.raises(ConnectError):
        reqivo_sync.get("http://127.0.0.1:1/")


def test_inside_a_running_event_loop(uvicorn_h11_server: Server) -> None:
    async def caller() -> str:
        return reqivo_sync.get(uvicorn_h11_server.join("/health")).text

    assert asyncio.run(caller()) == "ok"


def test_one_shot_names_are_exported() -> None:
    for name in ONE_SHOT:
        assert name in reqivo_sync.__all__
        function = getattr(reqivo_sync, name)
        assert function.__module__ == "reqivo_sync._api"
        assert function.__doc__


def test_one_shot_signatures_follow_the_session() -> None:
    """Each takes its Session method's options (defaults aside: a fresh Session's) and the
    Session's connection options."""
    connection = ["verify", "cert", "proxy", "trust_env"]
    for name in ONE_SHOT:
        own = list(inspect.signature(getattr(reqivo_sync, name)).parameters)
        _self, *method = inspect.signature(getattr(Session, name)).parameters
        assert own == [*method, *connection], name
    session = inspect.signature(Session).parameters
    for option in connection:
        assert (
            inspect.signature(reqivo_sync.get).parameters[option].default == session[option].default
        )


# -- Response(json=..., text=...) for tests -------------------------------------------------


def test_sync_response_constructors() -> None:
    response = Response(200, json={"a": 1}, headers={"Link": "</n>; rel=next"})
    assert response.read() == b'{"a":1}'
    assert response.json() == {"a": 1} and response.ok
    assert response.headers["content-type"] == "application/json"
    assert response.links == {"next": {"url": "/n", "rel": "next"}}
    assert Response(404, text="nope").text == "nope"
    assert Response(200, html="<b>").headers["content-type"] == "text/html; charset=utf-8"
    with pytest.raises(TypeError, match="only one of"):
        Response(200, text="a", json="b")


def test_sync_mock_transport_with_constructed_responses() -> None:
    def handler(request: Any) -> Response:
        return Response(201, json={"path": request.url.path}, reason="Made")

    with Session(transport=MockTransport(handler)) as session:
        response = session.post("http://example.test/items", json={})
    assert type(response) is Response
    assert response.json() == {"path": "/items"}
    assert response.reason_phrase == "Made" and response.ok
    assert response.num_bytes_downloaded == len(json.dumps({"path": "/items"}).replace(" ", ""))


def test_sync_response_takes_the_async_arguments() -> None:
    sync_params = inspect.signature(Response.__init__).parameters
    async_params = inspect.signature(reqivo_async.Response.__init__).parameters
    assert list(sync_params) == list(async_params)
    for name, param in sync_params.items():
        if name != "stream":  # the sync class also takes a blocking iterable
            other = async_params[name]
            assert (param.kind, param.default) == (other.kind, other.default), name
