"""ClientConnection against the h2 package as the server: round trips, concurrency, flow
control both ways, settings changes, CONTINUATION, trailers, RST_STREAM, GOAWAY, PING."""

from __future__ import annotations

from typing import Any

import h2.errors
import h2.events
import h2.settings
import pytest
from h2peers import H2Pair, frames_of, request_fields

from reqivo_protocol import LocalProtocolError
from reqivo_protocol.http2 import (
    ConnectionTerminated,
    DataReceived,
    ErrorCode,
    Event,
    InformationalResponse,
    PingAcknowledged,
    RemoteSettingsChanged,
    ResponseReceived,
    SettingCode,
    SettingsAcknowledged,
    SettingsFrame,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
    WindowUpdateFrame,
)


def _of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def _body(events: list[Event], sid: int) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, DataReceived) and e.stream_id == sid)


def test_preface_settings_and_window() -> None:
    pair = H2Pair.__new__(H2Pair)
    from reqivo_protocol.http2 import ClientConnection

    client = ClientConnection(
        initial_window_size=1 << 20, max_frame_size=1 << 15, header_table_size=8192
    )
    client.initiate()
    frames = frames_of(client.data_to_send())
    assert isinstance(frames[0], SettingsFrame)
    settings = dict(frames[0].settings)
    assert settings[SettingCode.ENABLE_PUSH] == 0
    assert settings[SettingCode.INITIAL_WINDOW_SIZE] == 1 << 20
    assert settings[SettingCode.MAX_FRAME_SIZE] == 1 << 15
    assert settings[SettingCode.HEADER_TABLE_SIZE] == 8192
    assert settings[SettingCode.MAX_CONCURRENT_STREAMS] == 100
    assert frames[1] == WindowUpdateFrame(0, 16 * 2**20 - 65535)
    assert client.data_to_send() == b""
    del pair


def test_handshake_with_h2(pair: H2Pair) -> None:
    changed = _of(pair.server_events, h2.events.RemoteSettingsChanged)[0].changed_settings
    assert changed[h2.settings.SettingCodes.ENABLE_PUSH].new_value == 0
    assert pair.server.outbound_flow_control_window == 16 * 2**20
    assert pair.client.remote_max_concurrent_streams == 100  # h2's default
    assert pair.client.can_open_stream and not pair.client.is_closed
    assert pair.client.open_streams == 0


def test_events_of_the_handshake(make_pair: type[H2Pair]) -> None:
    from reqivo_protocol.http2 import ClientConnection

    client = ClientConnection()
    client.initiate()
    assert client.remote_max_concurrent_streams == 2**31
    import h2.config
    import h2.connection

    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    events = client.receive_data(server.data_to_send())
    assert isinstance(events[0], RemoteSettingsChanged)
    assert events[0].changed[SettingCode.MAX_CONCURRENT_STREAMS] == 100
    assert isinstance(events[1], SettingsAcknowledged)


def test_get_round_trip(pair: H2Pair) -> None:
    sid = pair.request(b"/index.html")
    assert sid == 1 and pair.client.open_streams == 1
    assert pair.client.stream_state(sid) == "HALF_CLOSED_LOCAL"
    received = _of(pair.server_events, h2.events.RequestReceived)[0]
    assert received.headers[:4] == request_fields(b"/index.html")
    assert _of(pair.server_events, h2.events.StreamEnded)
    events = pair.respond(sid, b"hello", headers=[(b"content-length", b"5")])
    assert events == [
        ResponseReceived(sid, 200, [(b"content-length", b"5")]),
        DataReceived(sid, b"hello", 5),
        StreamEnded(sid),
    ]
    assert pair.client.open_streams == 0 and pair.client.stream_state(sid) == "CLOSED"


