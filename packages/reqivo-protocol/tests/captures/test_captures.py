"""Real HTTP/1.1 responses, captured from nginx, uvicorn (h11, httptools) and hypercorn.

Each ``<server>-<scenario>.bin`` holds the exact bytes a server sent; the ``.json`` next
to it holds the requests that produced them and the parse results that h11 found (see
``scripts/capture_responses.py``, which regenerates both, by hand). Here reqivo's client
machine parses every capture fed whole, in random pieces, cut inside every CRLF, and one
byte at a time, and must agree with the fixture on every response: status, reason,
version, every header field in order, interim responses, body bytes (chunk framing
removed, content coding kept), trailers, and whether the connection can be reused.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    Data,
    EndOfMessage,
    InformationalResponse,
    PeerClosed,
    Request,
    Response,
)

CAPTURES = Path(__file__).resolve().parent
FIXTURES = sorted(CAPTURES.glob("*.json"))
SPLITS = ["whole", "random-1", "random-2", "random-3", "crlf", "bytewise"]

#: Above this size, ``bytewise`` feeds single bytes only near both ends (the 1 MiB file).
BYTEWISE_LIMIT = 64 * 1024


def _pieces(data: bytes, split: str, name: str) -> list[bytes]:
    """Cut ``data`` into the pieces fed to ``receive_data``, one way per ``split``."""
    size = len(data)
    if split == "whole" or size < 2:
        return [data]
    if split == "bytewise":
        if size <= BYTEWISE_LIMIT:
            return [data[i : i + 1] for i in range(size)]
        edge = BYTEWISE_LIMIT // 4
        head = [data[i : i + 1] for i in range(edge)]
        middle = [data[i : i + 4096] for i in range(edge, size - edge, 4096)]
        tail_start = edge + len(middle) * 4096 if middle else edge
        return head + middle + [data[i : i + 1] for i in range(tail_start, size)]
    if split == "crlf":  # cut between every CR and LF, and right after each LF
        cuts: set[int] = set()
        start = data.find(b"\r\n")
        while start != -1:
            cuts.update((start + 1, start + 2))
            start = data.find(b"\r\n", start + 2)
    else:
        rng = random.Random(f"{name}/{split}")
        cuts = set(rng.sample(range(1, size), rng.randint(1, min(size - 1, 300))))
    bounds = [0, *sorted(c for c in cuts if 0 < c < size), size]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass
class Parsed:
    """What reqivo made of one request/response cycle."""

    informational: list[InformationalResponse]
    response: Response
    body: bytes
    trailers: list[tuple[str, str]]
    reusable: bool


class Driver:
    """Drives a ``ClientConnection`` over a capture like a sequential client would.

    The bytes of response ``i`` are fed, piece by piece, only while response ``i`` is
    being read (after its request was sent), and only when the machine asks for more;
    end of file is fed once everything is consumed.
    """

    def __init__(self, segments: list[list[bytes]]) -> None:
        self.conn = ClientConnection()
        self.segments = [iter(pieces) for pieces in segments]
        self.current = 0
        self.eof_sent = False

    def next_event(self) -> object:
        while True:
            event = self.conn.next_event()
            if event is not NEED_DATA:
                return event
            piece = next(self.segments[self.current], None)
            if piece is not None:
                self.conn.receive_data(piece)
            elif self.current + 1 < len(self.segments):
                raise AssertionError(f"the parser wants more than response {self.current}'s bytes")
            else:
                assert not self.eof_sent, "the parser still needs data after end of file"
                self.eof_sent = True
                self.conn.receive_data(b"")

    def advance(self) -> None:
        """Move to the next response's bytes (a new request was sent)."""
        assert next(self.segments[self.current], None) is None, "response bytes left unread"
        self.current += 1

    def send(self, request: dict[str, Any]) -> None:
        headers = [(name, value) for name, value in request["headers"]]
        self.conn.send(Request(method=request["method"], target=request["target"], headers=headers))
        if request["body"]:
            self.conn.send(Data(request["body"].encode("latin-1")))
        self.conn.send(EndOfMessage())

    def cycle(self) -> Parsed:
        informational = []
        event = self.next_event()
        while isinstance(event, InformationalResponse):
            informational.append(event)
            event = self.next_event()
        assert isinstance(event, Response), f"expected a Response, got {event!r}"
        response = event
        body = bytearray()
        event = self.next_event()
        while isinstance(event, Data):
            body += event.data
            event = self.next_event()
        assert isinstance(event, EndOfMessage), f"expected EndOfMessage, got {event!r}"
        return Parsed(
            informational, response, bytes(body), event.trailers.multi_items(), self.conn.reusable
        )


