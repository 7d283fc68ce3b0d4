"""scripts/test_summary.py adds JUnit reports up into CI's closing line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "test_summary_script", ROOT / "scripts/test_summary.py"
)
assert _spec is not None and _spec.loader is not None
summary = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = summary
_spec.loader.exec_module(summary)


def test_reports_are_added_up(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(
        '<testsuites><testsuite tests="10" failures="1" errors="1" skipped="2"/></testsuites>'
    )
    (tmp_path / "b.xml").write_text('<testsuite tests="5" failures="0" errors="0" skipped="0"/>')
    (tmp_path / "broken.xml").write_text("<testsuite")
    assert summary.summarize(tmp_path) == (11, 2, 2)


def test_an_empty_folder_counts_nothing(tmp_path: Path) -> None:
    assert summary.summarize(tmp_path) == (0, 0, 0)
