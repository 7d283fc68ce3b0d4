"""Run coroutines from blocking code: the bridge under reqivo-sync's wrappers (ADR-006).

``LoopBridge(factory, closer)`` runs ``fn(resource)`` coroutines to completion for
blocking callers. ``resource`` is a per-loop object (for a ``Session``: its connection
pool) that ``factory()`` makes lazily, with that loop running, and ``closer(resource)``
closes inside the same loop: asyncio transports belong to the loop that made them, so a
pool can never be shared across loops.

How a call runs (measured in ``benchmarks/experiments/sync_wrapper_mechanism.py``):

* Fast path: each calling thread owns an event loop that runs *in that thread*, and its
  own resource. A call is one ``loop.run_until_complete``: no thread handoff. (Not
  ``asyncio.Runner.run``: in the main thread it installs and restores a SIGINT handler on
  every call, which measured 40-50 us a call.) An exception that interrupts the loop
  (Ctrl-C) cancels the call's task and lets it unwind before it propagates, so no
  half-done request is left pending for the next call.
* Catching up: between two calls nothing runs the thread's loop, so what the network
  did meanwhile (typically a server closing an idle keep-alive connection) is not seen.
  A call that comes more than ``CATCH_UP_AFTER`` seconds after the previous one first
  runs one loop iteration, so that the pool finds such connections closed instead of
  sending a request on them (a POST would then fail: it is never resent). Back-to-back
  calls skip it, so the hot path pays one clock read.
* Fallback: a thread that already runs an event loop (a coroutine, a notebook cell)
  cannot run a second one; its calls go to a single background loop thread, started on
  first need, through a lean handoff (``call_soon_threadsafe`` and a lock as the waiter):
  a ``LoopThread`` (``_loop_thread.py``), the mechanism reqivo-ws's ``WebSocket`` uses too.
* Fork: in a child process every inherited loop and resource is abandoned (kept alive,
  never run, closed or finalized) and fresh ones are made on the next call. An inherited
  epoll instance is shared with the parent: closing an inherited loop in the child would
  unregister the parent's descriptors (the experiment shows a parent stalling 2 s), so
  each inherited loop first gets a private epoll object.
* Lifetime: ``close()`` waits for calls in progress, then closes every resource in its
  own loop and every loop, including loops of threads that have exited (those are also
  reaped whenever a new thread makes its first call). A finalizer does the same silently
  at interpreter exit; a bridge collected while open emits ``ResourceWarning``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import select
import selectors
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from reqivo_sync._loop_thread import LoopThread

__all__ = ["LoopBridge"]

R = TypeVar("R")
T = TypeVar("T")

#: Seconds between two calls of a thread after which its loop first catches up with
#: network events (see the module docstring); one iteration costs a few microseconds.
CATCH_UP_AFTER = 0.001

#: Objects inherited through ``fork()``: kept alive so that no finalizer ever runs them.
_INHERITED: list[object] = []
#: Every live bridge state, reset in a forked child by the ``register_at_fork`` hook.
_STATES: weakref.WeakSet[_State[Any]] = weakref.WeakSet()


def _closed_error() -> RuntimeError:
    return RuntimeError("the LoopBridge is closed")


def _isolate_inherited_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Give an inherited loop a private epoll object (Linux), so that nothing done to it in
    the child can unregister the parent's descriptors from the epoll set they share."""
    epoll_selector: Any = getattr(selectors, "EpollSelector", None)
    selector: Any = getattr(loop, "_selector", None)  # BaseSelectorEventLoop's selector
    if epoll_selector is not None and isinstance(selector, epoll_selector):
        inherited = selector._selector
        selector._selector = select.epoll()
        inherited.close()  # closes only the child's descriptor of the shared epoll


