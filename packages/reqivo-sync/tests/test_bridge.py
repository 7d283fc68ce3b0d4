"""Tests of ``reqivo_sync._bridge.LoopBridge``: one loop and resource shared by every thread
(the baton), callers that run a loop, 64 threads, Ctrl-C, fork, closing and finalization."""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from reqivo_sync._bridge import LoopBridge

#: The ``interrupt_after`` fixture (conftest.py): Ctrl-C inside its ``with`` block.
InterruptAfter = Callable[..., AbstractContextManager[None]]

POSIX = hasattr(os, "fork")


class Resource:
    """The bridge's resource; remembers where it was made and closed."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.pid = os.getpid()
        self.closed_in: asyncio.AbstractEventLoop | None = None

    async def aclose(self) -> None:
        self.closed_in = asyncio.get_running_loop()


class Recorder:
    """Makes resources and keeps them all, for assertions."""

    def __init__(self) -> None:
        self.made: list[Resource] = []
        self.lock = threading.Lock()

    def __call__(self) -> Resource:
        resource = Resource()
        with self.lock:
            self.made.append(resource)
        return resource


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bridge(recorder: Recorder) -> Iterator[LoopBridge[Resource]]:
    with LoopBridge(recorder, Resource.aclose) as made:
        yield made


async def where(resource: Resource) -> Resource:
    await asyncio.sleep(0)
    assert asyncio.get_running_loop() is resource.loop
    return resource


def test_one_loop_and_resource_for_every_thread(
    bridge: LoopBridge[Resource], recorder: Recorder
) -> None:
    first = bridge.run(where)
    second = bridge.run(where)
    assert first is second
    assert first.thread == threading.get_ident()  # uncontended: run in the caller's thread
    assert first.loop is bridge.loop
    other: list[tuple[Resource, int]] = []

    async def served_by(resource: Resource) -> tuple[Resource, int]:
        return resource, threading.get_ident()

    worker = threading.Thread(target=lambda: other.append(bridge.run(served_by)))
    worker.start()
    worker.join()
    assert other[0][0] is first
    assert other[0][1] == worker.ident  # the worker drove the one loop itself
    assert recorder.made == [first]


def test_result_and_exception_propagate(bridge: LoopBridge[Resource]) -> None:
    async def fail(resource: Resource) -> None:
        raise ValueError("boom")

    async def answer(resource: Resource) -> int:
        return 42

    with pytest.raises(ValueError, match="boom"):
        bridge.run(fail)
    assert bridge.run(answer) == 42


def test_factory_error_propagates_and_is_retried() -> None:
    calls: list[int] = []

    def factory() -> Resource:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("no resource")
        return Resource()

    with LoopBridge(factory) as bridge:
        with pytest.raises(OSError, match="no resource"):
            bridge.run(where)
        assert bridge.run(where).thread == threading.get_ident()


def test_64_threads_share_one_bridge(bridge: LoopBridge[Resource], recorder: Recorder) -> None:
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(64)

    drivers: set[int] = set()

    async def job(resource: Resource, number: int) -> tuple[int, int]:
        await asyncio.sleep(0)
        drivers.add(threading.get_ident())
        return id(resource), number

    def worker() -> None:
        barrier.wait()
        try:
            for number in range(50):
                made, echoed = bridge.run(functools.partial(job, number=number))
                assert echoed == number
                results.append((made, echoed))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 64 * 50
    [resource] = recorder.made
    assert {made for made, _ in results} == {id(resource)}
    assert len(drivers) > 1  # the baton went round: the loop ran in several threads
    bridge.close()
    assert resource.closed_in is resource.loop
    assert resource.loop.is_closed()


async def test_inside_a_running_loop_a_helper_thread_drives(
    bridge: LoopBridge[Resource], recorder: Recorder
) -> None:
    running = asyncio.get_running_loop()
    first = bridge.run(where)
    second = bridge.run(where)
    assert first is second
    assert first.loop is not running
    assert first.thread != threading.get_ident()
    assert recorder.made == [first]
    # A thread that runs no loop shares the same loop and resource.
    assert await asyncio.to_thread(bridge.run, where) is first


async def test_background_errors_propagate(bridge: LoopBridge[Resource]) -> None:
    async def fail(resource: Resource) -> None:
        raise KeyError("gone")

    with pytest.raises(KeyError, match="gone"):
        bridge.run(fail)


async def test_background_factory_error_propagates() -> None:
    def factory() -> Resource:
        raise OSError("no resource")

    with LoopBridge(factory) as bridge, pytest.raises(OSError, match="no resource"):
        bridge.run(where)


def test_nested_call_from_a_bridged_coroutine_refuses_to_deadlock(
    bridge: LoopBridge[Resource],
) -> None:
    async def outer(resource: Resource) -> Resource:
        return bridge.run(where)  # the bridge's own loop runs this: it would wait for itself

    with pytest.raises(RuntimeError, match="deadlock"):
        bridge.run(outer)
    assert bridge.run(where).thread == threading.get_ident()  # still usable


async def test_call_from_the_background_loop_refuses_to_deadlock(
    bridge: LoopBridge[Resource],
) -> None:
    async def outer(resource: Resource) -> Resource:
        return bridge.run(where)

    with pytest.raises(RuntimeError, match="deadlock"):
        bridge.run(outer)


def test_close_closes_the_resource_and_loop_an_exited_thread_made(
    bridge: LoopBridge[Resource], recorder: Recorder
) -> None:
    worker = threading.Thread(target=bridge.run, args=(where,))
    worker.start()
    worker.join()
    assert not worker.is_alive()
    [made] = recorder.made
    assert made.thread == worker.ident
    assert bridge.run(where) is made  # outlives the thread that made it
    open_before = not bridge.closed
    bridge.close()
    bridge.close()  # idempotent
    assert open_before
    assert bridge.closed
    assert made.closed_in is made.loop
    assert made.loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        bridge.run(where)


def test_unused_bridge_closes_without_a_loop(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    assert bridge.loop is None
    bridge.close()
    assert recorder.made == []


def test_run_after_close_from_another_thread(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    bridge.run(where)
    bridge.close()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            bridge.run(where)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(errors) == 1


async def test_run_in_background_after_close(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    bridge.close()
    with pytest.raises(RuntimeError, match="closed"):
        bridge.run(where)


def test_close_from_inside_its_own_call(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)

    async def closing(resource: Resource) -> Resource:
        bridge.close()  # cannot close the loop running this: deferred to the call's end
        assert not resource.loop.is_closed()
        return resource

    resource = bridge.run(closing)
    assert bridge.closed
    assert resource.loop.is_closed()
    assert resource.closed_in is resource.loop


def test_close_waits_for_a_call_in_progress(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    started = threading.Event()
    finished: list[bool] = []

    async def slow(resource: Resource) -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.append(True)

    worker = threading.Thread(target=bridge.run, args=(slow,))
    worker.start()
    started.wait(5)
    bridge.close()
    worker.join()
    assert finished == [True]
    assert recorder.made[0].loop.is_closed()


def test_close_waits_for_a_background_call_in_progress(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    started = threading.Event()
    seen: list[asyncio.AbstractEventLoop | None] = []

    async def slow(resource: Resource) -> None:
        started.set()
        await asyncio.sleep(0.1)
        seen.append(resource.closed_in)  # not closed yet: close() waits for this call

    async def in_a_running_loop() -> None:
        bridge.run(slow)  # this thread runs a loop: the background loop serves it

    worker = threading.Thread(target=asyncio.run, args=(in_a_running_loop(),))
    worker.start()
    assert started.wait(5)
    bridge.close()
    worker.join(5)
    [resource] = recorder.made
    assert seen == [None]
    assert resource.closed_in is resource.loop
    assert resource.loop.is_closed()


async def test_close_inside_a_running_loop(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    resource = bridge.run(where)
    worker = threading.Thread(target=bridge.run, args=(where,))
    worker.start()
    worker.join()
    bridge.close()  # this thread runs a loop: a helper thread drives the closing
    assert recorder.made == [resource]
    assert resource.closed_in is resource.loop
    assert resource.loop.is_closed()


async def test_close_error_is_raised_inside_a_running_loop() -> None:
    async def broken(resource: Resource) -> None:
        raise OSError("close failed")

    bridge = LoopBridge(Resource, broken)
    worker = threading.Thread(target=bridge.run, args=(where,))
    worker.start()
    worker.join()
    with pytest.raises(OSError, match="close failed"):
        bridge.close()


def test_close_error_still_closes_the_loop() -> None:
    made: list[Resource] = []

    def factory() -> Resource:
        made.append(Resource())
        return made[-1]

    async def broken(resource: Resource) -> None:
        raise OSError("close failed")

    bridge = LoopBridge(factory, broken)
    bridge.run(where)

    async def in_background() -> None:
        bridge.run(where)

    asyncio.run(in_background())
    with pytest.raises(OSError, match="close failed"):
        bridge.close()
    assert len(made) == 1
    assert made[0].loop.is_closed()


async def test_close_from_a_coroutine_on_the_background_loop(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)

    async def closing(resource: Resource) -> Resource:
        bridge.close()  # cannot wait for itself: the shutdown finishes after this call
        return resource

    resource = bridge.run(closing)
    assert bridge.closed
    for thread in threading.enumerate():
        if thread.name == "reqivo-sync-loop":  # the helper closes, then ends
            await asyncio.to_thread(thread.join, 5)
    assert resource.closed_in is resource.loop
    assert resource.loop.is_closed()


def test_keyboard_interrupt_cancels_and_unwinds_the_call(bridge: LoopBridge[Resource]) -> None:
    unwound: list[bool] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    async def hang(resource: Resource) -> None:
        resource.loop.call_later(0.01, interrupt)
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append(True)

    with pytest.raises(KeyboardInterrupt):
        bridge.run(hang)
    assert unwound == [True]
    assert bridge.run(where).thread == threading.get_ident()  # still usable


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
async def test_keyboard_interrupt_while_waiting_cancels_the_background_call(
    bridge: LoopBridge[Resource], interrupt_after: InterruptAfter
) -> None:
    unwound = threading.Event()

    async def hang(resource: Resource) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            unwound.set()

    with interrupt_after(), pytest.raises(KeyboardInterrupt):
        bridge.run(hang)
    assert unwound.wait(5)


def _drop(held: list[LoopBridge[Resource]]) -> None:
    held.clear()
    gc.collect()


def test_unclosed_bridge_warns_when_collected(recorder: Recorder) -> None:
    held = [LoopBridge(recorder, Resource.aclose)]
    held[0].run(where)
    with pytest.warns(ResourceWarning, match="unclosed"):
        _drop(held)
    [resource] = recorder.made
    assert resource.loop.is_closed()
    assert resource.closed_in is resource.loop


def test_closed_bridge_does_not_warn(recorder: Recorder) -> None:
    bridge = LoopBridge(recorder, Resource.aclose)
    bridge.run(where)
    bridge.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del bridge
        gc.collect()


EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, contextlib, socket, threading
    from reqivo_sync._bridge import LoopBridge

    class Pool:
        def __init__(self, number):
            self.number = number
            self.writers = []

        async def aclose(self):
            for writer in self.writers:
                writer.close()
                with contextlib.suppress(OSError):  # the test's listener never accepts
                    await writer.wait_closed()
            print("closed", self.number, len(self.writers))

    async def call(pool):
        reader, writer = await asyncio.open_connection(*server)
        pool.writers.append(writer)
        writer.write(b"x")
        await writer.drain()

    listener = socket.create_server(("127.0.0.1", 0))
    server = listener.getsockname()
    counter = iter(range(100))
    bridge = LoopBridge(lambda: Pool(next(counter)), Pool.aclose)
    bridge.run(call)
    worker = threading.Thread(target=bridge.run, args=(call,))
    worker.start(); worker.join()

    async def inside():
        bridge.run(call)

    asyncio.run(inside())
    print("exiting without close")
    listener.close()
    """
)


