#!/usr/bin/env python3
"""Fuzz target: the HTTP/2 frame layer (``reqivo_protocol.http2.FrameBuffer``).

The payload is what a server sends after the preface; it is fed whole, then split at
the fuzzer's points (or a byte at a time), pulling frames after each piece.
Invariants:

* only ``HTTP2ProtocolError`` escapes ``next_frame``; after a connection error
  (``stream_id == 0``) nothing more is read, after a stream error reading goes on;
* both feeds give the same frames and the same errors (class, code, stream, message);
* every frame serializes, and its bytes parse back to an equal frame.

Flags: bits 0-1 ``max_frame_size`` (16384, 16777215, 100, 65535).
"""

from __future__ import annotations

from common import Input, Mismatch, check_same, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol.http2 import FrameBuffer, FrameTooLarge, HTTP2ProtocolError

FRAME_SIZES = [16384, 16777215, 100, 65535]

Outcome = list[object]


def _run(item: Input, chunks: list[bytes]) -> Outcome:
    buffer = FrameBuffer(FRAME_SIZES[item.flags & 3])
    outcome: Outcome = []
    for chunk in chunks:
        buffer.feed(chunk)
        while True:
            try:
                frame = buffer.next_frame()
            except HTTP2ProtocolError as exc:
                outcome.append((type(exc).__name__, exc.error_code, exc.stream_id, str(exc)))
                if exc.stream_id == 0 or isinstance(exc, FrameTooLarge):
                    return outcome
                continue
            if frame is None:
                break
            outcome.append(frame)
    return outcome


def _reparse(frame: object) -> None:
    wire = frame.serialize()  # type: ignore[attr-defined]
    buffer = FrameBuffer(1 << 24)
    buffer.feed(wire)
    again = buffer.next_frame()
    if again != frame or buffer.buffered:
        raise Mismatch(f"{frame!r} serialized as {wire!r} parses as {again!r}")


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = _run(item, [item.payload] if item.payload else [])
    split = _run(item, pieces(item))
    check_same(whole, split, item)
    for frame in whole:
        if not isinstance(frame, tuple):
            _reparse(frame)


if __name__ == "__main__":
    main(test_one_input)
