"""Async HTTP clients against nginx on loopback: reqivo-async, aiohttp and httpx.

The scenarios of the design brief's "Measured anchors" table, side by side in one run:

- sequential keep-alive ``GET /1k`` (req/s), with a raw ``asyncio.Protocol`` floor;
- 64 concurrent ``GET /1k`` through one client (req/s);
- 64 MiB download, streamed (chunks iterated and dropped; MB/s, 1 MB = 10**6 bytes),
  also with the raw floor (a protocol that only counts the bytes it receives);
- 16 MiB upload from a ``bytes`` body (``POST /upload``; MB/s).

Each measurement runs for ``REQIVO_BENCH_SECONDS`` (default 2.5 s) on a fresh event loop
and a fresh client (warmed up first); ``REQIVO_BENCH_ROUNDS`` rounds (default 3) alternate
the contenders' order so that load drifts hit everyone alike, and the best round counts.
Every client keeps up to 100 idle connections (httpx's default keeps 20, which would make
the 64-concurrent scenario measure connection churn instead of the client).

Resource checks, each in a fresh subprocess: the peak RSS added by streaming the 64 MiB
download; 10,000 sequential requests (open fds, asyncio tasks, traced memory and RSS before
and after); and ``import reqivo_async`` time minus ``import asyncio, ssl`` time.

Event loops: ``--loop uvloop`` (or ``REQIVO_BENCH_LOOP=uvloop``) runs every contender on
uvloop, ``--loop both`` on asyncio's loop and on uvloop side by side in the same rounds
(uvloop's rows say ``[uvloop]``). ``REQIVO_BENCH_SCENARIOS=sequential,concurrent`` (any of
sequential, concurrent, download, upload) measures only those; the resource checks run only
with every scenario.

Run: ``uv run nox -s bench`` or ``uv run python -m benchmarks client_async [--loop both]``.
Without nginx the suite prints how to install it and measures nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import LOOPS, Measurement, run_on
from benchmarks._nginx import NginxUnavailable, start_nginx

TITLE = "Async HTTP clients against nginx on loopback (reqivo-async vs aiohttp and httpx)"

SECONDS = float(os.environ.get("REQIVO_BENCH_SECONDS", "2.5"))
ROUNDS = int(os.environ.get("REQIVO_BENCH_ROUNDS", "3"))
CONCURRENCY = 64
UPLOAD = bytes(range(256)) * (16 * 1024 * 1024 // 256)
DOWNLOAD_SIZE = 64 * 1024 * 1024
LEAK_REQUESTS = 10_000
IMPORT_RUNS = 12

SEQUENTIAL = "sequential keep-alive GET 1 KiB"
CONCURRENT = f"{CONCURRENCY} concurrent GET 1 KiB"
DOWNLOAD = "64 MiB download (streamed)"
UPLOAD_SCENARIO = "16 MiB upload (bytes body)"
ALL_SCENARIOS = {
    "sequential": SEQUENTIAL,
    "concurrent": CONCURRENT,
    "download": DOWNLOAD,
    "upload": UPLOAD_SCENARIO,
}
_CHOSEN = os.environ.get("REQIVO_BENCH_SCENARIOS", "")
SCENARIOS = [ALL_SCENARIOS[key] for key in _CHOSEN.split(",") if key] or list(
    ALL_SCENARIOS.values()
)
_LOOP = os.environ.get("REQIVO_BENCH_LOOP", "asyncio")
#: The event loops measured (``--loop``): asyncio, uvloop, or both side by side.
BENCH_LOOPS = list(LOOPS) if _LOOP == "both" else [_LOOP]
UNITS = {SEQUENTIAL: "req/s", CONCURRENT: "req/s", DOWNLOAD: "MB/s", UPLOAD_SCENARIO: "MB/s"}
#: The issue's targets: reqivo's rate divided by the peer's, at least this much.
TARGETS = {
    (SEQUENTIAL, "aiohttp"): 1.15,
    (SEQUENTIAL, "httpx"): 4.0,
    (CONCURRENT, "aiohttp"): 1.0,
    (DOWNLOAD, "aiohttp"): 1.5,
    (UPLOAD_SCENARIO, "aiohttp"): 3.0,
}
ROOT = Path(__file__).resolve().parent.parent


# -- the contenders ---------------------------------------------------------------------------


class Reqivo:
    """reqivo-async ``AsyncSession``."""

    name = "reqivo"

    async def open(self) -> None:
        from reqivo_async import AsyncSession

        self.session = AsyncSession()

    async def get(self, url: str) -> int:
        return len((await self.session.get(url)).content)

    async def stream(self, url: str) -> int:
        received = 0
        async with self.session.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
        return received

    async def post(self, url: str, body: bytes) -> int:
        return len((await self.session.post(url, content=body)).content)

    async def close(self) -> None:
        await self.session.aclose()


class Aiohttp:
    """aiohttp ``ClientSession`` (its C parser, llhttp, when built with it)."""

    name = "aiohttp"

    async def open(self) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=100)
        self.session = aiohttp.ClientSession(connector=connector)

    async def get(self, url: str) -> int:
        async with self.session.get(url) as response:
            return len(await response.read())

    async def stream(self, url: str) -> int:
        received = 0
        async with self.session.get(url) as response:
            async for chunk in response.content.iter_any():
                received += len(chunk)
        return received

    async def post(self, url: str, body: bytes) -> int:
        async with self.session.post(url, data=body) as response:
            return len(await response.read())

    async def close(self) -> None:
        await self.session.close()


class Httpx:
    """httpx ``AsyncClient`` (httpcore on anyio)."""

    name = "httpx"

    async def open(self) -> None:
        import httpx

        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.session = httpx.AsyncClient(limits=limits)

    async def get(self, url: str) -> int:
        return len((await self.session.get(url)).content)

    async def stream(self, url: str) -> int:
        received = 0
        async with self.session.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
        return received

    async def post(self, url: str, body: bytes) -> int:
        return len((await self.session.post(url, content=body)).content)

    async def close(self) -> None:
        await self.session.aclose()


class _FloorProtocol(asyncio.Protocol):
    """Appends received bytes to a buffer and wakes the one waiting reader."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.remaining = 0  # body bytes still to drop (a streamed download)

    def data_received(self, data: bytes) -> None:
        if self.remaining:
            self.remaining -= len(data)
        else:
            self.buffer += data
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class RawFloor:
    """The floor: ``asyncio.Protocol``, a fixed request, a minimal Content-Length parser."""

    name = "raw asyncio (floor)"

    async def open(self) -> None:
        self.transport: asyncio.Transport | None = None

    async def stream(self, url: str) -> int:
        """Receive a body and drop it as it arrives: the download's floor."""
        loop = asyncio.get_running_loop()
        await self._connect(url)
        protocol = self.protocol
        self.transport.write(self.request.encode())  # type: ignore[union-attr]
        while True:
            buffer = protocol.buffer
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                start = buffer.find(b"Content-Length:", 0, end) + 15
                length = int(buffer[start : buffer.find(b"\r\n", start)])
                protocol.remaining = length - (len(buffer) - end - 4)
                del buffer[:]
                break
            protocol.waiter = loop.create_future()
            await protocol.waiter
        while protocol.remaining > 0:
            protocol.waiter = loop.create_future()
            await protocol.waiter
        protocol.remaining = 0
        return length

    async def _connect(self, url: str) -> None:
        if self.transport is None:
            loop = asyncio.get_running_loop()
            host_port = url.split("/")[2]
            host, port = host_port.rsplit(":", 1)
            self.transport, self.protocol = await loop.create_connection(
                _FloorProtocol, host, int(port)
            )
        self.request = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n\r\n"

    async def get(self, url: str) -> int:
        loop = asyncio.get_running_loop()
        if self.transport is None:
            host_port = url.split("/")[2]
            host, port = host_port.rsplit(":", 1)
            self.transport, self.protocol = await loop.create_connection(
                _FloorProtocol, host, int(port)
            )
            self.request = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {host_port}\r\n\r\n"
        protocol = self.protocol
        self.transport.write(self.request.encode())
        while True:
            buffer = protocol.buffer
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                start = buffer.find(b"Content-Length:", 0, end) + 15
                total = end + 4 + int(buffer[start : buffer.find(b"\r\n", start)])
                if len(buffer) >= total:
                    del buffer[:total]
                    return total - end - 4
            protocol.waiter = loop.create_future()
            await protocol.waiter
            protocol.waiter = None

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


