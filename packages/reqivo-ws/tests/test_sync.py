"""What only the blocking ``WebSocket`` has: its loop thread (started, stopped, not
leaked), calls from other threads, ``ping(timeout=)``, the ``[sync]`` extra, the
``reqivo_sync.Session`` it accepts.

The behaviour both APIs share (messages, closing, handshake, reconnect, and ``send``
from several threads) is tested once, in both modes, by the dual suite (``dual/``)."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

import reqivo_ws
from reqivo_async import MockTransport, Response
from reqivo_sync import Session
from reqivo_ws import (
    ConnectionClosedError,
    ConnectionClosedOK,
    LocalProtocolError,
    ReadTimeout,
    WebSocket,
)


def _echo(conn: ServerConnection) -> None:
    """Echo; 'close:CODE' closes with CODE; 'cookie' sends the handshake's Cookie back."""
    for message in conn:
        if isinstance(message, str) and message.startswith("close:"):
            conn.close(int(message[6:]), "asked to")
            return
        if message == "cookie":
            message = conn.request.headers.get("Cookie", "") if conn.request else ""
        conn.send(message)


@pytest.fixture
def url() -> Iterator[str]:
    with serve(_echo, "127.0.0.1", 0, max_size=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        server.shutdown()
        thread.join()


def _loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "reqivo-ws-loop"]


def test_repr_shows_the_ws_url_without_its_password() -> None:
    text = repr(WebSocket("wss://ann:secret@example.test/chat"))
    assert text == "<WebSocket [wss://ann:[secure]@example.test/chat new]>"


def test_connect_close_code_reason_and_errors(url: str) -> None:
    ws = WebSocket(url, compression=None)
    assert "new" in repr(ws)
    with pytest.raises(RuntimeError):
        ws.recv()
    ws.close()  # not connected: nothing to do
    assert ws.connect() is ws and ws.compression is None
    with pytest.raises(RuntimeError):
        ws.connect()
    with pytest.raises(LocalProtocolError):
        ws.close(1005)  # a code that may not be sent: the connection stays open
    ws.send("still")
    assert ws.recv() == "still"
    ws.close(4000, "bye")
    ws.close()  # idempotent
    assert ws.close_code == 4000 and ws.close_reason == "bye"
    assert not _loop_threads()


def test_ping_waits_for_its_pong_with_a_timeout(url: str) -> None:
    with WebSocket(url) as ws:
        assert ws.ping(b"abc", timeout=1.0) >= 0
        with pytest.raises(ReadTimeout):
            ws.ping(timeout=0)
        ws.send("after")
        assert ws.recv() == "after"


def test_unclosed_warns_and_stops_its_thread(url: str) -> None:
    held = [WebSocket(url).connect()]
    assert len(_loop_threads()) == 1
    with pytest.warns(ResourceWarning, match="unclosed"):
        held.clear()
    gc.collect()
    assert not _loop_threads()


def test_failed_connect_leaves_no_thread() -> None:
    ws = WebSocket("ws://127.0.0.1:1/", open_timeout=2.0)
    with pytest.raises(reqivo_ws.TransportError):
        ws.connect()
    assert not _loop_threads()


def test_session_arguments_are_checked(url: str) -> None:
    with Session(cookies={"k": "v"}) as session:
        with pytest.raises(ValueError, match="on the session"):
            WebSocket(url, session=session, verify=False)
        with pytest.raises(TypeError):
            WebSocket(url, session=object())  # type: ignore[arg-type]
        with WebSocket(url, session=session) as ws:
            ws.send("cookie")
            assert ws.recv() == "k=v"
        assert "closed" in repr(ws) and ws.reconnects == 0
    assert not _loop_threads()


def test_on_reconnect_cannot_block_its_loop(url: str) -> None:
    errors: list[BaseException] = []

    def on_reconnect(ws: WebSocket) -> None:
        try:
            ws.send("from the loop thread")
        except RuntimeError as exc:
            errors.append(exc)

    policy = reqivo_ws.Reconnect(initial_delay=0.0, jitter=0.0)
    with WebSocket(url, reconnect=policy, on_reconnect=on_reconnect) as ws:
        ws.send("close:1011")
        deadline = time.monotonic() + 5
        while not ws.closed and time.monotonic() < deadline:
            time.sleep(0.005)
        ws.send("again")  # reconnects, then sends on the new connection
        assert ws.recv() == "again" and ws.reconnects == 1
    assert errors and "deadlock" in str(errors[0])


def test_import_error_without_sync_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "reqivo_sync", None)
    with pytest.raises(ImportError, match=r"reqivo-ws\[sync\]"):
        _ = reqivo_ws.WebSocket
    with pytest.raises(AttributeError):
        _ = reqivo_ws.Nope


def _recv_in_a_thread(ws: WebSocket) -> tuple[threading.Thread, list[BaseException]]:
    """A started thread blocked in ``ws.recv()``, and the list that gets what it raises."""
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            ws.recv()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    return thread, errors


def test_close_from_another_thread_wakes_recv(url: str) -> None:
    ws = WebSocket(url).connect()
    thread, errors = _recv_in_a_thread(ws)
    time.sleep(0.05)
    ws.close()
    thread.join(5)
    assert isinstance(errors[0], ConnectionClosedOK)
    assert not _loop_threads()


def test_session_with_custom_transport_is_refused(url: str) -> None:
    transport = MockTransport(lambda request: Response(200))
    with Session(transport=transport) as session:
        ws = WebSocket(url, session=session)
        with pytest.raises(ValueError, match="custom transport"):
            ws.connect()
    assert not _loop_threads()


def test_close_from_another_thread_during_a_reconnection() -> None:
    def drop(conn: ServerConnection) -> None:
        conn.socket.close()  # no close frame: 1006, on every connection

    with serve(drop, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        policy = reqivo_ws.Reconnect(initial_delay=0.5, jitter=0.0)
        ws = WebSocket(url, reconnect=policy).connect()
        deadline = time.monotonic() + 5
        while not ws.closed and time.monotonic() < deadline:
            time.sleep(0.005)
        waiting, errors = _recv_in_a_thread(ws)
        time.sleep(0.1)  # the reader waits for the reconnection (0.5 s away)
        ws.close()
        waiting.join(5)
        server.shutdown()
        thread.join()
    assert isinstance(errors[0], ConnectionClosedError) and errors[0].code == 1006
    assert not _loop_threads()
