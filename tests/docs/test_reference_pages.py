"""The API reference (docs/reference/*.md) covers every public name of the four packages.

The reference pages list their objects one by one (``::: reqivo_async.AsyncSession``),
grouped by topic; this test keeps the lists from falling behind ``__all__``. A name
re-exported by several packages is the same object, documented once: it counts wherever
its directive is. A directive for a module (``::: reqivo_protocol.http11``) renders that
module's own ``__all__``, so it covers those names too.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
PACKAGES = ["reqivo_protocol", "reqivo_async", "reqivo_sync", "reqivo_ws"]
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)
#: Public names that are not API objects to document.
NOT_DOCUMENTED = {"__version__"}


def _resolve(path: str) -> object:
    """The object a mkdocstrings identifier names (``package.module.Name``)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(path)


def _directives() -> dict[str, str]:
    """Every ``::: identifier`` of the reference pages, and the page it is on."""
    found: dict[str, str] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        for identifier in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            assert identifier not in found, f"{identifier} documented twice"
            found[identifier] = page.name
    return found


def _documented_ids() -> set[int]:
    """The ids of the objects the reference renders."""
    ids: set[int] = set()
    for identifier in _directives():
        target = _resolve(identifier)
        ids.add(id(target))
        if isinstance(target, ModuleType):
            ids.update(id(getattr(target, name)) for name in getattr(target, "__all__", ()))
    return ids


def test_every_directive_names_an_object() -> None:
    directives = _directives()
    assert len(directives) > 40
    for identifier in directives:
        _resolve(identifier)  # raises when a page names something that does not exist


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_in_the_reference(package: str) -> None:
    module = importlib.import_module(package)
    documented = _documented_ids()
    missing = [
        name
        for name in module.__all__
        if name not in NOT_DOCUMENTED and id(getattr(module, name)) not in documented
    ]
    assert missing == [], (
        f"{package}.__all__ names missing from docs/reference/*.md: {missing}; "
        f"add a `::: {package}.NAME` line to the page of its topic"
    )


def test_exception_tree_names_every_exception() -> None:
    """The tree drawn on the exceptions page lists the whole hierarchy."""
    exceptions = importlib.import_module("reqivo_protocol.exceptions")
    page = (REFERENCE / "exceptions.md").read_text(encoding="utf-8")
    tree = page[page.index("```text") : page.index("```", page.index("```text") + 3)]
    drawn = set(re.findall(r"\b[A-Z]\w+", tree)) & set(exceptions.__all__)
    assert sorted(set(exceptions.__all__) - drawn) == []
