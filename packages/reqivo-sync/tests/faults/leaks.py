"""Leak checks for the fault matrix: file descriptors, threads, asyncio tasks, pool state.

``Baseline()`` records the process's open file descriptors (``/proc/self/fd``) and live
threads; ``Baseline.assert_back()`` fails, naming what is left over, unless both are back
to what they were. It is called after the client, its event loop and the raw servers
are closed: a descriptor or thread still there then is a leak. Threads and descriptors
are released asynchronously by some owners (a thread's last instructions, a transport's
``connection_lost`` callback), so the check polls for up to ``grace`` seconds before it
fails; it never calls ``gc.collect()``, which would close (and so hide) an unreferenced
socket that nobody closed.

``pool_state(pool)`` reads an ``AsyncConnectionPool``'s public counters.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Baseline", "PoolState", "assert_no_tasks", "open_fds", "pool_state"]

_FD_DIR = "/proc/self/fd"


def open_fds() -> dict[int, str]:
    """Open file descriptors of this process and what each points to."""
    fds: dict[int, str] = {}
    for name in os.listdir(_FD_DIR):
        try:
            fds[int(name)] = os.readlink(f"{_FD_DIR}/{name}")
        except OSError:  # the descriptor listdir itself used, closed meanwhile
            continue
    return fds


def _threads() -> dict[int, str]:
    return {t.ident: t.name for t in threading.enumerate() if t.ident is not None}


@dataclass(slots=True)
class Baseline:
    """What was open before a test case; ``assert_back()`` after closing everything."""

    fds: dict[int, str] = field(default_factory=open_fds)
    threads: dict[int, str] = field(default_factory=_threads)

    def leftovers(self) -> tuple[dict[int, str], dict[int, str]]:
        """Descriptors and threads opened since the baseline and still open."""
        fds = {fd: target for fd, target in open_fds().items() if fd not in self.fds}
        threads = {i: name for i, name in _threads().items() if i not in self.threads}
        return fds, threads

    def assert_back(self, grace: float = 2.0) -> None:
        """Fail unless every descriptor and thread opened since the baseline is gone."""
        deadline = time.monotonic() + grace
        while True:
            fds, threads = self.leftovers()
            if not fds and not threads:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"leaked file descriptors {fds} and threads {threads}")
            time.sleep(0.01)


@dataclass(frozen=True, slots=True)
class PoolState:
    """The public counters of a connection pool, and the states of its connections."""

    idle: int
    active: int
    states: tuple[str, ...]


def pool_state(pool: Any) -> PoolState:
    """``idle_connections``, ``active_connections`` and ``connections`` of ``pool``."""
    return PoolState(
        pool.idle_connections,
        pool.active_connections,
        tuple(info.state for info in pool.connections),
    )


def assert_no_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Fail if ``loop`` (not running now) still has unfinished tasks."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    assert not pending, f"leaked asyncio tasks: {pending}"