def test_cookie_crumbs_are_split(pair: H2Pair) -> None:
    from reqivo_protocol.http2.hpack import Decoder

    fields = request_fields(b"/", b"GET", (b"cookie", b"a=1; b=2"), (b"accept", b"*/*"))
    pair.client.send_headers(fields, True)
    (frame,) = frames_of(pair.client.data_to_send())
    sent = Decoder().decode(frame.block)  # type: ignore[union-attr]
    assert sent[4:] == [(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"accept", b"*/*")]


def test_post_with_body_and_trailers(pair: H2Pair) -> None:
    sid = pair.client.send_headers(request_fields(b"/up", b"POST"))
    assert pair.client.stream_state(sid) == "OPEN"
    pair.client.send_data(sid, b"x" * 1000)
    pair.client.send_trailers(sid, [(b"x-checksum", b"abc")])
    assert pair.client.stream_state(sid) == "HALF_CLOSED_LOCAL"
    pair.exchange()
    data = _of(pair.server_events, h2.events.DataReceived)
    assert b"".join(d.data for d in data) == b"x" * 1000
    trailers = _of(pair.server_events, h2.events.TrailersReceived)[0]
    assert trailers.headers == [(b"x-checksum", b"abc")]
    events = pair.respond(sid, b"ok")
    assert _of(events, StreamEnded) == [StreamEnded(sid)]


def test_end_stream_alone(pair: H2Pair) -> None:
    sid = pair.client.send_headers(request_fields(b"/", b"POST"))
    pair.client.send_data(sid, b"abc")
    pair.client.end_stream(sid)
    pair.exchange()
    assert _of(pair.server_events, h2.events.StreamEnded)
    with pytest.raises(LocalProtocolError):
        pair.client.send_data(sid, b"more")
    assert pair.client.sendable(sid) == 0


def test_response_trailers(pair: H2Pair) -> None:
    sid = pair.request()
    events = pair.respond(sid, b"body", trailers=[(b"grpc-status", b"0")])
    assert events[-2:] == [TrailersReceived(sid, [(b"grpc-status", b"0")]), StreamEnded(sid)]


def test_informational_responses(pair: H2Pair) -> None:
    sid = pair.request()
    pair.server.send_headers(sid, [(b":status", b"103"), (b"link", b"</a.css>")])
    events = pair.respond(sid, b"x")
    assert events[0] == InformationalResponse(sid, 103, [(b"link", b"</a.css>")])
    assert events[1] == ResponseReceived(sid, 200, [])


def test_many_concurrent_streams(make_pair: type[H2Pair]) -> None:
    pair = make_pair({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 300})
    sids = [pair.request(b"/%d" % i) for i in range(256)]
    assert pair.client.open_streams == 256
    for sid in reversed(sids):
        pair.server.send_headers(sid, [(b":status", b"200")])
    for sid in sids:
        pair.server.send_data(sid, b"r%d" % sid, end_stream=True)
    events = pair.exchange()
    assert len(_of(events, ResponseReceived)) == 256
    assert all(_body(events, sid) == b"r%d" % sid for sid in sids)
    assert pair.client.open_streams == 0


def test_peer_max_concurrent_streams(pair: H2Pair) -> None:
    sids = [pair.request() for _ in range(100)]
    assert not pair.client.can_open_stream
    with pytest.raises(LocalProtocolError, match="100 concurrent"):
        pair.client.send_headers(request_fields())
    pair.respond(sids[0])
    assert pair.client.can_open_stream


def test_download_with_tiny_windows(make_pair: type[H2Pair]) -> None:
    pair = make_pair(initial_window_size=1000, connection_window_size=65535)
    sid = pair.request()
    body = bytes(range(256)) * 800  # 204800 bytes
    pair.server.send_headers(sid, [(b":status", b"200")])
    received = bytearray()
    sent = 0
    ended = False
    while not ended:
        window = pair.server.local_flow_control_window(sid)
        chunk = body[sent : sent + min(window, pair.server.max_outbound_frame_size)]
        if chunk:
            sent += len(chunk)
            pair.server.send_data(sid, chunk, end_stream=sent == len(body))
        for event in pair.exchange():
            if isinstance(event, DataReceived):
                assert event.flow_controlled_length <= 1000
                received += event.data
                pair.client.acknowledge_received_data(sid, len(event.data))
            ended = ended or isinstance(event, StreamEnded)
    assert received == body


