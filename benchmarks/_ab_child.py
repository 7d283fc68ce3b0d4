"""One measurement of the installed Reqivo, for ``benchmarks.ab`` (run as a script).

``python _ab_child.py SCENARIO URL SECONDS [asyncio|uvloop]`` prints one rate and the
client's CPU time per operation (µs). It uses
only the public API (``AsyncSession``, ``AsyncWebSocket``) and imports nothing from the
``benchmarks`` package, so that any install of Reqivo (an older checkout's virtual
environment) can run it: the same file measures the code before and after a change.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

CONCURRENCY = 64
SMALL = b"x" * 32
LARGE = b"y" * (1024 * 1024)


#: Process CPU time of the last timed loop, and how many operations it counted.
CPU: list[float] = [0.0, 1.0]


async def _for_a_while(operation: Callable[[], Awaitable[int]], seconds: float) -> tuple[int, int]:
    calls = total = 0
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while True:
        total += await operation()
        calls += 1
        if time.perf_counter() >= deadline:
            CPU[:] = [time.process_time() - cpu, calls]
            return calls, total


async def _http(scenario: str, base: str, seconds: float) -> float:
    from reqivo_async import AsyncSession

    async with AsyncSession() as session:

        async def get(url: str) -> int:
            return len((await session.get(url)).content)

        async def stream(url: str) -> int:
            received = 0
            async with session.stream("GET", url) as response:
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
            return received

        if scenario == "sequential":
            url = base + "/1k"
            await _for_a_while(lambda: get(url), 0.2)
            started = time.perf_counter()
            calls, _ = await _for_a_while(lambda: get(url), seconds)
            return calls / (time.perf_counter() - started)
        if scenario == "concurrent":
            url = base + "/1k"

            async def worker(duration: float) -> int:
                return (await _for_a_while(lambda: get(url), duration))[0]

            await asyncio.gather(*[worker(0.2) for _ in range(CONCURRENCY)])
            started = time.perf_counter()
            cpu = time.process_time()
            counts = await asyncio.gather(*[worker(seconds) for _ in range(CONCURRENCY)])
            CPU[:] = [time.process_time() - cpu, sum(counts)]
            return sum(counts) / (time.perf_counter() - started)
        url = base + "/64m"
        await stream(url)
        started = time.perf_counter()
        _, received = await _for_a_while(lambda: stream(url), seconds)
        return received / (time.perf_counter() - started) / 1e6


async def _ws(scenario: str, url: str, seconds: float) -> float:
    from reqivo_ws import AsyncWebSocket

    payload = SMALL if scenario == "ws-32" else LARGE
    async with AsyncWebSocket(
        url, compression=None, max_message_size=None, ping_interval=None
    ) as ws:

        async def echo() -> int:
            await ws.send(payload)
            reply: Any = await ws.recv()
            return len(reply)

        await _for_a_while(echo, 0.2)
        started = time.perf_counter()
        calls, received = await _for_a_while(echo, seconds)
        elapsed = time.perf_counter() - started
        return calls / elapsed if scenario == "ws-32" else received / elapsed / 1e6


def main(argv: list[str]) -> None:
    scenario, url, seconds = argv[0], argv[1], float(argv[2])
    loop = argv[3] if len(argv) > 3 else "asyncio"
    measure = _ws if scenario.startswith("ws-") else _http
    coroutine = measure(scenario, url, seconds)
    if loop == "uvloop":
        import uvloop

        rate = uvloop.run(coroutine)
    else:
        rate = asyncio.run(coroutine)
    # The rate, then the client's CPU time per operation in microseconds: the second is
    # far less sensitive to other work on the machine than the first.
    print(rate, CPU[0] / max(CPU[1], 1) * 1e6)


if __name__ == "__main__":
    main(sys.argv[1:])
