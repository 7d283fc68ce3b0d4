"""Fixtures of the docs tests: the docs world (session) and the snippet runner.

``tests/docs`` (for :mod:`docs_harness`) and reqivo-async's test folder (for its
``servers`` helpers) go on ``sys.path``, as reqivo-async's own conftest does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent.parent
for _folder in (_HERE, ROOT / "packages" / "reqivo-async" / "tests"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from docs_harness.collect import Snippet  # noqa: E402
from docs_harness.run import Runner  # noqa: E402
from docs_harness.world import World, running_world  # noqa: E402

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
    runner.close()
