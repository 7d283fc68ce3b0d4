"""WebSocket clients side by side: reqivo-ws vs websockets' and aiohttp's asyncio clients.

One local echo server (the ``websockets`` library's, in a subprocess so that its work
does not share the clients' event loop) serves every contender in turn. Scenarios:
sequential round trips of a 32-byte binary message, and round trips of 1 MiB binary
messages (MB/s counts each echoed message once). Compression is off on every side:
these measure the I/O path and the codec, not zlib. All three clients are connected at
once and measured in turn within each round, so that other work on the machine falls on
them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import websockets

from benchmarks._harness import Measurement
from reqivo_ws import AsyncWebSocket

TITLE = "WebSocket client echo (reqivo-ws vs websockets and aiohttp)"

SMALL = os.urandom(32)
LARGE = os.urandom(1024 * 1024)
SMALL_COUNT = 4000
LARGE_COUNT = 40
REPEAT = 7

_SERVER = """
import asyncio, sys
import websockets

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None, compression=None,
                                ping_interval=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""

Send = Callable[[bytes], Awaitable[None]]
Recv = Callable[[], Awaitable[object]]


async def _rounds(send: Send, recv: Recv, payload: bytes, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await send(payload)
        await recv()
    return time.perf_counter() - started


class _Contender:
    """One open client connection and what it has measured so far."""

    def __init__(self, name: str, send: Send, recv: Recv) -> None:
        self.small = Measurement("echo 32 B round trips", name, "trips/s")
        self.large = Measurement("echo 1 MiB messages", name, "MB/s")
        self.send = send
        self.recv = recv

    async def warm_up(self) -> None:
        await _rounds(self.send, self.recv, SMALL, 500)
        await _rounds(self.send, self.recv, LARGE, 3)

    async def measure_round(self) -> None:
        self.small.rates.append(
            SMALL_COUNT / await _rounds(self.send, self.recv, SMALL, SMALL_COUNT)
        )
        elapsed = await _rounds(self.send, self.recv, LARGE, LARGE_COUNT)
        self.large.rates.append(LARGE_COUNT * len(LARGE) / elapsed / 1e6)


async def _all(url: str) -> list[Measurement]:
    """Open every client at once, then measure them in turn, round after round.

    Alternating within each round spreads whatever else the machine does over all
    contenders alike; the best round of each is reported (and the median).
    """
    async with contextlib.AsyncExitStack() as stack:
        ours = await stack.enter_async_context(
            AsyncWebSocket(url, compression=None, max_message_size=None, ping_interval=None)
        )
        theirs = await stack.enter_async_context(
            websockets.connect(url, compression=None, max_size=None, ping_interval=None)
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        peer = await stack.enter_async_context(
            session.ws_connect(url, compress=0, max_msg_size=0, autoping=True)
        )
        contenders = [
            _Contender("reqivo", ours.send, ours.recv),
            _Contender(f"websockets {websockets.version.version}", theirs.send, theirs.recv),
            _Contender(f"aiohttp {aiohttp.__version__}", peer.send_bytes, peer.receive_bytes),
        ]
        for contender in contenders:
            await contender.warm_up()
        for _ in range(REPEAT):
            for contender in contenders:
                await contender.measure_round()
        return [m for c in contenders for m in (c.small, c.large)]


def run() -> list[Measurement]:
    """Start the echo server, measure the clients side by side, stop the server."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        return asyncio.run(_all(f"ws://127.0.0.1:{port}/"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def ratios(results: list[Measurement]) -> dict[str, float]:
    """reqivo's best rate divided by each peer's, per scenario (for the report)."""
    out: dict[str, float] = {}
    for m in results:
        if m.contender == "reqivo":
            continue
        ours = next(r for r in results if r.scenario == m.scenario and r.contender == "reqivo")
        out[f"{m.scenario} vs {m.contender}"] = ours.best / m.best
    return out


if __name__ == "__main__":
    from benchmarks._harness import report

    measured = run()
    print(report(TITLE, measured))
    print({k: round(v, 2) for k, v in ratios(measured).items()})
    print(
        "medians:",
        {f"{m.scenario}/{m.contender}": round(statistics.median(m.rates)) for m in measured},
    )
