"""Layering rules of the design brief, checked on the source."""

from __future__ import annotations

import ast
import re
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


#: What a package must never import, whatever its declared dependencies say: the async
#: core knows nothing of its wrappers, the blocking client nothing of WebSockets.
NEVER = {
    "reqivo-protocol": {"reqivo_async", "reqivo_sync", "reqivo_ws"},
    "reqivo-async": {"reqivo_sync", "reqivo_ws"},
    "reqivo-sync": {"reqivo_ws"},
}
#: A module path as importlib, ``_LAZY`` tables and monkeypatching spell it.
_MODULE_PATH = re.compile(r"reqivo_[a-z]+(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _references(path: Path) -> list[tuple[int, str]]:
    """Every reqivo name ``path`` imports, at any depth (functions, ``TYPE_CHECKING``
    blocks), as ``(line, dotted name)``: ``from m import n`` gives ``m.n``; a string
    that is a dotted module path (``importlib.import_module("m._x")``) counts too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_PATH.fullmatch(node.value)
        ):
            found.append((node.lineno, node.value))
    return [(line, name) for line, name in found if name.startswith("reqivo_")]


def _is_private(dotted: str) -> bool:
    return any(p.startswith("_") and not p.endswith("__") for p in dotted.split(".")[1:])


def _violations(package: str) -> list[str]:
    own = package.replace("-", "_")
    src = ROOT / "packages" / package / "src"
    out = []
    for path in sorted(src.rglob("*.py")):
        seen: set[tuple[int, str]] = set()
        for line, name in _references(path):
            if (line, name.rpartition(".")[0]) in seen:
                continue  # "from m._x import a, b": m._x is reported once
            seen.add((line, name))
            top = name.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line}"
            if top in NEVER.get(package, set()):
                out.append(f"{where}: {name} ({package} never imports {top})")
            elif top != own and _is_private(name):
                out.append(f"{where}: {name} (a private name of another package)")
            else:
                seen.discard((line, name))
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED_REQIVO_IMPORTS))
def test_packages_use_each_other_only_through_public_names(package: str) -> None:
    """ADR-009: no ``_private`` module or name of another package, and the never-rules."""
    violations = _violations(package)
    assert not violations, "\n".join(["", *violations])


def test_the_private_import_check_sees_every_form(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "import reqivo_async._pool\n"
        "from reqivo_protocol.http11._events import Data\n"
        "from reqivo_async import _session\n"
        "from reqivo_protocol import __version__, URL\n"
        "if TYPE_CHECKING:\n"
        "    from reqivo_async._auth import Auth\n"
        "def f():\n"
        "    from reqivo_sync._loop_thread import LoopThread\n"
        "    return importlib.import_module('reqivo_async._tls')\n",
        encoding="utf-8",
    )
    private = sorted(name for _, name in _references(probe) if _is_private(name))
    assert private == [
        "reqivo_async._auth",
        "reqivo_async._auth.Auth",
        "reqivo_async._pool",
        "reqivo_async._session",
        "reqivo_async._tls",
        "reqivo_protocol.http11._events",
        "reqivo_protocol.http11._events.Data",
        "reqivo_sync._loop_thread",
        "reqivo_sync._loop_thread.LoopThread",
    ]


@pytest.mark.parametrize("package", sorted(ALLOWED_REQIVO_IMPORTS))
def test_every_package_ships_py_typed(package: str) -> None:
    import_name = package.replace("-", "_")
    assert (ROOT / "packages" / package / "src" / import_name / "py.typed").is_file()
