"""Flow control against a hostile peer (RFC 9113 sections 5.2, 6.9 and 6.9.1).

- A WINDOW_UPDATE that takes a window past 2**31-1: on the connection, a connection
  error FLOW_CONTROL_ERROR; on a stream, a stream error FLOW_CONTROL_ERROR (RST_STREAM,
  the connection goes on).
- A WINDOW_UPDATE of 0: on a stream, a stream error PROTOCOL_ERROR; on the connection,
  a connection error PROTOCOL_ERROR.
- DATA beyond the stream window we granted (4 MiB, credited only as the application
  reads): a stream error FLOW_CONTROL_ERROR; beyond the connection window (16 MiB): a
  connection error FLOW_CONTROL_ERROR.
- A window that never opens: the upload fails with ``WriteTimeout`` after the write
  timeout (the stream is reset with CANCEL, the connection goes on).
"""

from __future__ import annotations

import contextlib
import time

import pytest
from hyperframe.frame import RstStreamFrame

from reqivo_async import Timeout
from reqivo_protocol import WriteTimeout
from reqivo_protocol.http2 import HTTP2ProtocolError
from security.conftest import HostileH2
from security.h2wire import (
    CANCEL,
    FLOW_CONTROL_ERROR,
    GOOD,
    PROTOCOL_ERROR,
    WINDOW_UPDATE,
    connection_error,
    frame,
    goaway_sent,
    reset_sent,
)
from servers.h2raw import (
    H2Step,
    Handshake,
    ReadFrame,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Respond,
    Send,
    SendData,
    SendHeaders,
)

INITIAL_WINDOW_SIZE = 0x4
MAX_WINDOW = 2**31 - 1
STREAM_WINDOW = 4 * 2**20


def _window_update(stream_id: int, increment: int) -> Send:
    return Send(frame(WINDOW_UPDATE, 0, stream_id, increment.to_bytes(4, "big")))


def _stream_error(hostile: HostileH2, *steps: H2Step) -> tuple[HTTP2ProtocolError, int]:
    """Run ``steps`` once the first request (stream 1) was read; return the exception it
    got (a stream error) and the code of the client's RST_STREAM, after checking that the
    next requests succeed on the same connection."""
    script = (
        Handshake(), ReadRequest(), *steps, ReadFrame(RstStreamFrame),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip
    server, client = hostile(script)
    with pytest.raises(HTTP2ProtocolError) as info:
        client.get("/a")
    assert info.value.stream_id == 1
    assert client.get("/b").content == b"fine"
    code = reset_sent(server, 1).error_code
    assert client.get("/c").content == b"fine"
    assert server.connections == 1
    return info.value, code


def test_window_update_overflows_the_connection_window(hostile_h2: HostileH2) -> None:
    # Our send window is 65535: 2**31-1 more overflows it.
    error, code = connection_error(hostile_h2, _window_update(0, MAX_WINDOW))
    assert error.error_code == code == FLOW_CONTROL_ERROR


def test_window_update_overflows_a_stream_window(hostile_h2: HostileH2) -> None:
    error, code = _stream_error(hostile_h2, _window_update(1, MAX_WINDOW))
    assert error.error_code == code == FLOW_CONTROL_ERROR


def test_window_update_of_zero_on_a_stream(hostile_h2: HostileH2) -> None:
    error, code = _stream_error(hostile_h2, _window_update(1, 0))
    assert error.error_code == code == PROTOCOL_ERROR


def test_window_update_of_zero_on_the_connection(hostile_h2: HostileH2) -> None:
    error, code = connection_error(hostile_h2, _window_update(0, 0))
    assert error.error_code == code == PROTOCOL_ERROR


def test_data_beyond_the_stream_window(hostile_h2: HostileH2) -> None:
    # The application does not read /a, so nothing is credited: its 4 MiB window is all
    # the peer may send. The peer sends 16 KiB more, ignoring it.
    script = (
        Handshake(), ReadRequest(), SendHeaders([(":status", "200")]),
        SendData(b"x" * (STREAM_WINDOW + 16384), flow_control=False),
        ReadFrame(RstStreamFrame), ReadRequest(), Respond(body=b"fine"),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip
    server, client = hostile_h2(script)
    with client.stream("GET", "/a") as response:
        # Another request on the connection: the event loop runs (async mode), the
        # overrunning DATA of /a arrives meanwhile.
        assert client.get("/b").content == b"fine"
        with pytest.raises(HTTP2ProtocolError) as info:
            client.read(response)
    assert (info.value.error_code, info.value.stream_id) == (FLOW_CONTROL_ERROR, 1)
    assert reset_sent(server, 1).error_code == FLOW_CONTROL_ERROR
    assert client.get("/c").content == b"fine"
    assert server.connections == 1


def test_data_beyond_the_connection_window(hostile_h2: HostileH2) -> None:
    # Four unread responses of 4 MiB (their whole stream windows) fill the 16 MiB
    # connection window; 16 KiB more on a fifth stream overrun it: a connection error.
    steps: list[H2Step] = []
    for n, sid in enumerate((1, 3, 5, 7, 9), 1):
        size = STREAM_WINDOW if sid < 9 else 16384
        steps += [
            ReadRequest(n), SendHeaders([(":status", "200")], stream_id=sid),
            SendData(b"x" * size, stream_id=sid, flow_control=False),
        ]  # fmt: skip
    server, client = hostile_h2((Handshake(), *steps, ReadUntilEOF()), GOOD)
    with contextlib.ExitStack() as stack:
        responses = [stack.enter_context(client.stream("GET", f"/{n}")) for n in range(5)]
        with pytest.raises(HTTP2ProtocolError, match="overruns the connection window") as info:
            client.read(responses[4])
    assert (info.value.error_code, info.value.stream_id) == (FLOW_CONTROL_ERROR, 0)
    assert client.get("/b").content == b"fine"
    assert server.connections == 2
    assert goaway_sent(server).error_code == FLOW_CONTROL_ERROR


def test_a_window_that_never_opens_ends_in_a_write_timeout(hostile_h2: HostileH2) -> None:
    # The peer's streams start with a window of 0 and it never opens them.
    script = (
        Handshake(settings=((INITIAL_WINDOW_SIZE, 0),)), ReadFrame(RstStreamFrame),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip
    server, client = hostile_h2(script)
    started = time.monotonic()
    with pytest.raises(WriteTimeout, match="flow-control window"):
        client.post("/upload", content=b"x" * 100_000, timeout=Timeout(10.0, write=0.3))
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 3, f"{elapsed:.2f} s"
    assert client.get("/b").content == b"fine"
    assert reset_sent(server, 1).error_code == CANCEL
    assert server.connections == 1
