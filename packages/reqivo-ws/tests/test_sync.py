"""The blocking ``WebSocket`` against a websockets echo server run in a thread."""

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
    """Echo; 'close:CODE' closes with CODE; 'silent' is not answered; 'cookie' echoes it."""
    for message in conn:
        if isinstance(message, str) and message.startswith("close:"):
            conn.close(int(message[6:]), "asked to")
            return
        if message == "silent":
            continue
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


def test_echo_iteration_and_normal_close(url: str) -> None:
    with WebSocket(url) as ws:
        assert "open" in repr(ws) and ws.compression is not None
        assert ws.response.status_code == 101 and ws.subprotocol is None
        assert ws.get_extra_info("peername")[0] == "127.0.0.1"
        ws.send("héllo")
        assert ws.recv() == "héllo"
        ws.send(b"\x00\x01")
        assert ws.recv() == b"\x00\x01"
        ws.send(["frag", "ments"])
        assert ws.recv() == "fragments"
        ws.send("a")
        ws.send("close:1000")
        assert list(ws) == ["a"]
        assert ws.closed and ws.close_code == 1000 and ws.close_reason == "asked to"
        with pytest.raises(ConnectionClosedOK):
            ws.recv()
    assert "closed" in repr(ws) and ws.reconnects == 0
    with pytest.raises(ConnectionClosedOK):
        ws.send("late")
    assert not _loop_threads()


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


def test_connection_closed_error(url: str) -> None:
    with WebSocket(url) as ws:
        ws.send("close:1011")
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv()
        assert info.value.code == 1011
        with pytest.raises(ConnectionClosedError):
            list(ws)


def test_recv_timeout_and_ping(url: str) -> None:
    with WebSocket(url) as ws:
        ws.send("silent")
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            ws.recv(timeout=0.05)
        assert time.monotonic() - started < 1.0
        rtt = ws.ping()
        assert 0 <= rtt < 1.0
        assert ws.ping(b"abc", timeout=1.0) >= 0
        with pytest.raises(ReadTimeout):
            ws.ping(timeout=0)
        ws.pong("unsolicited")
        ws.send("after")
        assert ws.recv() == "after"


def test_eight_threads_send_concurrently(url: str) -> None:
    per_thread, size = 40, 20_000
    with WebSocket(url, compression=None, max_queue=None) as ws:
        barrier = threading.Barrier(8)

        def sender(n: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                head = f"{n}:{i}:"
                ws.send(head + chr(ord("a") + n) * (size - len(head)))

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        received = [ws.recv(timeout=5.0) for _ in range(8 * per_thread)]
        for thread in threads:
            thread.join()
    seen: dict[int, list[int]] = {n: [] for n in range(8)}
    for message in received:
        assert isinstance(message, str) and len(message) == size
        n, i, body = message.split(":")
        assert body == chr(ord("a") + int(n)) * len(body)  # never interleaved
        seen[int(n)].append(int(i))
    assert all(indexes == list(range(per_thread)) for indexes in seen.values())
    assert not _loop_threads()


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


def test_session_settings_apply(url: str) -> None:
    with Session(cookies={"k": "v"}, headers={"X-Test": "1"}) as session:
        with pytest.raises(ValueError, match="on the session"):
            WebSocket(url, session=session, verify=False)
        with pytest.raises(TypeError):
            WebSocket(url, session=object())  # type: ignore[arg-type]
        with WebSocket(url, session=session) as ws:
            ws.send("cookie")
            assert ws.recv() == "k=v"


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


def test_close_from_another_thread_wakes_recv(url: str) -> None:
    ws = WebSocket(url).connect()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            ws.recv()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
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
