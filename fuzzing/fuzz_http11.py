#!/usr/bin/env python3
"""Fuzz target: the HTTP/1.1 response parser (``reqivo_protocol.http11.ClientConnection``).

After a request is sent, the payload is fed as the server's bytes, whole and then split
at fuzzer-chosen points, pulling events the way a client does (new bytes only when the
machine answers ``NEED_DATA``). Invariants:

* only ``RemoteProtocolError`` (and its ``LimitExceeded`` subclasses) escapes
  ``next_event``;
* both feeds give the same events (consecutive ``Data`` joined), the same error class,
  the same final state and ``reusable``, and the same ``trailing_data`` after a switch;
* the compiled head parser (ADR-016), when built, returns None or exactly what the
  Python reference returns for the head the payload starts with.

Flags: bits 0-1 the request (GET, HEAD, CONNECT, GET with ``Upgrade``), bit 2 end of
file after the payload, bit 3 small limits (head 256 bytes, 8 fields, 16-byte chunk-size
lines).
"""

from __future__ import annotations

from collections.abc import Sequence

from common import Input, check_same, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol import LimitExceeded, RemoteProtocolError
    from reqivo_protocol.http11 import (
        NEED_DATA,
        ClientConnection,
        ClientState,
        Data,
        EndOfMessage,
        InformationalResponse,
        PeerClosed,
        Request,
        Response,
        _head,
    )
    from reqivo_protocol.http11._limits import MAX_HEADER_COUNT

REQUESTS = [
    Request("GET", "/", [("Host", "example.com")]),
    Request("HEAD", "/", [("Host", "example.com")]),
    Request("CONNECT", "example.com:443", [("Host", "example.com:443")]),
    Request(
        "GET",
        "/chat",
        [("Host", "example.com"), ("Connection", "Upgrade"), ("Upgrade", "websocket")],
    ),
]
SMALL_LIMITS = {"max_header_size": 256, "max_header_count": 8, "max_line_size": 16}

Outcome = list[tuple[object, ...]]


def _normalize(event: object) -> tuple[object, ...]:
    if isinstance(event, Response | InformationalResponse):
        return (
            type(event).__name__,
            event.status_code,
            event.reason,
            event.http_version,
            event.headers.multi_items(),
        )
    if isinstance(event, Data):
        return ("Data", bytes(event.data))
    if isinstance(event, EndOfMessage):
        return ("EndOfMessage", event.trailers.multi_items())
    if isinstance(event, PeerClosed):
        return ("PeerClosed",)
    raise AssertionError(f"unexpected event {event!r}")


def drive(
    chunks: Sequence[bytes],
    *,
    request: Request = REQUESTS[0],
    eof: bool = False,
    small_limits: bool = False,
    prefix: bytes = b"",
) -> Outcome:
    """Send ``request``, feed ``prefix`` and ``chunks`` on demand; return what happened."""
    conn = ClientConnection(**SMALL_LIMITS) if small_limits else ClientConnection()
    conn.send(request)
    conn.send(EndOfMessage())
    feed = iter([prefix, *chunks] if prefix else chunks)
    outcome: Outcome = []
    eof_sent = False
    closed = 0
    while True:
        if conn.their_state is ClientState.SWITCHED_PROTOCOL:
            for rest in feed:
                conn.receive_data(rest)
            outcome.append(("trailing_data", conn.trailing_data))
            break
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            outcome.append(("error", type(exc).__name__))
            break
        if event is NEED_DATA:
            piece = next(feed, None)
            if piece is not None:
                conn.receive_data(piece)
            elif eof and not eof_sent:
                conn.receive_data(b"")
                eof_sent = True
            else:
                break
            continue
        normal = _normalize(event)
        if outcome and normal[0] == "Data" and outcome[-1][0] == "Data":
            outcome[-1] = ("Data", outcome[-1][1] + normal[1])  # type: ignore[operator]
        else:
            outcome.append(normal)
        if isinstance(event, PeerClosed):
            closed += 1
            if closed == 2:  # asking again after PeerClosed must keep answering it
                break
    outcome.append(("state", conn.their_state.name, conn.our_state.name, conn.reusable))
    return outcome


def run(item: Input, chunks: Sequence[bytes]) -> Outcome:
    """``drive`` with the choices ``item.flags`` makes."""
    return drive(
        chunks,
        request=REQUESTS[item.flags & 3],
        eof=bool(item.flags & 4),
        small_limits=bool(item.flags & 8),
    )


def check_head_parsers(payload: bytes, max_header_count: int) -> None:
    """The compiled head parser agrees with the reference on the payload's first head."""
    if not _head.ACCELERATED:
        return
    end = _head.find_blank_line(payload, 1, len(payload))
    if end < 0:
        return
    block = payload[:end]
    fast = _head.parse_status_head_strict(block, max_header_count)
    if fast is None:
        return
    try:
        reference: object = _head.parse_status_head_python(block, max_header_count)
    except (RemoteProtocolError, LimitExceeded) as exc:
        reference = exc
    assert fast == reference, f"compiled {fast!r} != reference {reference!r} for {block!r}"


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = run(item, [item.payload] if item.payload else [])
    split = run(item, pieces(item))
    check_same(whole, split, item)
    check_head_parsers(
        item.payload, SMALL_LIMITS["max_header_count"] if item.flags & 8 else MAX_HEADER_COUNT
    )


if __name__ == "__main__":
    main(test_one_input)