def test_clean_interpreter_exit_without_close() -> None:
    completed = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stderr == ""
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    assert lines == ["exiting without close", "closed 0 3"]  # one pool for every thread


def _forked(child: Callable[[], str]) -> str:
    """Run ``child`` in a forked child (2 s alarm) and return what it reports."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
        try:
            signal.setitimer(signal.ITIMER_REAL, 2.0)
            report = child()
        except BaseException as exc:
            report = f"error {type(exc).__name__}: {exc}"
        os.write(write_end, report.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        report = reader.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    return report


@pytest.mark.skipif(not POSIX, reason="os.fork is POSIX only")
def test_fork_child_gets_a_fresh_loop(bridge: LoopBridge[Resource], recorder: Recorder) -> None:
    parent = bridge.run(where)

    async def in_background() -> Resource:
        return bridge.run(where)

    parent_background = asyncio.run(in_background())
    assert parent_background is parent

    def child() -> str:
        fresh = bridge.run(where)
        fresh_background = asyncio.run(in_background())
        checks = [
            fresh is not parent,
            fresh.pid == os.getpid(),
            fresh.loop is not parent.loop,
            fresh_background is fresh,
        ]
        bridge.close()
        return "ok" if all(checks) else f"failed {checks}"

    assert _forked(child) == "ok"
    # The parent's loops still work, including wake-ups from other threads.
    assert bridge.run(where) is parent
    started = time.perf_counter()
    assert asyncio.run(in_background()) is parent_background
    assert time.perf_counter() - started < 1.0
    assert not parent.loop.is_closed()


# -- the baton: one loop driven by whichever caller holds it --------------------------------


class Flag:
    """An ``asyncio.Event`` on the bridge's loop, made by the first coroutine that needs it."""

    def __init__(self) -> None:
        self.event: asyncio.Event | None = None

    def get(self) -> asyncio.Event:
        if self.event is None:
            self.event = asyncio.Event()
        return self.event