def _pairs(fields: list[list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in fields]


def _check_head(got: Response | InformationalResponse, want: dict[str, Any], where: str) -> None:
    assert got.status_code == want["status_code"], where
    assert got.reason == want["reason"], where
    assert got.http_version == want["http_version"], where
    assert got.headers.multi_items() == _pairs(want["headers"]), where
    for name in {name.lower() for name, _ in want["headers"]}:
        values = [v for n, v in want["headers"] if n.lower() == name]
        assert got.headers.get_list(name.upper()) == values, f"{where}: {name}"


def _load(path: Path) -> tuple[dict[str, Any], bytes]:
    meta: dict[str, Any] = json.loads(path.read_text())
    return meta, path.with_suffix(".bin").read_bytes()


def _segments(meta: dict[str, Any], data: bytes, split: str, name: str) -> list[list[bytes]]:
    """The capture cut at each response's end, then each part cut per ``split``.

    The last part runs to the end of the capture: bytes after the last response (none
    are expected) must not be mistaken for part of it.
    """
    ends = [response["wire_end"] for response in meta["responses"]]
    bounds = [0, *ends[:-1], len(data)]
    return [
        _pieces(data[a:b], split, f"{name}/{i}")
        for i, (a, b) in enumerate(itertools.pairwise(bounds))
    ]


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_capture(fixture: Path, split: str) -> None:
    meta, data = _load(fixture)
    assert meta["responses"][-1]["wire_end"] == len(data), "bytes after the last response"
    driver = Driver(_segments(meta, data, split, fixture.stem))
    for index, want in enumerate(meta["responses"]):
        where = f"{fixture.stem} response {index}"
        if index:
            driver.conn.start_next_cycle()
            driver.advance()
        driver.send(meta["requests"][index])
        got = driver.cycle()
        assert len(got.informational) == len(want["informational"]), where
        for info, want_info in zip(got.informational, want["informational"], strict=True):
            _check_head(info, want_info, f"{where} (interim)")
        _check_head(got.response, want, where)
        assert len(got.body) == want["body_length"], where
        assert hashlib.sha256(got.body).hexdigest() == want["body_sha256"], where
        assert got.trailers == _pairs(want["trailers"]), where
        assert got.reusable is want["reusable"], where
    # Whether the server closed (the capture ends there) or the connection sat idle (we
    # end the stream ourselves), the machine must report the close and nothing else.
    assert isinstance(driver.next_event(), PeerClosed)
    assert driver.eof_sent


MULTI = [p for p in FIXTURES if len(json.loads(p.read_text())["responses"]) > 1]


@pytest.mark.parametrize("fixture", MULTI, ids=[p.stem for p in MULTI])
def test_first_response_with_more_bytes_behind_it(fixture: Path) -> None:
    """Fed a whole multi-response capture at once, the first response still parses.

    Whether the connection stays reusable when the next response's bytes are already
    buffered (pipelining) is the machine's policy and is not asserted here.
    """
    meta, data = _load(fixture)
    driver = Driver([[data]])
    driver.send(meta["requests"][0])
    got = driver.cycle()
    want = meta["responses"][0]
    _check_head(got.response, want, fixture.stem)
    assert hashlib.sha256(got.body).hexdigest() == want["body_sha256"]


def test_fixtures_are_complete_and_small() -> None:
    assert len(FIXTURES) >= 20
    bins = sorted(CAPTURES.glob("*.bin"))
    assert [p.with_suffix(".json") for p in bins] == FIXTURES
    assert sum(p.stat().st_size for p in CAPTURES.iterdir()) < 3 * 1024 * 1024
    servers = {json.loads(p.read_text())["server"] for p in FIXTURES}
    assert servers >= {"nginx", "uvicorn-h11", "uvicorn-httptools", "hypercorn"}


@pytest.mark.parametrize("split", ["random-1", "crlf", "bytewise"])
def test_pieces_rebuild_the_capture(split: str) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" * 3
    pieces = _pieces(data, split, "self-test")
    assert b"".join(pieces) == data
    assert len(pieces) > 1
    big = bytes(range(256)) * 1024
    assert b"".join(_pieces(big, "bytewise", "big")) == big