PEERS: list[Callable[[], Any]] = [Reqivo, Aiohttp, Httpx]


# -- measuring --------------------------------------------------------------------------------


async def _for_a_while(operation: Callable[[], Awaitable[int]], seconds: float) -> tuple[int, int]:
    """Call ``operation`` until ``seconds`` passed: (calls, sum of what it returned)."""
    calls = total = 0
    deadline = time.perf_counter() + seconds
    while True:
        total += await operation()
        calls += 1
        if time.perf_counter() >= deadline:
            return calls, total


#: The kind of each scenario, for ``measure_opened``.
KINDS = {
    SEQUENTIAL: "sequential",
    CONCURRENT: "concurrent",
    DOWNLOAD: "download",
    UPLOAD_SCENARIO: "upload",
}


async def measure_opened(
    client: Any, kind: str, base: str, seconds: float, concurrency: int = CONCURRENCY
) -> float:
    """An opened client's rate in one kind of scenario, after a short warm-up.

    ``kind``: "sequential" or "concurrent" (``concurrency`` workers) ``GET /1k`` (req/s),
    "download" (``/64m`` streamed, MB/s) or "upload" (16 MiB to ``/upload``, MB/s).
    Shared with the other async benchmarks (client_h2).
    """
    if kind == "sequential":
        url = base + "/1k"
        await _for_a_while(lambda: client.get(url), 0.2)
        started = time.perf_counter()
        calls, _ = await _for_a_while(lambda: client.get(url), seconds)
        return calls / (time.perf_counter() - started)
    if kind == "concurrent":
        url = base + "/1k"

        async def worker(duration: float) -> int:
            calls, received = await _for_a_while(lambda: client.get(url), duration)
            assert received == calls * 1024
            return calls

        await asyncio.gather(*[worker(0.2) for _ in range(concurrency)])
        started = time.perf_counter()
        counts = await asyncio.gather(*[worker(seconds) for _ in range(concurrency)])
        return sum(counts) / (time.perf_counter() - started)
    if kind == "download":
        url = base + "/64m"
        assert await client.stream(url) == DOWNLOAD_SIZE
        started = time.perf_counter()
        _, received = await _for_a_while(lambda: client.stream(url), seconds)
        return received / (time.perf_counter() - started) / 1e6
    url = base + "/upload"
    await client.post(url, UPLOAD)
    started = time.perf_counter()
    calls, _ = await _for_a_while(lambda: client.post(url, UPLOAD), seconds)
    return calls * len(UPLOAD) / (time.perf_counter() - started) / 1e6


