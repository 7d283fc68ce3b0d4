"""A griffe extension for the docs build (mkdocs.yml): ``reqivo_protocol.exceptions.__all__``.

That module re-exports ``__all__`` by import (``from ._exceptions import __all__ as
__all__``), which griffe's static reading does not follow, so the packages whose
``__all__`` starts with ``*reqivo_protocol.exceptions.__all__`` could not be expanded
(a warning, an error under ``mkdocs build --strict``). The extension gives griffe the
runtime list: the code keeps its one source of the names.
"""

from __future__ import annotations

import importlib
from typing import Any

import griffe

#: Modules whose ``__all__`` is imported rather than assigned.
IMPORTED_EXPORTS = ("reqivo_protocol.exceptions",)


class ImportedExports(griffe.Extension):
    """Set the exports of the modules in ``IMPORTED_EXPORTS`` from their runtime ``__all__``."""

    def on_module(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        """Called by griffe once a module is read."""
        if mod.path in IMPORTED_EXPORTS and mod.exports is None:
            mod.exports = list(importlib.import_module(mod.path).__all__)
