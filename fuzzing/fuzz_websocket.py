#!/usr/bin/env python3
"""Fuzz target: the WebSocket frame parser (``reqivo_protocol.websocket.WebSocketConnection``).

The payload is what a server sends after the handshake, fed whole and then split at
fuzzer-chosen points. Invariants:

* ``receive_data`` never raises: every failure is a final ``ConnectionFailed`` event;
* nothing follows a ``CloseReceived`` or ``ConnectionFailed`` event;
* both feeds give the same events, the same queued frames (``data_to_send``, masked
  with a fixed key), the same state, close code, reason and failure class.

Flags: bits 0-1 permessage-deflate (off, defaults, server no-context-takeover with a
9-bit window, 8-bit window), bits 2-3 ``max_message_size`` (1 MiB, 64 B, none, 0),
bit 4 ``max_frame_size=128``, bit 5 end of file after the payload, bit 6
``defer_close``.
"""

from __future__ import annotations

from collections.abc import Sequence

from common import Input, Mismatch, check_same, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol.websocket import (
        CloseReceived,
        ConnectionFailed,
        DeflateParams,
        WebSocketConnection,
    )

DEFLATE = [
    None,
    DeflateParams(),
    DeflateParams(server_no_context_takeover=True, server_max_window_bits=9),
    DeflateParams(server_max_window_bits=8, client_max_window_bits=8),
]
MAX_MESSAGE: list[int | None] = [2**20, 64, None, 0]
KEY = b"\x0f\x1e\x2d\x3c"

Outcome = tuple[object, ...]


def _key() -> bytes:
    return KEY


def _normalize(event: object) -> object:
    if isinstance(event, ConnectionFailed):
        error = event.error
        return ("ConnectionFailed", event.code, event.reason, type(error).__name__)
    return event


def run(item: Input, chunks: Sequence[bytes]) -> Outcome:
    """Feed ``chunks`` with the choices ``item.flags`` makes; return what happened."""
    flags = item.flags
    conn = WebSocketConnection(
        deflate=DEFLATE[flags & 3],
        max_message_size=MAX_MESSAGE[(flags >> 2) & 3],
        max_frame_size=128 if flags & 16 else None,
        mask_key_source=_key,
        defer_close=bool(flags & 64),
    )
    events: list[object] = []
    sent = bytearray()
    for chunk in [*chunks, b""] if flags & 32 else chunks:
        conn.receive_data(chunk)
        events.extend(_normalize(e) for e in conn.events())
        sent += conn.data_to_send()
    for index, event in enumerate(events):
        if isinstance(event, CloseReceived | tuple) and index != len(events) - 1:
            raise Mismatch(f"events after the final one: {events!r}")
    if conn.close_pending:
        sent += conn.take_close_reply()
    failure = conn.failure
    return (
        events,
        bytes(sent),
        conn.state.name,
        conn.close_code,
        conn.close_reason,
        None if failure is None else (type(failure).__name__, failure.close_code),
    )


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = run(item, [item.payload] if item.payload else [])
    split = run(item, pieces(item))
    check_same(whole, split, item)


if __name__ == "__main__":
    main(test_one_input)
