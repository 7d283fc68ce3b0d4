"""Raw frames for the hostile HTTP/2 peer, and what the client answered it.

The peer records the client's frames as it reads them, in its own thread: a test that
checks the GOAWAY or RST_STREAM the client sent waits for it (:func:`goaway_sent`,
:func:`reset_sent`) rather than reading ``server.frames`` once, and does so after its
next request: no event loop runs between two calls (in either mode), so what the client
queued after a call returned is written during the next one.
"""

from __future__ import annotations

import time
from typing import TypeVar

import pytest
from hyperframe.frame import GoAwayFrame, RstStreamFrame, SettingsFrame

from reqivo_protocol.http2 import HTTP2ProtocolError
from security.conftest import HostileH2
from servers.h2raw import H2RawServer, H2Step, Handshake, ReadRequest, ReadUntilEOF, Repeat, Respond

__all__ = ["GOOD", "connection_error", "frame", "goaway_sent", "our_settings", "reset_sent"]

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE = 0x0, 0x1, 0x2, 0x3, 0x4, 0x5
PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0x6, 0x7, 0x8, 0x9
END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8
#: RFC 9113 section 7.
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR = 0x1, 0x3, 0x5, 0x6
CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x8, 0x9, 0xB
#: ``:status: 200`` from the static table: a field block that leaves the dynamic tables alone.
STATUS_200 = b"\x88"
#: A well-behaved script: every request answered ``fine``.
GOOD = (Handshake(), Repeat((ReadRequest(), Respond(body=b"fine"))))


def frame(frame_type: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One frame's bytes as given (any type, flags, length)."""
    return (
        len(payload).to_bytes(3, "big")
        + bytes((frame_type, flags))
        + stream_id.to_bytes(4, "big")
        + payload
    )


_F = TypeVar("_F", GoAwayFrame, RstStreamFrame)


def _first_sent(server: H2RawServer, kind: type[_F], stream_id: int | None, timeout: float) -> _F:
    """The first frame of ``kind`` the client sent (on ``stream_id`` unless None), waiting
    for the peer, which reads on its own thread, to have read it."""
    deadline = time.monotonic() + timeout
    while True:
        for sent in server.frames_of(kind):
            if isinstance(sent, kind) and (stream_id is None or sent.stream_id == stream_id):
                return sent
        where = "" if stream_id is None else f" on {stream_id}"
        assert time.monotonic() < deadline, f"no {kind.__name__}{where} among {server.frames}"
        time.sleep(0.01)


def goaway_sent(server: H2RawServer, timeout: float = 5.0) -> GoAwayFrame:
    """The first GOAWAY the client sent (waiting for the peer to read it)."""
    return _first_sent(server, GoAwayFrame, None, timeout)


def reset_sent(server: H2RawServer, stream_id: int, timeout: float = 5.0) -> RstStreamFrame:
    """The first RST_STREAM the client sent on ``stream_id`` (waiting for it)."""
    return _first_sent(server, RstStreamFrame, stream_id, timeout)


def connection_error(hostile: HostileH2, *steps: H2Step) -> tuple[HTTP2ProtocolError, int]:
    """Run ``steps`` once the first request was read; return the exception that request
    got (a connection error: ``stream_id == 0``) and the code of the GOAWAY the client
    sent, after checking that the next request succeeds on a new connection."""
    script = (Handshake(), ReadRequest(), *steps, ReadUntilEOF())
    server, client = hostile(script, GOOD)
    with pytest.raises(HTTP2ProtocolError) as info:
        client.get("/a")
    assert info.value.stream_id == 0
    response = client.get("/b")
    assert (response.status_code, response.content) == (200, b"fine")
    assert server.connections == 2
    goaway = goaway_sent(server)  # (after the next call: no event loop runs between calls)
    assert goaway.last_stream_id == 0
    return info.value, goaway.error_code


def our_settings(server: H2RawServer) -> dict[int, int]:
    """What the client's first SETTINGS frame said."""
    first = next(
        f for f in server.frames_of(SettingsFrame)
        if isinstance(f, SettingsFrame) and "ACK" not in f.flags
    )  # fmt: skip
    return dict(first.settings)