async def _measure_once(client: Any, scenario: str, base: str, seconds: float) -> float:
    await client.open()
    try:
        return await measure_opened(client, KINDS[scenario], base, seconds)
    finally:
        await client.close()


def _contenders(scenario: str) -> list[Callable[[], Any]]:
    return [*PEERS, RawFloor] if scenario in (SEQUENTIAL, DOWNLOAD) else list(PEERS)


def _label(factory: Callable[[], Any]) -> str:
    name: str = factory.name  # type: ignore[attr-defined]
    if name in ("aiohttp", "httpx"):
        module = __import__(name)
        return f"{name} {module.__version__}"
    return name


def _on(scenario: str, loop: str) -> str:
    """The scenario's label on ``loop`` (asyncio's loop: the plain name)."""
    return scenario if loop == "asyncio" else f"{scenario} [{loop}]"


def measure_clients(
    base: str, seconds: float = SECONDS, rounds: int = ROUNDS, loops: list[str] | None = None
) -> list[Measurement]:
    """Every scenario for every contender on every loop, ``rounds`` alternating rounds."""
    loops = loops or BENCH_LOOPS
    results: dict[tuple[str, str, str], Measurement] = {}
    for scenario in SCENARIOS:
        for loop in loops:
            for factory in _contenders(scenario):
                label = _label(factory)
                name: str = factory.name  # type: ignore[attr-defined]
                results[scenario, loop, name] = Measurement(
                    _on(scenario, loop), label, UNITS[scenario]
                )
    for number in range(rounds):
        for scenario in SCENARIOS:
            contenders = _contenders(scenario)
            shift = number % len(contenders)
            for loop in loops[number % len(loops) :] + loops[: number % len(loops)]:
                for factory in contenders[shift:] + contenders[:shift]:
                    name = factory.name  # type: ignore[attr-defined]
                    gc.collect()
                    rate = run_on(loop, _measure_once(factory(), scenario, base, seconds))
                    results[scenario, loop, name].rates.append(rate)
                    print(
                        f"  round {number + 1}/{rounds}  {_on(scenario, loop):<43} "
                        f"{name:<20} {rate:>12,.1f} {UNITS[scenario]}",
                        flush=True,
                    )
    return list(results.values())


