"""A bounded soak: many requests, injected faults, and nothing leaks.

Run with ``uv run nox -s soak`` or ``uv run python -m benchmarks.soak [--quick] [--json PATH]
[--loop uvloop]`` (``--loop`` chooses the event loop of the async and ws phases; the sync
phase's ``Session`` runs its own loops).

Phases, each against loopback servers only and each with a time bound:

1. ``async``: 200,000 GETs at concurrency 256 through ONE ``AsyncSession`` against nginx.
2. ``sync``: 100,000 GETs through ONE ``reqivo_sync.Session`` shared by 64 threads.
3. ``ws``: 1,000 concurrent ``AsyncWebSocket`` connections to a ``websockets`` echo server
   (in a subprocess), each exchanging messages, then closed with code 1000.

In the HTTP phases 1.5% of requests go to nginx's fault endpoints (``benchmarks/_nginx.py``
serves them always): 0.5% to ``/fault/close`` (nginx closes without a response: a
``RemoteProtocolError``), 0.5% to ``/fault/503`` (a 503 response, not an exception) and
0.5% to ``/fault/slow/64m`` (1 KiB/s) with a 0.25 s read timeout (a ``ReadTimeout``). The
other requests fetch ``/1k`` and check its length.

Each phase records open file descriptors (``/proc/self/fd``), RSS, tracemalloc's traced
memory, asyncio tasks and threads before the session is created and after it is closed,
plus traced memory at 25% and at 100% of the requests (session still open), and fails when
they do not end where they started, within ``TOLERANCE``. tracemalloc runs through the
HTTP phases (it costs throughput: the rates printed here are not benchmark figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks._harness import LOOPS, run_on
from benchmarks._nginx import Nginx, start_nginx
from reqivo_async import AsyncSession, Limits, Timeout

#: Allowed differences between the start and the end of a phase.
TOLERANCE = {
    "fds": 0,  # every socket, selector and self-pipe is closed
    "tasks": 0,
    "threads": 0,
    # RSS after malloc_trim: pymalloc keeps partly used arenas and glibc keeps the arenas
    # of the 64 worker threads (fragmentation, not a leak: traced memory is back to its
    # start); the leak criterion is the growth between 25% and 100% of the requests.
    "rss_mib": 24.0,
    "traced_mib": 2.0,  # Python objects still alive after gc, session closed
    "growth_mib": 8.0,  # traced memory and RSS between 25% and 100% of the requests
}
#: One fault every FAULT_EVERY requests of each kind (3 kinds: 1.5% of requests).
FAULT_EVERY = 200
SLOW_TIMEOUT = 0.25
PHASE_DEADLINE = 240.0


@dataclass
class Snapshot:
    """What the process holds at one moment."""

    fds: int
    rss_mib: float
    traced_mib: float
    tasks: int
    threads: int


@dataclass
class PhaseResult:
    """The figures of one phase."""

    name: str
    planned: int
    completed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    before: Snapshot | None = None
    after: Snapshot | None = None
    traced_at_25: float = 0.0
    traced_at_100: float = 0.0
    rss_at_25: float = 0.0
    rss_at_100: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tasks() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop
        return 0


def _trim() -> None:
    """Give freed heap memory back to the system (glibc), so that RSS shows live memory."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def snapshot() -> Snapshot:
    """Collect garbage, then count what the process holds.

    RSS is measured after ``malloc_trim`` and without tracemalloc's own bookkeeping.
    """
    gc.collect()
    _trim()
    overhead = tracemalloc.get_tracemalloc_memory() / 2**20 if tracemalloc.is_tracing() else 0
    traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else 0.0
    return Snapshot(
        fds=len(os.listdir("/proc/self/fd")),
        rss_mib=round(_rss_mib() - overhead, 1),
        traced_mib=round(traced, 2),
        tasks=_tasks(),
        threads=threading.active_count(),
    )


async def _warm_loop(host: str, port: int) -> None:
    """Open and close one TCP connection before the baseline: a loop's one-time resources
    are not the client's (uvloop opens one descriptor, kept until the loop closes, at its
    first TCP connection)."""
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def _checkpoint() -> tuple[float, float]:
    """(traced MiB, RSS MiB) in the middle of a phase, after gc and ``malloc_trim``."""
    at = snapshot()
    return at.traced_mib, at.rss_mib


def check(result: PhaseResult) -> None:
    """Compare the end of a phase with its start; record what exceeds the tolerance."""
    before, after = result.before, result.after
    assert before is not None and after is not None
    for name in ("fds", "tasks", "threads", "rss_mib", "traced_mib"):
        delta = getattr(after, name) - getattr(before, name)
        if delta > TOLERANCE[name]:
            result.failures.append(f"{name} grew by {delta:.2f} (tolerance {TOLERANCE[name]})")
    for what, growth in (
        ("traced memory", result.traced_at_100 - result.traced_at_25),
        ("RSS", result.rss_at_100 - result.rss_at_25),
    ):
        if growth > TOLERANCE["growth_mib"]:
            result.failures.append(f"{what} grew {growth:.2f} MiB from 25% to 100%")
    if result.completed < result.planned:
        result.failures.append(f"only {result.completed} of {result.planned} requests ran")


