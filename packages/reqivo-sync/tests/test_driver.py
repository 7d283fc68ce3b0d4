"""The driver (ADR-015): a plain HTTP/1.1 ``Session`` runs in the calling thread, without a
loop, over a pool doing blocking I/O; everything else keeps the event-loop bridge."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import pytest

from reqivo_async import AsyncConnectionPool
from reqivo_async.testing import ReqivoMock
from reqivo_sync import MockTransport, Response, Session
from reqivo_sync._driver import Suspended, drive
from servers.raw import Close, ReadRequest, Repeat, Send, Sleep, http_response

OK = http_response(body=b"ok")


def _blocking(session: Session) -> bool:
    transport = session.transport
    return isinstance(transport, AsyncConnectionPool) and transport.blocking


def test_which_sessions_drive_blocking_io() -> None:
    with Session() as session:
        assert _blocking(session)
    with Session(http2=True) as h2:  # HTTP/2 multiplexes on the event loop
        assert not _blocking(h2)
    with Session(proxy="https://proxy.example:3128") as tls_proxy:  # TLS inside TLS
        assert not _blocking(tls_proxy)
    with Session(transport=MockTransport(lambda request: Response(204))) as mocked:
        assert not _blocking(mocked)
    with ReqivoMock(), Session() as overridden:  # a test's override gets the async pool
        assert not _blocking(overridden)


def test_no_thread_and_no_loop_is_made(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(OK)))])
    before = threading.active_count()
    with Session() as session:
        for _ in range(3):
            assert session.get(server.url).content == b"ok"
        assert threading.active_count() == before
        assert session._bridge.loop is None  # the bridge was never needed
    assert server.connections == 1


def test_ctrl_c_during_a_blocking_read_discards_the_connection(raw_server: Any) -> None:
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        pytest.skip("signals reach the main thread only")
    slow = raw_server([ReadRequest(), Sleep(2.0), Close()])
    fast = raw_server([Repeat((ReadRequest(), Send(OK)))])
    main = threading.get_ident()
    timer = threading.Timer(0.2, lambda: signal.pthread_kill(main, signal.SIGINT))
    with Session(timeout=5.0) as session:
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            session.get(slow.url)
        assert time.monotonic() - started < 1.5
        pool = session.transport
        assert isinstance(pool, AsyncConnectionPool)
        assert pool.connections == []  # the interrupted connection is gone, not pooled
        assert session.get(fast.url).content == b"ok"
    timer.join()


def test_close_waits_for_calls_in_other_threads(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Sleep(0.3), Send(OK)])
    session = Session(timeout=5.0)
    results: list[bytes] = []
    caller = threading.Thread(target=lambda: results.append(session.get(server.url).content))
    caller.start()
    time.sleep(0.1)
    session.close()  # returns once the call in progress ended
    assert results == [b"ok"]
    caller.join()
    with pytest.raises(RuntimeError, match="closed"):
        session.get(server.url)


def test_a_hook_may_close_its_own_session(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(OK)))])
    session = Session()

    def close(response: Response) -> None:
        session.close()  # from inside the call: no waiting for itself

    session.event_hooks["response"].append(close)
    assert session.get(server.url).status_code == 200
    assert session.is_closed


def test_inside_a_running_loop_the_call_blocks_it_and_works(raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(OK)))])

    async def main(session: Session) -> bytes:
        content = session.get(server.url).content
        assert asyncio.get_running_loop() is not None  # the loop is back after the call
        return content

    with Session() as session:
        assert asyncio.run(main(session)) == b"ok"


def test_drive_refuses_what_suspends() -> None:
    async def suspends() -> None:
        await asyncio.sleep(0)

    with pytest.raises(Suspended):
        drive(suspends())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_that_never_calls_leaves_the_parent_connections(
    raw_server: Any,
) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(OK)))])
    with Session() as session:
        assert session.get(server.url).content == b"ok"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child exits at once
            session.close()  # must not touch (close_notify, shutdown) the parent's socket
            os._exit(0)
        os.waitpid(pid, 0)
        assert session.get(server.url).content == b"ok"
    assert server.connections == 1  # the parent's connection survived the child