def test_a_waiting_call_runs_on_the_loop_another_thread_drives(
    bridge: LoopBridge[Resource],
) -> None:
    flag = Flag()
    driving = threading.Event()
    served: list[int] = []

    async def wait_for_flag(resource: Resource) -> str:
        driving.set()
        await asyncio.wait_for(flag.get().wait(), 5)
        return "released"

    async def set_flag(resource: Resource) -> None:
        served.append(threading.get_ident())
        flag.get().set()

    result: list[str] = []
    driver = threading.Thread(target=lambda: result.append(bridge.run(wait_for_flag)))
    driver.start()
    assert driving.wait(5)
    bridge.run(set_flag)  # the driver's loop runs it; this thread only waits
    driver.join(5)
    assert result == ["released"]
    assert served == [driver.ident]


def test_the_baton_passes_to_a_waiting_thread(bridge: LoopBridge[Resource]) -> None:
    driving = threading.Event()
    finished_in: dict[str, int] = {}
    order: list[str] = []

    async def first(resource: Resource) -> None:
        driving.set()
        await asyncio.sleep(0.05)
        order.append("first")

    async def later(resource: Resource, name: str) -> None:
        await asyncio.sleep(0.2)  # ends after the first driver has left
        finished_in[name] = threading.get_ident()
        order.append(name)

    threads = {
        name: threading.Thread(target=bridge.run, args=(functools.partial(later, name=name),))
        for name in ("b", "c")
    }
    driver = threading.Thread(target=bridge.run, args=(first,))
    driver.start()
    assert driving.wait(5)
    for thread in threads.values():
        thread.start()
    for thread in (driver, *threads.values()):
        thread.join(5)
        assert not thread.is_alive()
    assert order[0] == "first"
    assert sorted(order[1:]) == ["b", "c"]
    idents = {thread.ident for thread in threads.values()}
    assert set(finished_in.values()) <= idents  # a waiter took the baton, not the first


