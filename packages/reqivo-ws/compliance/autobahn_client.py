"""Drive the Autobahn fuzzing server with reqivo-ws's AsyncWebSocket (an echo client).

Usage (the nox session ``autobahn`` does all of this)::

    wstest-loopback -m fuzzingserver -s fuzzingserver.json -u 0 &
    python autobahn_client.py [--deflate] [--url ws://127.0.0.1:9001] [--cases 1-301]
    python autobahn_client.py --summary reports/clients/index.json

Each case echoes every message until the server closes; results land in the server's
``outdir/index.json``. ``--summary`` prints per-behaviour counts and exits 1 on any FAILED.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
import time

from reqivo_ws import AsyncWebSocket, ConnectionClosed, WebSocketError

AGENT = "reqivo-ws"


async def _echo_case(url: str, deflate: bool) -> None:
    async with AsyncWebSocket(
        url,
        compression="deflate" if deflate else None,
        max_message_size=None,
        ping_interval=None,
        open_timeout=30.0,
        close_timeout=5.0,
    ) as ws:
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass


async def _text(url: str) -> str:
    async with AsyncWebSocket(url, compression=None, ping_interval=None) as ws:
        message = await ws.recv()
        return message if isinstance(message, str) else message.decode()


async def run(base: str, deflate: bool, cases: list[int] | None) -> int:
    count = int(await _text(f"{base}/getCaseCount"))
    for case in cases or range(1, count + 1):
        try:
            await _echo_case(f"{base}/runCase?case={case}&agent={AGENT}", deflate)
        except (WebSocketError, OSError) as exc:
            print(f"case {case}: {exc!r}", file=sys.stderr)
    async with AsyncWebSocket(f"{base}/updateReports?agent={AGENT}", compression=None) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.recv(timeout=30)
    return count


def summary(index_path: str) -> int:
    """Print per-behaviour counts of our agent; 1 if any case FAILED."""
    with open(index_path, encoding="utf-8") as file:
        index = json.load(file)
    results = index[AGENT]
    counts: collections.Counter[str] = collections.Counter()
    odd: dict[str, list[str]] = collections.defaultdict(list)
    for case, result in results.items():
        behaviour = result["behavior"]
        counts[behaviour] += 1
        if behaviour not in ("OK", "INFORMATIONAL"):
            odd[behaviour].append(case)
    print(f"{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for behaviour, names in sorted(odd.items()):
        print(f"  {behaviour}: {' '.join(sorted(names, key=_case_key))}")
    return 1 if counts.get("FAILED") else 0


def _case_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split("."))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9001")
    parser.add_argument("--deflate", action="store_true")
    parser.add_argument("--cases", default="", help="N or N-M (case numbers)")
    parser.add_argument("--summary", default="", help="path of index.json to summarize")
    args = parser.parse_args()
    if args.summary:
        return summary(args.summary)
    cases = None
    if args.cases:
        first, _, last = args.cases.partition("-")
        cases = list(range(int(first), int(last or first) + 1))
    started = time.perf_counter()
    count = asyncio.run(run(args.url, args.deflate, cases))
    print(f"ran {len(cases) if cases else count} cases in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
