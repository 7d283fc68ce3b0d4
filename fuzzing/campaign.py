"""A fuzzing campaign: every target up to a number of executions, resumable across sessions.

::

    uv run --group fuzz python fuzzing/campaign.py DIR [--runs 5000000] [--jobs 2]
        [--slice 600] [--only hpack,h2frames] [--status] [--record PATH] [--merge]

The campaign's state lives in ``DIR``, outside the repository: each target's scratch
corpus (``DIR/<target>/``, which libFuzzer resumes from), its log (``DIR/logs/``) and
``DIR/ledger.json`` (executions, seconds, peak coverage, slices and findings per target).
A target runs in slices of ``--slice`` seconds and the ledger is written after each, so a
campaign stopped with its session loses at most one slice per job, and running the same
command again continues where it stopped, until every target reached ``--runs``. Two
processes may share a campaign if they fuzz different targets (``--only``).

A target stops at a finding (``fuzzing/findings/<target>/``): fix it, add its regression
test (see README.md), run the campaign again and the target goes on. A slow unit that runs
fast when tried again alone is dropped: the niced fuzzer was only starved of CPU.
``--status`` prints the ledger. When every target is done, ``--merge`` adds the scratch
inputs that reach new coverage to the committed corpora and ``--record`` appends the table
to a Markdown file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from threading import Event, Lock
from types import FrameType

from run import HERE, TARGETS, merge_into_corpus, run_target

STOPPING = Event()
#: A slow unit that runs alone within this many seconds (interpreter start included) was
#: slow only because the fuzzer was starved of CPU (a niced fuzzer beside a test run).
SLOW_ALONE = 2.0


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM or SIGINT: end every running slice and record it before exiting.

    The signal is passed on to the libFuzzer children (listed by Linux's
    ``/proc/PID/task/TID/children``), which print their final counts and exit; each slice
    then ends as usual and its executions reach the ledger."""
    STOPPING.set()
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in children.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)


@dataclass
class Progress:
    """One target's share of the campaign so far."""

    executions: int = 0
    seconds: float = 0.0
    coverage: int = 0
    slices: int = 0
    findings: list[str] = field(default_factory=list)
    corpus_added: int | None = None


class Ledger:
    """``DIR/ledger.json``: the campaign's progress, written after every slice."""

    def __init__(self, path: Path, runs: int) -> None:
        self.path = path
        self._lock = Lock()
        data = json.loads(path.read_text()) if path.exists() else {}
        self.runs = int(data.get("runs", runs))
        self.started = str(data.get("started", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        self.targets = {name: Progress(**p) for name, p in data.get("targets", {}).items()}

    def of(self, target: str) -> Progress:
        return self.targets.setdefault(target, Progress())

    def save(self, target: str) -> None:
        """Write ``target``'s progress; the other targets' entries are kept as the file
        has them (another campaign process may be fuzzing them)."""
        with self._lock:
            data = json.loads(self.path.read_text()) if self.path.exists() else {}
            data.setdefault("runs", self.runs)
            data.setdefault("started", self.started)
            data.setdefault("targets", {})[target] = asdict(self.of(target))
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=1) + "\n")
            temporary.replace(self.path)


def starved(target: str, artifact: Path) -> bool:
    """Whether ``artifact`` is a slow unit that is not slow when run again alone."""
    if not artifact.name.startswith("slow-unit-"):
        return False
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(HERE / f"fuzz_{target}.py"), str(artifact)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=HERE,
        check=False,
    )
    return time.monotonic() - started < SLOW_ALONE


def fuzz_target(target: str, ledger: Ledger, directory: Path, slice_seconds: int) -> None:
    """Run ``target`` slice after slice until it reached the campaign's executions or
    found something."""
    progress = ledger.of(target)
    logs = directory / "logs"
    logs.mkdir(exist_ok=True)
    while progress.executions < ledger.runs and not STOPPING.is_set():
        remaining = ledger.runs - progress.executions
        result = run_target(target, slice_seconds, directory, remaining)
        with (logs / f"{target}.log").open("ab") as log:
            log.write(result.log.read_bytes())
        progress.executions += result.executions
        progress.seconds += result.seconds
        progress.coverage = max(progress.coverage, result.coverage)
        progress.slices += 1
        findings = []
        for path in result.findings:
            if starved(target, path):
                print(f"  {target}: {path.name} runs fast alone (the fuzzer was starved): dropped")
                path.unlink()
            else:
                findings.append(path)
        progress.findings += [path.name for path in findings]
        ledger.save(target)
        print(f"  {target}: {progress.executions:,} executions", flush=True)
        if STOPPING.is_set():
            return
        if findings or result.returncode != 0:
            print(f"  {target}: stopped (exit status {result.returncode}; see {result.log})")
            return


def table(ledger: Ledger, targets: list[str]) -> list[str]:
    """The ledger as a Markdown table."""
    lines = [
        "| target | executions | seconds | exec/s | coverage | corpus added | findings |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for target in targets:
        p = ledger.of(target)
        rate = p.executions / p.seconds if p.seconds else 0.0
        added = "-" if p.corpus_added is None else str(p.corpus_added)
        found = ", ".join(p.findings) or "none"
        lines.append(
            f"| {target} | {p.executions:,} | {p.seconds:,.0f} | {rate:,.0f} | {p.coverage} "
            f"| {added} | {found} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="the campaign's state (outside the repo)")
    parser.add_argument("--runs", type=int, default=5_000_000, help="executions per target")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once")
    parser.add_argument("--slice", type=int, default=600, help="seconds per libFuzzer run")
    parser.add_argument("--only", default="", help="comma-separated targets")
    parser.add_argument("--status", action="store_true", help="print the ledger and stop")
    parser.add_argument("--merge", action="store_true", help="grow the committed corpora")
    parser.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args(argv)
    targets = [t for t in args.only.split(",") if t] or TARGETS
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    args.directory.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(args.directory / "ledger.json", args.runs)
    if not args.status:
        print(f"campaign in {args.directory}: {ledger.runs:,} executions per target", flush=True)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(lambda t: fuzz_target(t, ledger, args.directory, args.slice), targets))
    done = all(ledger.of(t).executions >= ledger.runs for t in targets)
    if done and args.merge:
        for target in targets:
            ledger.of(target).corpus_added = merge_into_corpus(target, args.directory)
            ledger.save(target)
    print("\n".join(table(ledger, targets)))
    if done and args.record:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        head = [
            f"## Campaign of {ledger.runs:,} executions per target, {ledger.started} to {stamp}",
            "",
            f"Python {sys.version.split()[0]}, `python fuzzing/campaign.py` with "
            f"slices of {args.slice} s.",
            "",
        ]
        with args.record.open("a", encoding="utf-8") as out:
            out.write("\n".join([*head, *table(ledger, targets), "", ""]))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
