"""Run coroutines from blocking code: the bridge under reqivo-sync's wrappers (ADR-012).

``LoopBridge(factory, closer)`` runs ``fn(resource)`` coroutines to completion for
blocking callers in any number of threads, on ONE event loop and over ONE ``resource``
(for a ``Session``: its ``AsyncSession`` and connection pool), which ``factory()`` makes
lazily with the loop running and ``closer(resource)`` closes inside the loop. Every
thread shares that loop and resource: connection limits hold across threads, a
connection opened by one thread serves another, a streamed response is read from any.

How a call runs: the loop is driven by whichever caller thread holds the *baton*.

* Uncontended (the common case): nobody drives, so the caller takes the baton and runs
  the loop *in its own thread* until its task ends: no thread handoff. The task stops
  the loop itself as it finishes (one loop iteration fewer than ``run_until_complete``).
  Not ``asyncio.Runner.run``: in the main thread it installs and restores a SIGINT
  handler on every call (ADR-006 measured 40-50 us a call).
* Contended: another thread drives, so the caller hands its coroutine to the loop
  (``call_soon_threadsafe``) and sleeps on its own ``threading.Lock``. When the driver's
  own task ends, the driver passes the baton to a waiter whose task has not ended (that
  thread then drives, until *its* task ends) or, with nobody left, leaves the loop idle.
  A waiter is released exactly once, with its result ready or to drive: both are
  decided under the bridge's mutex. A call finishing while someone else drives releases
  its waiter from the loop; the loop runs without a pause while calls keep coming.
* Catching up: between two calls nothing runs the loop, so what the network did
  meanwhile (typically a server closing an idle keep-alive connection) is not seen. A
  driver taking an idle loop more than ``CATCH_UP_AFTER`` seconds after it last ran
  first runs one iteration, so that the pool finds such connections closed instead of
  sending a request on them (a POST would then fail: it is never resent).
* Callers that already run an event loop (a coroutine, a notebook cell) cannot run a
  second one in their thread: their call is scheduled like a waiter's, and when nobody
  drives, a helper thread (``reqivo-sync-loop``, started on first need) drives for them.
  A blocking call from a coroutine that the bridge's own loop runs raises
  ``RuntimeError`` (it would wait for itself).
* Ctrl-C: a driver interrupted (``KeyboardInterrupt`` out of the loop) cancels its task,
  lets it unwind, passes the baton on, then re-raises; a waiter interrupted while
  waiting cancels its task from its thread and waits for it to unwind (driving, if the
  baton comes to it meanwhile). Python may raise it between any two statements of the
  bookkeeping: waiters repair what that leaves (``_State._stranded``). One raised inside
  asyncio's own loop iteration can lose a callback queued on the loop, so the main thread
  (the only one Ctrl-C reaches) does not drive other threads' calls: it hands the baton
  to a waiting thread as soon as one waits, and waits for its own call like the others
  (ADR-012).
* Fork: in a child process the inherited loop and resource are abandoned (kept alive,
  never run, closed or finalized) and fresh ones are made on the next call. An inherited
  epoll instance is shared with the parent: closing an inherited loop in the child would
  unregister the parent's descriptors (ADR-006 shows a parent stalling 2 s), so the
  inherited loop first gets a private epoll object.
* Lifetime: ``close()`` refuses new calls, waits for the calls in progress, closes the
  resource in the loop, then the loop. Called from inside one of its own calls it cannot
  wait for itself: the last driver to finish closes. A finalizer does the same silently
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

__all__ = ["LoopBridge"]

R = TypeVar("R")
T = TypeVar("T")

#: Seconds the loop sat idle after which a driver first lets it catch up with network
#: events (see the module docstring); one iteration costs a few microseconds.
CATCH_UP_AFTER = 0.001

#: Seconds a waiting call sleeps before it checks that it was not stranded (see
#: ``_State._stranded``): only a Ctrl-C at an unlucky moment strands one.
STRANDED_AFTER = 0.1

#: Objects inherited through ``fork()``: kept alive so that no finalizer ever runs them.
_INHERITED: list[object] = []
#: Every live bridge state, reset in a forked child by the ``register_at_fork`` hook.
_STATES: weakref.WeakSet[_State[Any]] = weakref.WeakSet()

_monotonic = time.monotonic
_main_thread = threading.main_thread
_get_running_loop = asyncio._get_running_loop


def _closed_error() -> RuntimeError:
    return RuntimeError("the LoopBridge is closed")


def _deadlock_error() -> RuntimeError:
    return RuntimeError(
        "a blocking reqivo-sync call made from a coroutine or callback that reqivo-sync's "
        "own event loop runs would deadlock: await the async API there instead"
    )


def _isolate_inherited_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Give an inherited loop a private epoll object (Linux), so that nothing done to it in
    the child can unregister the parent's descriptors from the epoll set they share."""
    epoll_selector: Any = getattr(selectors, "EpollSelector", None)
    selector: Any = getattr(loop, "_selector", None)  # BaseSelectorEventLoop's selector
    if epoll_selector is not None and isinstance(selector, epoll_selector):
        inherited = selector._selector
        selector._selector = select.epoll()
        inherited.close()  # closes only the child's descriptor of the shared epoll


