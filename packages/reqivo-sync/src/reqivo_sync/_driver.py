"""``Driver``: a Session's calls run in the calling thread, without an event loop (ADR-015).

A ``Session`` whose pool does blocking I/O (``AsyncConnectionPool(blocking=True)``: plain
HTTP/1.1, the default) runs its ``AsyncSession`` here instead of through the bridge. Each
call makes the session's coroutine and *drives* it: one ``send(None)``, which runs it to
the end, because nothing under it suspends (its connections block on their sockets, its
waits are the pool's thread waiters). So policy stays reqivo-async's, written once, and a
call costs no event loop, no task and no thread switch. Threads call at the same time,
each in itself; the pool shares connections among them under its lock.

``drive`` hides a running event loop of the calling thread for the call (a blocking call
inside ``async def`` blocks that loop anyway): code under it then never mistakes the
caller's loop for its own (``run_blocking`` runs the user's hooks in place).

Lifetime, as the bridge's: ``close()`` refuses new calls, waits for those in progress
(not for one the closing thread itself is inside: a hook that closes its Session), then
closes the pool. After ``os.fork()``, the child's first call builds a fresh session and
pool (``Twin.fresh``); the parent's connections are left to it, never closed by the child.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from reqivo_sync._bridge import _closed_error
from reqivo_sync._wrapper import Twin

__all__ = ["Driver", "drive"]

R = TypeVar("R")
T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_set_running_loop = asyncio._set_running_loop
_get_ident = threading.get_ident

#: How often ``close()`` looks whether the calls in progress have ended (seconds).
CLOSE_POLL = 0.005

#: Incremented in a forked child: a driver made before sees that it was forked.
_forks = 0


def _after_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork)


class Suspended(RuntimeError):
    """A driven coroutine waited for an event loop (a bug: nothing under it may)."""


def drive(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to its end in this thread; it must not suspend (see the module).

    The end of an async generator (``StopAsyncIteration``) propagates.
    """
    coroutine = awaitable.__await__()
    running = _get_running_loop()
    if running is not None:
        _set_running_loop(None)
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        if running is not None:
            _set_running_loop(running)
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
    raise Suspended("a blocking call waited for an event loop")


class Driver(Generic[R]):
    """Runs calls on ``twin``'s object in the calling threads (see the module).

    No lock on the call path (threads would queue on it behind the GIL): the threads with a
    call in progress are the keys of a dict, each with its nesting depth (each thread writes
    only its own key; a dict's single operations are atomic); ``close()`` polls it.
    """

    def __init__(self, twin: Twin[R], closer: Callable[[R], Coroutine[Any, Any, None]]) -> None:
        self._twin = twin
        self._closer = closer
        self._forks = _forks
        self._fork_lock = threading.Lock()
        self._calling: dict[int, int] = {}
        self.closed = False

    def _current(self) -> R:
        twin = self._twin
        if self._forks != _forks:  # a forked child: the parent's pool is not ours
            with self._fork_lock:
                if self._forks != _forks:
                    self._forks = _forks
                    self._calling.clear()
                    twin.current = twin.fresh()
        twin.used = True
        return twin.current

    def run(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        """``fn(resource)`` driven to its end in this thread."""
        if self.closed:
            raise _closed_error()
        me = _get_ident()
        calling = self._calling
        level = calling.get(me, 0)
        calling[me] = level + 1
        try:
            return drive(fn(self._current()))
        finally:
            if level:
                calling[me] = level
            else:
                calling.pop(me, None)  # a forked child's first call cleared the dict

    def close(self) -> None:
        """Refuse calls, wait for those in progress in other threads, close the resource."""
        if self.closed:
            return
        self.closed = True
        calling = self._calling
        me = threading.get_ident()
        while calling and calling.keys() != {me}:
            time.sleep(CLOSE_POLL)
        if self._twin.used or self._forks == _forks:
            drive(self._closer(self._current()))