class _Slot(Generic[R]):
    """The loop and resource of one calling thread."""

    __slots__ = ("closed", "ended", "lock", "loop", "made", "resource", "running", "thread")

    resource: R

    def __init__(self, thread: threading.Thread) -> None:
        # Held by the owner during a call and by close(): close waits for a call.
        self.lock = threading.Lock()
        # Never set as the thread's "current loop": the bridge's loops stay private.
        self.loop = asyncio.new_event_loop()
        self.thread = weakref.ref(thread)
        self.made = False
        self.running = False
        self.closed = False
        #: ``time.monotonic()`` when the last call ended.
        self.ended = 0.0

    def is_orphaned(self) -> bool:
        thread = self.thread()
        return thread is None or not thread.is_alive()

    def close_locked(self, closer: Callable[[R], Coroutine[Any, Any, None]] | None) -> None:
        """Close the resource in its loop, then the loop (caller holds ``lock``)."""
        if self.closed:
            return
        self.closed = True
        loop = self.loop
        try:
            if self.made and closer is not None:
                _run_on(loop, closer(self.resource))
        finally:
            try:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()


class _Background(Generic[R]):
    """The fallback: a ``LoopThread`` and the resource made on its loop."""

    __slots__ = ("made", "resource", "runner")

    resource: R

    def __init__(self) -> None:
        self.runner = LoopThread("reqivo-sync-loop", closed_error=_closed_error)
        self.made = False


