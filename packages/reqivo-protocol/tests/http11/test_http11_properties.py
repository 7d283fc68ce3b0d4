"""Property tests: split invariance, fuzzing, and interop with h11 as the server."""

from __future__ import annotations

from itertools import pairwise

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqivo_protocol import Headers, LocalProtocolError, RemoteProtocolError
from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    Data,
    EndOfMessage,
    Event,
    PeerClosed,
    Request,
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
names = st.text(TCHARS, min_size=1, max_size=12).filter(
    lambda n: n.lower() not in {"content-length", "transfer-encoding", "connection", "host"}
)
values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=20,
).map(str.strip)
fields = st.lists(st.tuples(names, values), max_size=6)


def run(conn: ClientConnection, pieces: list[bytes], eof: bool) -> list[Event]:
    out: list[Event] = []
    for piece in [*pieces, *([b""] if eof else [])]:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                break
            out.append(event)
            if isinstance(event, PeerClosed):
                return out
    return out


def normalized(events: list[Event]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, Data):
            if out and isinstance(out[-1], Data):
                out[-1] = Data(out[-1].data + event.data)
            elif event.data:
                out.append(event)
            continue
        out.append(event)
    return out


def client() -> ClientConnection:
    conn = ClientConnection()
    conn.send_request("GET", "/", [("Host", "example.com")])
    return conn


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in pairwise(edges) if b > a]


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A valid response stream (possibly with 1xx heads first); True if it ends at EOF."""
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        out += b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    head = [(n, v) for n, v in draw(fields)]
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    if framing == "length":
        head.append(("Content-Length", str(len(body))))
        payload = body
    elif framing == "chunked":
        head.append(("Transfer-Encoding", "chunked"))
        sizes = draw(st.lists(st.integers(1, 64), max_size=8))
        payload, rest = b"", body
        for size in sizes:
            piece, rest = rest[:size], rest[size:]
            if piece:
                ext = draw(st.sampled_from([b"", b";x=1", b" ; y"]))
                payload += b"%x%b\r\n%b\r\n" % (len(piece), ext, piece)
        if rest:
            payload += b"%x\r\n%b\r\n" % (len(rest), rest)
        trailers = draw(st.lists(st.tuples(names, values), max_size=2))
        payload += (
            b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in trailers) + b"\r\n"
        )
    else:
        payload = body
    lines = [b"HTTP/1.1 200 OK"] + [f"{n}: {v}".encode("latin-1") for n, v in head]
    out += eol.join(lines) + eol + eol + payload
    return out, framing == "close"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_gives_same_events(response: tuple[bytes, bool], cuts: list[int]) -> None:
    data, eof = response
    whole = normalized(run(client(), [data], eof))
    assert isinstance(whole[-1], PeerClosed if eof else EndOfMessage)
    assert normalized(run(client(), split(data, cuts), eof)) == whole


@settings(max_examples=20, deadline=None)
@given(responses())
def test_byte_at_a_time(response: tuple[bytes, bool]) -> None:
    data, eof = response
    whole = normalized(run(client(), [data], eof))
    assert normalized(run(client(), [data[i : i + 1] for i in range(len(data))], eof)) == whole


def fuzz(data: bytes, cuts: list[int], eof: bool) -> None:
    conn = client()
    try:
        run(conn, split(data, cuts), eof)
    except RemoteProtocolError:
        assert not conn.reusable
        with pytest.raises(RemoteProtocolError):
            conn.next_event()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 300), max_size=5), st.booleans())
def test_random_bytes_only_raise_remote_errors(data: bytes, cuts: list[int], eof: bool) -> None:
    fuzz(b"HTTP/1.1 " + data if data[:1] == b"x" else data, cuts, eof)


@settings(max_examples=200, deadline=None)
@given(
    responses(),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=3)), min_size=1, max_size=4),
    st.lists(st.integers(0, 10_000), max_size=5),
    st.booleans(),
)
def test_mutated_responses_only_raise_remote_errors(
    response: tuple[bytes, bool],
    mutations: list[tuple[int, bytes]],
    cuts: list[int],
    eof: bool,
) -> None:
    data = bytearray(response[0])
    for where, replacement in mutations:
        at = where % (len(data) + 1)
        data[at : at + len(replacement) % 3] = replacement
    fuzz(bytes(data), cuts, eof)


# -- interop: what we send, h11 (as a server) parses ---------------------------------------

targets = st.sampled_from(["/", "/a/b?c=d&e", "http://example.com/x", "/%20?q=%FF"])
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "X-CUSTOM"])


@settings(max_examples=100, deadline=None)
@given(
    methods,
    targets,
    fields,
    st.lists(st.binary(max_size=50), max_size=4),
    st.sampled_from(["none", "length", "chunked", "fast"]),
    st.lists(st.tuples(names, values), max_size=2),
)
def test_h11_server_parses_our_requests(
    method: str,
    target: str,
    extra: list[tuple[str, str]],
    parts: list[bytes],
    mode: str,
    trailers: list[tuple[str, str]],
) -> None:
    headers = [("Host", "example.com"), *extra]
    body = b"".join(parts)
    conn = ClientConnection()
    if mode == "fast":
        trailers = []
        wire = conn.send_request(method, target, headers, body)
    else:
        kwargs: dict[str, object] = {}
        if mode == "length":
            kwargs["body_length"] = len(body)
        elif mode == "chunked":
            kwargs["chunked"] = True
        else:
            parts, body, trailers = [], b"", []
        if mode != "chunked":
            trailers = []
        wire = conn.send(Request(method=method, target=target, headers=headers, **kwargs))  # type: ignore[arg-type]
        for part in parts:
            wire += conn.send(Data(part))
        wire += conn.send(EndOfMessage(trailers=Headers(trailers)))

    server = h11.Connection(h11.SERVER)
    server.receive_data(wire)
    request = server.next_event()
    assert isinstance(request, h11.Request)
    assert request.method == method.encode()
    assert request.target == target.encode()
    got = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw_items()]
    assert got[: len(headers)] == headers
    received = b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.Data):
            received += event.data
        else:
            break
    assert isinstance(event, h11.EndOfMessage)
    assert received == body
    got_trailers = [
        (n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers.raw_items()
    ]
    assert got_trailers == trailers
    assert server.next_event() is h11.NEED_DATA

    # and h11's answer parses back on our side (a fake-wire round trip)
    answer = server.send(h11.Response(status_code=200, headers=[("Content-Length", "2")]))
    answer += server.send(h11.Data(data=b"ok")) + server.send(h11.EndOfMessage())  # type: ignore[operator]
    events = normalized(run(conn, [answer], False))
    assert events[1:] == [Data(b"ok"), EndOfMessage()]
    assert conn.reusable


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=10), st.text(max_size=10), st.text(max_size=10))
def test_invalid_input_never_produces_bytes(method: str, target: str, value: str) -> None:
    conn = ClientConnection()
    try:
        wire = conn.send(
            Request(method=method, target=target, headers=[("Host", "h"), ("X", value)])
        )
    except LocalProtocolError:
        return
    server = h11.Connection(h11.SERVER)
    server.receive_data(wire)
    assert isinstance(server.next_event(), h11.Request)
