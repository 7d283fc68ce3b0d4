"""Blocking HTTP clients against nginx on loopback: reqivo-sync, urllib3, requests, httpx,
pyreqwest's blocking client.

The sync issue's scenarios, side by side in one run:

- sequential keep-alive ``GET /1k`` (req/s), with reqivo-async's rate measured in the
  same run so that the sync wrapper's own cost shows (target: at most 35 % over async);
- 64 threads sharing ONE client, each doing sequential ``GET /1k`` (req/s);
- 64 MiB download, streamed (chunks iterated and dropped; MB/s, 1 MB = 10**6 bytes);
- 16 MiB upload from a ``bytes`` body (``POST /upload``; MB/s).

Each measurement runs for ``REQIVO_BENCH_SECONDS`` (default 2.5 s) on a fresh, warmed-up
client; ``REQIVO_BENCH_ROUNDS`` rounds (default 3) alternate the contenders' order. A ratio
is the median of the per-round ratios (each round's contenders ran back to back), shown with
its spread (lowest to highest round); a best round would overstate. urllib3 is the real
urllib3 2.x (niquests, which installs a module that shadows it, is not in this environment:
the label shows the version imported).

Every client may open up to 64 connections; in the threaded scenario a sampler counts the
established connections to nginx (from ``/proc/net/tcp``, Linux only; less those open
before the client was made) and the table shows the most seen at once, so that a limit that
is not honoured shows.

Run: ``uv run nox -s bench`` or ``uv run python -m benchmarks client_sync``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks._harness import Measurement
from benchmarks._nginx import NginxUnavailable, start_nginx

TITLE = (
    "Blocking HTTP clients against nginx on loopback "
    "(reqivo-sync vs urllib3, requests, httpx, pyreqwest)"
)

SECONDS = float(os.environ.get("REQIVO_BENCH_SECONDS", "2.5"))
ROUNDS = int(os.environ.get("REQIVO_BENCH_ROUNDS", "3"))
THREADS = 64
UPLOAD = bytes(range(256)) * (16 * 1024 * 1024 // 256)
DOWNLOAD_SIZE = 64 * 1024 * 1024
CHUNK = 64 * 1024

SEQUENTIAL = "sequential keep-alive GET 1 KiB"
THREADED = f"{THREADS} threads, one client, GET 1 KiB"
DOWNLOAD = "64 MiB download (streamed)"
UPLOAD_SCENARIO = "16 MiB upload (bytes body)"
SCENARIOS = [SEQUENTIAL, THREADED, DOWNLOAD, UPLOAD_SCENARIO]
UNITS = {SEQUENTIAL: "req/s", THREADED: "req/s", DOWNLOAD: "MB/s", UPLOAD_SCENARIO: "MB/s"}
#: The issue's targets: reqivo-sync's rate divided by the peer's, at least this much.
TARGETS = {
    (SEQUENTIAL, "urllib3"): 1.75,
    (SEQUENTIAL, "requests"): 3.0,
    (THREADED, "urllib3"): 2.0,
    (THREADED, "pyreqwest"): 0.5,
    (DOWNLOAD, "urllib3"): 1.0,
    (UPLOAD_SCENARIO, "urllib3"): 1.0,
}
#: The sync wrapper may cost at most this much over reqivo-async's sequential rate.
WRAPPER_BUDGET = 0.35


class ReqivoSync:
    """reqivo-sync ``Session``."""

    name = "reqivo"

    def __init__(self) -> None:
        from reqivo_sync import Limits, Session

        self.session = Session(limits=Limits(max_connections=THREADS))

    def get(self, url: str) -> int:
        return len(self.session.get(url).content)

    def stream(self, url: str) -> int:
        received = 0
        with self.session.stream("GET", url) as response:
            for chunk in response.iter_bytes():
                received += len(chunk)
        return received

    def post(self, url: str, body: bytes) -> int:
        return len(self.session.post(url, content=body).content)

    def close(self) -> None:
        self.session.close()


class Urllib3:
    """urllib3 ``PoolManager`` (one pool of up to 64 connections per host)."""

    name = "urllib3"

    def __init__(self) -> None:
        import urllib3

        self.pool = urllib3.PoolManager(maxsize=THREADS, block=False)

    def get(self, url: str) -> int:
        return len(self.pool.request("GET", url).data)

    def stream(self, url: str) -> int:
        response = self.pool.request("GET", url, preload_content=False)
        received = 0
        for chunk in response.stream(CHUNK):
            received += len(chunk)
        response.release_conn()
        return received

    def post(self, url: str, body: bytes) -> int:
        return len(self.pool.request("POST", url, body=body).data)

    def close(self) -> None:
        self.pool.clear()


class Requests:
    """requests ``Session`` (urllib3 underneath, with a pool of 64)."""

    name = "requests"

    def __init__(self) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_maxsize=THREADS))

    def get(self, url: str) -> int:
        return len(self.session.get(url).content)

    def stream(self, url: str) -> int:
        received = 0
        with self.session.get(url, stream=True) as response:
            for chunk in response.iter_content(CHUNK):
                received += len(chunk)
        return received

    def post(self, url: str, body: bytes) -> int:
        return len(self.session.post(url, data=body).content)

    def close(self) -> None:
        self.session.close()


class HttpxSync:
    """httpx ``Client`` (httpcore, blocking)."""

    name = "httpx"

    def __init__(self) -> None:
        import httpx

        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.session = httpx.Client(limits=limits)

    def get(self, url: str) -> int:
        return len(self.session.get(url).content)

    def stream(self, url: str) -> int:
        received = 0
        with self.session.stream("GET", url) as response:
            for chunk in response.iter_bytes():
                received += len(chunk)
        return received

    def post(self, url: str, body: bytes) -> int:
        return len(self.session.post(url, content=body).content)

    def close(self) -> None:
        self.session.close()


class PyreqwestSync:
    """pyreqwest's ``SyncClient`` (Rust reqwest/hyper), HTTP/1.1, up to 64 connections."""

    name = "pyreqwest"

    def __init__(self) -> None:
        from pyreqwest.client import SyncClientBuilder

        self.client = SyncClientBuilder().http1_only().max_connections(THREADS).build()

    def get(self, url: str) -> int:
        return len(self.client.get(url).build().send().bytes())

    def stream(self, url: str) -> int:
        received = 0
        with self.client.get(url).build_streamed() as response:
            reader = response.body_reader
            while (chunk := reader.read_chunk()) is not None:
                received += len(chunk)
        return received

    def post(self, url: str, body: bytes) -> int:
        return len(self.client.post(url).body_bytes(body).build().send().bytes())

    def close(self) -> None:
        # close() leaves the pooled connections open until the client is collected
        # (measured: all 64 still established 5 s later), which the next contender's
        # connection count would include.
        self.client.close()
        del self.client
        gc.collect()


