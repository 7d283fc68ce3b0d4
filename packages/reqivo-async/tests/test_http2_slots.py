"""Streams for requests that arrive while others queue or were just given one.

A request queued for a stream is woken when one frees (or the server's SETTINGS raise
the limit) and counted as reserved until it runs. A request arriving in that window
used to queue behind the reserved ones even with streams free, and then waited for the
next stream to end (a read timeout when none did: three concurrent requests at a
connection's start, in threads, met it one run in twenty under load).
"""

from __future__ import annotations

import asyncio
from typing import Any

from reqivo_async import AsyncSession
from servers.fixtures import H2RawServerFactory
from servers.h2raw import Handshake, ReadRequest, Repeat, Respond


def _h2(session: AsyncSession) -> Any:
    """The pool's one HTTP/2 connection."""
    pool: Any = session._transport
    (connections,) = pool._h2.values()
    (connection,) = connections
    return connection._http


async def test_a_request_takes_a_free_stream_while_woken_ones_have_not_run(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), Repeat((ReadRequest(), Respond(body=b"ok")))])
    async with AsyncSession(http1=False, http2=True, base_url=server.url, timeout=5) as session:
        assert (await session.get("/warm")).content == b"ok"
        http = _h2(session)
        # The window between a wake and the woken request's turn: one stream reserved
        # for it, 2**31 - 1 others free.
        http._reserved = 1
        try:
            response = await asyncio.wait_for(session.get("/now"), 2)
        finally:
            http._reserved = 0
        assert response.content == b"ok"
