"""Layering rules of the design brief, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL_SRC = ROOT / "packages/reqivo-protocol/src/reqivo_protocol"
#: The protocol package is sans-IO: it never does I/O, threads or reads a clock.
FORBIDDEN = {"socket", "ssl", "asyncio", "selectors", "threading", "time", "email"}
#: Of those, what importing the package must not load (``time`` is loaded by the
#: standard library itself at start-up, so only the source check covers it).
FORBIDDEN_AT_RUNTIME = FORBIDDEN - {"time"}
#: Which reqivo packages each package may import (its declared dependencies).
ALLOWED_REQIVO_IMPORTS = {
    "reqivo-protocol": {"reqivo_protocol"},
    "reqivo-async": {"reqivo_protocol", "reqivo_async"},
    "reqivo-sync": {"reqivo_protocol", "reqivo_async", "reqivo_sync"},
    "reqivo-ws": {"reqivo_protocol", "reqivo_async", "reqivo_ws", "reqivo_sync"},
}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PROTOCOL_SRC.rglob("*.py")), ids=lambda p: p.name)
def test_protocol_module_imports_no_io(path: Path) -> None:
    top_levels = {name.split(".")[0] for name in _imported_modules(path)}
    assert not top_levels & FORBIDDEN, f"{path.name} imports {sorted(top_levels & FORBIDDEN)}"


def test_importing_the_protocol_package_loads_no_io_module() -> None:
    probe = (
        "import sys, reqivo_protocol\n"
        f"print(sorted(m for m in {sorted(FORBIDDEN_AT_RUNTIME)!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=False
    )
    # -I drops the venv's path configuration for editable installs; fall back to plain -c.
    if out.returncode != 0:
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", sorted(ALLOWED_REQIVO_IMPORTS))
def test_packages_import_only_their_declared_layers(package: str) -> None:
    src = ROOT / "packages" / package / "src"
    for path in src.rglob("*.py"):
        reqivo = {n.split(".")[0] for n in _imported_modules(path) if n.startswith("reqivo_")}
        assert reqivo <= ALLOWED_REQIVO_IMPORTS[package], f"{path}: {sorted(reqivo)}"


@pytest.mark.parametrize("package", sorted(ALLOWED_REQIVO_IMPORTS))
def test_every_package_ships_py_typed(package: str) -> None:
    import_name = package.replace("-", "_")
    assert (ROOT / "packages" / package / "src" / import_name / "py.typed").is_file()