PEERS: list[Callable[[], Any]] = [ReqivoSync, Urllib3, Requests, HttpxSync, PyreqwestSync]
#: The most connections to nginx seen at once in the threaded scenario, per contender.
PEAK_CONNECTIONS: dict[str, int] = {}


def _for_a_while(operation: Callable[[], int], seconds: float) -> tuple[int, int]:
    """Call ``operation`` until ``seconds`` passed: (calls, sum of what it returned)."""
    calls = total = 0
    deadline = time.perf_counter() + seconds
    while True:
        total += operation()
        calls += 1
        if time.perf_counter() >= deadline:
            return calls, total


def _established_to(port: int) -> int:
    """Established TCP connections whose far end is ``port`` on this host (Linux)."""
    wanted = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                next(file)
                for line in file:
                    fields = line.split()
                    if fields[2].endswith(wanted) and fields[3] == "01":
                        count += 1
        except OSError:
            continue
    return count


class _ConnectionSampler:
    """Samples the connections to a port every 50 ms in a thread; ``peak`` is the most,
    less ``baseline`` (connections open before the client was made: a previous client's
    that ``_settle`` did not see end, such as pyreqwest's, which close when collected)."""

    def __init__(self, port: int, baseline: int = 0) -> None:
        self.peak = 0
        self._baseline = baseline
        self._port = port
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _established_to(self._port) - self._baseline)

    def __enter__(self) -> _ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _threaded(client: Any, url: str, seconds: float) -> float:
    counts: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS + 1)

    def worker() -> None:
        start.wait()
        calls, received = _for_a_while(lambda: client.get(url), seconds)
        assert received == calls * 1024
        with lock:
            counts.append(calls)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def _settle(port: int, seconds: float = 3.0) -> None:
    """Wait until the previous contender's connections to ``port`` are gone (a client's
    ``close`` may end them in the background), so the peak counts this client's alone."""
    deadline = time.perf_counter() + seconds
    while _established_to(port) and time.perf_counter() < deadline:
        time.sleep(0.05)