def test_the_main_thread_hands_the_baton_to_a_waiting_thread(
    bridge: LoopBridge[Resource],
) -> None:
    # Ctrl-C reaches only the main thread; raised inside asyncio's loop iteration it can
    # lose the callback being run, so the main thread does not drive others' calls.
    assert threading.current_thread() is threading.main_thread()
    flag = Flag()
    waiting = threading.Event()
    ran_in: dict[str, int] = {}

    async def main_call(resource: Resource) -> None:
        ran_in["main before"] = threading.get_ident()
        waiting.set()
        await asyncio.wait_for(flag.get().wait(), 5)
        ran_in["main after"] = threading.get_ident()

    async def worker_call(resource: Resource) -> None:
        ran_in["worker"] = threading.get_ident()
        await asyncio.sleep(0.05)  # the main thread's call ends while this one runs
        flag.get().set()
        await asyncio.sleep(0.05)

    def worker() -> None:
        assert waiting.wait(5)
        bridge.run(worker_call)

    thread = threading.Thread(target=worker)
    thread.start()
    bridge.run(main_call)
    thread.join(5)
    assert not thread.is_alive()
    assert ran_in == {
        "main before": threading.get_ident(),
        "worker": thread.ident,
        "main after": thread.ident,  # the worker drove: the main thread only waited
    }
    assert bridge.run(where).loop is bridge.loop
    assert bridge._state.target is None and not bridge._state.pending


