"""What every blocking wrapper shares: its async twin, its bridge, its lifetime.

A wrapper (``Session``, ``ConnectionPool``, ``Connection``) owns a ``LoopBridge`` whose
resource is its async twin (ADR-012): one ``AsyncSession``, ``AsyncConnectionPool`` or
``AsyncConnection`` that every thread uses, on the bridge's one event loop. The twin is
built by the wrapper's constructor, so that bad arguments fail there, as in the async
API; a forked child builds a fresh one on its first call (``Twin``).

``Twin`` and the bridge never refer to the wrapper itself: a wrapper dropped without
``close()`` can be collected, and then warns (``ResourceWarning``) and closes everything.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from reqivo_sync._bridge import LoopBridge

__all__ = ["BlockingWrapper", "Twin"]

R = TypeVar("R")


class Twin(Generic[R]):
    """The one async object a wrapper runs: made by the wrapper's constructor (so that bad
    arguments fail there), remade by ``fresh()`` in a forked child."""

    __slots__ = ("_first", "current", "fresh", "used")

    def __init__(self, first: R, fresh: Callable[[], R]) -> None:
        self.current = first
        self.fresh = fresh
        self._first = True
        self.used = False

    def factory(self) -> R:
        """The bridge's factory: runs on the bridge's loop, once (and once per fork)."""
        if self._first:
            self._first = False
        else:
            self.current = self.fresh()
        self.used = True
        return self.current


class BlockingWrapper:
    """Base of the blocking wrappers: ``close()``, ``with``, and the unclosed warning."""

    _bridge: LoopBridge[Any]
    _twin: Twin[Any]
    _closed_by_user = False

    def _start(
        self,
        twin: Twin[Any],
        closer: Callable[[Any], Coroutine[Any, Any, None]],
    ) -> None:
        self._twin = twin
        self._bridge = LoopBridge(twin.factory, closer)

    def close(self) -> None:
        """Close every connection and the event loop. Idempotent."""
        self._closed_by_user = True
        self._bridge.close()

    def __enter__(self) -> Self:
        if self._bridge.closed:
            raise RuntimeError(f"cannot reopen a closed {type(self).__name__}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        bridge: LoopBridge[Any] | None = getattr(self, "_bridge", None)
        if bridge is None:
            return
        # The bridge may already be closed by its own finalizer: at interpreter exit
        # (quietly, by design), or collected in the same garbage cycle as this wrapper
        # (then the wrapper was still dropped unclosed, and says so).
        if self._twin.used and not self._closed_by_user and not sys.is_finalizing():
            _warn(
                f"unclosed {self!r}: use 'with {type(self).__name__}(...)' or call close()",
                ResourceWarning,
                source=self,
            )
        bridge.close()