def _measure_once(factory: Callable[[], Any], scenario: str, base: str, seconds: float) -> float:
    baseline = 0
    if scenario == THREADED:
        port = int(base.rsplit(":", 1)[1])
        _settle(port)
        baseline = _established_to(port)
    client = factory()
    try:
        if scenario == SEQUENTIAL:
            url = base + "/1k"
            _for_a_while(lambda: client.get(url), 0.2)
            started = time.perf_counter()
            calls, _ = _for_a_while(lambda: client.get(url), seconds)
            return calls / (time.perf_counter() - started)
        if scenario == THREADED:
            url = base + "/1k"
            _threaded(client, url, 0.2)
            with _ConnectionSampler(int(base.rsplit(":", 1)[1]), baseline) as sampler:
                rate = _threaded(client, url, seconds)
            name = client.name
            PEAK_CONNECTIONS[name] = max(PEAK_CONNECTIONS.get(name, 0), sampler.peak)
            return rate
        if scenario == DOWNLOAD:
            url = base + "/64m"
            assert client.stream(url) == DOWNLOAD_SIZE
            started = time.perf_counter()
            _, received = _for_a_while(lambda: client.stream(url), seconds)
            return received / (time.perf_counter() - started) / 1e6
        url = base + "/upload"
        client.post(url, UPLOAD)
        started = time.perf_counter()
        calls, _ = _for_a_while(lambda: client.post(url, UPLOAD), seconds)
        return calls * len(UPLOAD) / (time.perf_counter() - started) / 1e6
    finally:
        client.close()


def _async_sequential(base: str, seconds: float) -> float:
    """reqivo-async's sequential rate, for the wrapper-cost comparison."""
    from reqivo_async import AsyncSession

    async def run() -> float:
        url = base + "/1k"
        async with AsyncSession() as session:
            deadline = time.perf_counter() + 0.2
            while time.perf_counter() < deadline:
                await session.get(url)
            calls = 0
            started = time.perf_counter()
            deadline = started + seconds
            while True:
                await session.get(url)
                calls += 1
                if time.perf_counter() >= deadline:
                    return calls / (time.perf_counter() - started)

    return asyncio.run(run())


def _label(factory: Callable[[], Any]) -> str:
    name: str = factory.name  # type: ignore[attr-defined]
    if name == "reqivo":
        return "reqivo-sync"
    from importlib.metadata import version

    return f"{name} {version(name)}"


