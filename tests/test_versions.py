"""The four packages share one version, and each pins its siblings exactly."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_version_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "reqivo_version_script", ROOT / "scripts/version.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


version = _load_version_script()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of just the files that carry versions."""
    for path in version.version_files(ROOT):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return tmp_path


def test_the_repository_is_coupled() -> None:
    assert version.problems(ROOT) == []


def test_every_package_pins_its_siblings_exactly() -> None:
    pins = [f for f in version.findings(ROOT) if f.what.startswith("pin")]
    assert {f.what for f in pins} == {"pin reqivo-protocol", "pin reqivo-async", "pin reqivo-sync"}
    current = version.current_version(ROOT)
    assert all(f.value == f"=={current}" for f in pins)


def test_a_drifted_version_is_reported(tree: Path) -> None:
    path = tree / "packages/reqivo-sync/pyproject.toml"
    path.write_text(path.read_text().replace('version = "', 'version = "9', 1))
    assert version.problems(tree)


def test_a_loose_pin_is_reported(tree: Path) -> None:
    path = tree / "packages/reqivo-async/pyproject.toml"
    current = version.current_version(tree)
    path.write_text(path.read_text().replace(f"reqivo-protocol=={current}", "reqivo-protocol>=0.1"))
    assert [p for p in version.problems(tree) if "reqivo-protocol" in p]


def test_a_drifted_dunder_version_is_reported(tree: Path) -> None:
    path = tree / "packages/reqivo-ws/src/reqivo_ws/__init__.py"
    path.write_text(path.read_text().replace('__version__ = "', '__version__ = "7', 1))
    assert version.problems(tree)


def test_bump_moves_everything_together(tree: Path) -> None:
    version.bump("4.5.6", tree)
    assert version.problems(tree) == []
    assert version.current_version(tree) == "4.5.6"
    found = version.findings(tree)
    assert {f.value for f in found if not f.what.startswith("pin")} == {"4.5.6"}
    assert {f.value for f in found if f.what.startswith("pin")} == {"==4.5.6"}


def test_bump_refuses_a_malformed_version(tree: Path) -> None:
    with pytest.raises(SystemExit):
        version.bump("1.2", tree)
