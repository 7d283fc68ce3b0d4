"""Run benchmark suites: ``python -m benchmarks [suite ...] [--loop uvloop] [--awake]``
(default: all suites, on the otherwise idle machine)."""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys
from pathlib import Path

from benchmarks._harness import Measurement, report, save
from benchmarks._machine import KeepAwake, load_warning

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
    (``REQIVO_BENCH_LOOP``, read when the suite is imported). ``--awake`` keeps every core
    busy with a ``SCHED_IDLE`` spinner during the run (see ``benchmarks/_machine.py``).
    """
    awake = "--awake" in argv
    argv = [arg for arg in argv if arg != "--awake"]
    if "--loop" in argv:
        at = argv.index("--loop")
        os.environ["REQIVO_BENCH_LOOP"] = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    chosen = argv or SUITES
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        print(f"unknown suites {unknown}; choose from {SUITES}", file=sys.stderr)
        return 2
    regime = "cores kept awake (--awake)" if awake else "otherwise idle machine"
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; {regime}"
    )
    warning = load_warning()
    if warning:
        print(warning)
    with KeepAwake() if awake else contextlib.nullcontext():
        everything = _run_suites(chosen)
    save(everything, Path("reports") / "benchmarks.json")  # benchmarks/plot.py reads it
    return 0


def _run_suites(chosen: list[str]) -> list[Measurement]:
    everything: list[Measurement] = []
    for name in chosen:
        suite = importlib.import_module(f"benchmarks.{name}")
        results: list[Measurement] = suite.run()
        for measurement in results:
            measurement.suite = name
        print()
        print(report(suite.TITLE, results))
        everything += results
    return everything


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
