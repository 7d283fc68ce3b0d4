"""The small API edges users of requests and httpx reach for: unit tests of the pure parts.

``Response.ok``, ``reason_phrase``, ``num_bytes_downloaded``, ``links`` and the
``Response(json=..., text=...)`` constructor; ``parse_link_header``; tuple timeouts;
``retries=`` normalization. The behaviour over the network, in both APIs, is in
reqivo-sync's ``tests/dual/test_api_edges.py``.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import AsyncIterator

import pytest

from reqivo_async import AsyncRequest, AsyncSession, MockTransport, Response, Retry, Timeout
from reqivo_async._links import links_by_key, parse_link_header
from reqivo_protocol import Headers, HTTPStatusError


class Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        return None


# -- ok and reason_phrase -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ok"), [(100, True), (200, True), (304, True), (399, True), (400, False)]
)
def test_ok_is_true_below_400(status: int, ok: bool) -> None:
    assert Response(status).ok is ok


@pytest.mark.parametrize("status", [400, 404, 499, 500, 503, 599])
def test_ok_is_false_exactly_when_raise_for_status_raises(status: int) -> None:
    response = Response(status, request=AsyncRequest("GET", "http://h/"))
    assert not response.ok
    with pytest.raises(HTTPStatusError):
        response.raise_for_status()


def test_ok_for_statuses_beyond_599_follows_raise_for_status() -> None:
    # requests' ok is "raise_for_status() does not raise", which ignores 6xx..9xx too.
    response = Response(600)
    assert response.ok
    assert response.raise_for_status() is response


def test_reason_phrase_is_reason() -> None:
    assert Response(404).reason_phrase == "Not Found"
    assert Response(200, reason="Fine").reason_phrase == "Fine"
    assert Response(299).reason_phrase == ""


# -- the in-memory constructor -------------------------------------------------------------


def test_response_json() -> None:
    response = Response(201, json={"a": [1, "é"], "b": None})
    assert response.content == '{"a":[1,"é"],"b":null}'.encode()
    assert response.json() == {"a": [1, "é"], "b": None}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.is_stream_consumed and response.is_closed


def test_response_text_and_html() -> None:
    text = Response(200, text="grüße")
    assert text.content == "grüße".encode()
    assert text.text == "grüße"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-length"] == "7"
    html = Response(200, html="<p>é</p>")
    assert html.text == "<p>é</p>"
    assert html.headers["content-type"] == "text/html; charset=utf-8"


def test_given_headers_win_and_are_not_changed() -> None:
    headers = Headers({"Content-Type": "application/problem+json"})
    response = Response(400, json={"title": "bad"}, headers=headers)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-length"] == "15"
    assert "content-length" not in headers  # the caller's object is left as it was
    plain = {"X-A": "1"}
    assert Response(200, text="x", headers=plain).headers["x-a"] == "1"
    assert plain == {"X-A": "1"}


def test_json_false_values_are_bodies() -> None:
    assert Response(200, json=[]).content == b"[]"
    assert Response(200, json=0).content == b"0"
    assert Response(200, text="").content == b""
    assert Response(200, text="").headers["content-length"] == "0"


def test_only_one_body_argument() -> None:
    with pytest.raises(TypeError, match="only one of"):
        Response(200, json={}, text="x")
    with pytest.raises(TypeError, match="only one of"):
        Response(200, content=b"x", html="y")


def test_content_alone_is_unchanged() -> None:
    response = Response(200, content=b"raw")
    assert response.content == b"raw"
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


async def test_constructed_responses_through_a_mock_transport() -> None:
    def handler(request: object) -> Response:
        return Response(418, json={"teapot": True}, headers={"Link": '</next>; rel="next"'})

    async with AsyncSession(transport=MockTransport(handler)) as session:
        response = await session.get("http://example.test/")
    assert response.status_code == 418 and not response.ok
    assert response.json() == {"teapot": True}
    assert response.links["next"]["url"] == "/next"
    assert response.num_bytes_downloaded == len(b'{"teapot":true}')


# -- num_bytes_downloaded -----------------------------------------------------------------


async def test_num_bytes_downloaded_counts_raw_bytes_as_they_stream() -> None:
    response = Response(200, stream=Chunks(b"abc", b"defg", b"h"))
    assert response.num_bytes_downloaded == 0
    seen = []
    async for chunk in response.aiter_raw(chunk_size=2):
        seen.append((chunk, response.num_bytes_downloaded))
    assert seen == [(b"ab", 3), (b"cd", 7), (b"ef", 7), (b"gh", 8)]
    assert response.num_bytes_downloaded == 8


async def test_num_bytes_downloaded_is_before_content_decoding() -> None:
    body = b"x" * 10_000
    compressed = gzip.compress(body)
    response = Response(
        200, headers={"Content-Encoding": "gzip"}, stream=Chunks(compressed[:50], compressed[50:])
    )
    assert await response.aread() == body
    assert response.num_bytes_downloaded == len(compressed) < len(body)


async def test_num_bytes_downloaded_after_aread() -> None:
    class ReadAll(Chunks):
        async def aread_all(self) -> bytes:
            return b"".join(self.chunks)

    for stream in (Chunks(b"12", b"345"), ReadAll(b"12", b"345")):
        response = Response(200, stream=stream)
        assert await response.aread() == b"12345"
        assert response.num_bytes_downloaded == 5
    assert Response(200, content=b"hello").num_bytes_downloaded == 5
    assert Response(204).num_bytes_downloaded == 0


# -- links ----------------------------------------------------------------------------------


def test_links_as_github_sends_them() -> None:
    value = (
        '<https://api.github.com/repositories/1/issues?page=2>; rel="next", '
        '<https://api.github.com/repositories/1/issues?page=5>; rel="last"'
    )
    assert Response(200, headers={"Link": value}).links == {
        "next": {"url": "https://api.github.com/repositories/1/issues?page=2", "rel": "next"},
        "last": {"url": "https://api.github.com/repositories/1/issues?page=5", "rel": "last"},
    }


def test_links_without_a_header() -> None:
    assert Response(200).links == {}
    assert Response(200, headers={"Link": ""}).links == {}


def test_links_of_several_fields_and_keys_without_rel() -> None:
    headers = [("Link", "</a>; rel=prev"), ("Link", "</b>, </c>; title=C")]
    assert Response(200, headers=headers).links == {
        "prev": {"url": "/a", "rel": "prev"},
        "/b": {"url": "/b"},
        "/c": {"url": "/c", "title": "C"},
    }


def test_parse_link_header_quoted_strings_and_odd_spacing() -> None:
    value = (
        '<http://h/x?a=1,2>;rel="next";title="one, two; three \\"q\\"" ,'
        '   </y> ;  REL = last ; anchor="#f"; hreflang=en;crossorigin'
    )
    assert parse_link_header(value) == [
        {"url": "http://h/x?a=1,2", "rel": "next", "title": 'one, two; three "q"'},
        {"url": "/y", "rel": "last", "anchor": "#f", "hreflang": "en", "crossorigin": ""},
    ]


def test_parse_link_header_first_parameter_wins() -> None:
    assert parse_link_header('</x>; rel="a"; rel="b"') == [{"url": "/x", "rel": "a"}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        (" , ,", []),
        ("garbage, </ok>; rel=ok", [{"url": "/ok", "rel": "ok"}]),
        ('junk "with, comma", </ok>', [{"url": "/ok"}]),
        ("</unterminated", [{"url": "/unterminated"}]),
        ('</x>; title="unterminated', [{"url": "/x", "title": "unterminated"}]),
        ("</x> trailing; rel=n, </y>", [{"url": "/x"}, {"url": "/y"}]),
        ("</x>; =v; rel=n", [{"url": "/x", "rel": "n"}]),
        ("</x>;", [{"url": "/x"}]),
        ("< /spaced >", [{"url": "/spaced"}]),
    ],
)
def test_parse_link_header_is_lenient(value: str, expected: list[dict[str, str]]) -> None:
    assert parse_link_header(value) == expected


def test_parse_link_header_never_raises() -> None:
    alphabet = '<>;,="\\ a'
    for size in range(1, 6):
        for chars in itertools.product(alphabet, repeat=size):
            links = parse_link_header("".join(chars))
            assert all("url" in link for link in links)


def test_links_by_key_later_wins() -> None:
    assert links_by_key(["</a>; rel=n", "</b>; rel=n"]) == {"n": {"url": "/b", "rel": "n"}}


# -- tuple timeouts -----------------------------------------------------------------------


def test_timeout_tuple_of_two_is_requests_connect_read() -> None:
    timeout = Timeout((3.05, 27))
    assert timeout.as_dict() == {
        "connect": 3.05,
        "read": 27.0,
        "write": 27.0,  # requests' read timeout is the socket's: it covers sending
        "pool": Timeout().pool,
        "total": None,
    }


def test_timeout_tuples_of_three_and_four_are_httpx_order() -> None:
    assert Timeout((1, 2, 3)).as_dict() == {
        "connect": 1.0,
        "read": 2.0,
        "write": 3.0,
        "pool": Timeout().pool,
        "total": None,
    }
    assert Timeout((1, None, 3, 4)) == Timeout(connect=1, read=None, write=3, pool=4)
    assert Timeout((1, None)).write is None


def test_timeout_tuple_with_keywords() -> None:
    assert Timeout((1, 2), total=9, pool=5) == Timeout(connect=1, read=2, write=2, pool=5, total=9)


@pytest.mark.parametrize("value", [(), (1,), (1, 2, 3, 4, 5)])
def test_timeout_tuple_of_a_wrong_size_says_what_to_write(value: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match=r"\(connect, read\[, write\[, pool\]\]\).*Timeout\("):
        Timeout(value)


def test_timeout_tuple_values_are_checked() -> None:
    with pytest.raises(ValueError, match="read=0"):
        Timeout((1, 0))
    with pytest.raises(TypeError, match=r"\(connect, read\) tuple"):
        Timeout((1, "2"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\(connect, read\) tuple"):
        Timeout([1, 2])  # type: ignore[arg-type]


async def test_a_tuple_timeout_reaches_the_transport() -> None:
    seen = []

    def handler(request: object) -> Response:
        seen.append(request.extensions["timeout"])  # type: ignore[attr-defined]
        return Response(200)

    async with AsyncSession(transport=MockTransport(handler), timeout=(1, 2)) as session:
        await session.get("http://example.test/")
        await session.get("http://example.test/", timeout=(3, 4, 5, 6))
    assert seen == [Timeout((1, 2)), Timeout(connect=3, read=4, write=5, pool=6)]
    assert session.timeout == Timeout((1, 2))


# -- retries= per request (the policy's behaviour is in test_retries.py) -------------------


async def test_per_request_retries_override_the_session() -> None:
    attempts: list[str] = []

    def handler(request: object) -> Response:
        attempts.append(str(request.url))  # type: ignore[attr-defined]
        return Response(503)

    quick = Retry(total=2, backoff_factor=0)
    async with AsyncSession(transport=MockTransport(handler)) as session:
        assert (await session.get("http://t/a", retries=quick)).status_code == 503
        assert len(attempts) == 3
        attempts.clear()
        assert (await session.get("http://t/b")).status_code == 503
        assert len(attempts) == 1
    async with AsyncSession(transport=MockTransport(handler), retries=quick) as session:
        for off in (None, 0):
            attempts.clear()
            await session.get("http://t/c", retries=off)
            assert len(attempts) == 1
        attempts.clear()
        await session.get("http://t/d")
        assert len(attempts) == 3
        with pytest.raises(TypeError, match="retries="):
            await session.get("http://t/e", retries="3")  # type: ignore[arg-type]
