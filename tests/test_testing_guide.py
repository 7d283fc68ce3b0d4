"""docs/guides/testing.md: its pytest test files run under pytest, its programs run.

The guide shows the ``reqivo_mock`` fixture in test files, marked
``<!-- not-run: a pytest test file; run by tests/test_testing_guide.py -->`` for the
docs' snippet runner: here each one runs under pytest (``pytester``), as the file its
first line names, and all its tests must pass. The guide's other ``python`` blocks are
complete programs; they run here too, each in a fresh interpreter.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "testing.md"
MARK = "<!-- not-run: a pytest test file; run by tests/test_testing_guide.py -->"
BLOCK = re.compile(r"(?:^(<!--[^\n]*-->)\n)?^```python\n(.*?)^```", re.M | re.S)


def _blocks() -> list[tuple[str | None, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]


TEST_FILES = [code for comment, code in _blocks() if comment == MARK]
PROGRAMS = [code for comment, code in _blocks() if comment is None]


def test_the_guide_has_both_kinds() -> None:
    assert len(TEST_FILES) >= 2
    assert len(PROGRAMS) >= 5


@pytest.mark.parametrize("code", TEST_FILES, ids=lambda code: code.split("\n", 1)[0][2:])
def test_the_guides_test_files_pass(pytester: pytest.Pytester, code: str) -> None:
    name = re.fullmatch(r"# (test_\w+)\.py", code.split("\n", 1)[0])
    assert name is not None, "a test file block starts with '# test_name.py'"
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\n"
        "asyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    pytester.makepyfile(**{name.group(1): code})
    result = pytester.runpytest("-v")
    tests = len(re.findall(r"^(?:async )?def test_", code, re.M))
    result.assert_outcomes(passed=tests)


@pytest.mark.parametrize(
    "code", PROGRAMS, ids=[f"program-{i}" for i in range(1, len(PROGRAMS) + 1)]
)
def test_the_guides_programs_run(tmp_path: Path, code: str) -> None:
    program = tmp_path / "snippet.py"
    program.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