def test_upload_with_tiny_windows(make_pair: type[H2Pair]) -> None:
    pair = make_pair({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    client = pair.client
    sid = client.send_headers(request_fields(b"/up", b"POST"))
    assert client.sendable(sid) == 100
    body = b"0123456789" * 100
    sent = 0
    rounds = 0
    while sent < len(body):
        n = min(client.sendable(sid), len(body) - sent)
        client.send_data(sid, body[sent : sent + n], end_stream=sent + n == len(body))
        sent += n
        pair.to_server()
        for event in _of(pair.server_events, h2.events.DataReceived):
            pair.server.acknowledge_received_data(event.flow_controlled_length, sid)
        pair.server_events.clear()
        events = pair.exchange()
        if sent < len(body):
            assert WindowUpdated(sid) in events
        rounds += 1
    assert rounds >= 10
    sid2 = client.send_headers(request_fields(b"/up", b"POST"))
    with pytest.raises(LocalProtocolError, match="flow control"):
        client.send_data(sid2, b"x" * 101)


def test_settings_change_mid_flight(make_pair: type[H2Pair]) -> None:
    pair = make_pair({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    client = pair.client
    sid = client.send_headers(request_fields(b"/up", b"POST"))
    client.send_data(sid, b"x" * 400)
    assert client.sendable(sid) == 600
    pair.server.update_settings(
        {
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 500,
            h2.settings.SettingCodes.MAX_FRAME_SIZE: 20000,
            h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0,
        }
    )
    events = pair.exchange()
    assert _of(events, RemoteSettingsChanged)[0].changed[SettingCode.INITIAL_WINDOW_SIZE] == 500
    assert client.sendable(sid) == 100
    assert client.remote_initial_window_size == 500 and client.remote_max_frame_size == 20000
    # A shrunken window can go negative: nothing is sendable until it grows again.
    pair.server.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    pair.exchange()
    assert client.sendable(sid) == 0
    pair.server.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 70000})
    pair.exchange()
    client.send_data(sid, b"y" * 65135, end_stream=True)  # all the connection window left
    pair.exchange()
    data = _of(pair.server_events, h2.events.DataReceived)
    assert sum(len(d.data) for d in data) == 65535
    # HEADER_TABLE_SIZE=0: our encoder keeps no dynamic table and h2 still decodes us.
    sid2 = pair.request(b"/after")
    request = _of(pair.server_events, h2.events.RequestReceived)[-1]
    assert request.headers[3] == (b":path", b"/after")
    assert sid2 == 3


def test_large_frames_split_at_peer_max_frame_size(pair: H2Pair) -> None:
    sid = pair.client.send_headers(request_fields(b"/", b"POST"))
    pair.client.send_data(sid, b"z" * 40000, end_stream=True)
    frames = frames_of(pair.client.data_to_send())
    assert [len(f.data) for f in frames[1:]] == [16384, 16384, 7232]  # type: ignore[union-attr]


def test_continuation_both_ways(pair: H2Pair) -> None:
    big = b"v" * 40000
    sid = pair.client.send_headers(request_fields(b"/", b"GET", (b"x-big", big)), True)
    pair.to_server()
    assert _of(pair.server_events, h2.events.RequestReceived)[0].headers[-1] == (b"x-big", big)
    events = pair.respond(sid, headers=[(b"x-big", big)])
    assert events == [ResponseReceived(sid, 200, [(b"x-big", big)]), StreamEnded(sid)]


def test_server_resets_a_stream(pair: H2Pair) -> None:
    sid = pair.request()
    other = pair.request()
    pair.server.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
    events = pair.exchange()
    assert events == [StreamReset(sid, ErrorCode.INTERNAL_ERROR, True)]
    assert pair.client.stream_state(sid) == "CLOSED"
    assert _of(pair.respond(other, b"ok"), StreamEnded) == [StreamEnded(other)]


def test_client_resets_a_stream_and_ignores_late_frames(pair: H2Pair) -> None:
    sid = pair.request()
    pair.server.send_headers(sid, [(b":status", b"200")])
    pair.server.send_data(sid, b"a" * 1000)
    late = pair.server.data_to_send()  # in flight when the client resets
    pair.client.reset_stream(sid, ErrorCode.CANCEL)
    pair.client.reset_stream(sid)  # already closed: nothing more
    assert pair.client.receive_data(late) == []
    pair.to_server()
    reset = _of(pair.server_events, h2.events.StreamReset)[0]
    assert reset.error_code == h2.errors.ErrorCodes.CANCEL
    other = pair.request()
    assert _of(pair.respond(other, b"fine"), StreamEnded) == [StreamEnded(other)]


def test_goaway_graceful(pair: H2Pair) -> None:
    s1, s3, s5 = pair.request(), pair.request(), pair.request()
    pair.server.close_connection(last_stream_id=s3)
    events = pair.exchange()
    assert events == [
        StreamReset(s5, ErrorCode.REFUSED_STREAM, True),
        ConnectionTerminated(ErrorCode.NO_ERROR, s3, b""),
    ]
    assert pair.client.last_stream_id_accepted == s3
    assert not pair.client.can_open_stream and not pair.client.is_closed
    with pytest.raises(LocalProtocolError, match="going away"):
        pair.client.send_headers(request_fields())
    assert pair.client.open_streams == 2
    # Streams at or below last_stream_id complete (h2 itself refuses to send after
    # GOAWAY, so the responses are made of our frames).
    from reqivo_protocol.http2.hpack import Encoder

    block = Encoder().encode([(b":status", b"204")])
    from reqivo_protocol.http2 import HeadersFrame

    wire = HeadersFrame(s1, block, True).serialize() + HeadersFrame(s3, block, True).serialize()
    events = pair.client.receive_data(wire)
    assert _of(events, StreamEnded) == [StreamEnded(s1), StreamEnded(s3)]
    assert pair.client.receive_eof() == []
    assert pair.client.is_closed


def test_goaway_abrupt(pair: H2Pair) -> None:
    sid = pair.request()
    pair.server.close_connection(h2.errors.ErrorCodes.INTERNAL_ERROR, b"oops", last_stream_id=0)
    events = pair.exchange()
    assert events == [
        StreamReset(sid, ErrorCode.REFUSED_STREAM, True),
        ConnectionTerminated(ErrorCode.INTERNAL_ERROR, 0, b"oops"),
    ]
    assert pair.client.open_streams == 0


def test_ping_both_ways(pair: H2Pair) -> None:
    pair.server.ping(b"12345678")
    assert pair.exchange() == []
    assert _of(pair.server_events, h2.events.PingAckReceived)[0].ping_data == b"12345678"
    pair.client.ping(b"abcdefgh")
    assert pair.exchange() == [PingAcknowledged(b"abcdefgh")]
    with pytest.raises(LocalProtocolError):
        pair.client.ping(b"short")


def test_close_sends_goaway(pair: H2Pair) -> None:
    pair.client.close(ErrorCode.NO_ERROR)
    pair.client.close()  # once is enough
    pair.to_server()
    terminated = _of(pair.server_events, h2.events.ConnectionTerminated)
    assert len(terminated) == 1 and terminated[0].last_stream_id == 0
    assert pair.client.is_closed and not pair.client.can_open_stream
    with pytest.raises(LocalProtocolError):
        pair.client.send_headers(request_fields())


def test_eof(pair: H2Pair) -> None:
    pair.request()
    assert pair.client.receive_eof() == [ConnectionTerminated(ErrorCode.NO_ERROR, 1)]
    assert pair.client.receive_eof() == []
    assert pair.client.is_closed


def test_connect_request(pair: H2Pair) -> None:
    sid = pair.client.send_headers([(b":method", b"CONNECT"), (b":authority", b"example.com:443")])
    pair.to_server()
    assert _of(pair.server_events, h2.events.RequestReceived)
    pair.server.send_headers(sid, [(b":status", b"200")])
    pair.server.send_data(sid, b"tunnelled bytes")
    events = pair.exchange()
    assert events[1] == DataReceived(sid, b"tunnelled bytes", 15)


def test_head_response_content_length(pair: H2Pair) -> None:
    sid = pair.request(method=b"HEAD")
    events = pair.respond(sid, headers=[(b"content-length", b"1234")])
    assert events == [ResponseReceived(sid, 200, [(b"content-length", b"1234")]), StreamEnded(sid)]


def test_acknowledge_reopens_windows(make_pair: type[H2Pair]) -> None:
    pair = make_pair(initial_window_size=65535, connection_window_size=65535)
    sid = pair.request()
    pair.server.send_headers(sid, [(b":status", b"200")])
    for _ in range(4):
        pair.server.send_data(sid, b"d" * 10000)
    pair.server.end_stream(sid)
    pair.exchange()
    before = pair.server.outbound_flow_control_window
    pair.client.acknowledge_received_data(sid, 10000)  # below half a window: nothing yet
    assert pair.client.data_to_send() == b""
    pair.client.acknowledge_received_data(sid, 10**9)  # clamped to what was delivered
    pair.to_server()
    assert pair.server.outbound_flow_control_window == before + 40000
    pair.client.acknowledge_received_data(sid, 5)  # nothing left to credit
    assert pair.client.data_to_send() == b""


def test_import_reqivo_protocol_leaves_http2_unloaded() -> None:
    import subprocess
    import sys

    code = (
        "import sys, reqivo_protocol, reqivo_protocol.http11\n"
        "assert not [m for m in sys.modules if 'http2' in m], sys.modules\n"
        "from reqivo_protocol import http2\n"
        "assert http2.ClientConnection\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_header_table_size_zero(make_pair: type[H2Pair]) -> None:
    pair = make_pair(header_table_size=0)
    for path in (b"/a", b"/b"):
        sid = pair.request(path)
        events = pair.respond(sid, b"x", headers=[(b"x-custom", b"value" + path)])
        assert events[0] == ResponseReceived(sid, 200, [(b"x-custom", b"value" + path)])


def test_dynamic_table_before_our_settings_are_acked() -> None:
    from reqivo_protocol.http2 import ClientConnection, HeadersFrame
    from reqivo_protocol.http2.hpack import Encoder

    client = ClientConnection(header_table_size=0)
    client.initiate()
    client.receive_data(SettingsFrame().serialize())  # the peer has not acked ours yet
    encoder = Encoder()  # uses the default 4096-byte table, as it may until our ACK
    fields = [(b":status", b"200"), (b"x-indexed", b"v")]
    sids = [client.send_headers(request_fields(), end_stream=True) for _ in range(2)]
    wire = b"".join(HeadersFrame(sid, encoder.encode(fields), True).serialize() for sid in sids)
    events = client.receive_data(wire)
    assert _of(events, ResponseReceived) == [ResponseReceived(s, 200, fields[1:]) for s in sids]
    # After the ACK the table must shrink to 0: the next block starts with that update.
    assert client.receive_data(SettingsFrame(ack=True).serialize()) == [SettingsAcknowledged()]
    encoder.header_table_size = 0
    sid = client.send_headers(request_fields(), end_stream=True)
    events = client.receive_data(HeadersFrame(sid, encoder.encode(fields), True).serialize())
    assert events[0] == ResponseReceived(sid, 200, fields[1:])
