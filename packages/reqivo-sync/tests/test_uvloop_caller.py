"""The blocking ``Session`` called from a thread whose running loop is uvloop.

reqivo-sync keeps its own loops (standard asyncio); what must hold is that a caller's
running uvloop loop (an async service calling sync library code) breaks nothing.
"""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from reqivo_sync import Session
from servers.models import Server

uvloop = pytest.importorskip("uvloop")  # wheels for CPython on Linux and macOS only


def test_session_inside_a_running_uvloop_thread(uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.url
    seen: list[object] = []

    async def caller() -> None:
        seen.append(type(asyncio.get_running_loop()))
        with Session() as session:
            seen.append(session.get(url + "/health").text)
            with session.stream("GET", url + "/stream/100000") as response:
                seen.append(sum(len(chunk) for chunk in response.iter_bytes()))
            seen.append(session.get(url + "/health").text)  # the pooled connection again

    def thread() -> None:
        try:
            uvloop.run(caller())
        except BaseException as exc:  # reported to the test below
            seen.append(exc)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert seen == [uvloop.Loop, "ok", 100000, "ok"]


def test_the_bridge_loop_may_be_uvloop_driven_by_threads_in_turn() -> None:
    # An application that installs uvloop's policy gets a uvloop loop for the bridge too
    # (asyncio.new_event_loop): it must accept being run by one thread after another (the
    # baton, ADR-012), with callers that run loops of their own mixed in.
    from reqivo_sync._bridge import LoopBridge

    async def served_by(resource: None, number: int) -> tuple[int, int]:
        await asyncio.sleep(0)
        return threading.get_ident(), number

    bridge: LoopBridge[None] = LoopBridge(lambda: None, loop_factory=uvloop.new_event_loop)
    drivers: set[int] = set()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for number in range(50):
                ident, echoed = bridge.run(functools.partial(served_by, number=number))
                assert echoed == number
                drivers.add(ident)
        except BaseException as exc:  # reported below
            errors.append(exc)

    async def in_a_loop() -> None:
        work()

    with bridge:
        threads = [threading.Thread(target=work) for _ in range(16)]
        threads += [threading.Thread(target=uvloop.run, args=(in_a_loop(),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert isinstance(bridge.loop, uvloop.Loop)
        assert errors == []
        assert len(drivers) > 1
    assert bridge.loop.is_closed()
