"""What every asyncio protocol of ours shares: write flow control and the end of the
connection.

Theory of operation
-------------------

``FlowProtocol`` is the base of the HTTP/1.1 protocol (``_http11.HTTP11Protocol``) and
of the WebSocket protocol that replaces it after ``101 Switching Protocols``. asyncio
tells a protocol to stop writing (``pause_writing``) when the transport's buffer passes
its high-water mark, and to go on (``resume_writing``) when it drains; the writer
checks ``write_paused`` after each write and awaits ``wait_writable`` only while it is
set (no future on the common path). ``connection_lost`` records that the transport is
gone (``lost``, and ``error`` when it failed) and wakes whoever waits for draining or for
the end (``wait_lost``: a graceful close waits for the peer to finish).

Waiters are plain futures resolved to ``True`` by ``wake`` (the event came) or to
``False`` by ``expire`` (a ``loop.call_later`` timeout): no task, no ``wait_for``.
Subclasses keep their own read waiters and use the same two helpers.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["FlowProtocol", "expire", "wake"]


def wake(waiter: asyncio.Future[Any] | None) -> None:
    """Resolve ``waiter`` to ``True`` unless it is gone or already done."""
    if waiter is not None and not waiter.done():
        waiter.set_result(True)


def expire(waiter: asyncio.Future[bool]) -> None:
    """Resolve ``waiter`` to ``False`` (its timeout passed) unless already done."""
    if not waiter.done():
        waiter.set_result(False)


class FlowProtocol(asyncio.Protocol):
    """An ``asyncio.Protocol`` with write flow control and end-of-connection waits.

    ``write_paused`` is set while the transport wants no more data; ``lost`` once the
    transport is gone, ``error`` then being why if it failed. Subclasses overriding
    ``connection_lost`` call ``super().connection_lost(exc)`` first.
    """

    #: False for a protocol fed without an event loop (``_blocking_io``).
    needs_loop = True

    def __init__(self, *, write_paused: bool = False) -> None:
        self.loop: asyncio.AbstractEventLoop = (
            asyncio.get_running_loop() if self.needs_loop else None  # type: ignore[assignment]
        )
        #: Whether the transport asked us to stop writing until it drains.
        self.write_paused = write_paused
        self.lost = False
        self.error: BaseException | None = None
        self._drain_waiter: asyncio.Future[bool] | None = None
        self._lost_waiter: asyncio.Future[bool] | None = None

    # -- asyncio callbacks -----------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if exc is not None:
            self.error = exc
        wake(self._drain_waiter)
        wake(self._lost_waiter)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        wake(self._drain_waiter)

    # -- waiting ---------------------------------------------------------------------

    async def wait_writable(self, seconds: float | None) -> bool:
        """Wait until the transport drained (or is gone); False if ``seconds`` passed."""
        if not self.write_paused or self.lost:
            return True
        return await self._wait("_drain_waiter", seconds)

    async def wait_lost(self, seconds: float | None) -> bool:
        """Wait until the transport is gone; False if ``seconds`` passed first."""
        if self.lost:
            return True
        return await self._wait("_lost_waiter", seconds)

    async def _wait(self, slot: str, seconds: float | None) -> bool:
        loop = self.loop
        waiter: asyncio.Future[bool] = loop.create_future()
        setattr(self, slot, waiter)
        handle = None if seconds is None else loop.call_later(seconds, expire, waiter)
        try:
            return await waiter
        finally:
            setattr(self, slot, None)
            if handle is not None:
                handle.cancel()
