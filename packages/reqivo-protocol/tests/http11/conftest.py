"""Shared helpers of the HTTP/1.1 tests, exposed as the ``wire`` fixture."""

from __future__ import annotations

import types

import pytest

from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    Data,
    EndOfMessage,
    Event,
    PeerClosed,
    Request,
)


def sent(method: str = "GET", target: str = "/", **kwargs: object) -> ClientConnection:
    """A connection that has sent a complete request without body."""
    conn = ClientConnection(**kwargs)  # type: ignore[arg-type]
    conn.send(Request(method=method, target=target, headers=[("Host", "example.com")]))
    conn.send(EndOfMessage())
    return conn


def drain(conn: ClientConnection) -> list[Event]:
    """Every event available now (stops at NEED_DATA or PeerClosed)."""
    out: list[Event] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
        if isinstance(event, PeerClosed):
            return out


def feed(conn: ClientConnection, data: bytes, *, step: int = 0, eof: bool = False) -> list[Event]:
    """Feed ``data`` whole (step=0) or ``step`` bytes at a time, collecting events."""
    out: list[Event] = []
    pieces = [data] if not step else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        conn.receive_data(piece)
        out += drain(conn)
    if eof:
        conn.receive_data(b"")
        out += drain(conn)
    return out


def merge_data(events: list[Event]) -> list[object]:
    """Events with consecutive Data merged into one (Data may be split differently)."""
    out: list[object] = []
    for event in events:
        if isinstance(event, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + event.data)
            continue
        out.append(event)
    return out


def body(events: list[Event]) -> bytes:
    """The concatenated body bytes of ``events``."""
    return b"".join(event.data for event in events if isinstance(event, Data))


@pytest.fixture
def wire() -> types.SimpleNamespace:
    """The helpers above, for test modules (importlib mode has no sibling imports)."""
    return types.SimpleNamespace(
        sent=sent, drain=drain, feed=feed, merge_data=merge_data, body=body
    )
