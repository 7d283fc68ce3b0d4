"""Property tests: splitting never changes the events; every frame is read as
``parse_header`` reads it; garbage never escapes our exceptions and always ends in CLOSED
with a valid close code queued."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqivo_protocol.websocket import (
    BytesMessage,
    ConnectionFailed,
    ConnectionState,
    DeflateParams,
    Event,
    Opcode,
    TextMessage,
    WebSocketConnection,
    is_valid_close_code,
)
from reqivo_protocol.websocket._frames import OPCODE_BITS, parse_header

from .conftest import build_server_frame, unmask_client_frames

_frames = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([1, 2]), st.binary(max_size=300), st.just(True)),
        st.tuples(st.just(1), st.text(max_size=50).map(str.encode), st.just(True)),
        st.tuples(st.sampled_from([9, 10]), st.binary(max_size=125), st.just(True)),
        st.tuples(st.sampled_from([1, 2]), st.binary(max_size=20), st.just(False)),
    ),
    max_size=12,
)


def _stream(specs: list[tuple[int, bytes, bool]]) -> bytes:
    out = []
    in_message = False
    for opcode, payload, fin in specs:
        if opcode < 8:
            out.append(build_server_frame(0 if in_message else opcode, payload, fin=fin))
            in_message = not fin
        else:
            out.append(build_server_frame(opcode, payload))
    if in_message:
        out.append(build_server_frame(0, b""))
    return b"".join(out)


def _run(chunks: list[bytes]) -> list[object]:
    """Events (a failure as its code and reason: exceptions compare by identity)."""
    c = WebSocketConnection(mask_key_source=lambda: b"abcd")
    events: list[Event] = []
    for chunk in chunks:
        if chunk:  # b"" would mean end of file
            c.receive_data(chunk)
        events += c.events()
    return [(e.code, e.reason) if isinstance(e, ConnectionFailed) else e for e in events]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_frames, st.lists(st.integers(min_value=0, max_value=5000), max_size=20))
def test_any_split_gives_the_same_events(
    specs: list[tuple[int, bytes, bool]], cuts: list[int]
) -> None:
    data = _stream(specs)
    whole = _run([data])
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _run(chunks) == whole
    assert _run([data[i : i + 1] for i in range(len(data))]) == whole


_messages = st.lists(
    st.tuples(
        st.one_of(
            st.tuples(st.just(Opcode.BINARY), st.binary(max_size=300)),
            st.tuples(st.just(Opcode.TEXT), st.text(max_size=100).map(str.encode)),
        ),
        st.sampled_from([None, 16, 64]),  # how the length is written (non-minimal too)
    ),
    max_size=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_messages, st.lists(st.integers(min_value=0, max_value=4000), max_size=8))
def test_frames_are_read_as_parse_header_reads_them(
    messages: list[tuple[tuple[int, bytes], int | None]], cuts: list[int]
) -> None:
    # The receive paths inline parse_header's common cases: they must agree with it.
    data = b"".join(
        build_server_frame(opcode, payload, long_form=form) for (opcode, payload), form in messages
    )
    expected: list[object] = []
    pos = 0
    while pos < len(data):
        b0, start, length = parse_header(data, pos, len(data))
        payload = data[start : start + length]
        if b0 & OPCODE_BITS == Opcode.TEXT:
            expected.append(TextMessage(payload.decode()))
        else:
            expected.append(BytesMessage(payload))
        pos = start + length
    assert len(expected) == len(messages)
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _run([data]) == expected
    assert _run(chunks) == expected
    assert _run([bytes([byte]) for byte in data]) == expected


@settings(max_examples=300)
@given(
    st.lists(st.binary(max_size=200), max_size=6),
    st.booleans(),
    st.sampled_from([None, 64]),
)
def test_garbage_ends_closed_with_valid_code(
    chunks: list[bytes], deflate: bool, max_size: int | None
) -> None:
    c = WebSocketConnection(deflate=DeflateParams() if deflate else None, max_message_size=max_size)
    for chunk in [*chunks, b""]:
        c.receive_data(chunk)
    events = c.events()
    assert c.state is ConnectionState.CLOSED
    assert events
    last = events[-1]
    code = c.close_code
    assert code is not None
    if isinstance(last, ConnectionFailed) and last.error is not None:
        assert is_valid_close_code(last.code)
        sent = unmask_client_frames(c.data_to_send())
        assert sent[-1][0] == 0x88
        assert int.from_bytes(sent[-1][1][:2], "big") == last.code
    else:
        assert code in (1005, 1006) or is_valid_close_code(code)
