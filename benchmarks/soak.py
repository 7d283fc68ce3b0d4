"""A bounded soak: many requests, injected faults, and nothing leaks.

Run with ``uv run nox -s soak`` (every phase on asyncio's loop and on uvloop) or ``uv run
python -m benchmarks.soak [--quick] [--json PATH] [--loop asyncio|uvloop|both] [--phases
async,h2,sync,ws]`` (``--loop`` chooses the event loop of the async, h2 and ws phases,
``both`` runs each of them on both loops; the sync phase's ``Session`` runs its own loops).

Phases, each against loopback servers only and each with a time bound (``PHASE_DEADLINE``,
``H2_DEADLINE``):

1. ``async``: 200,000 GETs at concurrency 256 through ONE ``AsyncSession`` against nginx.
2. ``h2``: 200,000 GETs at concurrency 256 through ONE ``AsyncSession(http2=True)`` against
   nginx over TLS (ALPN h2), whose ``keepalive_requests`` makes it send GOAWAY every
   10,000 requests of a connection: the requests above the GOAWAY's last stream are resent
   by the pool on a new connection. nginx logs every request it served, and the phase
   checks that log too: each request served exactly once, one connection per 10,000
   requests, each of them ended by a GOAWAY (the last one excepted when the count is not
   a multiple), and the server's statuses match the client's outcomes.
3. ``sync``: 100,000 GETs through ONE ``reqivo_sync.Session`` shared by 64 threads.
4. ``ws``: 1,000 concurrent ``AsyncWebSocket`` connections to a ``websockets`` echo server
   (in a subprocess), each exchanging messages, then closed with code 1000.

In the HTTP phases 1.5% of requests go to nginx's fault endpoints (``benchmarks/_nginx.py``
serves them always): 0.5% to ``/fault/close`` (nginx's ``return 444``: on HTTP/1.1 it
closes the connection without a response, a ``RemoteProtocolError``; on HTTP/2 it resets
the stream with ``PROTOCOL_ERROR``, a ``RemoteProtocolError`` naming the code, and the
connection goes on), 0.5% to ``/fault/503`` (a 503 response, not an exception) and 0.5%
to ``/fault/slow/64m`` (1 KiB/s) with a 0.25 s read timeout (a ``ReadTimeout``; on HTTP/2
the stream alone is reset). The other requests fetch ``/1k`` and check its length (and
``http_version``). Every request must end with the outcome its kind expects
(``EXPECTED_HTTP1``, ``EXPECTED_H2``), as many times as the phase sent that kind: any
other outcome fails the phase.

``--quick`` runs a tenth of the requests (a quarter of the WebSockets) and a GOAWAY every
1,000 requests, so that the h2 phase still crosses 20 GOAWAYs.

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
import functools
import gc
import json
import math
import os
import re
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
from reqivo_async import AsyncSession, Limits, RemoteProtocolError, Response, Timeout

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
    # Traced memory and RSS between 25% and 100% of the requests. The uvloop HTTP/1.1
    # phase comes closest (7-9.5 MiB of RSS after the phases before it, flat when run
    # alone): a failed request leaves its exception, traceback, frames and uvloop transport
    # in a reference cycle until a full collection, and the heap keeps the pages.
    "growth_mib": 8.0,
}
#: One fault every FAULT_EVERY requests of each kind (3 kinds: 1.5% of requests).
FAULT_EVERY = 200
#: Request ``index`` with ``index % FAULT_EVERY`` in this table is a fault: slot -> (kind, path).
FAULTS = {1: ("close", "/fault/close"), 2: ("503", "/fault/503"), 3: ("slow", "/fault/slow/64m")}
SLOW_TIMEOUT = 0.25
#: The slow fault's timeouts: only the read is short (a connect or a wait for a free
#: connection of the pool, slow on a loaded machine, is not the fault under test).
SLOW = Timeout(10.0, read=SLOW_TIMEOUT)
PHASE_DEADLINE = 240.0
#: The h2 phase's bound: as many requests as the async phase, each also through TLS and
#: the HTTP/2 framing, and 20 connections to open (about 100 s on a busy 2-core machine).
H2_DEADLINE = 360.0
#: nginx's ``keepalive_requests`` in the h2 phase: a GOAWAY every this many requests.
GOAWAY_EVERY = 10_000
#: The one outcome each kind of request may have over HTTP/1.1.
EXPECTED_HTTP1 = {
    "ok": "ok: 200",
    "503": "503: status 503",
    "close": "close: RemoteProtocolError",  # no response, the connection closed
    "slow": "slow: ReadTimeout",
}
#: Over HTTP/2 nginx's ``return 444`` resets the stream: it sets the connection's
#: ``timedout`` flag, which its HTTP/2 module answers with ``RST_STREAM PROTOCOL_ERROR``.
EXPECTED_H2 = EXPECTED_HTTP1 | {"close": "close: RemoteProtocolError (PROTOCOL_ERROR)"}
#: The error code a stream reset names in its message ("the server reset stream 3 (CODE)").
_RESET_CODE = re.compile(r"reset stream \d+ \((\w+)\)")


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
    #: The outcome each kind of request must have (HTTP phases): kind -> outcome.
    expected: dict[str, str] = field(default_factory=dict)
    #: What the server logged (h2 phase): requests, connections, GOAWAYs, statuses.
    server: dict[str, Any] = field(default_factory=dict)
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
    if result.expected:
        _check_outcomes(result)


def planned_kinds(planned: int) -> Counter[str]:
    """How many requests of each kind ``_target`` makes of requests ``0..planned-1``."""
    kinds = Counter(
        {kind: len(range(slot, planned, FAULT_EVERY)) for slot, (kind, _) in FAULTS.items()}
    )
    kinds["ok"] = planned - sum(kinds.values())
    return kinds


def _check_outcomes(result: PhaseResult) -> None:
    """Every outcome is the one its kind expects, and each kind ran as often as planned."""
    allowed = set(result.expected.values())
    for outcome, count in sorted(result.outcomes.items()):
        if outcome not in allowed:
            result.failures.append(f"unexpected outcome {outcome!r} ({count:,} times)")
    if result.completed == result.planned:
        for kind, count in planned_kinds(result.planned).items():
            got = result.outcomes[result.expected[kind]]
            if got != count:
                result.failures.append(f"{kind}: {got:,} expected outcomes of {count:,}")


def _target(index: int, base: str) -> tuple[str, str, Timeout | None]:
    """(kind, url, timeout) of request ``index``: mostly /1k, 1.5% to a fault endpoint."""
    fault = FAULTS.get(index % FAULT_EVERY)
    if fault is None:
        return "ok", base + "/1k", None
    kind, path = fault
    return kind, base + path, SLOW if kind == "slow" else None


def _classify(kind: str, response: Response, version: str = "HTTP/1.1") -> str:
    """The outcome of a request of ``kind`` that got ``response`` (expected on ``version``)."""
    status, body_length = response.status_code, len(response.content)
    if response.http_version != version:
        return f"{kind}: {response.http_version}, status {status}"
    if kind in ("ok", "slow") and status == 200 and (kind == "slow" or body_length == 1024):
        return f"{kind}: 200"
    return f"{kind}: status {status}" + ("" if status != 200 else f" ({body_length} B)")


def _failed(kind: str, exc: Exception) -> str:
    """The outcome of a request of ``kind`` that raised ``exc``: its class, and the error
    code when the server reset an HTTP/2 stream."""
    outcome = f"{kind}: {type(exc).__name__}"
    if isinstance(exc, RemoteProtocolError):
        code = _RESET_CODE.search(str(exc))
        if code is not None:
            outcome += f" ({code[1]})"
    return outcome


# -- async ---------------------------------------------------------------------------------


async def _async_phase(
    base: str,
    result: PhaseResult,
    concurrency: int,
    version: str = "HTTP/1.1",
    seconds: float = PHASE_DEADLINE,
    **options: Any,
) -> None:
    """``result.planned`` requests to ``base`` at ``concurrency`` through one AsyncSession
    (``options`` go to it), for ``seconds`` at most; the responses must be of ``version``."""
    counter = iter(range(result.planned))
    quarter = result.planned // 4
    deadline = time.monotonic() + seconds

    async with AsyncSession(
        timeout=Timeout(10.0),
        limits=Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        trust_env=False,
        **options,
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
                    outcome = _classify(kind, response, version)
                except Exception as exc:  # every failure is counted, by class
                    outcome = _failed(kind, exc)
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
    result = PhaseResult(
        f"async: 1 AsyncSession, concurrency {concurrency}, {loop}",
        requests,
        expected=EXPECTED_HTTP1,
    )

    async def main() -> None:
        await _warm_loop(nginx.host, nginx.port)
        result.before = snapshot()
        await _async_phase(nginx.url, result, concurrency)
        await asyncio.sleep(0)  # let closed transports run their connection_lost callbacks
        result.after = snapshot()

    run_on(loop, main())
    check(result)
    return result


# -- HTTP/2 --------------------------------------------------------------------------------


def run_h2(
    nginx: Nginx, requests: int, concurrency: int, goaway_every: int, loop: str = "asyncio"
) -> PhaseResult:
    """Phase 2: ``requests`` GETs at ``concurrency`` through one ``AsyncSession`` over TLS
    h2, against an nginx started with ``keepalive_requests=goaway_every`` and its access
    log on (``start_nginx(tls=True, keepalive_requests=..., access_log=True)``)."""
    result = PhaseResult(
        f"h2: 1 AsyncSession over TLS h2, concurrency {concurrency}, "
        f"GOAWAY every {goaway_every:,} requests, {loop}",
        requests,
        expected=EXPECTED_H2,
    )
    log_start = os.path.getsize(nginx.access_log)

    async def main() -> None:
        await _warm_loop(nginx.host, nginx.https_port)
        result.before = snapshot()
        await _async_phase(
            nginx.https_url,
            result,
            concurrency,
            "HTTP/2",
            H2_DEADLINE,
            http2=True,
            verify=nginx.ca_bundle,
        )
        await asyncio.sleep(0)
        result.after = snapshot()

    run_on(loop, main())
    check(result)
    check_server(result, nginx, log_start, goaway_every)
    return result


def _served_lines(nginx: Nginx, start: int, wanted: int) -> list[list[str]]:
    """The access-log lines of the HTTPS port from byte ``start`` on; waits (5 s at most)
    for ``wanted`` of them: nginx logs a request when its stream ends, which for a stream
    we reset can come after our session closed."""
    port = str(nginx.https_port)
    deadline = time.monotonic() + 5.0
    while True:
        with open(nginx.access_log, "rb") as log:
            log.seek(start)
            lines = [line.split() for line in log.read().decode().splitlines()]
        lines = [fields for fields in lines if fields[0] == port]
        if len(lines) >= wanted or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def check_server(result: PhaseResult, nginx: Nginx, log_start: int, goaway_every: int) -> None:
    """Compare what nginx served with what the client saw (access-log fields:
    ``_nginx.ACCESS_LOG_FIELDS``): each request served once, one connection per
    ``goaway_every`` requests and a GOAWAY for each full one, the same statuses."""
    lines = _served_lines(nginx, log_start, result.completed)
    per_connection: Counter[str] = Counter()
    served: Counter[str] = Counter()
    for _port, connection, _requests, status, _bytes, uri in lines:
        per_connection[connection] += 1
        served[f"{uri} {status}"] += 1
    # nginx serves the request that reaches keepalive_requests, then sends GOAWAY (its
    # last stream): a connection with goaway_every requests is one that got a GOAWAY.
    goaways = sum(1 for count in per_connection.values() if count == goaway_every)
    result.server = {
        "requests": len(lines),
        "connections": len(per_connection),
        "goaways": goaways,
        "most_on_one_connection": max(per_connection.values(), default=0),
        "served": dict(sorted(served.items())),
    }
    problems = result.failures
    if len(lines) != result.completed:
        problems.append(
            f"nginx served {len(lines):,} requests, the client made {result.completed:,}"
        )
    expected_connections = math.ceil(result.completed / goaway_every)
    if len(per_connection) != expected_connections or goaways != result.completed // goaway_every:
        problems.append(
            f"{len(per_connection)} connections and {goaways} GOAWAYs for "
            f"{result.completed:,} requests (expected {expected_connections} and "
            f"{result.completed // goaway_every})"
        )
    outcomes = result.outcomes
    for kind, path in [("ok", "/1k"), *[(kind, path) for kind, path in FAULTS.values()]]:
        client = outcomes[result.expected[kind]]
        server = sum(count for line, count in served.items() if line.startswith(path + " "))
        if client != server:
            problems.append(f"{kind}: the client counted {client:,}, nginx served {server:,}")


# -- sync ----------------------------------------------------------------------------------


def run_sync(nginx: Nginx, requests: int, threads: int) -> PhaseResult:
    """Phase 3: ``requests`` GETs through one ``reqivo_sync.Session`` shared by ``threads``."""
    from reqivo_sync import Session

    result = PhaseResult(f"sync: 1 Session, {threads} threads", requests, expected=EXPECTED_HTTP1)
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
                outcome = _classify(kind, response)
            except Exception as exc:  # every failure is counted, by class
                outcome = _failed(kind, exc)
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
    """Phase 4: ``connections`` concurrent WebSockets, ``messages`` echoes each, then close."""
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
        print(f"  {outcome:44} {count:>9,}")
    if result.before and result.after:
        print(f"  before: {result.before}")
        print(f"  after:  {result.after}")
    if result.traced_at_100:
        print(
            f"  at 25% / 100% of the requests: traced {result.traced_at_25} / "
            f"{result.traced_at_100} MiB, RSS {result.rss_at_25} / {result.rss_at_100} MiB"
        )
    if result.server:
        server = result.server
        print(
            f"  nginx served {server['requests']:,} requests on {server['connections']} "
            f"connections, {server['goaways']} of them ended by a GOAWAY (at most "
            f"{server['most_on_one_connection']:,} requests on one)"
        )
        for line, count in server["served"].items():
            print(f"    {line:30} {count:>9,}")
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
    parser.add_argument("--phases", default="async,h2,sync,ws")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument(
        "--loop",
        choices=(*LOOPS, "both"),
        default="asyncio",
        help="event loop of the async, h2 and ws phases (both: each phase on each loop)",
    )
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    phases = args.phases.split(",")
    unknown = set(phases) - {"async", "h2", "sync", "ws"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    loops: tuple[str, ...] = LOOPS if args.loop == "both" else (args.loop,)
    goaway_every = GOAWAY_EVERY // scale
    _raise_fd_limit(8192)
    results: list[PhaseResult] = []
    # Phases and their warm-ups (outside the measurements: imports, caches, the
    # allocator's first arenas, each loop's first run).
    runners: list[Callable[[], PhaseResult]] = []
    warm_ups: list[Callable[[], PhaseResult]] = []
    with contextlib.ExitStack() as servers:
        nginx = h2_nginx = None
        if {"async", "sync"} & set(phases):
            nginx = servers.enter_context(start_nginx())
        if "h2" in phases:
            h2_nginx = servers.enter_context(
                start_nginx(tls=True, keepalive_requests=goaway_every, access_log=True)
            )
        for loop in loops:
            if nginx is not None and "async" in phases:
                runners.append(functools.partial(run_async, nginx, 200_000 // scale, 256, loop))
                warm_ups.append(functools.partial(run_async, nginx, 2_000, 64, loop))
            if h2_nginx is not None:
                runners.append(
                    functools.partial(run_h2, h2_nginx, 200_000 // scale, 256, goaway_every, loop)
                )
                warm_ups.append(functools.partial(run_h2, h2_nginx, 2_000, 64, goaway_every, loop))
        if nginx is not None and "sync" in phases:
            runners.append(functools.partial(run_sync, nginx, 100_000 // scale, 64))
            warm_ups.append(functools.partial(run_sync, nginx, 1_000, 8))
        for warm_up in warm_ups:
            warm_up()
        if not args.no_tracemalloc:
            tracemalloc.start(1)
        for runner in runners:
            results.append(runner())
            _print(results[-1])
        tracemalloc.stop()
    if "ws" in phases:
        for loop in loops:
            results.append(run_ws(1_000 // (scale if scale == 1 else 4), 20, loop))
            _print(results[-1])
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
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
