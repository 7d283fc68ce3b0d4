"""``defer_close=True``: the I/O layer decides when the close frame goes out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reqivo_protocol.websocket import (
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    TextMessage,
    WebSocketConnection,
)

from .conftest import FrameBuilder

Unmask = Callable[[bytes], list[tuple[int, bytes]]]


def _state(conn: WebSocketConnection) -> ConnectionState:
    """The state, read through a call so that mypy does not narrow it between asserts."""
    return conn.state


def test_close_reply_is_held_until_taken(frame: FrameBuilder, unmask: Unmask) -> None:
    conn = WebSocketConnection(defer_close=True)
    conn.receive_data(frame(1, b"hi") + frame(8, b"\x03\xe8bye") + b"junk")
    assert conn.events() == [TextMessage("hi"), CloseReceived(1000, "bye")]
    assert conn.data_to_send() == b"" and conn.close_pending
    assert _state(conn) is ConnectionState.OPEN
    echo = conn.send_text("hi")  # the message can still be answered
    assert unmask(echo) == [(0x81, b"hi")]
    conn.receive_data(frame(1, b"ignored"))
    assert conn.events() == []
    reply = conn.take_close_reply()
    assert unmask(reply) == [(0x88, b"\x03\xe8bye")]
    assert _state(conn) is ConnectionState.CLOSED
    assert [conn.close_pending] == [False]
    assert conn.take_close_reply() == b""


def test_failure_close_is_held_and_send_close_returns_it(
    frame: FrameBuilder, unmask: Unmask
) -> None:
    conn = WebSocketConnection(defer_close=True)
    conn.receive_data(frame(2, b"ok") + frame(0xB, b""))
    events = conn.events()
    assert isinstance(events[-1], ConnectionFailed) and events[-1].code == 1002
    assert conn.close_pending and conn.failure is not None
    held = conn.send_close(1000)  # the held failure frame goes out instead
    [(b0, payload)] = unmask(held)
    assert b0 == 0x88 and payload[:2] == b"\x03\xea"
    assert conn.state is ConnectionState.CLOSED


def test_after_our_close_nothing_is_held(frame: FrameBuilder) -> None:
    conn = WebSocketConnection(defer_close=True)
    conn.send_close(1000)
    conn.receive_data(frame(8, b"\x03\xe8"))
    assert not conn.close_pending and conn.state is ConnectionState.CLOSED
    conn2 = WebSocketConnection(defer_close=True)
    conn2.send_close(1000)
    conn2.receive_data(frame(0xB, b""))
    assert not conn2.close_pending and conn2.state is ConnectionState.CLOSED


@pytest.mark.parametrize("defer", [False, True])
def test_partial_frame_then_close(defer: bool, frame: FrameBuilder) -> None:
    conn = WebSocketConnection(defer_close=defer)
    close = frame(8, b"\x03\xe8")
    conn.receive_data(close[:1])
    conn.receive_data(close[1:] + frame(1, b"after"))
    assert conn.events() == [CloseReceived(1000, "")]
    assert conn.close_pending is defer
