#!/usr/bin/env python3
"""Fuzz target: the HTTP/2 client connection (``reqivo_protocol.http2.ClientConnection``).

The client has exchanged prefaces with a well-behaved server (SETTINGS both ways and
acknowledged) and opened some streams; the payload is whatever the server sends next.
It is fed whole, then split at the fuzzer's points (or a byte at a time). The
application acknowledges nothing while feeding (so flow control does not depend on how
the bytes were split). Invariants:

* only ``HTTP2ProtocolError`` escapes ``receive_data`` (a connection error, with
  ``stream_id == 0``); GOAWAY with its code is then the last frame queued, and every
  later call but ``data_to_send`` and ``receive_eof`` raises ``LocalProtocolError``;
* per stream, events come in order: informational heads, one final head, DATA,
  optional trailers, then ``StreamEnded``, or ``StreamReset`` at any point, and nothing
  after either; ``DataReceived`` carries no more than its ``flow_controlled_length``;
* whole and split feeds give the same events (with, after a connection error, the
  events the raising call produced: the exception's ``events``), error, bytes queued
  and open streams. How DATA frames are grouped into ``DataReceived`` events depends on
  how the bytes were split (a run of DATA frames that arrived together is one event,
  checked as one frame: ADR-010), so consecutive ``DataReceived`` of a stream are
  compared joined, and those a stream error then resets are left out (a run that
  overruns a window or the content-length is refused whole; cut, its first frames may
  be delivered before the reset).

Flood limits: ``max_control_frames`` is 12 in the third configuration (the count does
not depend on how the bytes were cut); ``max_queued_acks`` does (it counts what was
queued between two ``data_to_send``), so it keeps its default, which the fuzzer's
inputs never reach.

Flags: bits 0-1 the client's settings (defaults; tiny windows; small header list and
flood limit; large frames), bits 2-3 the streams opened (1, 2, 3, 5), bit 4 leaves them open for
sending (no END_STREAM), bit 5 opens a HEAD request first.
"""

from __future__ import annotations

from common import Input, Mismatch, check_same, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol import LocalProtocolError
    from reqivo_protocol.http2 import (
        ClientConnection,
        DataReceived,
        Event,
        FrameBuffer,
        GoAwayFrame,
        HTTP2ProtocolError,
        InformationalResponse,
        ResponseReceived,
        SettingsFrame,
        StreamEnded,
        StreamReset,
        TrailersReceived,
    )

CONFIGS: list[dict[str, int]] = [
    {},
    {"initial_window_size": 100, "connection_window_size": 65535},
    {"max_header_list_size": 200, "header_table_size": 0, "max_control_frames": 12},
    {"max_frame_size": 2**20, "initial_window_size": 2**31 - 1},
]
STREAMS = [1, 2, 3, 5]
SERVER_START = SettingsFrame().serialize() + SettingsFrame(ack=True).serialize()

Outcome = tuple[list[Event], object, bytes, int]


def _client(flags: int) -> ClientConnection:
    client = ClientConnection(**CONFIGS[flags & 3])
    client.initiate()
    client.receive_data(SERVER_START)
    end = not flags & 0x10
    for i in range(STREAMS[(flags >> 2) & 3]):
        method = b"HEAD" if i == 0 and flags & 0x20 else b"GET"
        fields = [(b":method", method), (b":scheme", b"https"), (b":authority", b"a.example"),
                  (b":path", b"/%d" % i)]  # fmt: skip
        client.send_headers(fields, end_stream=end)
    client.data_to_send()
    return client


def _run(item: Input, chunks: list[bytes]) -> Outcome:
    client = _client(item.flags)
    events: list[Event] = []
    error: object = None
    sent = b""
    for chunk in chunks:
        try:
            events += client.receive_data(chunk)
        except HTTP2ProtocolError as exc:
            events += exc.events  # type: ignore[arg-type]
            error = (type(exc).__name__, exc.error_code, exc.stream_id, str(exc))
            _check_failed(client, exc)
            sent += client.data_to_send()
            break
        sent += client.data_to_send()
    if error is None:
        events += client.receive_eof()
    return events, error, sent, client.open_streams


def _check_failed(client: ClientConnection, exc: HTTP2ProtocolError) -> None:
    if exc.stream_id != 0:
        raise Mismatch(f"a stream error escaped receive_data: {exc!r}")
    wire = client.data_to_send()
    buffer = FrameBuffer(2**24 - 1)
    buffer.feed(wire)
    frames = list(buffer)
    if not frames or frames[-1] != GoAwayFrame(0, exc.error_code, frames[-1].debug_data):  # type: ignore[union-attr]
        raise Mismatch(f"no GOAWAY({exc.error_code!r}) queued last: {frames!r}")
    client._out.append(wire)  # give it back for the outcome
    for call in (lambda: client.receive_data(b"x"), lambda: client.ping(bytes(8))):
        try:
            call()
        except LocalProtocolError:
            continue
        raise Mismatch("a failed connection accepted a call")


def _check_order(events: list[Event], sending: bool) -> None:
    """``sending``: the streams were left open for sending, so after the response's end
    a stream may still get window updates and one reset (RFC 9113 section 5.1: frames
    on a half-closed (remote) stream are a stream error STREAM_CLOSED)."""
    phase: dict[int, int] = {}  # 0 heads, 1 body, 2 trailers seen, 3 ended, 4 reset
    for event in events:
        sid = getattr(event, "stream_id", 0)
        if not sid:
            continue
        now = phase.get(sid, 0)
        kind = type(event)
        if now == 3 and sending and kind.__name__ in ("WindowUpdated", "StreamReset"):
            phase[sid] = 4 if kind is StreamReset else 3
            continue
        if now >= 3:
            raise Mismatch(f"{event!r} after the end of stream {sid}")
        if kind is InformationalResponse and now == 0:
            continue
        if kind is ResponseReceived and now == 0:
            phase[sid] = 1
        elif kind is DataReceived and now == 1:
            if len(event.data) > event.flow_controlled_length:  # type: ignore[union-attr]
                raise Mismatch(f"{event!r} longer than its flow-controlled length")
        elif kind is TrailersReceived and now == 1:
            phase[sid] = 2
        elif kind is StreamReset:
            phase[sid] = 4
        elif kind is StreamEnded and now in (1, 2):
            phase[sid] = 3
        elif kind.__name__ == "WindowUpdated":
            continue
        else:
            raise Mismatch(f"{event!r} out of order on stream {sid} (phase {now})")


def _grouped(outcome: Outcome) -> Outcome:
    """``outcome`` with consecutive ``DataReceived`` of a stream joined, and dropped
    when a stream error resets that stream next (see the module docstring)."""
    events: list[Event] = []
    for event in outcome[0]:
        last = events[-1] if events else None
        if type(last) is DataReceived and last.stream_id == getattr(event, "stream_id", 0):
            if type(event) is DataReceived:
                events[-1] = DataReceived(
                    event.stream_id,
                    last.data + event.data,
                    last.flow_controlled_length + event.flow_controlled_length,
                )
                continue
            if type(event) is StreamReset and not event.remote:
                events.pop()
        events.append(event)
    return (events, *outcome[1:])


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = _run(item, [item.payload] if item.payload else [])
    sending = bool(item.flags & 0x10)
    _check_order(whole[0], sending)
    split = _run(item, pieces(item))
    _check_order(split[0], sending)
    check_same(_grouped(whole), _grouped(split), item)


if __name__ == "__main__":
    main(test_one_input)