def ratio_table(results: list[Measurement]) -> str:
    """reqivo's rate over each peer's (best rounds; median rounds), against the targets."""
    best = {(m.scenario, m.contender.split()[0]): m.best for m in results}
    rates = {(m.scenario, m.contender.split()[0]): m.rates for m in results}
    lines = [
        "reqivo's rate over the peer's: of the best rounds (and the median of the ratios",
        "round by round, each pair measured back to back: steadier on a busy machine)",
        f"{'scenario':<45} {'reqivo/aiohttp':>20} {'target':>9} {'reqivo/httpx':>20} {'target':>9}",
    ]
    labels = list(dict.fromkeys(m.scenario for m in results))
    for label in labels:
        scenario = label.split(" [")[0]
        ours = best.get((label, "reqivo"))
        cells = []
        for peer in ("aiohttp", "httpx"):
            theirs = best.get((label, peer))
            ratio = "-"
            if ours and theirs:
                paired = zip(rates[label, "reqivo"], rates[label, peer], strict=True)
                by_round = statistics.median(a / b for a, b in paired)
                ratio = f"{ours / theirs:.2f}x ({by_round:.2f}x)"
            target = TARGETS.get((scenario, peer))
            if target is None:
                mark = ""
            elif ours and theirs and ours / theirs >= target:
                mark = f">={target:g} ok"
            else:
                mark = f">={target:g} MISS"
            cells += [ratio, mark]
        lines.append(f"{label:<45} {cells[0]:>20} {cells[1]:>9} {cells[2]:>20} {cells[3]:>9}")
    for label in labels:
        floor = best.get((label, "raw"))
        ours = best.get((label, "reqivo"))
        theirs = best.get((label, "aiohttp"))
        if floor and ours and theirs:
            lines.append(
                f"{label}: reqivo {ours / floor:.0%}, aiohttp {theirs / floor:.0%} "
                "of the raw asyncio floor"
            )
    return "\n".join(lines)


# -- resource checks, each in a fresh subprocess ----------------------------------------------


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


async def _child_rss(base: str, name: str) -> dict[str, Any]:
    client: Any = {"reqivo": Reqivo, "aiohttp": Aiohttp, "httpx": Httpx}[name]()
    await client.open()
    try:
        # Warm the streaming code path (imports, first connection) on a small body.
        await client.stream(base + "/1k")
        gc.collect()
        reset = _reset_peak()
        before = _status("VmRSS")
        peak_before = _status("VmHWM")
        sampled = before
        received = 0
        original_stream = client.stream

        async def sampling_stream(url: str) -> int:
            nonlocal sampled, received
            # The same iteration as the benchmark, sampling RSS every 16 chunks.
            if name == "reqivo":
                async with client.session.stream("GET", url) as response:
                    count = 0
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
                        count += 1
                        if not count % 16:
                            sampled = max(sampled, _status("VmRSS"))
                return received
            return int(await original_stream(url))

        received = await sampling_stream(base + "/64m")
        peak_after = _status("VmHWM")
    finally:
        await client.close()
    return {
        "client": name,
        "received": received,
        "rss_before": before,
        "peak_after": peak_after,
        "peak_reset": reset,
        "peak_increase": peak_after - (before if reset else peak_before),
        "sampled_increase": sampled - before,
    }


async def _child_leaks(base: str, count: int) -> dict[str, Any]:
    import tracemalloc

    from reqivo_async import AsyncSession

    url = base + "/1k"
    async with AsyncSession() as session:
        for _ in range(500):
            await session.get(url)
        gc.collect()
        tracemalloc.start()
        before = {
            "fds": len(os.listdir("/proc/self/fd")),
            "tasks": len(asyncio.all_tasks()),
            "traced": tracemalloc.get_traced_memory()[0],
            "rss": _status("VmRSS"),
        }
        started = time.perf_counter()
        for _ in range(count):
            response = await session.get(url)
            assert len(response.content) == 1024
        elapsed = time.perf_counter() - started
        gc.collect()
        after = {
            "fds": len(os.listdir("/proc/self/fd")),
            "tasks": len(asyncio.all_tasks()),
            "traced": tracemalloc.get_traced_memory()[0],
            "rss": _status("VmRSS"),
        }
        tracemalloc.stop()
    return {"requests": count, "elapsed": elapsed, "before": before, "after": after}


_PYCACHE = os.path.join(tempfile.gettempdir(), "reqivo-bench-pycache")