class _Call(Generic[T]):
    """One blocking call: its task, its outcome, and how its thread learns of the end.

    ``waiter`` (a held lock) exists for calls that wait; it is released once, when the
    call ended (``notify``) or when its thread is to drive (``notify`` cleared). Those
    flags are set before the release, so they alone say whether the call was released.
    ``active`` is cleared when the calling thread leaves the bridge, however it leaves.
    """

    __slots__ = (
        *("active", "can_drive", "done", "epoch", "error", "fn", "main", "notify", "result"),
        *("started", "task", "waiter"),
    )

    result: T
    #: For a waiting call: its coroutine function, and ``_State.interrupts`` when handed.
    fn: Callable[[Any], Coroutine[Any, Any, T]]
    epoch: int

    def __init__(self, can_drive: bool) -> None:
        self.can_drive = can_drive
        #: Made in the main thread, the one that Ctrl-C interrupts (see ``_yield_baton``).
        self.main = threading.get_ident() == _main_thread().ident
        self.active = True
        self.started = False
        self.done = False
        self.notify = True
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None
        self.waiter: threading.Lock | None = None

    def wait_lock(self) -> threading.Lock:
        waiter = self.waiter = threading.Lock()
        waiter.acquire()
        return waiter

    def outcome(self) -> T:
        error = self.error
        if error is not None:
            self.error = None
            try:
                raise error
            finally:
                del error  # no reference cycle through this frame
        return self.result