def _target(index: int, base: str) -> tuple[str, str, float | None]:
    """(kind, url, timeout) of request ``index``: mostly /1k, 1.5% to a fault endpoint."""
    slot = index % FAULT_EVERY
    if slot == 1:
        return "close", base + "/fault/close", None
    if slot == 2:
        return "503", base + "/fault/503", None
    if slot == 3:
        return "slow", base + "/fault/slow/64m", SLOW_TIMEOUT
    return "ok", base + "/1k", None


def _classify(kind: str, status: int, body_length: int) -> str:
    if kind in ("ok", "slow") and status == 200 and (kind == "slow" or body_length == 1024):
        return f"{kind}: 200"
    return f"{kind}: status {status}" + ("" if status != 200 else f" ({body_length} B)")


# -- async ---------------------------------------------------------------------------------


async def _async_phase(nginx: Nginx, result: PhaseResult, concurrency: int) -> None:
    base = nginx.url
    counter = iter(range(result.planned))
    quarter = result.planned // 4
    deadline = time.monotonic() + PHASE_DEADLINE

    async with AsyncSession(
        timeout=Timeout(10.0),
        limits=Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        trust_env=False,
    ) as session:

        async def worker() -> None:
            for index in counter:
                if time.monotonic() > deadline:
                    return
                kind, url, timeout = _target(index, base)
                try:
                    if timeout is None:
                        response = await session.get(url)
                    else:
                        response = await session.get(url, timeout=timeout)
                    outcome = _classify(kind, response.status_code, len(response.content))
                except Exception as exc:  # every failure is counted, by class
                    outcome = f"{kind}: {type(exc).__name__}"
                result.outcomes[outcome] += 1
                result.completed += 1
                if result.completed == quarter:
                    result.traced_at_25, result.rss_at_25 = _checkpoint()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
        result.traced_at_100, result.rss_at_100 = _checkpoint()


def run_async(nginx: Nginx, requests: int, concurrency: int, loop: str = "asyncio") -> PhaseResult:
    """Phase 1: ``requests`` GETs at ``concurrency`` through one AsyncSession on ``loop``."""
    result = PhaseResult(f"async: 1 AsyncSession, concurrency {concurrency}, {loop}", requests)

    async def main() -> None:
        await _warm_loop(nginx.host, nginx.port)
        result.before = snapshot()
        await _async_phase(nginx, result, concurrency)
        await asyncio.sleep(0)  # let closed transports run their connection_lost callbacks
        result.after = snapshot()

    run_on(loop, main())
    check(result)
    return result


# -- sync ----------------------------------------------------------------------------------


