"""Every code snippet of the docs, the READMEs and examples/ runs, against the docs world.

One test per snippet, named by where it is (``docs/guides/auth.md:42`` is the line of the
opening fence); what counts as a snippet is in :mod:`docs_harness.collect`, what it may
talk to in :mod:`docs_harness`. A block marked ``<!-- not-run: reason -->`` is not
collected (not skipped): :func:`test_not_run_blocks_say_why` lists them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_harness.collect import (
    RUN_LANGUAGES,
    Snippet,
    collect,
    fenced_blocks,
    not_run_blocks,
    stray_markers,
)
from docs_harness.run import Runner

ROOT = Path(__file__).resolve().parent.parent.parent
SNIPPETS = collect(ROOT)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs(snippet: Snippet, snippet_runner: Runner) -> None:
    outcome = snippet_runner.outcome(snippet)
    if not outcome.ok:
        pytest.fail(f"{snippet.id} failed\n{outcome.report()}", pytrace=False)


def test_not_run_blocks_say_why() -> None:
    """Lists every block kept out of the run; fails on an empty reason or a stray marker."""
    blocks = not_run_blocks(ROOT)
    for block in blocks:
        print(f"not run: {block.id} ({block.language or 'no language'}): {block.not_run}")
    print(f"{len(blocks)} block(s) not run, {len(SNIPPETS)} snippet(s) run")
    assert [b.id for b in blocks if not b.not_run] == [], "a not-run comment without a reason"
    pointless = [b.id for b in blocks if b.language not in RUN_LANGUAGES]
    assert pointless == [], f"not-run on blocks that never run ({', '.join(pointless)})"
    assert stray_markers(ROOT) == [], "a not-run comment with no fenced block below it"


@pytest.mark.parametrize(
    "page",
    ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("packages/*/README.md"))],
)
def test_landing_pages_have_a_runnable_example(page: str) -> None:
    runnable = [
        b for b in fenced_blocks(ROOT / page, ROOT) if b.language == "python" and b.not_run is None
    ]
    assert runnable, f"{page} shows no runnable Python example"
    assert any(s.id == runnable[0].id for s in SNIPPETS)


def test_every_example_is_collected() -> None:
    examples = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").iterdir())
    assert examples == sorted(s.id for s in SNIPPETS if s.kind == "file")
