"""Reqivo's WebSocket client.

This package is a skeleton until its issue fills it; it already re-exports the shared
exception hierarchy so that ``except reqivo_ws.ReadTimeout`` works everywhere.
"""

from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as _exception_names

__version__ = "0.1.0"

__all__ = [*_exception_names, "__version__"]