def _import_time(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter (startup excluded).

    Installed packages import from compiled bytecode; a development shell may set
    ``PYTHONDONTWRITEBYTECODE`` and then every run would compile the sources anew. So the
    child gets a private ``PYTHONPYCACHEPREFIX`` (filled by the first, discarded runs).
    """
    code = (
        "import time; started = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - started)"
    )
    env = dict(os.environ, PYTHONPYCACHEPREFIX=_PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    return float(completed.stdout)


def _run_child(*args: str) -> Any:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.client_async", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def resource_checks(base: str) -> list[str]:
    """RSS while streaming, growth over 10,000 requests, import time: report lines."""
    lines = ["peak RSS added while streaming 64 MiB (target for reqivo: < 8 MiB):"]
    for name in ("reqivo", "aiohttp", "httpx"):
        result = _run_child("rss", base, name)
        assert result["received"] == DOWNLOAD_SIZE
        mark = ""
        if name == "reqivo":
            mark = "  ok" if result["peak_increase"] < 8 * 1024 * 1024 else "  MISS"
        lines.append(
            f"  {name:<8} peak +{result['peak_increase'] / 2**20:6.2f} MiB "
            f"(VmHWM{' after reset' if result['peak_reset'] else ''}; "
            f"sampled VmRSS +{result['sampled_increase'] / 2**20:.2f} MiB){mark}"
        )
    leaks = _run_child("leaks", base, str(LEAK_REQUESTS))
    before, after = leaks["before"], leaks["after"]
    lines.append(
        f"{leaks['requests']:,} sequential reqivo requests "
        f"({leaks['requests'] / leaks['elapsed']:,.0f} req/s under tracemalloc), before -> after:"
    )
    growth_ok = (
        after["fds"] <= before["fds"]
        and after["tasks"] <= before["tasks"]
        and after["traced"] - before["traced"] < 64 * 1024
    )
    lines.append(
        f"  open fds {before['fds']} -> {after['fds']}; asyncio tasks {before['tasks']} -> "
        f"{after['tasks']}; traced memory {before['traced'] / 1024:.1f} -> "
        f"{after['traced'] / 1024:.1f} KiB; RSS {before['rss'] / 2**20:.1f} -> "
        f"{after['rss'] / 2**20:.1f} MiB  {'ok' if growth_ok else 'GROWTH'}"
    )
    ours: list[float] = []
    base_cost: list[float] = []
    for _ in range(2):  # warm the private bytecode cache
        _import_time("import reqivo_async")
        _import_time("import asyncio, ssl")
    for _ in range(IMPORT_RUNS):
        ours.append(_import_time("import reqivo_async"))
        base_cost.append(_import_time("import asyncio, ssl"))
    extra = (min(ours) - min(base_cost)) * 1000
    lines.append(
        f"import reqivo_async {min(ours) * 1000:.1f} ms, import asyncio, ssl "
        f"{min(base_cost) * 1000:.1f} ms (best of {IMPORT_RUNS} fresh processes): "
        f"+{extra:.1f} ms (target <= 20 ms) {'ok' if extra <= 20 else 'MISS'}"
    )
    return lines


# -- the suite --------------------------------------------------------------------------------


def run() -> list[Measurement]:
    """Start nginx, measure every client, print ratios and resource checks."""
    with contextlib.ExitStack() as stack:
        try:
            nginx = stack.enter_context(start_nginx())
        except NginxUnavailable as exc:
            print(f"\n## {TITLE}\n\nSKIPPED: {exc}")
            print("Install it with: sudo apt-get install -y nginx-light (or your OS's nginx)")
            return []
        print(
            f"\n## {TITLE}: {ROUNDS} rounds of {SECONDS:g} s per measurement, "
            f"event loop {' and '.join(BENCH_LOOPS)}",
            flush=True,
        )
        results = measure_clients(nginx.url)
        print()
        print(ratio_table(results))
        if len(SCENARIOS) == len(ALL_SCENARIOS):
            print()
            for line in resource_checks(nginx.url):
                print(line, flush=True)
    return results


def _child(argv: list[str]) -> None:
    kind = argv[0]
    result: Any
    if kind == "rss":
        result = asyncio.run(_child_rss(argv[1], argv[2]))
    else:
        result = asyncio.run(_child_leaks(argv[1], int(argv[2])))
    print(json.dumps(result))


if __name__ == "__main__":
    _child(sys.argv[1:])
