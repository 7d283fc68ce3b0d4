"""The blocking ``Session`` called from a thread whose running loop is uvloop.

reqivo-sync keeps its own loops (standard asyncio); what must hold is that a caller's
running uvloop loop (an async service calling sync library code) breaks nothing.
"""

from __future__ import annotations

import asyncio
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