class _State(Generic[R]):
    """Everything a bridge owns; the finalizer holds this, never the bridge itself."""

    def __init__(
        self,
        factory: Callable[[], R],
        closer: Callable[[R], Coroutine[Any, Any, None]] | None,
    ) -> None:
        self.factory = factory
        self.closer = closer
        self._fresh()
        self.closed = False
        _STATES.add(self)

    def _fresh(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.slots: list[_Slot[R]] = []
        self.background: _Background[R] | None = None

    # -- fork -----------------------------------------------------------------------------

    def after_fork(self) -> None:
        """In a child process: abandon what the parent made and start afresh."""
        if self.pid == os.getpid():
            return
        for slot in self.slots:
            _isolate_inherited_loop(slot.loop)
        if self.background is not None:
            _isolate_inherited_loop(self.background.runner.loop)
        _INHERITED.append((self.slots, self.background, self.local))
        self._fresh()

    # -- calls ----------------------------------------------------------------------------

    def new_slot(self) -> _Slot[R]:
        """Create the calling thread's slot, reaping slots of threads that have exited."""
        with self.lock:
            if self.closed:
                raise _closed_error()
            slot: _Slot[R] = _Slot(threading.current_thread())
            orphans = [each for each in self.slots if each.is_orphaned()]
            self.slots = [each for each in self.slots if not each.is_orphaned()]
            self.slots.append(slot)
        self.local.slot = slot
        for orphan in orphans:
            with orphan.lock:
                orphan.close_locked(self.closer)
        return slot

    def run_in_thread(self, slot: _Slot[R], fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        with slot.lock:
            if slot.closed:
                raise _closed_error()
            slot.running = True
            try:
                if not slot.made:
                    slot.resource = _run_on(slot.loop, _make(self.factory))
                    slot.made = True
                elif _monotonic() - slot.ended > CATCH_UP_AFTER:
                    _catch_up(slot.loop)
                return _run_on(slot.loop, fn(slot.resource))
            finally:
                slot.running = False
                slot.ended = _monotonic()
                if self.closed:  # close() was called from inside this very call
                    slot.close_locked(self.closer)

    def run_in_background(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        background = self.background
        if background is None:
            with self.lock:
                if self.closed:
                    raise _closed_error()
                background = self.background
                if background is None:
                    background = self.background = _Background()
        return background.runner.call(functools.partial(self._start, background, fn))

    def _start(
        self, background: _Background[R], fn: Callable[[R], Coroutine[Any, Any, T]]
    ) -> Coroutine[Any, Any, T]:
        """Runs on the background loop: the call's coroutine (the resource made first)."""
        if not background.made:
            background.resource = self.factory()
            background.made = True
        return fn(background.resource)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Close every resource and loop (the finalizer; runs at most once)."""
        self.after_fork()
        with self.lock:
            self.closed = True
            slots, self.slots = self.slots, []
            background, self.background = self.background, None
        own: _Slot[R] | None = getattr(self.local, "slot", None)
        if own is not None and own.running:
            slots.remove(own)  # closes itself as soon as its call returns
        if background is not None and background.runner.thread.ident == threading.get_ident():
            # Called from a coroutine on the background loop: it cannot wait for itself.
            threading.Thread(
                target=self._close_all, args=(slots, background), name="reqivo-sync-close"
            ).start()
        elif asyncio._get_running_loop() is not None:
            # This thread runs a loop, so it cannot run others: close from a helper thread.
            errors: list[BaseException] = []
            helper = threading.Thread(target=self._close_all, args=(slots, background, errors))
            helper.start()
            helper.join()
            if errors:
                raise errors[0]
        else:
            self._close_all(slots, background)

    def _close_all(
        self,
        slots: list[_Slot[R]],
        background: _Background[R] | None,
        errors: list[BaseException] | None = None,
    ) -> None:
        first: BaseException | None = None
        for slot in slots:
            try:
                with slot.lock:
                    slot.close_locked(self.closer)
            except BaseException as exc:
                first = first or exc
        if background is not None:
            try:
                self._close_background(background)
            except BaseException as exc:
                first = first or exc
        if first is not None:
            if errors is None:
                raise first
            errors.append(first)

    def _close_background(self, background: _Background[R]) -> None:
        runner = background.runner
        closer = self.closer

        async def finish() -> None:
            # Calls in progress end first; then the resource is closed in its loop.
            current = asyncio.current_task()
            pending = {task for task in runner.active if task is not current}
            if pending:
                await asyncio.wait(pending)
            if background.made and closer is not None:
                await closer(background.resource)

        if runner.thread.is_alive():
            runner.close(finish)
        else:  # pragma: no cover - only an inherited (forked) loop has no thread
            runner.loop.close()


async def _make(factory: Callable[[], R]) -> R:
    return factory()


_monotonic = time.monotonic


def _catch_up(loop: asyncio.AbstractEventLoop) -> None:
    """Run one iteration of ``loop``: the I/O events that arrived while it was not
    running are handled (a peer's FIN or reset reaches its protocol)."""
    loop.call_soon(loop.stop)
    loop.run_forever()


async def _stopping_when_done(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    finally:
        loop.stop()


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on ``loop`` in this thread; on an interruption, cancel and unwind it.

    Like ``loop.run_until_complete``, but the task stops the loop itself as it finishes,
    in the same loop iteration, instead of through a done callback that costs one more
    iteration per call (measured: the sync wrapper's per-call overhead is mostly loop
    iterations).
    """
    task = loop.create_task(_stopping_when_done(loop, coro))
    try:
        loop.run_forever()
        if not task.done():
            # Stopped early by a stale stop request (an interrupted earlier call can leave
            # run_until_complete's stop callback queued): keep running until done.
            return loop.run_until_complete(task)
        return task.result()
    except BaseException:
        if not task.done():  # e.g. KeyboardInterrupt between two steps of the task
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise


def _reset_after_fork() -> None:
    for state in list(_STATES):
        state.after_fork()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)


class LoopBridge(Generic[R]):
    """Runs coroutines for blocking callers, keeping loops and resources between calls.

    ``factory()`` makes the per-loop resource (called once per loop, with that loop
    running); ``closer(resource)`` closes it in its loop when the bridge closes. Safe to
    share between threads; usable as a context manager.
    """

    def __init__(
        self,
        factory: Callable[[], R],
        closer: Callable[[R], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        state = _State(factory, closer)
        self._state = state
        self._finalizer = weakref.finalize(self, state.close)

    def run(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        """Run ``fn(resource)`` to completion and return its result (or raise its error).

        ``fn`` is called only once a loop is chosen, so a refused call leaves no coroutine
        unawaited. Raises ``RuntimeError`` once the bridge is closed, or when called from a
        coroutine that the bridge's own background loop is running (a deadlock otherwise).
        """
        state = self._state
        if state.pid != os.getpid():  # a fork that bypassed os.fork's hooks
            state.after_fork()
        if asyncio._get_running_loop() is not None:
            return state.run_in_background(fn)
        slot: _Slot[R] | None = getattr(state.local, "slot", None)
        if slot is None:
            slot = state.new_slot()
        return state.run_in_thread(slot, fn)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return not self._finalizer.alive

    def close(self) -> None:
        """Wait for calls in progress, then close every resource and every loop."""
        self._finalizer()

    def __enter__(self) -> LoopBridge[R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None and finalizer.alive:
            _warn(f"unclosed {self!r}", ResourceWarning, source=self)
            finalizer()
