"""The answers a server's frames call for (PING and SETTINGS acknowledgements) while our
transport is full: held in the machine (bounded by its ``max_queued_acks``) until the
transport drains, never piled up in the transport's buffer. asyncio's ``pause_writing``
and ``resume_writing`` are called as asyncio calls them when the buffer passes its marks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hyperframe.frame import PingFrame

from reqivo_async import AsyncSession
from reqivo_protocol.http2 import ControlFrameFlood, ErrorCode
from servers.fixtures import H2RawServerFactory
from servers.h2raw import H2Step, Handshake, ReadRequest, ReadUntilEOF, Respond, Send, Sleep


def _h2(session: AsyncSession) -> Any:
    """The pool's one HTTP/2 connection."""
    pool: Any = session._transport
    (connections,) = pool._h2.values()
    (connection,) = connections
    return connection._http


def _acks(server: Any) -> int:
    return sum(1 for f in server.frames_of(PingFrame) if "ACK" in f.flags)


async def _until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_answers_wait_while_the_transport_is_full(h2_raw_server: H2RawServerFactory) -> None:
    pings = PingFrame(0, b"pingping").serialize() * 100
    server = h2_raw_server(
        [Handshake(), ReadRequest(), Respond(body=b"a"), Sleep(0.2), Send(pings), ReadUntilEOF()]
    )
    async with AsyncSession(http1=False, http2=True, base_url=server.url, timeout=5) as session:
        assert (await session.get("/a")).content == b"a"
        http = _h2(session)
        http.protocol.pause_writing()
        await _until(lambda: http.machine.data_pending)  # the PINGs came: answers held
        await asyncio.sleep(0.2)
        assert _acks(server) == 0
        http.protocol.resume_writing()
        await _until(lambda: _acks(server) == 100)
        assert not http.machine.data_pending


async def test_a_full_transport_and_a_flood_end_the_connection(
    h2_raw_server: H2RawServerFactory,
) -> None:
    # Rounds of PINGs, each read apart: 1,000 acknowledgements (17,000 bytes) fit the
    # machine's queue; a few rounds with the transport still full do not.
    rounds: list[H2Step] = [Send(PingFrame(0, b"pingping").serialize() * 1000), Sleep(0.05)] * 8
    server = h2_raw_server(
        [Handshake(), ReadRequest(), Respond(body=b"a"), ReadRequest(), *rounds, ReadUntilEOF()],
        [Handshake(), ReadRequest(), Respond(body=b"again")],
    )
    async with AsyncSession(http1=False, http2=True, base_url=server.url, timeout=5) as session:
        assert (await session.get("/a")).content == b"a"
        http = _h2(session)
        http.protocol.pause_writing()
        with pytest.raises(ControlFrameFlood) as info:
            await session.get("/b")
        assert info.value.limit_name == "max_queued_acks"
        assert info.value.error_code == ErrorCode.ENHANCE_YOUR_CALM
        assert _acks(server) == 0
        await _until(lambda: http.protocol.lost)  # aborted: what it held is dropped
        assert (await session.get("/c")).content == b"again"
