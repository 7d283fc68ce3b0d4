"""ClientConnection's invariants: the stream transition table is total (every state and
input either moves or is an error of the right kind), and receiving is independent of
how the bytes are split (hypothesis)."""

from __future__ import annotations

import itertools

import h2.events
import pytest
from h2peers import request_fields
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import LocalProtocolError
from reqivo_protocol.http2 import (
    TRANSITIONS,
    ClientConnection,
    ContinuationFrame,
    DataFrame,
    ErrorCode,
    Event,
    HeadersFrame,
    HTTP2ProtocolError,
    PingFrame,
    SettingsFrame,
    StreamInput,
    StreamState,
    WindowUpdateFrame,
)
from reqivo_protocol.http2 import DataReceived as DataReceivedT
from reqivo_protocol.http2._stream import transition
from reqivo_protocol.http2.hpack import Encoder

S = StreamState
I = StreamInput  # noqa: E741

EXPECTED = {
    S.IDLE: {I.SEND_HEADERS: S.OPEN},
    S.OPEN: {
        I.SEND_HEADERS: S.OPEN,
        I.SEND_DATA: S.OPEN,
        I.SEND_END_STREAM: S.HALF_CLOSED_LOCAL,
        I.SEND_RST_STREAM: S.CLOSED,
        I.RECV_HEADERS: S.OPEN,
        I.RECV_DATA: S.OPEN,
        I.RECV_END_STREAM: S.HALF_CLOSED_REMOTE,
        I.RECV_RST_STREAM: S.CLOSED,
    },
    S.HALF_CLOSED_LOCAL: {
        I.SEND_RST_STREAM: S.CLOSED,
        I.RECV_HEADERS: S.HALF_CLOSED_LOCAL,
        I.RECV_DATA: S.HALF_CLOSED_LOCAL,
        I.RECV_END_STREAM: S.CLOSED,
        I.RECV_RST_STREAM: S.CLOSED,
    },
    S.HALF_CLOSED_REMOTE: {
        I.SEND_HEADERS: S.HALF_CLOSED_REMOTE,
        I.SEND_DATA: S.HALF_CLOSED_REMOTE,
        I.SEND_END_STREAM: S.CLOSED,
        I.SEND_RST_STREAM: S.CLOSED,
        I.RECV_RST_STREAM: S.CLOSED,
    },
    S.CLOSED: {},
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, I)))
def test_transition_table_is_total(state: StreamState, event: StreamInput) -> None:
    allowed = EXPECTED[state].get(event)
    assert TRANSITIONS.get((state, event)) == allowed
    if allowed is not None:
        assert transition(state, event, 1) is allowed
    elif event.name.startswith("SEND"):
        with pytest.raises(LocalProtocolError, match=state.name):
            transition(state, event, 1)
    else:
        with pytest.raises(HTTP2ProtocolError) as info:
            transition(state, event, 1)
        if state is S.IDLE:
            assert (info.value.error_code, info.value.stream_id) == (ErrorCode.PROTOCOL_ERROR, 0)
        else:
            assert (info.value.error_code, info.value.stream_id) == (ErrorCode.STREAM_CLOSED, 1)


def _server_bytes(streams: int, body: int, padded: bool) -> bytes:
    """What a server might send for ``streams`` requests (SETTINGS first)."""
    encoder = Encoder()
    parts = [
        SettingsFrame(((4, 1 << 20),)).serialize(),
        SettingsFrame(ack=True).serialize(),
        PingFrame(b"pingpong").serialize(),
        WindowUpdateFrame(0, 1000).serialize(),
    ]
    for i in range(streams):
        sid = 2 * i + 1
        fields = [(b":status", b"200"), (b"content-length", b"%d" % body), (b"x-i", b"%d" % i)]
        block = encoder.encode(fields)
        parts.append(HeadersFrame(sid, block[:3], end_headers=False).serialize())
        parts.append(ContinuationFrame(sid, block[3:], True).serialize())
        half = body // 2
        parts.append(DataFrame(sid, b"a" * half, padding=7 if padded else None).serialize())
        parts.append(DataFrame(sid, b"b" * (body - half), True).serialize())
    return b"".join(parts)


