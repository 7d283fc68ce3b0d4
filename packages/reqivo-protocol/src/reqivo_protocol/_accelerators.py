"""Whether an optional compiled accelerator may be used (ADR-008, ADR-016)."""

from __future__ import annotations

import importlib
import os

__all__ = ["available"]


def available(module: str) -> bool:
    """Whether the compiled ``module`` imports and ``REQIVO_NO_EXTENSIONS`` is unset."""
    if os.environ.get("REQIVO_NO_EXTENSIONS"):
        return False
    try:
        importlib.import_module(module)
    except ImportError:  # pragma: no cover - a pure-Python build (CI builds it everywhere)
        return False
    return True
