"""WebSocket clients side by side: reqivo-ws vs websockets' and aiohttp's asyncio clients.

One local echo server (the ``websockets`` library's, in a subprocess so that its work
does not share the clients' event loop) serves every contender in turn. Scenarios:
sequential round trips of a 32-byte binary message, and round trips of 1 MiB binary
messages (MB/s counts each echoed message once). Compression is off on every side:
these measure the I/O path and the codec, not zlib.
"""

from __future__ import annotations

import asyncio
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
REPEAT = 5

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


async def _measure(send: Send, recv: Recv, contender: str) -> list[Measurement]:
    small = Measurement("echo 32 B round trips", contender, "trips/s")
    large = Measurement("echo 1 MiB messages", contender, "MB/s")
    await _rounds(send, recv, SMALL, 500)  # warm up
    await _rounds(send, recv, LARGE, 3)
    for _ in range(REPEAT):
        small.rates.append(SMALL_COUNT / await _rounds(send, recv, SMALL, SMALL_COUNT))
        elapsed = await _rounds(send, recv, LARGE, LARGE_COUNT)
        large.rates.append(LARGE_COUNT * len(LARGE) / elapsed / 1e6)
    return [small, large]


async def _reqivo(url: str) -> list[Measurement]:
    async with AsyncWebSocket(
        url, compression=None, max_message_size=None, ping_interval=None
    ) as ws:
        return await _measure(ws.send, ws.recv, "reqivo")


async def _websockets(url: str) -> list[Measurement]:
    async with websockets.connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        return await _measure(ws.send, ws.recv, f"websockets {websockets.version.version}")


async def _aiohttp(url: str) -> list[Measurement]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, compress=0, max_msg_size=0, autoping=True) as ws,
    ):
        return await _measure(ws.send_bytes, ws.receive_bytes, f"aiohttp {aiohttp.__version__}")


def run() -> list[Measurement]:
    """Start the echo server, measure each client, stop the server."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"ws://127.0.0.1:{port}/"
        results: list[Measurement] = []
        for client in (_reqivo, _websockets, _aiohttp):
            results += asyncio.run(client(url))
        return results
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