def _merged(events: list[Event]) -> list[Event]:
    """``events`` with each run of ``DataReceived`` on one stream as one event: how DATA
    frames are grouped into events depends on how the bytes arrived."""
    merged: list[Event] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            type(event) is DataReceivedT
            and type(last) is DataReceivedT
            and last.stream_id == event.stream_id
        ):
            merged[-1] = DataReceivedT(
                event.stream_id,
                last.data + event.data,
                last.flow_controlled_length + event.flow_controlled_length,
            )
        else:
            merged.append(event)
    return merged


def _run(wire: bytes, cuts: list[int], streams: int) -> tuple[list[Event], bytes]:
    client = ClientConnection(initial_window_size=65535, connection_window_size=65535)
    client.initiate()
    for _ in range(streams):
        client.send_headers(request_fields(), end_stream=True)
    client.data_to_send()
    events: list[Event] = []
    previous = 0
    for cut in [*sorted(cuts), len(wire)]:
        events += client.receive_data(wire[previous:cut])
        previous = cut
    return _merged(events), client.data_to_send()


@settings(max_examples=60, deadline=None)
@given(
    streams=st.integers(1, 4),
    body=st.integers(0, 3000),
    padded=st.booleans(),
    data=st.data(),
)
def test_split_invariance(streams: int, body: int, padded: bool, data: st.DataObject) -> None:
    wire = _server_bytes(streams, body, padded)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=30))
    whole = _run(wire, [], streams)
    assert _run(wire, cuts, streams) == whole
    events, _ = whole
    assert sum(type(e).__name__ == "StreamEnded" for e in events) == streams


def test_byte_at_a_time_equals_whole() -> None:
    wire = _server_bytes(3, 500, True)
    assert _run(wire, list(range(len(wire))), 3) == _run(wire, [], 3)


@settings(max_examples=40, deadline=None)
@given(
    bodies=st.lists(st.integers(0, 40000), min_size=1, max_size=6),
    pad=st.integers(0, 255) | st.none(),
    trailers=st.booleans(),
    window=st.sampled_from([65535, 1000, 16384]),
    read=st.integers(1, 70000),
    data=st.data(),
)
def test_against_h2_server(
    bodies: list[int], pad: int | None, trailers: bool, window: int, read: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    """Random responses from an h2 server, interleaved and padded, through windows the
    client reopens as it consumes: every body arrives whole and in order."""
    from h2peers import H2Pair

    pair = H2Pair(initial_window_size=window, connection_window_size=max(window, 65535))
    client, server = pair.client, pair.server
    sids = [pair.request(b"/%d" % i) for i in range(len(bodies))]
    payloads = {sid: bytes([sid % 251]) * size for sid, size in zip(sids, bodies, strict=True)}
    sent = dict.fromkeys(sids, 0)
    for sid in sids:
        length = len(payloads[sid])
        server.send_headers(sid, [(b":status", b"200"), (b"content-length", b"%d" % length)],
                            end_stream=not length)  # fmt: skip
    received: dict[int, bytearray] = {sid: bytearray() for sid in sids}
    ended: set[int] = set()
    for _ in range(10_000):
        if len(ended) == len(sids):
            break
        pending = [sid for sid in sids if sent[sid] < len(payloads[sid])]
        if pending:
            sid = data.draw(st.sampled_from(pending))
            room = min(server.local_flow_control_window(sid), server.max_outbound_frame_size)
            room -= 0 if pad is None else pad + 1
            size = min(room, len(payloads[sid]) - sent[sid])
            if size > 0:
                last = sent[sid] + size == len(payloads[sid])
                chunk = payloads[sid][sent[sid] : sent[sid] + size]
                server.send_data(sid, chunk, end_stream=last and not trailers, pad_length=pad)
                sent[sid] += size
                if last and trailers:
                    server.send_headers(sid, [(b"x-done", b"1")], end_stream=True)
        wire = server.data_to_send()
        for start in range(0, len(wire), read):
            for event in client.receive_data(wire[start : start + read]):
                if isinstance(event, DataReceivedT):
                    received[event.stream_id] += event.data
                    client.acknowledge_received_data(event.stream_id, len(event.data))
                elif type(event).__name__ == "StreamEnded":
                    ended.add(event.stream_id)  # type: ignore[union-attr]
                assert type(event).__name__ != "StreamReset", event
        pair.to_server()  # the client's WINDOW_UPDATEs reopen the server's windows
        assert not [e for e in pair.server_events if isinstance(e, h2.events.StreamReset)]
        pair.server_events.clear()
    assert ended == set(sids)
    assert {sid: bytes(body) for sid, body in received.items()} == payloads
