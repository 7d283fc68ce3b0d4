"""What every blocking wrapper shares: its per-loop async objects, its bridge, its lifetime.

A wrapper (``Session``, ``ConnectionPool``, ``Connection``) owns a ``LoopBridge`` whose
per-loop resource is the async twin (ADR-006): ``PerLoop.make`` builds one for each
event loop the bridge runs (one per calling thread, plus the fallback loop). The first
one is usually built eagerly by the wrapper's constructor, so that bad arguments fail
there, as in the async API; it is handed to the first loop that needs one.

``PerLoop`` and the bridge never refer to the wrapper itself: a wrapper dropped without
``close()`` can be collected, and then warns (``ResourceWarning``) and closes everything.
"""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from reqivo_sync._bridge import LoopBridge

__all__ = ["BlockingWrapper", "PerLoop"]

R = TypeVar("R")


class PerLoop(Generic[R]):
    """Makes the async object of each loop; remembers them (weakly) and whether any was used."""

    __slots__ = ("__weakref__", "_first", "_lock", "_make", "made", "used")

    def __init__(self, first: R | None, make: Callable[[], R]) -> None:
        self._first = first
        self._make = make
        self._lock = threading.Lock()
        self.made: weakref.WeakSet[Any] = weakref.WeakSet()
        self.used = False

    def factory(self) -> R:
        """The bridge's factory: runs once per loop, inside that loop."""
        with self._lock:
            first, self._first = self._first, None
        resource = first if first is not None else self._make()
        with self._lock:
            self.made.add(resource)
        self.used = True
        return resource

    def each(self) -> list[Any]:
        """A snapshot of the live per-loop objects."""
        with self._lock:
            return list(self.made)


class BlockingWrapper:
    """Base of the blocking wrappers: ``close()``, ``with``, and the unclosed warning."""

    _bridge: LoopBridge[Any]
    _per_loop: PerLoop[Any]
    _closed_by_user = False

    def _start(
        self,
        per_loop: PerLoop[Any],
        closer: Callable[[Any], Coroutine[Any, Any, None]],
    ) -> None:
        self._per_loop = per_loop
        self._bridge = LoopBridge(per_loop.factory, closer)

    def close(self) -> None:
        """Close every connection, in every thread's event loop, and those loops. Idempotent."""
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
        if self._per_loop.used and not self._closed_by_user and not sys.is_finalizing():
            _warn(
                f"unclosed {self!r}: use 'with {type(self).__name__}(...)' or call close()",
                ResourceWarning,
                source=self,
            )
        bridge.close()