def run_sync(nginx: Nginx, requests: int, threads: int) -> PhaseResult:
    """Phase 2: ``requests`` GETs through one ``reqivo_sync.Session`` shared by ``threads``."""
    from reqivo_sync import Session

    result = PhaseResult(f"sync: 1 Session, {threads} threads", requests)
    base = nginx.url
    lock = threading.Lock()
    counter = iter(range(requests))
    quarter = requests // 4
    deadline = time.monotonic() + PHASE_DEADLINE
    result.before = snapshot()
    session = Session(
        timeout=Timeout(10.0),
        limits=Limits(max_connections=threads, max_keepalive_connections=threads),
        trust_env=False,
    )

    def worker() -> None:
        local: Counter[str] = Counter()
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            kind, url, timeout = _target(index, base)
            try:
                if timeout is None:
                    response = session.get(url)
                else:
                    response = session.get(url, timeout=timeout)
                outcome = _classify(kind, response.status_code, len(response.content))
            except Exception as exc:  # every failure is counted, by class
                outcome = f"{kind}: {type(exc).__name__}"
            local[outcome] += 1
            with lock:
                result.completed += 1
                if result.completed == quarter:
                    result.traced_at_25, result.rss_at_25 = _checkpoint()
        with lock:
            result.outcomes.update(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, name=f"soak-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result.elapsed = time.perf_counter() - started
    result.traced_at_100, result.rss_at_100 = _checkpoint()
    session.close()
    time.sleep(0.1)  # let the bridge's loop threads, if any, finish exiting
    result.after = snapshot()
    check(result)
    return result


# -- WebSocket -----------------------------------------------------------------------------

_ECHO_SERVER = """
import asyncio, resource
import websockets

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None, ping_interval=None,
                                backlog=2048, max_queue=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@contextlib.contextmanager
def _echo_server() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-c", _ECHO_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def run_ws(connections: int, messages: int, loop: str = "asyncio") -> PhaseResult:
    """Phase 3: ``connections`` concurrent WebSockets, ``messages`` echoes each, then close."""
    result = PhaseResult(
        f"ws: {connections} concurrent AsyncWebSocket x {messages} messages, {loop}", connections
    )
    try:
        from reqivo_ws import AsyncWebSocket
    except ImportError as exc:
        result.failures.append(f"reqivo_ws unavailable: {exc}")
        return result

    async def main(url: str) -> None:
        await _warm_loop("127.0.0.1", int(url.rsplit(":", 1)[1]))
        result.before = snapshot()
        opening = asyncio.Semaphore(64)  # connect in waves: the listen backlog is finite
        all_open = asyncio.Event()
        opened = 0
        deadline = PHASE_DEADLINE

        async def one(number: int) -> None:
            nonlocal opened
            ws = AsyncWebSocket(url, compression=None, ping_interval=None, open_timeout=30.0)
            try:
                async with opening:
                    await ws.connect()
                opened += 1
                if opened == connections:
                    all_open.set()
                await asyncio.wait_for(all_open.wait(), deadline)
                for turn in range(messages):
                    payload = f"{number}:{turn}" if turn % 2 else f"{number}:{turn}".encode()
                    await ws.send(payload)
                    if await ws.recv() != payload:
                        raise AssertionError("echo mismatch")
                await ws.close(1000)
                outcome = f"closed {ws.close_code}"
            except Exception as exc:  # every failure is counted, by class
                outcome = type(exc).__name__
                with contextlib.suppress(Exception):
                    await ws.close()
                all_open.set()  # do not keep the others waiting for a connection that failed
            result.outcomes[outcome] += 1
            result.completed += 1

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(one(n) for n in range(connections))), PHASE_DEADLINE
        )
        result.elapsed = time.perf_counter() - started
        result.after = snapshot()

    with _echo_server() as url:
        run_on(loop, main(url))
    if result.before and result.after:
        for name in ("fds", "tasks", "threads"):
            delta = getattr(result.after, name) - getattr(result.before, name)
            if delta > TOLERANCE[name]:
                result.failures.append(f"{name} grew by {delta}")
    if result.outcomes["closed 1000"] != connections:
        result.failures.append("not every connection exchanged its messages and closed 1000")
    return result


# -- report --------------------------------------------------------------------------------


def _print(result: PhaseResult) -> None:
    print(f"\n== {result.name}")
    print(
        f"completed {result.completed:,} of {result.planned:,} in {result.elapsed:.1f} s "
        f"({result.rate:,.0f}/s)"
    )
    for outcome, count in sorted(result.outcomes.items()):
        print(f"  {outcome:32} {count:>9,}")
    if result.before and result.after:
        print(f"  before: {result.before}")
        print(f"  after:  {result.after}")
    if result.traced_at_100:
        print(
            f"  at 25% / 100% of the requests: traced {result.traced_at_25} / "
            f"{result.traced_at_100} MiB, RSS {result.rss_at_25} / {result.rss_at_100} MiB"
        )
    print("  " + ("FAIL: " + "; ".join(result.failures) if result.failures else "OK"))


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main(argv: list[str] | None = None) -> int:
    """Run the phases; exit status 1 when any phase failed its checks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the counts")
    parser.add_argument("--phases", default="async,sync,ws")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument(
        "--loop", choices=LOOPS, default="asyncio", help="event loop of the async and ws phases"
    )
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    phases = args.phases.split(",")
    _raise_fd_limit(8192)
    # A warm-up, outside the measurements: imports, caches, the allocator's first arenas.
    results: list[PhaseResult] = []
    runners: list[Callable[[Nginx], PhaseResult]] = []
    if "async" in phases:
        runners.append(lambda nginx: run_async(nginx, 200_000 // scale, 256, args.loop))
    if "sync" in phases:
        runners.append(lambda nginx: run_sync(nginx, 100_000 // scale, 64))
    with start_nginx() as nginx:
        if runners:
            run_async(nginx, 2_000, 64, args.loop)
            run_sync(nginx, 1_000, 8)
        if not args.no_tracemalloc:
            tracemalloc.start(1)
        for runner in runners:
            results.append(runner(nginx))
            _print(results[-1])
    tracemalloc.stop()
    if "ws" in phases:
        results.append(run_ws(1_000 // (scale if scale == 1 else 4), 20, args.loop))
        _print(results[-1])
    if args.json:
        with open(args.json, "w") as out:
            json.dump([_jsonable(r) for r in results], out, indent=2)
    return 1 if any(r.failures for r in results) else 0


def _jsonable(result: PhaseResult) -> dict[str, Any]:
    data = asdict(result)
    data["outcomes"] = dict(result.outcomes)
    data["rate"] = round(result.rate, 1)
    return data


if __name__ == "__main__":
    raise SystemExit(main())
