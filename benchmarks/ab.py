"""Reqivo against an earlier Reqivo, side by side in one run: did a change regress?

``python -m benchmarks.ab --base /path/to/old/checkout [--rounds 3] [--seconds 2]
[--loop asyncio|uvloop] [--only sequential,ws-32]`` measures, in alternating order round
after round, the code of this checkout and of ``--base`` (a worktree of an older commit
with its own ``uv sync``: its ``.venv`` Python is used). Each measurement is a fresh
process running ``benchmarks/_ab_child.py``, which uses only the public API, against one
nginx (HTTP scenarios) and one ``websockets`` echo server (WebSocket scenarios), both on
loopback. Scenarios: sequential keep-alive GET 1 KiB, 64 concurrent GET 1 KiB, 64 MiB
streamed download, 32-byte WebSocket round trips and 1 MiB WebSocket echo.

Prints, per scenario, the median of the rounds for each side with the spread (lowest to
highest) and the ratio of the medians (after / before); then the client process's CPU
time per operation (request, round trip or MiB), which other work on the machine
disturbs far less than the rates. Not part of CI: ``nox -s bench``
runs the peers' comparison; this one compares Reqivo with itself.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._nginx import start_nginx
from benchmarks.client_ws import _SERVER as ECHO_SERVER

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).with_name("_ab_child.py")
SCENARIOS = {
    "sequential": "sequential keep-alive GET 1 KiB, req/s",
    "concurrent": "64 concurrent GET 1 KiB, req/s",
    "download": "64 MiB download, MB/s",
    "ws-32": "WebSocket 32 B round trips/s",
    "ws-1m": "WebSocket 1 MiB echo, MB/s",
}


def _python(tree: Path) -> str:
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} not found: run 'uv sync --all-packages' in {tree} first")
    return str(python)


def _measure(
    python: str, scenario: str, url: str, seconds: float, loop: str
) -> tuple[float, float]:
    done = subprocess.run(
        [python, str(CHILD), scenario, url, str(seconds), loop],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{python} {scenario} failed:\n{done.stderr}")
    rate, cpu = done.stdout.split()[-2:]
    return float(rate), float(cpu)


def main(argv: list[str]) -> int:
    """Parse the options, start the servers, measure both trees, print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("--base", type=Path, required=True, help="the older checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    chosen = [s for s in args.only.split(",") if s]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {list(SCENARIOS)}")
    sides = {"before": _python(args.base.resolve()), "after": _python(ROOT)}
    rates: dict[tuple[str, str], list[float]] = {(s, side): [] for s in chosen for side in sides}
    cpus: dict[tuple[str, str], list[float]] = {(s, side): [] for s in chosen for side in sides}
    with contextlib.ExitStack() as stack:
        nginx = stack.enter_context(start_nginx())
        echo = subprocess.Popen(
            [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True
        )
        stack.callback(echo.wait, 10)
        stack.callback(echo.terminate)
        assert echo.stdout is not None
        ws_url = f"ws://127.0.0.1:{int(echo.stdout.readline())}/"
        for number in range(args.rounds):
            order = list(sides) if number % 2 == 0 else list(sides)[::-1]
            for scenario in chosen:
                url = ws_url if scenario.startswith("ws-") else nginx.url
                for side in order:
                    rate, cpu = _measure(sides[side], scenario, url, args.seconds, args.loop)
                    rates[scenario, side].append(rate)
                    cpus[scenario, side].append(cpu)
                    print(
                        f"  round {number + 1} {scenario:<11} {side:<6} {rate:>12,.1f}"
                        f"  {cpu:>9,.1f} us CPU/op",
                        flush=True,
                    )
    print(f"\nReqivo after vs before ({args.loop} loop, median of {args.rounds} rounds, spread)")
    for scenario in chosen:
        before, after = rates[scenario, "before"], rates[scenario, "after"]
        ratio = statistics.median(after) / statistics.median(before)
        print(
            f"{SCENARIOS[scenario]:<40} before {statistics.median(before):>10,.1f} "
            f"[{min(before):,.0f}-{max(before):,.0f}]  after {statistics.median(after):>10,.1f} "
            f"[{min(after):,.0f}-{max(after):,.0f}]  {ratio:.2f}x"
        )
    print("\nClient CPU time per operation, us (median [spread]; lower is better)")
    for scenario in chosen:
        before, after = cpus[scenario, "before"], cpus[scenario, "after"]
        ratio = statistics.median(before) / statistics.median(after)
        print(
            f"{SCENARIOS[scenario]:<40} before {statistics.median(before):>8,.1f} "
            f"[{min(before):,.1f}-{max(before):,.1f}]  after {statistics.median(after):>8,.1f} "
            f"[{min(after):,.1f}-{max(after):,.1f}]  {ratio:.2f}x (before / after)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
