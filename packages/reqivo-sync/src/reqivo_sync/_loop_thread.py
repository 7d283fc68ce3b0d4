"""``LoopThread``: an event loop run forever by one daemon thread, and blocking calls to it.

The one thread-to-loop handoff of the project (ADR-006): ``LoopBridge`` uses it as the
fallback for callers that already run a loop, and each blocking ``reqivo_ws.WebSocket``
owns one, because an open WebSocket must be served between calls (ADR-007). Public as
``reqivo_sync.LoopThread`` for that reason (ADR-009).

A call is handed over with ``loop.call_soon_threadsafe`` and waited for on a plain
``threading.Lock``: ADR-006 measured it at about half the overhead of
``asyncio.run_coroutine_threadsafe``, whose ``concurrent.futures`` machinery costs as
much as the thread switches themselves.

* ``call(work)`` runs a coroutine (or calls a factory of one on the loop thread, so that
  the factory may use the running loop) and blocks until it ends, returning its result
  or raising its exception in the caller. Called from the loop's own thread it raises
  ``RuntimeError`` (it would wait for itself forever); once ``close()`` has begun it
  raises ``closed_error()``. An exception while waiting (Ctrl-C) cancels the call.
* ``close(final, grace)`` refuses new calls, runs ``final()`` on the loop, gives the
  loop's other tasks ``grace`` seconds to end, cancels what is left and lets it unwind,
  shuts down async generators and the default executor, then stops the loop, joins the
  thread and closes the loop. Calls handed over before ``close()`` are started before
  ``final()``. A second ``close()`` returns at once; ``close()`` from the loop's own
  thread (a finalizer run by the garbage collector there) hands the work to a helper
  thread instead of waiting for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["LoopThread", "Work"]

T = TypeVar("T")

#: What ``LoopThread.call`` runs: a coroutine, or a function making one on the loop thread.
Work = Coroutine[Any, Any, T] | Callable[[], Coroutine[Any, Any, T]]


def _default_closed_error() -> BaseException:
    return RuntimeError("the loop thread is closed")


def _discard(work: Work[Any]) -> None:
    """Close a refused coroutine, so that it does not warn "never awaited"."""
    if isinstance(work, Coroutine):
        work.close()


class _Call(Generic[T]):
    """One call handed to the loop; ``waiter`` is released when it ends."""

    __slots__ = ("error", "result", "task", "waiter")

    result: T

    def __init__(self) -> None:
        self.waiter = threading.Lock()
        self.waiter.acquire()
        self.error: BaseException | None = None
        self.task: asyncio.Task[T] | None = None

    def done(self, task: asyncio.Task[T]) -> None:
        try:
            self.result = task.result()
        except BaseException as exc:  # re-raised in the calling thread
            self.error = exc
        self.waiter.release()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def wait(self, loop: asyncio.AbstractEventLoop) -> T:
        """Block until the call ends; an exception while waiting cancels it."""
        try:
            self.waiter.acquire()
        except BaseException:  # KeyboardInterrupt while waiting: stop the call too
            with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                loop.call_soon_threadsafe(self.cancel)
            raise
        error = self.error
        if error is not None:
            self.error = None
            try:
                raise error
            finally:
                del error  # no reference cycle through this frame
        return self.result


class LoopThread:
    """An event loop run forever by a daemon thread named ``name``, started at once.

    ``closed_error()`` makes the exception that ``call`` raises once ``close()`` has
    begun (by default a ``RuntimeError``). Safe to share between threads.
    """

    __slots__ = ("_closed_error", "_closing", "_lock", "active", "loop", "thread")

    def __init__(
        self, name: str, closed_error: Callable[[], BaseException] = _default_closed_error
    ) -> None:
        self.loop = asyncio.new_event_loop()
        #: The tasks of the calls in progress.
        self.active: set[asyncio.Task[Any]] = set()
        self._closed_error = closed_error
        self._closing = False
        # Held while a call is handed over and while close() begins: every call handed
        # over before close() is queued on the loop before close()'s own work.
        self._lock = threading.Lock()
        # A daemon: interpreter exit must not wait for it before atexit finalizers run.
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called (calls are refused from then on)."""
        return self._closing

    def call(self, work: Work[T]) -> T:
        """Run ``work`` on the loop and wait: its result, or its exception re-raised.

        ``work`` is a coroutine or a function called on the loop thread to make one.
        Raises ``RuntimeError`` when called from the loop's own thread (a deadlock
        otherwise) and ``closed_error()`` once ``close()`` has begun; a refused coroutine
        is closed.
        """
        if threading.get_ident() == self.thread.ident:
            _discard(work)
            raise RuntimeError(
                f"a blocking call made on the {self.thread.name!r} thread (from a coroutine "
                "or callback its loop runs) would deadlock: await the async API there instead"
            )
        call: _Call[T] = _Call()
        with self._lock:
            if self._closing:
                _discard(work)
                raise self._closed_error()
            self.loop.call_soon_threadsafe(self._start, work, call)
        return call.wait(self.loop)

    def _start(self, work: Work[T], call: _Call[T]) -> None:
        """Runs on the loop: create the call's task (calling ``work`` if it is a factory)."""
        try:
            task = self.loop.create_task(work() if callable(work) else work)
        except BaseException as exc:
            call.error = exc
            call.waiter.release()
            return
        call.task = task
        self.active.add(task)
        task.add_done_callback(self.active.discard)
        task.add_done_callback(call.done)

    def close(
        self, final: Callable[[], Awaitable[object]] | None = None, grace: float = 0.0
    ) -> None:
        """Run ``final()`` on the loop, end the other tasks, then stop and close the loop.

        The loop's other tasks (calls in progress among them) get ``grace`` seconds after
        ``final()`` to end; those still running are cancelled and awaited. An exception
        of ``final()`` is raised here once the loop is closed. Only the first call does
        anything; from the loop's own thread the work goes to a helper thread.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
        if threading.get_ident() == self.thread.ident:
            threading.Thread(
                target=self._shut_down,
                args=(final, grace),
                name=f"{self.thread.name}-close",
                daemon=True,
            ).start()
        else:
            self._shut_down(final, grace)

    def _shut_down(self, final: Callable[[], Awaitable[object]] | None, grace: float) -> None:
        loop = self.loop
        call: _Call[None] = _Call()
        finish = functools.partial(self._finish, final, grace)
        try:
            loop.call_soon_threadsafe(self._start, finish, call)
            call.wait(loop)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self.thread.join()
            loop.close()

    async def _finish(self, final: Callable[[], Awaitable[object]] | None, grace: float) -> None:
        loop = self.loop
        try:
            if final is not None:
                await final()
        finally:
            current = asyncio.current_task()
            others = [task for task in asyncio.all_tasks(loop) if task is not current]
            if others:
                _, pending = await asyncio.wait(others, timeout=grace)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)  # let them unwind
            await loop.shutdown_asyncgens()
            await loop.shutdown_default_executor()
