"""Charts of a benchmark run for the documentation: ``python benchmarks/plot.py``.

Reads the JSON that ``python -m benchmarks`` (``nox -s bench``) saves to
``reports/benchmarks.json`` and writes, under ``docs/benchmarks/``, one PNG per suite
(``client_async.png``, ...): one panel per scenario, one bar per contender (the median of
the rounds, a line from the lowest to the highest round), Reqivo's bars in the accent
colour. The JSON is copied beside the PNGs, so the committed charts always come with the
numbers they were drawn from. Needs matplotlib (the ``docs`` dependency group).

    uv run --group docs python benchmarks/plot.py [--input FILE] [--output DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
INPUT = ROOT / "reports" / "benchmarks.json"
OUTPUT = ROOT / "docs" / "benchmarks"
#: Titles of the suites (``benchmarks.<suite>``), in the order the page shows them.
SUITES = {
    "client_async": "Async HTTP clients (nginx on loopback)",
    "client_sync": "Blocking HTTP clients (nginx on loopback)",
    "client_h2": "HTTP/2 and TLS clients (nginx on loopback)",
    "client_ws": "WebSocket clients (echo server on loopback)",
    "protocol_http": "HTTP/1.1 parsing (sans-IO, no network)",
    "protocol_http2": "HTTP/2 and HPACK (sans-IO, no network)",
    "protocol_ws": "WebSocket codec (sans-IO, no network)",
}
REQIVO = "#3f51b5"  # the site's primary colour (Material's indigo)
PEER = "#9e9e9e"
YARDSTICK = "#cfd8dc"
#: Above this ratio between a yardstick and the slowest bar, a panel's scale is logarithmic.
LOG_SCALE_RATIO = 40


@dataclass(frozen=True)
class Row:
    """One contender's rates in one scenario (a ``benchmarks._harness.Measurement``)."""

    suite: str
    scenario: str
    contender: str
    unit: str
    rates: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median of the rounds."""
        ordered = sorted(self.rates)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def load(path: Path) -> list[Row]:
    """The measurements of a run; a run saved before suites were recorded is one group."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    return [
        Row(
            suite=entry.get("suite") or "run",
            scenario=entry["scenario"],
            contender=entry["contender"],
            unit=entry["unit"],
            rates=tuple(float(rate) for rate in entry["rates"]),
        )
        for entry in payload
        if entry["rates"]
    ]


def _colour(contender: str) -> str:
    if contender.startswith("reqivo") and "yardstick" not in contender:
        return REQIVO
    if "floor" in contender or "yardstick" in contender:
        return YARDSTICK
    return PEER


def plot_suite(suite: str, rows: list[Row], output: Path) -> Path:
    """One PNG for ``suite``: a panel per scenario, a horizontal bar per contender."""
    scenarios = list(dict.fromkeys(row.scenario for row in rows))
    heights = [len([r for r in rows if r.scenario == s]) for s in scenarios]
    figure, axes = plt.subplots(
        len(scenarios),
        1,
        figsize=(8.5, 0.9 + sum(0.32 * h + 0.75 for h in heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for axis, scenario in zip(axes[:, 0], scenarios, strict=True):
        mine = [row for row in rows if row.scenario == scenario]
        labels = [row.contender for row in mine]
        medians = [row.median for row in mine]
        low = [row.median - min(row.rates) for row in mine]
        high = [max(row.rates) - row.median for row in mine]
        positions = range(len(mine))
        axis.barh(
            positions,
            medians,
            xerr=[low, high],
            color=[_colour(label) for label in labels],
            error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "#424242"},
        )
        axis.set_yticks(list(positions), labels, fontsize=8)
        axis.invert_yaxis()
        unit = mine[0].unit
        named = scenario.endswith(")") and unit.split("/")[0] in scenario[scenario.rfind("(") :]
        title = scenario if named else f"{scenario} ({unit})"  # some scenarios name their unit
        axis.set_title(f"{title}, higher is better", fontsize=9, loc="left")
        axis.tick_params(axis="x", labelsize=8)
        axis.grid(axis="x", alpha=0.3)
        axis.set_axisbelow(True)
        limit = max(m + h for m, h in zip(medians, high, strict=True))
        for position, value, above in zip(positions, medians, high, strict=True):
            axis.text(value + above, position, f" {value:,.0f}", va="center", fontsize=7)
        top = mine[medians.index(max(medians))]
        if _colour(top.contender) == YARDSTICK and max(medians) > LOG_SCALE_RATIO * min(medians):
            # A yardstick far above the contenders (HTTP/1.1 beside HTTP/2 framing) would
            # flatten them: a log scale keeps every bar readable.
            axis.set_xscale("log")
            axis.set_xlim(min(medians) / 3, limit * 3)
            axis.set_title(axis.get_title(loc="left") + ", log scale", fontsize=9, loc="left")
        else:
            axis.set_xlim(0, limit * 1.18)
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
    figure.suptitle(SUITES.get(suite, suite), fontsize=11, x=0.01, ha="left")
    figure.tight_layout()
    path = output / f"{suite}.png"
    # No software version or date in the file: the same numbers give the same bytes.
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def main(argv: list[str]) -> int:
    """Draw every suite of the run and copy the run's JSON beside the charts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=INPUT, help=f"default: {INPUT}")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    options = parser.parse_args(argv)
    if not options.input.is_file():
        print(f"{options.input} not found: run `nox -s bench` first", file=sys.stderr)
        return 2
    rows = load(options.input)
    options.output.mkdir(parents=True, exist_ok=True)
    suites = sorted(
        {row.suite for row in rows},
        key=lambda s: (list(SUITES).index(s) if s in SUITES else len(SUITES), s),
    )
    for suite in suites:
        written = plot_suite(suite, [row for row in rows if row.suite == suite], options.output)
        print(f"wrote {written.relative_to(ROOT) if written.is_relative_to(ROOT) else written}")
    copy = options.output / "benchmarks.json"
    if options.input.resolve() != copy.resolve():
        shutil.copyfile(options.input, copy)
        print(f"copied {options.input} to {copy}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
