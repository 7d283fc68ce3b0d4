"""Response, AsyncRequest and request bodies."""

from __future__ import annotations

import gzip
import io
from collections.abc import AsyncGenerator, AsyncIterator

import pytest

from reqivo_async._content import RequestContent, encode_request_body
from reqivo_async._models import AsyncByteStream, AsyncRequest, Response
from reqivo_protocol._exceptions import (
    HTTPStatusError,
    RequestNotRead,
    ResponseNotRead,
    StreamClosed,
    StreamConsumed,
)


class Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def test_status_helpers_and_reason() -> None:
    assert Response(200).reason == "OK"
    assert Response(299).reason == ""
    assert Response(200, reason="Fine").reason == "Fine"
    assert Response(101).is_informational
    assert Response(204).is_success
    assert Response(302, headers={"Location": "/"}).is_redirect
    assert not Response(302).is_redirect
    assert Response(404).is_client_error and Response(404).is_error
    assert Response(503).is_server_error
    assert repr(Response(200)) == "<Response [200 OK]>"
    with pytest.raises(RuntimeError):
        Response(200).request  # noqa: B018


def test_raise_for_status() -> None:
    request = AsyncRequest("GET", "http://h/x")
    ok = Response(200, request=request)
    assert ok.raise_for_status() is ok
    for status, kind in ((404, "Client error"), (500, "Server error")):
        response = Response(status, request=request)
        with pytest.raises(HTTPStatusError, match=kind) as info:
            response.raise_for_status()
        assert info.value.response is response
        assert info.value.request is request


async def test_body_in_memory() -> None:
    response = Response(
        200, headers={"Content-Type": "application/json; charset=latin-1"}, content=b'{"a": "\xe9"}'
    )
    assert response.encoding == "latin-1"
    assert response.charset_encoding == "latin-1"
    assert response.json() == {"a": "é"}
    assert await response.aread() == response.content
    assert [c async for c in response.aiter_bytes(4)] == [b'{"a"', b': "\xe9', b'"}']
    assert [c async for c in Response(200, content=b"").aiter_bytes()] == []
    assert Response(200, content=b"x").charset_encoding is None


async def test_streamed_body_states() -> None:
    stream = Chunks(b"ab", b"cde")
    response = Response(200, stream=stream)
    assert isinstance(stream, AsyncByteStream)
    with pytest.raises(ResponseNotRead):
        response.content  # noqa: B018
    assert [c async for c in response.aiter_raw(2)] == [b"ab", b"cd", b"e"]
    assert stream.closed and response.is_closed and response.is_stream_consumed
    with pytest.raises(StreamConsumed):
        await response.aread()
    closed = Response(200, stream=Chunks(b"x"))
    async with closed:
        pass
    with pytest.raises(StreamClosed):
        await closed.aread()


async def test_decoding_text_and_lines() -> None:
    body = gzip.compress("héllo\nwörld\r\nlast".encode())
    response = Response(
        200,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
        stream=Chunks(body[:10], body[10:]),
    )
    assert [line async for line in response.aiter_lines()] == ["héllo", "wörld", "last"]
    text = Response(200, stream=Chunks("é".encode()[:1], "é".encode()[1:]))
    assert [t async for t in text.aiter_text()] == ["é"]
    plain = Response(200, stream=Chunks(b"abc"))
    assert [c async for c in plain.aiter_bytes(2)] == [b"ab", b"c"]
    assert Response(200, content=b"\xff").text == "\ufffd"
    split = Response(200, stream=Chunks(b"\xe9"), headers={"Content-Type": "text/plain"})
    assert [t async for t in split.aiter_text()] == ["\ufffd"]


def test_elapsed() -> None:
    import datetime

    response = Response(200)
    assert response.elapsed == datetime.timedelta(0)
    response.elapsed = datetime.timedelta(seconds=1.5)
    assert response.elapsed.total_seconds() == 1.5


def test_request_basics() -> None:
    request = AsyncRequest(b"get", "http://h/p", params={"a": "1"}, json=[1])  # type: ignore[arg-type]
    assert request.method == "GET"
    assert str(request.url) == "http://h/p?a=1"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b"[1]"
    assert repr(request) == "<AsyncRequest [GET http://h/p?a=1]>"
    custom = AsyncRequest("POST", "http://h/", json={}, headers={"Content-Type": "x/y"})
    assert custom.headers["content-type"] == "x/y"


async def test_request_streams() -> None:
    async def gen() -> AsyncGenerator[bytes, None]:
        yield b"a"
        yield b"b"

    request = AsyncRequest("POST", "http://h/", content=gen())
    with pytest.raises(RequestNotRead):
        request.content  # noqa: B018
    assert await request.aread() == b"ab"
    assert request.stream.replayable and request.content == b"ab"
    assert await request.aread() == b"ab"


async def collect(content: RequestContent) -> bytes:
    return b"".join([chunk async for chunk in content])


async def test_encode_request_body_kinds() -> None:
    assert (await collect(encode_request_body())) == b""
    body = encode_request_body(content="é")
    assert (body.length, await collect(body)) == (2, "é".encode())
    body = encode_request_body(content=bytearray(b"xy"))
    assert body.body == b"xy"
    body = encode_request_body(data={"a": "1 2"})
    assert body.content_type == "application/x-www-form-urlencoded"
    assert await collect(body) == b"a=1+2"
    body = encode_request_body(data=b"raw")
    assert body.body == b"raw"
    body = encode_request_body(content=[b"a", "b", memoryview(b"c")])
    assert body.replayable and body.length is None
    assert await collect(body) == b"abc" == await collect(body)
    body = encode_request_body(data={"f": "v"}, files={"up": ("n.txt", b"data", "text/plain")})
    assert body.content_type is not None and body.content_type.startswith("multipart/form-data")
    assert body.length == len(await collect(body))
    with pytest.raises(TypeError, match="only one"):
        encode_request_body(content=b"x", json={})
    with pytest.raises(TypeError, match="data="):
        encode_request_body(content={"a": 1})
    with pytest.raises(TypeError, match="unsupported"):
        encode_request_body(content=3.5)
    bad = encode_request_body(content=iter([1]))
    with pytest.raises(TypeError, match="int"):
        await collect(bad)


async def test_file_bodies() -> None:
    file = io.BytesIO(b"0123456789")
    file.seek(2)
    body = encode_request_body(content=file)
    assert body.length == 8 and body.replayable
    assert await collect(body) == b"23456789"
    assert await collect(body) == b"23456789"  # rewound to where it started

    class Unseekable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            return 0

    body = encode_request_body(content=Unseekable())
    assert body.length is None and not body.replayable
    assert await collect(body) == b""
    with pytest.raises(StreamConsumed):
        await collect(body)

    text_file = io.StringIO("text")
    body = encode_request_body(content=text_file)
    assert await collect(body) == b"text"
