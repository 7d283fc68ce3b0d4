"""Run every fuzz target (or some) for a bounded time and summarise executions and findings.

::

    uv run --group fuzz python fuzzing/run.py [SECONDS] [--jobs N] [--only http11,url]
        [--runs N]

``SECONDS`` (default ``$REQIVO_FUZZ_SECONDS`` or 60) is the time per target. Each target
runs in its own process with libFuzzer's ``-max_total_time``; new interesting inputs
go to a scratch corpus (``$REQIVO_FUZZ_WORKDIR`` or a temporary folder), never into the
committed seeds, and crashing inputs to ``fuzzing/findings/<target>/``. The exit status
is 1 when any target found something.

``--runs N`` bounds each target by executions instead (libFuzzer's ``-runs``; the time
bound then applies only when ``SECONDS`` is given explicitly). Long runs that grow the
committed corpora and are recorded belong to ``campaign.py``, which uses this module.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = [
    "http11",
    "chunked",
    "decoders",
    "url",
    "websocket",
    "cookies",
    "hpack",
    "h2frames",
    "h2connection",
]
_DONE = re.compile(rb"Done (\d+) runs in (\d+) second")
_STATUS = re.compile(rb"^#(\d+)\s", re.MULTILINE)
_COV = re.compile(rb"cov: (\d+)")


@dataclass
class Result:
    """What one bounded run of one target did."""

    target: str
    executions: int
    seconds: float
    coverage: int
    findings: list[Path]
    returncode: int
    log: Path


def run_target(target: str, seconds: int, workdir: Path, runs: int = 0) -> Result:
    """Run one target for ``seconds`` (and at most ``runs`` executions when given) and
    collect its numbers."""
    scratch = workdir / target
    scratch.mkdir(parents=True, exist_ok=True)
    findings_dir = HERE / "findings" / target
    findings_dir.mkdir(parents=True, exist_ok=True)
    before = set(findings_dir.iterdir())
    log = workdir / f"{target}.log"
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        f"-max_total_time={seconds}",
        *([f"-runs={runs}"] if runs else []),
        f"-artifact_prefix={findings_dir}/",
        "-print_final_stats=1",
        str(scratch),
        str(HERE / "corpus" / target),
    ]
    dictionary = HERE / "dicts" / f"{target}.dict"
    if dictionary.exists():
        command.insert(2, f"-dict={dictionary}")
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=HERE)
    elapsed = time.monotonic() - started
    text = log.read_bytes()
    done = _DONE.search(text)
    statuses = _STATUS.findall(text)
    executions = int(done.group(1)) if done else (int(statuses[-1]) if statuses else 0)
    coverage = max((int(c) for c in _COV.findall(text)), default=0)
    findings = sorted(set(findings_dir.iterdir()) - before)
    return Result(target, executions, elapsed, coverage, findings, proc.returncode, log)


def merge_into_corpus(target: str, workdir: Path) -> int:
    """Add the scratch inputs of ``target`` that reach new coverage to its committed
    corpus; return how many files the corpus gained."""
    corpus = HERE / "corpus" / target
    before = len(list(corpus.iterdir()))
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        "-merge=1",
        str(corpus),
        str(workdir / target),
    ]
    # libFuzzer's merge runs the target again as a command (argv[0], the script: hence
    # the targets' shebang and executable bit), with this interpreter first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with (workdir / f"{target}.merge.log").open("wb") as out:
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=HERE, check=True, env=env)
    return len(list(corpus.iterdir())) - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "seconds", nargs="?", type=int, default=None, help="time per target (default 60)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once")
    parser.add_argument("--only", default="", help="comma-separated targets")
    parser.add_argument("--runs", type=int, default=0, help="executions per target")
    args = parser.parse_args(argv)
    if args.seconds is None:  # bounded by executions alone when --runs is given
        args.seconds = 0 if args.runs else int(os.environ.get("REQIVO_FUZZ_SECONDS", 60))
    targets = [t for t in args.only.split(",") if t] or TARGETS
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    workdir = Path(os.environ.get("REQIVO_FUZZ_WORKDIR") or tempfile.mkdtemp(prefix="reqivo-fuzz-"))
    bound = f"{args.seconds} s" if args.seconds else f"{args.runs:,} executions"
    print(f"fuzzing {', '.join(targets)} for {bound} each; scratch in {workdir}", flush=True)

    def one(target: str) -> Result:
        result = run_target(target, args.seconds, workdir, args.runs)
        done = f"{result.executions:,} executions in {result.seconds:,.0f} s"
        print(f"  {target}: {done}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, targets))
    print(f"{'target':<10} {'executions':>11} {'exec/s':>7} {'cov':>5}  findings")
    failed = False
    for r in results:
        rate = r.executions / r.seconds if r.seconds else 0.0
        crashed = bool(r.findings) or r.returncode != 0
        failed |= crashed
        note = ", ".join(str(p.relative_to(HERE)) for p in r.findings) or (
            f"exit status {r.returncode} (see {r.log})" if r.returncode else "none"
        )
        print(f"{r.target:<10} {r.executions:>11,} {rate:>7.0f} {r.coverage:>5}  {note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