def measure_clients(base: str, seconds: float = SECONDS, rounds: int = ROUNDS) -> list[Measurement]:
    """Every scenario for every contender (and reqivo-async sequential), alternating."""
    results: dict[tuple[str, str], Measurement] = {}
    for scenario in SCENARIOS:
        for factory in PEERS:
            name = factory.name  # type: ignore[attr-defined]
            results[scenario, name] = Measurement(scenario, _label(factory), UNITS[scenario])
    results[SEQUENTIAL, "reqivo-async"] = Measurement(SEQUENTIAL, "reqivo-async", "req/s")
    for number in range(rounds):
        for scenario in SCENARIOS:
            shift = number % len(PEERS)
            for factory in PEERS[shift:] + PEERS[:shift]:
                gc.collect()
                rate = _measure_once(factory, scenario, base, seconds)
                results[scenario, factory.name].rates.append(rate)  # type: ignore[attr-defined]
                print(
                    f"  round {number + 1}/{rounds}  {scenario:<34} "
                    f"{factory.name:<12} {rate:>12,.1f} {UNITS[scenario]}",  # type: ignore[attr-defined]
                    flush=True,
                )
            if scenario == SEQUENTIAL:
                rate = _async_sequential(base, seconds)
                results[SEQUENTIAL, "reqivo-async"].rates.append(rate)
                print(f"  round {number + 1}/{rounds}  {SEQUENTIAL:<34} {'reqivo-async':<12} "
                      f"{rate:>12,.1f} req/s", flush=True)  # fmt: skip
    return list(results.values())


def _round_ratios(results: list[Measurement], scenario: str, peer: str) -> list[float]:
    """reqivo-sync's rate over ``peer``'s, round by round (they ran back to back)."""
    rates = {m.contender.split()[0]: m.rates for m in results if m.scenario == scenario}
    ours, theirs = rates.get("reqivo-sync", []), rates.get(peer, [])
    return [a / b for a, b in zip(ours, theirs, strict=False) if b]


def ratio_table(results: list[Measurement]) -> str:
    """Median per-round ratio of reqivo-sync to each peer, with spread, against the targets."""
    peers = ("urllib3", "requests", "httpx", "pyreqwest")
    lines = [f"{'scenario':<36} " + " ".join(f"{'reqivo/' + p:>30}" for p in peers)]
    for scenario in SCENARIOS:
        cells = []
        for peer in peers:
            ratios = _round_ratios(results, scenario, peer)
            if not ratios:
                cells.append(f"{'-':>30}")
                continue
            cell = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            target = TARGETS.get((scenario, peer))
            if target is not None:
                verdict = "ok" if statistics.median(ratios) >= target else "MISS"
                cell += f" >={target:g} {verdict}"
            cells.append(f"{cell:>30}")
        lines.append(f"{scenario:<36} " + " ".join(cells))
    if PEAK_CONNECTIONS:
        peaks = ", ".join(f"{name} {peak}" for name, peak in PEAK_CONNECTIONS.items())
        lines.append(f"most connections to nginx at once, {THREADED} (limit {THREADS}): {peaks}")
    medians = {(m.scenario, m.contender.split()[0]): m.median for m in results}
    sync_rate = medians.get((SEQUENTIAL, "reqivo-sync"))
    async_rate = medians.get((SEQUENTIAL, "reqivo-async"))
    if sync_rate and async_rate:
        cost = async_rate / sync_rate - 1
        verdict = "ok" if cost <= WRAPPER_BUDGET else "MISS"
        lines.append(
            f"sync wrapper cost over reqivo-async sequential (medians): {cost:+.0%} "
            f"(budget {WRAPPER_BUDGET:.0%}: {verdict}; async {async_rate:,.0f} req/s, "
            f"sync {sync_rate:,.0f} req/s)"
        )
    return "\n".join(lines)


def run() -> list[Measurement]:
    """Start nginx, measure every client, print the ratios; nothing when nginx is absent."""
    try:
        with start_nginx() as nginx:
            results = measure_clients(nginx.url)
    except NginxUnavailable as exc:
        print(f"client_sync: skipped: {exc}")
        return []
    print()
    print(ratio_table(results))
    return results
