"""Run snippets in fresh processes, a few at a time, in prepared working directories."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from docs_harness.collect import Snippet
from docs_harness.world import World

__all__ = ["TIMEOUT", "Outcome", "Runner", "run_snippet"]

#: Seconds a snippet (a whole console block) may take.
TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a snippet ended: the failing command (or the program), its exit code and output."""

    command: str
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def report(self) -> str:
        ended = "timed out" if self.returncode is None else f"exit code {self.returncode}"
        return (
            f"$ {self.command}\n{ended} after {self.seconds:.2f} s\n"
            f"--- stdout ---\n{self.stdout[-8000:]}\n--- stderr ---\n{self.stderr[-8000:]}"
        )


def _run(
    argv: list[str] | str, command: str, cwd: Path, env: dict[str, str], left: float
) -> Outcome:
    begin = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            shell=isinstance(argv, str),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=left,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        return Outcome(command, None, out, err, time.perf_counter() - begin)
    return Outcome(command, done.returncode, done.stdout, done.stderr, time.perf_counter() - begin)


def run_snippet(snippet: Snippet, world: World, scratch: Path) -> Outcome:
    """Run ``snippet`` in ``scratch/work`` (prepared by the world) and say how it ended.

    A Python block is written to a file named after its page, padded with blank lines so
    that a traceback's line numbers are the page's. Console commands run one after the
    other through the shell, with this environment's ``python`` and ``reqivo`` first on
    PATH, until one fails; the limit covers the whole block.
    """
    workdir = world.prepare(scratch / "work")
    env = world.env()
    if snippet.kind == "python":
        program = scratch / (snippet.id.replace("/", "_").replace(":", "-") + ".py")
        program.write_text("\n" * (snippet.line) + snippet.code, encoding="utf-8")
        return _run([sys.executable, str(program)], f"python {program.name}", workdir, env, TIMEOUT)
    if snippet.kind == "file":
        return _run([sys.executable, snippet.code], f"python {snippet.id}", workdir, env, TIMEOUT)
    deadline = time.perf_counter() + TIMEOUT
    outcome = Outcome("(no command)", 0, "", "", 0.0)
    for command in snippet.commands:
        outcome = _run(command, command, workdir, env, max(0.1, deadline - time.perf_counter()))
        if not outcome.ok:
            break
    return outcome


class Runner:
    """Runs the snippets a test session selected, ``jobs`` at a time, in the background.

    Tests ask for their outcome in collection order; the pool has started the next ones
    meanwhile, so the session takes about the total time divided by ``jobs``.
    """

    def __init__(self, snippets: list[Snippet], world: World, jobs: int) -> None:
        self._jobs = jobs
        self._scratch = tempfile.TemporaryDirectory(prefix="reqivo-docs-")
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="snippet")
        root = Path(self._scratch.name)
        self._futures: dict[str, Future[Outcome]] = {
            s.id: self._pool.submit(run_snippet, s, world, root / f"{n:04d}")
            for n, s in enumerate(snippets)
        }

    def outcome(self, snippet: Snippet) -> Outcome:
        return self._futures[snippet.id].result()

    def summary(self) -> str:
        """One line: how many ran, their summed time, the slowest three."""
        done = {
            key: f.result() for key, f in self._futures.items() if f.done() and not f.cancelled()
        }
        if not done:
            return ""
        slowest = sorted(done.items(), key=lambda item: -item[1].seconds)[:3]
        return (
            f"docs snippets: {len(done)} run, {sum(o.seconds for o in done.values()):.1f} s "
            f"of snippet time ({self._jobs} at a time); slowest: "
            + ", ".join(f"{key} {o.seconds:.2f} s" for key, o in slowest)
        )

    def close(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        self._scratch.cleanup()
