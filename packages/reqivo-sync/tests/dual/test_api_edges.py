"""The API edges of requests and httpx users, over the network, in both APIs.

``response.ok``, ``reason_phrase``, ``num_bytes_downloaded``, ``links``; tuple
timeouts; ``retries=`` per request (``request``, the methods, ``stream``, ``send``).
The pure parts are unit-tested in reqivo-async's ``tests/test_api_edges.py``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import quote

import pytest

from reqivo_sync import ReadTimeout, Retry, Timeout
from servers.app import pattern
from servers.models import Server
from servers.raw import ReadRequest, Repeat, Send, http_response

_keys = itertools.count()


def test_ok_and_reason_phrase(client: Any, http_server: Server) -> None:
    ok = client.get(http_server.join("/status/200"))
    assert ok.ok and ok.reason_phrase == ok.reason == "OK"
    missing = client.get(http_server.join("/status/404"))
    assert not missing.ok
    assert missing.reason_phrase == missing.reason == "Not Found"
    assert not client.get(http_server.join("/status/503")).ok


def test_num_bytes_downloaded_of_a_read_body(client: Any, http_server: Server) -> None:
    response = client.get(http_server.join("/bytes/100000"))
    assert response.content == pattern(100_000)
    assert response.num_bytes_downloaded == 100_000
    head = client.head(http_server.join("/bytes/100000"))
    assert head.num_bytes_downloaded == 0


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_num_bytes_downloaded_counts_compressed_bytes(
    client: Any, http_server: Server, chunked: str
) -> None:
    with client.stream("GET", http_server.join(f"/gzip?chunked={chunked}")) as response:
        raw = b"".join(client.iter_raw(response))
        assert response.num_bytes_downloaded == len(raw)
    assert response.headers["content-encoding"] == "gzip"
    full = client.get(http_server.join(f"/gzip?chunked={chunked}"))
    assert full.num_bytes_downloaded < len(full.content)
    assert abs(full.num_bytes_downloaded - len(raw)) < 8  # gzip's header holds a timestamp


def test_num_bytes_downloaded_grows_while_streaming(client: Any, http_server: Server) -> None:
    # /stream is chunked over HTTP/1.1: the chunk-size lines are framing, not counted.
    url = http_server.join("/stream/200000?chunk=20000")
    with client.stream("GET", url) as response:
        assert response.num_bytes_downloaded == 0
        counts = []
        total = 0
        for chunk in client.iter_bytes(response):
            total += len(chunk)
            counts.append(response.num_bytes_downloaded)
            assert response.num_bytes_downloaded == total
    assert counts == sorted(counts) and len(counts) > 1
    assert response.num_bytes_downloaded == 200_000


@pytest.mark.http1_only(reason="a scripted HTTP/1.1 peer sends the Link fields verbatim")
def test_links(client: Any, raw_server: Any) -> None:
    reply = http_response(
        headers=[
            ("Link", '<https://api.test/items?page=3>; rel="next", </items?page=1>; rel=first'),
            ("Link", '</items?page=9>; rel="last"; title="the, last"'),
        ]
    )
    server = raw_server([Repeat((ReadRequest(), Send(reply)))])
    links = client.get(server.url + "/items?page=2").links
    assert links == {
        "next": {"url": "https://api.test/items?page=3", "rel": "next"},
        "first": {"url": "/items?page=1", "rel": "first"},
        "last": {"url": "/items?page=9", "rel": "last", "title": "the, last"},
    }
    assert client.get(server.url + "/items").links["next"]["url"].endswith("page=3")


# -- tuple timeouts -----------------------------------------------------------------------


def test_tuple_timeout_per_request(client: Any, http_server: Server) -> None:
    with pytest.raises(ReadTimeout):
        client.get(http_server.join("/delay/2"), timeout=(5.0, 0.2))
    response = client.get(http_server.join("/health"), timeout=(3.05, 27))
    assert response.text == "ok"
    assert response.request.extensions["timeout"] == Timeout(connect=3.05, read=27, write=27)


def test_tuple_timeout_of_the_session(make_client: Any, http_server: Server) -> None:
    client = make_client(timeout=(5.0, 0.2))
    assert client.timeout == Timeout((5.0, 0.2))
    with pytest.raises(ReadTimeout):
        client.get(http_server.join("/delay/2"))
    with pytest.raises(ValueError, match=r"\(connect, read\[, write\[, pool\]\]\)"):
        client.get(http_server.join("/health"), timeout=(1.0,))


# -- retries= per request -----------------------------------------------------------------


def _flaky(server: Server, mode: str, failures: int = 2) -> str:
    """A URL answering 503 (Retry-After: 0) ``failures`` times, then 200."""
    key = f"edges-{mode}-{next(_keys)}-{id(server)}"
    return server.join(f"/retry-after?key={key}&failures={failures}&seconds=0")


def test_retries_per_request(make_client: Any, http_server: Server, mode: str) -> None:
    retry = Retry(total=3, backoff_factor=0)
    client = make_client()
    assert client.get(_flaky(http_server, mode)).status_code == 503
    assert client.get(_flaky(http_server, mode), retries=retry).json() == {"attempts": 3}
    assert client.get(_flaky(http_server, mode, 1), retries=1).json() == {"attempts": 2}
    assert client.request("GET", _flaky(http_server, mode), retries=retry).status_code == 200
    request = client.build_request("GET", _flaky(http_server, mode))
    assert client.send(request, retries=retry).status_code == 200
    with client.stream("GET", _flaky(http_server, mode), retries=retry) as response:
        assert response.status_code == 200
        assert json.loads(b"".join(client.iter_bytes(response))) == {"attempts": 3}


def test_retries_per_request_override_the_session(
    make_client: Any, http_server: Server, mode: str
) -> None:
    client = make_client(retries=Retry(total=3, backoff_factor=0))
    assert client.get(_flaky(http_server, mode)).status_code == 200
    assert client.get(_flaky(http_server, mode), retries=None).status_code == 503
    assert client.get(_flaky(http_server, mode), retries=0).status_code == 503
    assert client.get(_flaky(http_server, mode, 3), retries=1).status_code == 503
    with client.stream("GET", _flaky(http_server, mode), retries=None) as response:
        assert response.status_code == 503
    # the session's policy is untouched
    assert client.retries == Retry(total=3, backoff_factor=0)
    assert client.get(_flaky(http_server, mode)).status_code == 200


def test_retries_per_request_hold_across_redirects(
    make_client: Any, http_server: Server, mode: str
) -> None:
    client = make_client()
    target = _flaky(http_server, mode)
    path = target[target.index("/retry-after") :]
    redirect = http_server.join("/redirect-to?url=" + quote(path, safe="/"))
    response = client.get(redirect, retries=Retry(total=3, backoff_factor=0))
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [302]
