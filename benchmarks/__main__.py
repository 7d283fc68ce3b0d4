"""Run benchmark suites: ``python -m benchmarks [suite ...] [--loop uvloop]`` (default: all)."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path

from benchmarks._harness import Measurement, report, save

SUITES = [
    "protocol_http",
    "protocol_http2",
    "protocol_ws",
    "client_async",
    "client_h2",
    "client_ws",
    "client_sync",
]


def main(argv: list[str]) -> int:
    """Run the named suites (all when none is named) and print one table per suite.

    ``--loop asyncio|uvloop|both`` chooses the event loop of the async client suite
    (``REQIVO_BENCH_LOOP``, read when the suite is imported).
    """
    if "--loop" in argv:
        at = argv.index("--loop")
        os.environ["REQIVO_BENCH_LOOP"] = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    chosen = argv or SUITES
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        print(f"unknown suites {unknown}; choose from {SUITES}", file=sys.stderr)
        return 2
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    everything: list[Measurement] = []
    for name in chosen:
        suite = importlib.import_module(f"benchmarks.{name}")
        results: list[Measurement] = suite.run()
        for measurement in results:
            measurement.suite = name
        print()
        print(report(suite.TITLE, results))
        everything += results
    save(everything, Path("reports") / "benchmarks.json")  # benchmarks/plot.py reads it
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
