"""A small measuring harness: calibrated loops, several repeats, the best kept.

The best of several repeats is the least disturbed by other work on the machine; each
repeat runs long enough (``min_time``) for the timer's resolution not to matter.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Measurement:
    """Rates measured for one contender in one scenario."""

    scenario: str
    contender: str
    unit: str
    rates: list[float] = field(default_factory=list)
    #: The suite (``benchmarks.<suite>`` module) that measured it, set by ``__main__``.
    suite: str = ""

    @property
    def best(self) -> float:
        """The highest rate seen (the least disturbed repeat)."""
        return max(self.rates)

    @property
    def median(self) -> float:
        """The median rate."""
        return statistics.median(self.rates)

    @property
    def spread(self) -> float:
        """Lowest to highest rate, as a fraction of the median (how noisy the rounds were)."""
        return (max(self.rates) - min(self.rates)) / self.median if self.median else 0.0


def measure(
    scenario: str,
    contender: str,
    operation: Callable[[], object],
    *,
    unit: str = "ops/s",
    work_per_call: float = 1.0,
    repeat: int = 5,
    min_time: float = 0.2,
) -> Measurement:
    """Time ``operation`` and return its rate in ``unit`` (``work_per_call`` units a call)."""
    loops = 1
    while True:  # calibrate: double until one repeat takes at least min_time
        started = time.perf_counter()
        for _ in range(loops):
            operation()
        elapsed = time.perf_counter() - started
        if elapsed >= min_time:
            break
        loops *= 2
    result = Measurement(scenario, contender, unit)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            for _ in range(loops):
                operation()
            elapsed = time.perf_counter() - started
            result.rates.append(loops * work_per_call / elapsed)
    finally:
        if gc_was_enabled:
            gc.enable()
    return result


def report(title: str, results: list[Measurement], *, baseline: str = "reqivo") -> str:
    """A plain-text table: each contender's rate and how many times faster Reqivo is."""
    header = (
        f"{'scenario':<40} {'contender':<24} {'best':>14} {'median':>14} {'spread':>7} "
        f"{'unit':<8} reqivo x"
    )
    lines = [f"## {title}", "", header, "-" * len(header)]
    by_scenario: dict[str, list[Measurement]] = {}
    for measurement in results:
        by_scenario.setdefault(measurement.scenario, []).append(measurement)
    for scenario, measurements in by_scenario.items():
        ours = next((m for m in measurements if m.contender == baseline), None)
        for m in measurements:
            ratio = f"{ours.best / m.best:.2f}" if ours is not None and m is not ours else ""
            lines.append(
                f"{scenario:<40} {m.contender:<24} {m.best:>14,.1f} {m.median:>14,.1f} "
                f"{m.spread:>7.0%} {m.unit:<8} {ratio}"
            )
    return "\n".join(lines)


#: The event loops a benchmark can run on (``--loop``): name -> loop factory (``None``:
#: asyncio's own). uvloop is imported only when asked for.
LOOPS = ("asyncio", "uvloop")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the event loop called ``name`` for ``asyncio.Runner(loop_factory=...)``."""
    if name == "asyncio":
        return None
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    raise ValueError(f"unknown event loop {name!r}; choose from {', '.join(LOOPS)}")


def run_on(loop: str, coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` on the event loop called ``loop``."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(coroutine)


def save(results: list[Measurement], path: Path) -> None:
    """Write the raw measurements as JSON for later comparison."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = [
        asdict(m) | {"best": m.best, "median": m.median, "spread": m.spread} for m in results
    ]
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