class _Helper:
    """The thread that drives the loop for callers that cannot (they run a loop)."""

    __slots__ = ("stopping", "thread", "wake")

    def __init__(self, state: _State[Any]) -> None:
        self.wake = threading.Lock()
        self.wake.acquire()
        self.stopping = False
        # A daemon: interpreter exit must not wait for it before atexit finalizers run.
        self.thread = threading.Thread(
            target=state.helper_main, args=(self,), name="reqivo-sync-loop", daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.wake.release()


class _State(Generic[R]):
    """Everything a bridge owns; the finalizer holds this, never the bridge itself."""

    resource: R

    def __init__(
        self,
        factory: Callable[[], R],
        closer: Callable[[R], Coroutine[Any, Any, None]] | None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop],
    ) -> None:
        self.factory = factory
        self.closer = closer
        self.loop_factory = loop_factory
        #: ``close()`` has begun: calls are refused.
        self.closed = False
        self._fresh()
        _STATES.add(self)

    def _fresh(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.made = False
        #: The call whose end stops the loop (its driver runs the loop for it); None: idle.
        self.target: _Call[Any] | None = None
        #: Calls handed to the loop and not ended, in arrival order.
        self.pending: dict[_Call[Any], None] = {}
        self.helper: _Helper | None = None
        #: Whether the loop and resource are closed (the last step of ``close()``).
        self.finished = False
        #: ``time.monotonic()`` when the loop last stopped running.
        self.ended = 0.0
        #: A KeyboardInterrupt (or SystemExit) raised in a task, for the driver to raise.
        self.interrupted: BaseException | None = None
        #: How many times a driver was interrupted (each may have lost a loop callback).
        self.interrupts = 0

    # -- fork -----------------------------------------------------------------------------

    def after_fork(self) -> None:
        """In a child process: abandon what the parent made and start afresh."""
        if self.pid == os.getpid():
            return
        if self.loop is not None:
            _isolate_inherited_loop(self.loop)
        _INHERITED.append(
            (self.loop, getattr(self, "resource", None), self.helper, self.pending, self.target)
        )
        self._fresh()
        self.finished = self.closed

    # -- calls ----------------------------------------------------------------------------

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        """The loop, made on the first call (caller holds ``lock``)."""
        loop = self.loop
        if loop is None:
            # Never set as any thread's "current loop": the bridge's loop stays private.
            loop = self.loop = self.loop_factory()
        return loop

    async def _body(self, call: _Call[T], fn: Callable[[R], Coroutine[Any, Any, T]]) -> None:
        """The task of a call: its outcome goes to ``call``, then the call ends."""
        if call.started:  # a second task made by _drive's recovery: the first one runs
            return
        call.started = True
        try:
            if not self.made:
                self.resource = self.factory()
                self.made = True
            call.result = await fn(self.resource)
        except (Exception, asyncio.CancelledError) as exc:
            call.error = exc
        except BaseException as exc:
            # KeyboardInterrupt or SystemExit raised in this task's code: this call fails
            # with it, and the driver (whose thread got it) raises it too, once the loop
            # stops at the end of this iteration.
            call.error = self.interrupted = exc
            self.loop.stop()  # type: ignore[union-attr]
        finally:
            self._end(call)

    def _end(self, call: _Call[Any]) -> None:
        """Runs on the loop as a call's task finishes.

        No mutex: hand-offs happen only while the loop is stopped, so never during this.
        """
        call.done = True
        self.pending.pop(call, None)
        if call is self.target:
            self.loop.stop()  # type: ignore[union-attr]
        if call.notify:
            call.waiter.release()  # type: ignore[union-attr]

    def _start(self, call: _Call[T], fn: Callable[[R], Coroutine[Any, Any, T]]) -> None:
        """Runs on the loop: create a waiting call's task."""
        call.task = self.loop.create_task(self._body(call, fn))  # type: ignore[union-attr]

    def _cancel(self, call: _Call[Any]) -> None:
        """Runs on the loop (after the call's ``_start``): cancel an interrupted call."""
        task = call.task
        if task is not None and not call.done:
            task.add_done_callback(functools.partial(self._cancelled, call))
            task.cancel()

    def _cancelled(self, call: _Call[Any], task: asyncio.Task[None]) -> None:
        if not call.done:  # cancelled before its first step: its body never ran
            call.error = asyncio.CancelledError()
            self._end(call)

    def run(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        """A call from a thread that runs no loop: drive, or wait (and perhaps drive)."""
        call: _Call[T] = _Call(True)
        try:
            with self.lock:
                if self.closed:
                    raise _closed_error()
                loop = self._get_loop()
                if self.target is None:
                    self.target = call
                    call.notify = False
                else:
                    call.wait_lock()
                    call.fn = fn
                    call.epoch = self.interrupts
                    self.pending[call] = None
                    loop.call_soon_threadsafe(self._start, call, fn)
                    if self.target.main and not call.main:
                        loop.call_soon_threadsafe(loop.stop)  # it yields the baton to us
            if call.notify:
                self._wait(call)
            else:
                self._drive(call, fn)
            return call.outcome()
        finally:
            call.active = False

    def run_for_loop_thread(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        """A call from a thread that runs a loop: wait; the helper drives if nobody does."""
        call: _Call[T] = _Call(False)
        call.wait_lock()
        try:
            with self.lock:
                if self.closed:
                    raise _closed_error()
                loop = self._get_loop()
                self.pending[call] = None
                loop.call_soon_threadsafe(self._start, call, fn)
                if self.target is None:
                    del self.pending[call]
                    self.target = call
                    self._wake_helper()
            self._wait(call)
            return call.outcome()
        finally:
            call.active = False

    def _wake_helper(self) -> None:
        """Let the helper drive for ``target`` (caller holds ``lock``)."""
        helper = self.helper
        if helper is None:
            helper = self.helper = _Helper(self)
        helper.wake.release()

    def _wait(self, call: _Call[Any]) -> None:
        """Wait for the call to end, or drive when the baton comes (released once)."""
        self._wait_released(call)
        if not call.notify:  # the baton: run the loop until this call ends
            self._drive(call)

    def _wait_released(self, call: _Call[Any]) -> None:
        """Wait until the call is released: ended (``notify`` set) or to drive."""
        waiter = call.waiter
        assert waiter is not None
        try:
            while not waiter.acquire(timeout=STRANDED_AFTER):
                if self._stranded(call):
                    break
        except BaseException:  # KeyboardInterrupt while waiting: stop the call too
            self._wait_interrupted(call, waiter)
            raise

    def _stranded(self, call: _Call[Any]) -> bool:
        """After a wait timed out: whether ``call`` may go on without its wake-up.

        A Ctrl-C can interrupt the main thread anywhere in the bookkeeping below (Python
        raises it between two statements): after a call's flags were set but before its
        wake-up, or leaving the baton with nobody (a driver whose thread left the bridge).
        Waiters repair both: the flags tell a released call, and a waiter takes a baton
        that nobody holds (for a thread that runs a loop, the helper takes it).
        """
        with self.lock:
            if call.done or not call.notify:
                return True
            target = self.target
            if target is not None and (target.notify or target.active):
                return False  # someone drives (the helper, or a thread inside the bridge)
            del self.pending[call]
            self.target = call
            if call.can_drive:
                call.notify = False
                return True
            self._wake_helper()
            return False

    def _wait_interrupted(self, call: _Call[Any], waiter: threading.Lock) -> None:
        """Cancel the call and wait until it has unwound (driving, if the baton comes).

        The interruption may have come just after the waiter was released: the flags set
        before the release tell, so this never waits for a second one.
        """
        cancelled = False
        while True:
            try:
                with self.lock:
                    released = not call.notify or call.done
                if released:
                    waiter.acquire(blocking=False)  # consumed already, or consume it now
                    break
                if not cancelled:
                    cancelled = True
                    with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                        self.loop.call_soon_threadsafe(self._cancel, call)  # type: ignore[union-attr]
                while not waiter.acquire(timeout=STRANDED_AFTER):
                    if self._stranded(call):
                        break
                break
            except BaseException:  # another Ctrl-C: the call is still unwinding
                continue
        if not call.notify:
            self._drive(call)

    def _drive(
        self, call: _Call[Any], fn: Callable[[R], Coroutine[Any, Any, Any]] | None = None
    ) -> None:
        """Run the loop (this thread holds the baton) until ``call`` ends, then pass on.

        ``fn``: the call's coroutine function, when its task is still to be made here.
        A main-thread call that yielded the baton waits, and drives again if it returns.
        """
        while self._drive_until_yield(call, fn):
            fn = None
            self._wait_released(call)
            if call.notify:
                return  # it ended while another thread drove

    def _drive_until_yield(
        self, call: _Call[Any], fn: Callable[[R], Coroutine[Any, Any, Any]] | None
    ) -> bool:
        """``_drive``'s turn at the baton; True if the main thread yielded it early."""
        loop = self.loop
        assert loop is not None
        try:
            if fn is not None:
                if _monotonic() - self.ended > CATCH_UP_AFTER:
                    _catch_up(loop)
                call.task = loop.create_task(self._body(call, fn))
            elif call.task is None and call.epoch != self.interrupts:
                # A driver was interrupted since this call was handed over: asyncio may
                # have lost its _start (a Ctrl-C between taking a callback and running
                # it). One iteration runs it if it is still queued; else make the task.
                _catch_up(loop)
                if call.task is None and not call.done:
                    call.task = loop.create_task(self._body(call, call.fn))
            while not call.done:
                if call.main and self.pending and self._yield_baton(call):
                    return True
                loop.run_forever()
                interrupted = self.interrupted
                if interrupted is not None:
                    self.interrupted = None
                    raise interrupted
        except BaseException:
            # Interrupted (Ctrl-C): cancel the call and let it unwind before passing on.
            self.interrupts += 1
            try:
                if not call.done and call.task is not None:
                    loop.call_soon(self._cancel, call)
                    with contextlib.suppress(BaseException):
                        while not call.done:
                            loop.run_forever()
            finally:
                self.ended = _monotonic()
                self._hand_off(call, from_helper=False)
            raise
        self.ended = _monotonic()
        self._hand_off(call, from_helper=False)
        return False

    def _yield_baton(self, call: _Call[Any]) -> bool:
        """From a main-thread driver: pass the baton to another thread that waits to
        drive, and turn ``call`` into a waiting call; False if no such thread waits.

        Ctrl-C reaches only the main thread, and one landing inside asyncio's loop
        iteration loses the callback being run (ADR-012): while the main thread drives
        alone, only its own call can lose one; another thread's call would hang.
        """
        with self.lock:
            waiting = self._next_driver(main_too=False)
            if waiting is None:
                return False
            call.wait_lock()
            call.notify = True
            self.pending[call] = None  # a driver hands the baton back if it is still due
            self.ended = _monotonic()
            self._pass_baton(waiting)
        return True

    def _next_driver(self, *, main_too: bool) -> _Call[Any] | None:
        """The first waiting call whose thread can drive, another thread's before the main
        thread's (``main_too``: the main thread's if no other; caller holds ``lock``)."""
        main: _Call[Any] | None = None
        for waiting in self.pending:
            if waiting.can_drive:
                if not waiting.main:
                    return waiting
                main = main or waiting
        return main if main_too else None

    def _pass_baton(self, waiting: _Call[Any]) -> None:
        """Make a waiting call's thread the driver (caller holds ``lock``)."""
        del self.pending[waiting]
        self.target = waiting
        waiting.notify = False
        waiting.waiter.release()  # type: ignore[union-attr]

    def _hand_off(self, call: _Call[Any], from_helper: bool) -> _Call[Any] | None:
        """``call`` (the baton's) ended: pass the baton to a waiting call's thread, to the
        helper (for a call whose thread runs a loop; returned when the helper itself
        hands off), or leave the loop idle; the last driver after ``close()`` closes."""
        with self.lock:
            if self.target is not call:
                return None  # taken over meanwhile (see _stranded)
            self.target = None
            driver = self._next_driver(main_too=True)  # the main thread last: _yield_baton
            if driver is not None:
                self._pass_baton(driver)
                return None
            for waiting in self.pending:
                del self.pending[waiting]
                self.target = waiting
                if from_helper:
                    return waiting
                self._wake_helper()
                return None
            if not self.closed or self.finished:
                return None
            # close() was called from inside a call: nobody waits to close, so close here.
            closing: _Call[None] = _Call(True)
            self.target = closing
        self.finish(closing)
        return None

    def helper_main(self, helper: _Helper) -> None:
        """The helper thread: drive for the ``target`` it is woken for."""
        while True:
            helper.wake.acquire()
            if helper.stopping:
                return
            call = self.target
            while call is not None:
                loop = self.loop
                assert loop is not None
                while not call.done:
                    loop.run_forever()
                    self.interrupted = None  # no signal reaches this thread
                self.ended = _monotonic()
                call = self._hand_off(call, from_helper=True)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Refuse calls, wait for those in progress, close the resource and the loop (the
        finalizer; runs at most once)."""
        self.after_fork()
        running = _get_running_loop()
        with self.lock:
            self.closed = True
            if self.loop is None or self.finished:
                self.finished = True
                return
            if running is self.loop:
                return  # inside one of its calls: the last driver closes (_hand_off)
        if running is not None:
            # This thread runs another loop, so it cannot drive: close from a helper thread.
            errors: list[BaseException] = []
            helper = threading.Thread(target=self._close_blocking, args=(errors,))
            helper.start()
            helper.join()
            if errors:
                raise errors[0]
        else:
            self._close_blocking()

    def _close_blocking(self, errors: list[BaseException] | None = None) -> None:
        try:
            closing: _Call[None] = _Call(True)
            with self.lock:
                if self.finished:
                    return
                if self.target is None:
                    self.target = closing
                    closing.notify = False
                else:
                    closing.wait_lock()
                    self.pending[closing] = None  # promoted after the calls before it
            interrupted: BaseException | None = None
            if closing.notify:
                waiter = closing.waiter
                assert waiter is not None
                while True:  # released to drive: the others wait for this thread to close
                    try:
                        while not waiter.acquire(timeout=STRANDED_AFTER):
                            if self._stranded(closing):
                                break
                        break
                    except BaseException as exc:  # Ctrl-C: closing first, then raised
                        interrupted = interrupted or exc
            self.finish(closing)
            closing.active = False
            if interrupted is not None:
                raise interrupted
        except BaseException as exc:
            if errors is None:
                raise
            errors.append(exc)

    def finish(self, closing: _Call[None]) -> None:
        """Holding the baton: wait for the calls in progress, close the resource in the
        loop, end what is left, close the loop."""
        loop = self.loop
        assert loop is not None
        closer = self.closer

        async def final() -> None:
            while True:  # every pending call's task exists: their _start ran before this
                with self.lock:
                    tasks = [call.task for call in self.pending if call.task is not None]
                if not tasks:
                    break
                await asyncio.wait(tasks)
            if self.made and closer is not None:
                await closer(self.resource)

        async def body() -> None:
            try:
                await final()
            except BaseException as exc:
                closing.error = exc
            finally:
                closing.done = True
                loop.stop()

        try:
            loop.create_task(body())
            while not closing.done:
                loop.run_forever()
        finally:
            try:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
                with self.lock:
                    self.finished = True
                    self.target = None
                    helper, self.helper = self.helper, None
                if helper is not None:
                    helper.stop()
        if closing.error is not None:
            closing.outcome()


def _catch_up(loop: asyncio.AbstractEventLoop) -> None:
    """Run one iteration of ``loop``: the I/O events that arrived while it was not
    running are handled (a peer's FIN or reset reaches its protocol)."""
    loop.call_soon(loop.stop)
    loop.run_forever()


def _reset_after_fork() -> None:
    for state in list(_STATES):
        state.after_fork()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)


class LoopBridge(Generic[R]):
    """Runs coroutines for blocking callers on one event loop shared by every thread.

    ``factory()`` makes the resource the coroutines share (called once, with the loop
    running; again in a forked child); ``closer(resource)`` closes it in the loop when
    the bridge closes; ``loop_factory()`` makes the loop, on the first call (by default
    ``asyncio.new_event_loop``, so an installed policy's loop, uvloop's for one). Safe to
    share between threads; usable as a context manager.
    """

    def __init__(
        self,
        factory: Callable[[], R],
        closer: Callable[[R], Coroutine[Any, Any, None]] | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        state = _State(factory, closer, loop_factory)
        self._state = state
        self._finalizer = weakref.finalize(self, state.close)

    def run(self, fn: Callable[[R], Coroutine[Any, Any, T]]) -> T:
        """Run ``fn(resource)`` to completion and return its result (or raise its error).

        ``fn`` is called only on the loop, so a refused call leaves no coroutine
        unawaited. Raises ``RuntimeError`` once the bridge is closed, or when called from
        a coroutine that the bridge's own loop is running (a deadlock otherwise).
        """
        state = self._state
        if state.pid != os.getpid():  # a fork that bypassed os.fork's hooks
            state.after_fork()
        running = _get_running_loop()
        if running is None:
            return state.run(fn)
        if running is state.loop:
            raise _deadlock_error()
        return state.run_for_loop_thread(fn)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the calls run on (None before the first call)."""
        return self._state.loop

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return not self._finalizer.alive

    def close(self) -> None:
        """Wait for calls in progress, then close the resource and the loop."""
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
