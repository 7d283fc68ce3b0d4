"""GOAWAY from a hostile HTTP/2 peer (RFC 9113 section 6.8) with requests in flight.

Streams above the GOAWAY's last stream id were not processed: their requests are sent
again on a new connection (``StreamRefused``, retried by the pool) and succeed; the
streams at or below it complete on the old connection. An abrupt GOAWAY (an error code)
fails the processed streams with a ``ReadError`` naming its code and debug data when the
server closes the connection (the requests may have been processed: not sent again).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dual.conftest import Client
from reqivo_protocol import ReadError
from security.conftest import HostileH2
from servers.h2raw import (
    NO_ERROR,
    PROTOCOL_ERROR,
    Close,
    GoAway,
    Handshake,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Respond,
    Sleep,
)

INTERNAL_ERROR = 0x2
GOOD = (Handshake(), Repeat((ReadRequest(), Respond(body=b"fine"))))


def concurrently(client: Client, paths: list[str]) -> list[Any]:
    """GET ``paths`` at once: threads sharing the blocking session, or ``gather`` on
    the async one (on the facade's event loop)."""
    if client.mode == "sync":
        with ThreadPoolExecutor(len(paths)) as pool:
            return list(pool.map(client.get, paths))

    async def gather() -> list[Any]:
        return list(await asyncio.gather(*(client.session.get(path) for path in paths)))

    return client._run(gather())


def _by_connection(server: Any) -> dict[int, list[tuple[int, str]]]:
    requests: dict[int, list[tuple[int, str]]] = {}
    for request in server.h2_requests:
        requests.setdefault(request.connection, []).append((request.stream_id, request.path))
    return requests


@pytest.mark.parametrize("code", [NO_ERROR, PROTOCOL_ERROR], ids=["graceful", "abrupt"])
def test_goaway_below_requests_in_flight_resends_them(hostile_h2: HostileH2, code: int) -> None:
    script = (
        Handshake(),
        ReadRequest(3),
        GoAway(last_stream_id=1, error_code=code),
        Respond(stream_id=1, body=b"processed"),
        ReadUntilEOF(),
    )
    server, client = hostile_h2(script, GOOD)
    paths = ["/a", "/b", "/c"]
    responses = concurrently(client, paths)
    assert [r.status_code for r in responses] == [200, 200, 200]
    first = _by_connection(server)[0]
    assert [sid for sid, _ in first] == [1, 3, 5]
    processed = first[0][1]
    assert [r.content for r in responses] == [
        b"processed" if path == processed else b"fine" for path in paths
    ]
    # Streams 3 and 5, unprocessed, went to one new connection, each once.
    assert sorted(path for _, path in _by_connection(server)[1]) == sorted(
        path for _, path in first[1:]
    )
    assert len(_by_connection(server)) == 2


@pytest.mark.parametrize("code", [NO_ERROR, INTERNAL_ERROR], ids=["graceful", "abrupt"])
def test_goaway_with_last_stream_id_zero_resends_everything(
    hostile_h2: HostileH2, code: int
) -> None:
    script = (Handshake(), ReadRequest(2), GoAway(last_stream_id=0, error_code=code), Close())
    server, client = hostile_h2(script, GOOD)
    responses = concurrently(client, ["/a", "/b"])
    assert [(r.status_code, r.content) for r in responses] == [(200, b"fine")] * 2
    assert sorted(path for _, path in _by_connection(server)[1]) == ["/a", "/b"]


def test_goaway_when_idle_sends_the_next_request_elsewhere(hostile_h2: HostileH2) -> None:
    script = (Handshake(), ReadRequest(), Respond(body=b"one"), GoAway(last_stream_id=1), Sleep(2))
    server, client = hostile_h2(script, GOOD)
    assert client.get("/a").content == b"one"
    assert client.get("/b").content == b"fine"  # sent before or after the GOAWAY came
    assert _by_connection(server)[1] == [(1, "/b")]


def test_abrupt_goaway_fails_the_processed_streams_with_its_code(hostile_h2: HostileH2) -> None:
    script = (
        Handshake(),
        ReadRequest(),
        GoAway(last_stream_id=1, error_code=INTERNAL_ERROR, data=b"out of memory"),
        Close(),
    )
    server, client = hostile_h2(script, GOOD)
    with pytest.raises(ReadError, match="after its GOAWAY INTERNAL_ERROR") as info:
        client.get("/a")
    assert "out of memory" in str(info.value)
    assert client.get("/b").content == b"fine"
    assert [path for _, path in _by_connection(server)[1]] == ["/b"]
