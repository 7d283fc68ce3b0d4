"""Every code snippet of the docs, the READMEs and examples/ runs, against the docs world.

One test per snippet, named by where it is (``docs/guides/auth.md:42`` is the line of the
opening fence); what counts as a snippet is in :mod:`docs_harness.collect`, what it may
talk to in :mod:`docs_harness`. A block marked ``<!-- not-run: reason -->`` is not
collected (not skipped): :func:`test_not_run_blocks_say_why` lists them all.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

# The harness (beside this file) and reqivo-async's test servers (``servers``), imported as
# reqivo-async's conftest does. Fixtures live here, not in a conftest.py: one module, so
# the session's world starts once (and mypy sees no second ``conftest`` module).
ROOT = Path(__file__).resolve().parent.parent.parent
for _folder in (Path(__file__).resolve().parent, ROOT / "packages" / "reqivo-async" / "tests"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from docs_harness.collect import (  # noqa: E402
    RUN_LANGUAGES,
    Snippet,
    collect,
    fenced_blocks,
    not_run_blocks,
    stray_markers,
)
from docs_harness.run import Runner, run_snippet  # noqa: E402
from docs_harness.world import World, running_world  # noqa: E402
from docs_harness.world_checks import PROGRAMS  # noqa: E402

SNIPPETS = collect(ROOT)
#: Snippets run at the same time (``REQIVO_DOCS_JOBS`` overrides): each is mostly a
#: Python start-up, so a little more than the two cores of the CI machine.
JOBS = int(os.environ.get("REQIVO_DOCS_JOBS", "3"))


@pytest.fixture(scope="session")
def docs_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The running docs world (see :mod:`docs_harness`)."""
    with running_world(tmp_path_factory.mktemp("docs-world")) as world:
        yield world


@pytest.fixture(scope="session")
def snippet_runner(request: pytest.FixtureRequest, docs_world: World) -> Iterator[Runner]:
    """Starts every selected snippet test's snippet in the background, :data:`JOBS` at a time."""
    selected: list[Snippet] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        snippet = callspec.params.get("snippet") if callspec is not None else None
        if isinstance(snippet, Snippet):
            selected.append(snippet)
    runner = Runner(selected, docs_world, JOBS)
    yield runner
    summary = runner.summary()
    runner.close()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and summary:
        with capture.global_and_fixture_disabled():  # shown after the dots, not captured
            reporter.write_line("\n" + summary)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_snippet_runs(snippet: Snippet, snippet_runner: Runner, docs_world: World) -> None:
    outcome = snippet_runner.outcome(snippet)
    if not outcome.ok:
        log = docs_world.files / "world.log"
        pytest.fail(f"{snippet.id} failed\n{outcome.report()}\n(servers' log: {log})", False)


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
    [
        "README.md",
        *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("packages/*/README.md")),
    ],
)
def test_landing_pages_have_a_runnable_example(page: str) -> None:
    runnable = [
        b for b in fenced_blocks(ROOT / page, ROOT) if b.language == "python" and b.not_run is None
    ]
    assert runnable, f"{page} shows no runnable Python example"
    assert any(s.id == runnable[0].id for s in SNIPPETS)


def test_every_example_is_collected() -> None:
    examples = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").iterdir() if p.is_file()
    )
    assert examples == sorted(s.id for s in SNIPPETS if s.kind == "file")


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_world_answers(name: str, docs_world: World, tmp_path: Path) -> None:
    """The world itself: names, files, and each host (see :mod:`docs_harness.world_checks`)."""
    snippet = Snippet(f"world:{name}", "python", textwrap.dedent(PROGRAMS[name]))
    outcome = run_snippet(snippet, docs_world, tmp_path)
    assert outcome.ok, outcome.report()


PAGE = """\
# A page

```python title="one.py" linenums="1"
print("one")
```

<!-- not-run: a fragment of a config file -->

```python
settings = ...
```

1. In a list:

    ```py
    print("indented")
    ```

````markdown
```python
print("inside a markdown example: not a block of this page")
```
````

```console
$ reqivo https://httpbin.org/get \\
    q==1
{"args": ...}
$ pip install reqivo-sync
$ python -c "print(2)"
```

```text
$ reqivo never-run
```

<!-- not-run: -->
"""


def test_collect_reads_fences_markers_and_commands(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(PAGE)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "a.py").write_text("print(1)\n")
    snippets = {s.id: s for s in collect(tmp_path)}
    assert list(snippets) == ["README.md:3", "README.md:15", "README.md:25", "examples/a.py"]
    assert snippets["README.md:3"].code == 'print("one")\n'
    assert snippets["README.md:15"].code == 'print("indented")\n'
    assert snippets["README.md:25"].commands == (
        "reqivo https://httpbin.org/get \\\n    q==1",
        'python -c "print(2)"',
    )
    (marked,) = not_run_blocks(tmp_path)
    assert (marked.id, marked.not_run) == ("README.md:9", "a fragment of a config file")
    assert stray_markers(tmp_path) == ["README.md:37"]
