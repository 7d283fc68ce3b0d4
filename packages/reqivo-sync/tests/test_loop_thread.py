"""Tests of ``reqivo_sync._loop_thread.LoopThread``: calls handed to a loop thread, their
results and errors, refusals (deadlock, closed), Ctrl-C while waiting, and closing."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from reqivo_sync._loop_thread import LoopThread

#: The ``interrupt_after`` fixture (conftest.py): Ctrl-C inside its ``with`` block.
InterruptAfter = Callable[..., AbstractContextManager[None]]

POSIX = hasattr(os, "fork")


def _threads(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


@pytest.fixture
def runner() -> Iterator[LoopThread]:
    loop_thread = LoopThread("test-loop")
    yield loop_thread
    loop_thread.close()
    assert not _threads("test-loop")


async def where() -> tuple[int, asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return threading.get_ident(), asyncio.get_running_loop()


def test_a_call_runs_on_the_loop_thread(runner: LoopThread) -> None:
    ident, loop = runner.call(where())
    assert ident == runner.thread.ident != threading.get_ident()
    assert loop is runner.loop
    assert runner.thread.name == "test-loop" and runner.thread.daemon
    assert runner.active == set()  # the finished call is forgotten


def test_a_factory_is_called_on_the_loop_thread(runner: LoopThread) -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    def make() -> Coroutine[Any, Any, tuple[int, asyncio.AbstractEventLoop]]:
        seen.append(asyncio.get_running_loop())  # the loop runs while it is called
        return where()

    assert runner.call(make)[1] is runner.loop
    assert seen == [runner.loop]


def test_errors_are_raised_in_the_caller(runner: LoopThread) -> None:
    async def fail() -> None:
        await asyncio.sleep(0)
        raise KeyError("gone")

    def broken_factory() -> Coroutine[Any, Any, None]:
        raise OSError("no coroutine")

    with pytest.raises(KeyError, match="gone") as caught:
        runner.call(fail())
    assert caught.value.__traceback__ is not None
    with pytest.raises(OSError, match="no coroutine"):
        runner.call(broken_factory)
    assert runner.call(where())[1] is runner.loop  # still usable


def test_many_threads_call_at_once(runner: LoopThread) -> None:
    results: list[int] = []
    barrier = threading.Barrier(16)

    async def echo(number: int) -> int:
        await asyncio.sleep(0)
        return number

    def worker(base: int) -> None:
        barrier.wait()
        for number in range(base, base + 50):
            results.append(runner.call(echo(number)))

    threads = [threading.Thread(target=worker, args=(n * 50,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(16 * 50))


def test_a_call_from_the_loop_thread_refuses_to_deadlock(runner: LoopThread) -> None:
    inner: list[Coroutine[Any, Any, object]] = []

    async def outer() -> None:
        coroutine = where()
        inner.append(coroutine)
        runner.call(coroutine)

    with pytest.raises(RuntimeError, match=r"'test-loop' thread.*deadlock"):
        runner.call(outer())
    [coroutine] = inner
    assert inspect.getcoroutinestate(coroutine) == "CORO_CLOSED"  # no "never awaited"


def test_calls_after_close_are_refused(runner: LoopThread) -> None:
    runner.close()
    assert runner.closed and runner.loop.is_closed()
    coroutine = where()
    with pytest.raises(RuntimeError, match="closed"):
        runner.call(coroutine)
    assert inspect.getcoroutinestate(coroutine) == "CORO_CLOSED"  # no "never awaited"
    with pytest.raises(RuntimeError, match="closed"):
        runner.call(where)  # a factory is never called


def test_closed_error_is_chosen_by_the_owner() -> None:
    runner = LoopThread("test-loop", closed_error=lambda: ConnectionResetError("over"))
    runner.close()
    with pytest.raises(ConnectionResetError, match="over"):
        runner.call(where())


def test_close_runs_final_then_ends_the_other_tasks() -> None:
    runner = LoopThread("test-loop")
    events: list[str] = []
    errors: list[BaseException] = []
    started = threading.Event()
    executor_threads: list[threading.Thread] = []
    held: list[object] = []

    async def generator() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            events.append("generator closed")

    async def stuck() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            events.append("stuck unwound")

    async def prepare() -> asyncio.Event:
        iterator = generator()
        await anext(iterator)
        held.append(iterator)  # left suspended: shutdown_asyncgens closes it
        held.append(runner.loop.create_task(stuck()))  # a task that is not a call
        await runner.loop.run_in_executor(
            None, lambda: executor_threads.append(threading.current_thread())
        )
        return asyncio.Event()

    final_ran = runner.call(prepare())

    async def quick() -> str:
        started.set()
        await final_ran.wait()  # still running when final() runs...
        await asyncio.sleep(0.05)  # ... and done within the grace
        events.append("quick done")
        return "quick returned"

    async def final() -> None:
        events.append(f"final with {len(runner.active)} active")
        final_ran.set()

    def caller() -> None:
        try:
            events.append(runner.call(quick()))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=caller)
    worker.start()
    assert started.wait(5)
    runner.close(final, grace=0.5)
    worker.join(5)
    assert errors == []
    assert events[0] == "final with 2 active"  # the quick call and close()'s own task
    assert set(events[1:]) == {"quick done", "quick returned", "stuck unwound", "generator closed"}
    assert runner.loop.is_closed() and not runner.thread.is_alive()
    [executor_thread] = executor_threads
    assert not executor_thread.is_alive()  # the default executor was shut down and joined


def test_close_cancels_calls_that_outlive_the_grace() -> None:
    runner = LoopThread("test-loop")
    started = threading.Event()
    errors: list[BaseException] = []

    async def forever() -> None:
        started.set()
        await asyncio.sleep(30)

    def caller() -> None:
        try:
            runner.call(forever())
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=caller)
    worker.start()
    started.wait(5)
    runner.close(grace=0.05)
    worker.join(5)
    assert [type(error) for error in errors] == [asyncio.CancelledError]


def test_calls_handed_over_before_close_start_before_final() -> None:
    runner = LoopThread("test-loop")
    order: list[str] = []
    gate = threading.Event()

    async def call() -> None:
        order.append("call")

    async def final() -> None:
        order.append("final")

    # Block the loop, queue a call and then close() behind it, then release the loop.
    runner.loop.call_soon_threadsafe(gate.wait, 5)
    worker = threading.Thread(target=runner.call, args=(call(),))
    worker.start()
    while not runner.loop._ready:  # type: ignore[attr-defined]  # the call is queued
        time.sleep(0.001)
    closer = threading.Thread(target=runner.close, args=(final,))
    closer.start()
    while not runner.closed:
        time.sleep(0.001)
    gate.set()
    worker.join(5)
    closer.join(5)
    assert order == ["call", "final"]


def test_an_error_of_final_is_raised_after_closing() -> None:
    runner = LoopThread("test-loop")

    async def final() -> None:
        raise OSError("close failed")

    with pytest.raises(OSError, match="close failed"):
        runner.close(final)
    assert runner.loop.is_closed() and not runner.thread.is_alive()
    runner.close()  # a second close does nothing


def test_close_from_the_loop_thread_finishes_in_a_helper() -> None:
    runner = LoopThread("test-loop")
    finals: list[str] = []

    async def final() -> None:
        finals.append(threading.current_thread().name)

    async def closing() -> str:
        runner.close(final)  # cannot wait for itself: a helper thread does the work
        return "returned"

    assert runner.call(closing()) == "returned"
    for helper in _threads("test-loop-close"):
        helper.join(5)
    assert finals == ["test-loop"]
    assert runner.loop.is_closed() and not runner.thread.is_alive()


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
def test_keyboard_interrupt_while_waiting_cancels_the_call(
    runner: LoopThread, interrupt_after: InterruptAfter
) -> None:
    unwound = threading.Event()

    async def hang() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            unwound.set()

    with interrupt_after(), pytest.raises(KeyboardInterrupt):
        runner.call(hang())
    assert unwound.wait(5)
    assert runner.call(where())[1] is runner.loop  # still usable


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
def test_interrupt_while_a_failing_factory_runs(
    runner: LoopThread, interrupt_after: InterruptAfter
) -> None:
    """Ctrl-C arrives while the factory runs on the loop thread and then fails: there is
    no task to cancel, and the loop stays usable."""
    made: list[bool] = []

    def slow_broken_factory() -> Coroutine[Any, Any, None]:
        time.sleep(0.3)  # blocks the loop thread while the caller is interrupted
        made.append(True)
        raise OSError("no coroutine")

    with interrupt_after(), pytest.raises(KeyboardInterrupt):
        runner.call(slow_broken_factory)
    assert runner.call(where())[1] is runner.loop  # runs after the factory and the cancel
    assert made == [True]


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
def test_interrupt_after_the_loop_closed_still_propagates(
    interrupt_after: InterruptAfter,
) -> None:
    """A signal handler may close the loop thread before raising: nothing is left to
    cancel, and the KeyboardInterrupt (not an "event loop is closed" error) propagates."""
    runner = LoopThread("test-loop")
    # The handler cancels the waiting call and closes the loop, then raises.
    with interrupt_after(first=runner.close), pytest.raises(KeyboardInterrupt):
        runner.call(asyncio.sleep(10))
    assert runner.loop.is_closed()


def test_no_thread_or_descriptor_is_left() -> None:
    fds_before = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()
    for _ in range(5):
        runner = LoopThread("test-loop")
        runner.call(where())
        runner.close()
    assert not _threads("test-loop")
    if fds_before:
        assert set(os.listdir("/proc/self/fd")) <= fds_before