def test_threads_with_and_without_running_loops_share_the_loop(
    bridge: LoopBridge[Resource], recorder: Recorder
) -> None:
    errors: list[BaseException] = []
    counts: list[int] = []
    barrier = threading.Barrier(24)

    async def job(resource: Resource, number: int) -> int:
        await asyncio.sleep(0)
        return number

    def plain() -> None:
        barrier.wait()
        try:
            counts.append(sum(bridge.run(functools.partial(job, number=n)) for n in range(40)))
        except BaseException as exc:
            errors.append(exc)

    async def in_a_loop() -> None:
        counts.append(sum(bridge.run(functools.partial(job, number=n)) for n in range(40)))

    def with_a_loop() -> None:
        barrier.wait()
        try:
            asyncio.run(in_a_loop())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=plain) for _ in range(16)]
    threads += [threading.Thread(target=with_a_loop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert counts == [sum(range(40))] * 24
    assert len(recorder.made) == 1


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
def test_ctrl_c_while_waiting_cancels_only_this_call(
    bridge: LoopBridge[Resource], interrupt_after: InterruptAfter
) -> None:
    driving = threading.Event()
    unwound: list[bool] = []

    async def slow(resource: Resource) -> str:
        driving.set()
        await asyncio.sleep(0.3)
        return "slow done"

    async def hang(resource: Resource) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append(True)

    result: list[str] = []
    driver = threading.Thread(target=lambda: result.append(bridge.run(slow)))
    driver.start()
    assert driving.wait(5)
    with interrupt_after(), pytest.raises(KeyboardInterrupt):
        bridge.run(hang)  # waits: the other thread drives
    assert unwound == [True]  # cancelled and unwound before the interrupt propagated
    driver.join(5)
    assert result == ["slow done"]
    assert bridge.run(where).loop is bridge.loop  # still usable


@pytest.mark.skipif(not POSIX, reason="needs SIGALRM")
def test_ctrl_c_while_driving_passes_the_baton_on(
    bridge: LoopBridge[Resource], interrupt_after: InterruptAfter
) -> None:
    driving = threading.Event()
    unwound: list[bool] = []
    result: list[tuple[str, int]] = []

    async def hang(resource: Resource) -> None:
        driving.set()
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append(True)

    async def slow(resource: Resource) -> tuple[str, int]:
        await asyncio.sleep(0.3)  # outlives the interrupted driver's call
        return "slow done", threading.get_ident()

    def waiter() -> None:
        assert driving.wait(5)
        result.append(bridge.run(slow))

    worker = threading.Thread(target=waiter)
    worker.start()
    with interrupt_after(0.1), pytest.raises(KeyboardInterrupt):
        bridge.run(hang)  # this thread drives; the worker waits
    assert unwound == [True]
    worker.join(5)
    assert result == [("slow done", worker.ident)]  # the worker took the baton and drove
    assert bridge.run(where).loop is bridge.loop


def test_a_baton_left_by_an_interrupted_driver_is_taken_over(
    bridge: LoopBridge[Resource],
) -> None:
    from reqivo_sync._bridge import STRANDED_AFTER, _Call

    resource = bridge.run(where)
    # What a Ctrl-C between two statements of a driver leaves: the baton held by a call
    # whose thread has left the bridge.
    orphan: _Call[None] = _Call(True)
    orphan.notify = False
    orphan.active = False
    bridge._state.target = orphan
    started = time.perf_counter()
    assert bridge.run(where) is resource  # waits, finds the baton stranded, takes it
    assert STRANDED_AFTER <= time.perf_counter() - started < 5
    assert bridge._state.target is None
