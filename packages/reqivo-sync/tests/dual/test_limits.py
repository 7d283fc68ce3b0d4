"""Response limits: ``max_body_size`` (``BodyTooLarge``) and the response head's field count
(``TooManyHeaders``), in both modes."""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_sync import BodyTooLarge, LimitExceeded, TooManyHeaders
from servers.app import pattern
from servers.models import Server


def test_content_length_over_the_limit_fails_before_reading(
    make_client: Any, uvicorn_h11_server: Server
) -> None:
    client = make_client(max_body_size=1000)
    with pytest.raises(BodyTooLarge) as info:
        client.get(uvicorn_h11_server.join("/bytes/5000"))
    assert isinstance(info.value, LimitExceeded)
    assert (info.value.limit_name, info.value.limit) == ("max_body_size", 1000)
    assert "Content-Length" in str(info.value)
    assert info.value.request is not None


def test_streamed_body_over_the_limit_fails_when_it_passes(
    make_client: Any, hypercorn_server: Server
) -> None:
    client = make_client(max_body_size=10_000)
    received: list[bytes] = []

    def read_all(response: Any) -> None:
        for chunk in client.iter_bytes(response):
            received.append(chunk)

    with client.stream("GET", hypercorn_server.join("/stream/50000?chunk=4000")) as response:
        with pytest.raises(BodyTooLarge, match="exceeds") as info:
            read_all(response)
    assert "Content-Length" not in str(info.value)  # counted while streaming
    assert sum(map(len, received)) <= 10_000
    assert client.get(hypercorn_server.join("/health")).text == "ok"


def test_bodies_within_the_limit_and_the_client_stays_usable(
    make_client: Any, uvicorn_h11_server: Server
) -> None:
    client = make_client(max_body_size=5000)
    with pytest.raises(BodyTooLarge):
        client.get(uvicorn_h11_server.join("/bytes/6000"))
    assert client.get(uvicorn_h11_server.join("/bytes/5000")).content == pattern(5000)
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"


def test_too_many_header_fields(client: Any, uvicorn_h11_server: Server) -> None:
    # 128 fields at most by default (max_header_count), on HTTP/1.1 and on HTTP/2 alike.
    assert client.get(uvicorn_h11_server.join("/set-many-headers?n=120")).text == "ok"
    with pytest.raises(TooManyHeaders) as info:
        client.get(uvicorn_h11_server.join("/set-many-headers?n=200"))
    assert (info.value.limit_name, info.value.limit) == ("max_header_count", 128)
    assert info.value.request is not None
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"
