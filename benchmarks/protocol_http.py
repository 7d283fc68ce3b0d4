"""HTTP/1.1 response parsing: reqivo-protocol against h11 on the same bytes.

Both run a full client cycle on one keep-alive connection: serialize the request head,
parse the response, and reset for the next request. That is the work a client does per
request; neither side is given a shortcut the other lacks. A third scenario, labelled as
such, times Reqivo's one-call ``send_request`` path (what its async client uses).
"""

from __future__ import annotations

import h11

from benchmarks._harness import Measurement, measure
from reqivo_protocol.http11 import NEED_DATA, ClientConnection, Data, EndOfMessage, Request

TITLE = "HTTP/1.1 parsing (reqivo-protocol vs h11)"

_SMALL_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Fri, 27 Nov 2026 19:30:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Length: 1024\r\n"
    b"Last-Modified: Fri, 27 Nov 2026 19:00:00 GMT\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: "6747723c-400"\r\n'
    b"Accept-Ranges: bytes\r\n"
    b"Cache-Control: max-age=0\r\n"
    b"X-Request-Id: 5f0c6a4e-8b8e-4c55-9f5e-2f7d9c1e0a11\r\n"
    b"\r\n"
)
SMALL_RESPONSE = _SMALL_HEAD + b"x" * 1024

_CHUNK = 16 * 1024
CHUNKED_BODY_SIZE = 1024 * 1024
CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    + (b"%x\r\n" % _CHUNK + b"y" * _CHUNK + b"\r\n") * (CHUNKED_BODY_SIZE // _CHUNK)
    + b"0\r\n\r\n"
)
#: Socket reads deliver the chunked stream in pieces of this size.
READ_SIZE = 64 * 1024
CHUNKED_READS = [
    CHUNKED_RESPONSE[i : i + READ_SIZE] for i in range(0, len(CHUNKED_RESPONSE), READ_SIZE)
]


def reqivo_cycle(reads: list[bytes]) -> int:
    """One request/response cycle on a reused reqivo ClientConnection; body bytes seen."""
    conn = _reqivo_conn
    conn.send(Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(EndOfMessage())
    received = 0
    for piece in reads:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                break
            if type(event) is Data:
                received += len(event.data)
            elif type(event) is EndOfMessage:
                conn.start_next_cycle()
                return received
    raise AssertionError("response did not complete")


def reqivo_send_request_cycle(reads: list[bytes]) -> int:
    """The same cycle with ``send_request`` (one call for the whole request): the path the
    async layer takes for small bodies. h11 has no equivalent, so this is not like for
    like: it shows what Reqivo's own client pays per request."""
    conn = _reqivo_conn
    conn.send_request("GET", "/", [("Host", "example.com")])
    received = 0
    for piece in reads:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                break
            if type(event) is Data:
                received += len(event.data)
            elif type(event) is EndOfMessage:
                conn.start_next_cycle()
                return received
    raise AssertionError("response did not complete")


def h11_cycle(reads: list[bytes]) -> int:
    """The same cycle on a reused h11 client connection."""
    conn = _h11_conn
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    received = 0
    for piece in reads:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                break
            if type(event) is h11.Data:
                received += len(event.data)
            elif type(event) is h11.EndOfMessage:
                conn.start_next_cycle()
                return received
    raise AssertionError("response did not complete")


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


_reqivo_conn = ClientConnection()
_h11_conn = h11.Connection(h11.CLIENT)


def run() -> list[Measurement]:
    """Measure every scenario for both parsers."""
    small = [SMALL_RESPONSE]
    assert reqivo_cycle(small) == h11_cycle(small) == reqivo_send_request_cycle(small) == 1024
    assert reqivo_cycle(CHUNKED_READS) == h11_cycle(CHUNKED_READS) == CHUNKED_BODY_SIZE
    scenario_small = "1 KiB response, 10 headers (responses/s)"
    # Reqivo's one-call request path against h11's usual send(Request)+send(EndOfMessage).
    scenario_one_call = "same, reqivo send_request (responses/s)"
    scenario_chunked = "1 MiB chunked body, 16 KiB chunks (MB/s)"
    megabytes = CHUNKED_BODY_SIZE / 1e6
    return [
        measure(scenario_small, "reqivo", lambda: reqivo_cycle(small), unit="resp/s"),
        measure(scenario_small, f"h11 {_version('h11')}", lambda: h11_cycle(small), unit="resp/s"),
        measure(
            scenario_one_call, "reqivo", lambda: reqivo_send_request_cycle(small), unit="resp/s",
        ),
        measure(
            scenario_one_call, f"h11 {_version('h11')}", lambda: h11_cycle(small), unit="resp/s",
        ),
        measure(
            scenario_chunked, "reqivo", lambda: reqivo_cycle(CHUNKED_READS),
            unit="MB/s", work_per_call=megabytes,
        ),
        measure(
            scenario_chunked, f"h11 {_version('h11')}", lambda: h11_cycle(CHUNKED_READS),
            unit="MB/s", work_per_call=megabytes,
        ),
    ]  # fmt: skip
