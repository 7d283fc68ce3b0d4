"""Measure what ``import reqivo_async`` costs on top of ``import asyncio, ssl``.

    python scripts/import_time.py            # 30 -X importtime runs, 20 wall-clock runs
    python scripts/import_time.py -n 60 -w 40
    python scripts/import_time.py --top 25   # also list the costliest reqivo imports

Every measurement runs in a fresh interpreter. Two views:

* ``-X importtime``: the cumulative microseconds the interpreter reports for the
  ``reqivo_async`` and ``reqivo_protocol`` imports (asyncio and ssl are imported first,
  so they are not counted), median and minimum over the runs.
* wall clock: the best time of ``python -c "import asyncio, ssl"`` against
  ``python -c "import asyncio, ssl, reqivo_async"``, and their difference. This includes
  interpreter start-up and is noisier; the best of many runs is the fair comparison.
  Also shown: the import plus a first ``AsyncSession()``, which loads the transport stack
  (connection pool, HTTP/1.1 machine, TLS, cookie jar) that the import leaves for later.

Bytecode: an installed package has its ``.pyc`` files (installers compile them), but a
development shell may set ``PYTHONDONTWRITEBYTECODE``, and then every run compiles the
sources again, which costs more than the imports themselves. By default the runs use a
private ``PYTHONPYCACHEPREFIX`` (a temporary directory, filled by warm-up runs), which
measures what users get without writing into the source tree; ``--no-bytecode-cache``
measures the environment as it is.

The target (async client issue): the difference stays at or under 20 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BASE = "import asyncio, ssl"
FULL = "import asyncio, ssl; import reqivo_async"
SESSION = FULL + "; reqivo_async.AsyncSession()"
MEASURED = ("reqivo_async", "reqivo_protocol")


def importtime_run(python: str, env: dict[str, str]) -> list[tuple[str, int, int]]:
    """One fresh ``-X importtime`` run: (indented name, self us, cumulative us) rows of
    the modules imported by ``import reqivo_async`` (those after asyncio and ssl)."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-c", FULL],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    rows: list[tuple[str, int, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_part, cumulative, name = line.split("|")
        name = name[1:].rstrip()
        if name in ("asyncio", "ssl"):  # top level: what came before is not ours
            rows.clear()
            continue
        rows.append((name, int(self_part.split(":")[1]), int(cumulative)))
    return rows


def wall_clock(python: str, code: str, env: dict[str, str]) -> float:
    """Seconds one fresh interpreter takes to run ``code``."""
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=30, help="-X importtime runs (default 30)")
    parser.add_argument("-w", type=int, default=20, help="wall-clock runs each (default 20)")
    parser.add_argument("--top", type=int, default=0, help="list the N costliest imports")
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment's bytecode settings (PYTHONDONTWRITEBYTECODE compiles anew)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reqivo-pycache-") as prefix:
        env = dict(os.environ)
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = prefix
            for _ in range(2):  # fill the private cache
                importtime_run(args.python, env)
        measure(args, env)


def measure(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Run the measurements and print the report."""
    totals: dict[str, list[int]] = {name: [] for name in MEASURED}
    best_self: dict[str, int] = {}
    for _ in range(args.n):
        for name, self_us, cumulative in importtime_run(args.python, env):
            if name.strip() in totals:
                totals[name.strip()].append(cumulative)
            best_self[name] = min(best_self.get(name, self_us), self_us)

    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cached"
    print(f"-X importtime, {args.n} runs, {cache} (cumulative, after `{BASE}`):")
    for name, values in totals.items():
        if values:
            print(
                f"  {name:<16} median {statistics.median(values) / 1000:6.2f} ms"
                f"   min {min(values) / 1000:6.2f} ms"
            )
    if args.top:
        print(f"costliest imports by best self time (top {args.top}):")
        for name, self_us in sorted(best_self.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"  {self_us / 1000:6.2f} ms  {name.strip()}")

    base: list[float] = []
    full: list[float] = []
    session: list[float] = []
    for _ in range(args.w):  # interleaved, so load changes hit all alike
        base.append(wall_clock(args.python, BASE, env))
        full.append(wall_clock(args.python, FULL, env))
        session.append(wall_clock(args.python, SESSION, env))
    print(f"wall clock, best of {args.w}:")
    print(f"  import asyncio, ssl                 {min(base) * 1000:7.2f} ms")
    print(f"  ... + import reqivo_async           {min(full) * 1000:7.2f} ms")
    print(f"  ... + a first AsyncSession()        {min(session) * 1000:7.2f} ms")
    print(f"  import reqivo_async costs           {(min(full) - min(base)) * 1000:7.2f} ms")
    print(f"  import + AsyncSession() costs       {(min(session) - min(base)) * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
