"""Experiment behind ADR-006: how reqivo-sync runs the async client for blocking callers.

Every mechanism drives the same minimal async client, written here (it must not depend on
reqivo-async, which is being built): one keep-alive connection per ``MiniPool`` entry, on
``asyncio.Protocol``, parsed by ``reqivo_protocol.http11.ClientConnection``. The server is
a private nginx on loopback (``GET /1k``, 1 KiB). Mechanisms:

1. native async: the coroutine loop inside one ``asyncio.run`` (the floor);
2. ``asyncio.run()`` per call: a new loop per call, so a new connection per call;
3. a per-thread ``asyncio.Runner`` kept alive, its loop running in the caller's thread
   (3b: the same with a bare ``loop.run_until_complete``);
4. one background loop thread + ``asyncio.run_coroutine_threadsafe`` per call;
5. one background loop thread + ``call_soon_threadsafe`` and a per-thread reusable lock;
6. references: a blocking socket with the same parser; urllib3 and requests (when
   importable: ``uv run --with urllib3 --with requests python -m ...``);
7. the prototype ``reqivo_sync._bridge.LoopBridge`` (3b with a fallback to 5), on its
   fast path and called from inside a running loop.

Then 64 threads sharing one wrapper for 3, 4, 5, 7 and urllib3 (bounded time each), the
bare per-call cost of each handoff (a no-op coroutine), creation costs, and the hard
requirements: call inside a running loop, connection reuse, clean interpreter exit (a
child interpreter under ``-X dev``), behaviour after ``os.fork()``.

Run: ``uv run python -m benchmarks.experiments.sync_wrapper_mechanism [--requests N]
[--rounds R] [--seconds S]``. Loopback only; about a minute. Compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import importlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from benchmarks._nginx import start_nginx

from reqivo_protocol.http11 import NEED_DATA, ClientConnection, Data, EndOfMessage, Response
from reqivo_sync._bridge import LoopBridge

HOST = "127.0.0.1"
TARGET = "/1k"
HEADERS = [("Host", HOST)]
BODY_SIZE = 1024


# -- the minimal async client ------------------------------------------------------------


class _ClientProtocol(asyncio.Protocol):
    """Feeds received bytes straight into the machine and wakes the one waiting reader."""

    def __init__(self, machine: ClientConnection) -> None:
        self.machine = machine
        self.waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.machine.receive_data(data)
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.machine.receive_data(b"")
        self._wake()


class MiniConnection:
    """One keep-alive HTTP/1.1 connection that can GET and read a whole body."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        protocol: _ClientProtocol,
    ) -> None:
        self.loop = loop
        self.transport = transport
        self.protocol = protocol

    @classmethod
    async def open(cls, port: int) -> MiniConnection:
        loop = asyncio.get_running_loop()
        machine = ClientConnection()
        transport, protocol = await loop.create_connection(
            lambda: _ClientProtocol(machine), HOST, port
        )
        return cls(loop, transport, protocol)

    async def get(self, target: str) -> bytes:
        protocol = self.protocol
        machine = protocol.machine
        self.transport.write(machine.send_request("GET", target, HEADERS))
        chunks: list[bytes] = []
        while True:
            event = machine.next_event()
            if event is NEED_DATA:
                protocol.waiter = self.loop.create_future()
                await protocol.waiter
                protocol.waiter = None
                continue
            kind = type(event)
            if kind is Data:
                chunks.append(event.data)  # type: ignore[union-attr]
            elif kind is EndOfMessage:
                break
            elif kind is not Response:
                raise RuntimeError(f"unexpected {event!r}")
        machine.start_next_cycle()
        return b"".join(chunks)

    def close(self) -> None:
        self.transport.close()


class MiniPool:
    """Idle connections of one loop (LIFO); counts the connections it opened."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[MiniConnection] = []
        self.opened = 0

    async def get(self, target: str) -> bytes:
        if self.idle:
            connection = self.idle.pop()
        else:
            self.opened += 1
            connection = await MiniConnection.open(self.port)
        body = await connection.get(target)
        self.idle.append(connection)
        return body

    async def aclose(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()
        await asyncio.sleep(0)  # let connection_lost run before the loop closes


# -- the mechanisms ----------------------------------------------------------------------


class Wrapper(Protocol):
    """A blocking GET client."""

    def get(self, target: str) -> bytes: ...

    def opened(self) -> int: ...

    def close(self) -> None: ...


class RunPerCall:
    """2. ``asyncio.run`` per call: the loop dies with the call, so does the connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.count = 0

    async def _one(self, target: str) -> bytes:
        pool = MiniPool(self.port)
        try:
            return await pool.get(target)
        finally:
            await pool.aclose()

    def get(self, target: str) -> bytes:
        self.count += 1
        return asyncio.run(self._one(target))

    def opened(self) -> int:
        return self.count

    def close(self) -> None:
        pass


class ThreadRunner:
    """3. One ``asyncio.Runner`` and one pool per calling thread, in that thread."""

    def __init__(self, port: int, *, bare: bool = False) -> None:
        self.port = port
        self.bare = bare
        self.local = threading.local()
        self.lock = threading.Lock()
        self.all: list[tuple[asyncio.Runner, MiniPool]] = []

    def _slot(self) -> tuple[asyncio.Runner, MiniPool]:
        slot: tuple[asyncio.Runner, MiniPool] | None = getattr(self.local, "slot", None)
        if slot is None:
            slot = (asyncio.Runner(loop_factory=asyncio.new_event_loop), MiniPool(self.port))
            self.local.slot = slot
            with self.lock:
                self.all.append(slot)
        return slot

    def get(self, target: str) -> bytes:
        runner, pool = self._slot()
        if self.bare:
            return runner.get_loop().run_until_complete(pool.get(target))
        return runner.run(pool.get(target))

    def opened(self) -> int:
        return sum(pool.opened for _, pool in self.all)

    def close(self) -> None:
        for runner, pool in self.all:
            runner.run(pool.aclose())
            runner.close()
        self.all.clear()


class _LoopThread:
    """A loop run forever by a daemon thread, with one pool."""

    def __init__(self, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = MiniPool(port)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def opened(self) -> int:
        return self.pool.opened

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.pool.aclose(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class BackgroundFutures(_LoopThread):
    """4. A background loop thread, ``run_coroutine_threadsafe`` per call."""

    def get(self, target: str) -> bytes:
        return asyncio.run_coroutine_threadsafe(self.pool.get(target), self.loop).result()


class BackgroundLean(_LoopThread):
    """5. A background loop thread, ``call_soon_threadsafe`` and a reusable per-thread lock."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.local = threading.local()

    def get(self, target: str) -> bytes:
        waiter: threading.Lock | None = getattr(self.local, "waiter", None)
        if waiter is None:
            waiter = self.local.waiter = threading.Lock()
        waiter.acquire()
        box: list[Any] = []

        def done(task: asyncio.Task[bytes]) -> None:
            box.append(task)
            waiter.release()

        def start() -> None:
            self.loop.create_task(self.pool.get(target)).add_done_callback(done)

        self.loop.call_soon_threadsafe(start)
        waiter.acquire()  # released by done()
        waiter.release()
        result: bytes = box[0].result()
        return result


class Bridged:
    """7. The prototype ``LoopBridge`` over ``MiniPool``."""

    def __init__(self, port: int) -> None:
        self.pools: list[MiniPool] = []

        def factory() -> MiniPool:
            pool = MiniPool(port)
            self.pools.append(pool)
            return pool

        self.bridge = LoopBridge(factory, MiniPool.aclose)

    def get(self, target: str) -> bytes:
        return self.bridge.run(lambda pool: pool.get(target))

    def opened(self) -> int:
        return sum(pool.opened for pool in self.pools)

    def close(self) -> None:
        self.bridge.close()


class BlockingSocket:
    """6. A blocking socket with the same parser (one connection, one thread)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.machine = ClientConnection()

    def get(self, target: str) -> bytes:
        machine = self.machine
        self.sock.sendall(machine.send_request("GET", target, HEADERS))
        chunks: list[bytes] = []
        while True:
            event = machine.next_event()
            if event is NEED_DATA:
                machine.receive_data(self.sock.recv(65536))
                continue
            kind = type(event)
            if kind is Data:
                chunks.append(event.data)  # type: ignore[union-attr]
            elif kind is EndOfMessage:
                break
        machine.start_next_cycle()
        return b"".join(chunks)

    def opened(self) -> int:
        return 1

    def close(self) -> None:
        self.sock.close()


class Urllib3:
    """6. urllib3 2.x ``PoolManager`` (maxsize 64 so 64 threads keep their connections)."""

    def __init__(self, port: int) -> None:
        self.manager = importlib.import_module("urllib3").PoolManager(maxsize=64)
        self.url = f"http://{HOST}:{port}"

    def get(self, target: str) -> bytes:
        data: bytes = self.manager.request("GET", self.url + target).data
        return data

    def opened(self) -> int:
        return -1

    def close(self) -> None:
        self.manager.clear()


class Requests:
    """6. requests ``Session``."""

    def __init__(self, port: int) -> None:
        self.session = importlib.import_module("requests").Session()
        self.url = f"http://{HOST}:{port}"

    def get(self, target: str) -> bytes:
        content: bytes = self.session.get(self.url + target).content
        return content

    def opened(self) -> int:
        return -1

    def close(self) -> None:
        self.session.close()


def _available(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


MECHANISMS: dict[str, Callable[[int], Wrapper]] = {
    "2 asyncio.run per call": RunPerCall,
    "3 per-thread Runner": ThreadRunner,
    "3b per-thread loop.run_until_complete": lambda port: ThreadRunner(port, bare=True),
    "4 bg thread + run_coroutine_threadsafe": BackgroundFutures,
    "5 bg thread + call_soon_threadsafe/lock": BackgroundLean,
    "7 prototype LoopBridge": Bridged,
    "6 blocking socket, same parser": BlockingSocket,
}
PEERS: dict[str, tuple[str, Callable[[int], Wrapper]]] = {
    "6 urllib3 PoolManager": ("urllib3", Urllib3),
    "6 requests Session": ("requests", Requests),
}


# -- measurements ------------------------------------------------------------------------


def sequential(wrapper: Wrapper, count: int) -> float:
    """Requests per second of ``count`` sequential GETs (after a short warm-up)."""
    for _ in range(min(50, count)):
        wrapper.get(TARGET)
    started = time.perf_counter()
    for _ in range(count):
        wrapper.get(TARGET)
    return count / (time.perf_counter() - started)


async def _native(port: int, count: int) -> float:
    pool = MiniPool(port)
    for _ in range(50):
        await pool.get(TARGET)
    started = time.perf_counter()
    for _ in range(count):
        await pool.get(TARGET)
    rate = count / (time.perf_counter() - started)
    await pool.aclose()
    return rate


def bridged_inside_loop(port: int, count: int) -> float:
    """Rate of the prototype called from a coroutine (its background fallback)."""
    wrapper = Bridged(port)

    async def main() -> float:
        return sequential(wrapper, count)

    try:
        return asyncio.run(main())
    finally:
        wrapper.close()


def threaded(wrapper: Wrapper, threads: int, seconds: float) -> tuple[float, int]:
    """Total req/s of ``threads`` threads doing sequential GETs for ``seconds``; errors."""
    counts = [0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        barrier.wait()
        end = deadline[0]
        done = 0
        try:
            while time.perf_counter() < end:
                if len(wrapper.get(TARGET)) != BODY_SIZE:
                    raise RuntimeError("short body")
                done += 1
        except BaseException as exc:
            errors.append(exc)
        counts[index] = done

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for each in workers:
        each.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for each in workers:
        each.join()
    return sum(counts) / (time.perf_counter() - started), len(errors)


async def _noop() -> None:
    return None


def handoff_costs(calls: int) -> dict[str, float]:
    """Microseconds per call of each mechanism running a no-op coroutine."""
    results: dict[str, float] = {}

    def timed(name: str, call: Callable[[], object], n: int) -> None:
        for _ in range(100):
            call()
        started = time.perf_counter()
        for _ in range(n):
            call()
        results[name] = (time.perf_counter() - started) / n * 1e6

    timed("2 asyncio.run", lambda: asyncio.run(_noop()), calls // 10)
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        timed("3 Runner.run", lambda: runner.run(_noop()), calls)
        loop = runner.get_loop()
        timed("3b loop.run_until_complete", lambda: loop.run_until_complete(_noop()), calls)
    background = _LoopThread(0)
    timed(
        "4 run_coroutine_threadsafe",
        lambda: asyncio.run_coroutine_threadsafe(_noop(), background.loop).result(),
        calls,
    )
    lean_waiter = threading.Lock()

    def lean() -> None:
        lean_waiter.acquire()
        background.loop.call_soon_threadsafe(
            lambda: background.loop.create_task(_noop()).add_done_callback(
                lambda _: lean_waiter.release()
            )
        )
        lean_waiter.acquire()
        lean_waiter.release()

    timed("5 call_soon_threadsafe + lock", lean, calls)
    background.close()
    with LoopBridge(lambda: None) as bridge:
        timed("7 LoopBridge.run", lambda: bridge.run(lambda _: _noop()), calls)

        async def inside() -> None:
            timed("7 LoopBridge.run inside a loop", lambda: bridge.run(lambda _: _noop()), calls)

        asyncio.run(inside())
    return results


def creation_costs(repeats: int = 50) -> dict[str, float]:
    """Microseconds to create a mechanism, run one no-op call, and close it."""

    def runner_cycle() -> None:
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            runner.run(_noop())

    def thread_cycle() -> None:
        background = _LoopThread(0)
        asyncio.run_coroutine_threadsafe(_noop(), background.loop).result()
        background.close()

    def bridge_cycle() -> None:
        with LoopBridge(lambda: None) as bridge:
            bridge.run(lambda _: _noop())

    results = {}
    for name, cycle in (
        ("Runner (3)", runner_cycle),
        ("background loop thread (4, 5)", thread_cycle),
        ("LoopBridge, first call (7)", bridge_cycle),
    ):
        started = time.perf_counter()
        for _ in range(repeats):
            cycle()
        results[name] = (time.perf_counter() - started) / repeats * 1e6
    return results


# -- hard requirements -------------------------------------------------------------------


def inside_running_loop(factory: Callable[[int], Wrapper], port: int) -> str:
    """Call ``get`` from a coroutine (what a notebook cell or async code does)."""
    wrapper = factory(port)

    async def main() -> str:
        try:
            body = wrapper.get(TARGET)
        except Exception as exc:
            return f"FAILS: {type(exc).__name__}: {exc}"
        return "ok" if len(body) == BODY_SIZE else "wrong body"

    try:
        with warnings.catch_warnings(record=True):  # the unawaited coroutine of a failure
            return asyncio.run(main())
    finally:
        wrapper.close()


def reuse_across_asyncio_run(port: int) -> str:
    """Whether a connection made under one ``asyncio.run`` serves the next one."""
    pool = MiniPool(port)
    asyncio.run(pool.get(TARGET))
    try:
        asyncio.run(pool.get(TARGET))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        pool.idle.clear()
    return "reused (unexpected)"


EXIT_SCRIPT = """
import sys, threading
from benchmarks.experiments.sync_wrapper_mechanism import MECHANISMS, TARGET
wrapper = MECHANISMS[sys.argv[1]](int(sys.argv[2]))
wrapper.get(TARGET)
worker = threading.Thread(target=wrapper.get, args=(TARGET,))
worker.start(); worker.join()
if sys.argv[3:4] == ["close"]:
    wrapper.close()
"""


def exit_check(name: str, port: int, close: bool) -> str:
    """Run the mechanism in a child interpreter under ``-X dev`` and read its stderr."""
    completed = subprocess.run(
        [sys.executable, "-X", "dev", "-c", EXIT_SCRIPT, name, str(port), "close" * close],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    if completed.returncode == 0 and not lines:
        return "clean"
    seen = sorted({line.split("Warning: ")[1][:28] for line in lines if "Warning: " in line})
    return f"rc={completed.returncode}, {len(lines)} stderr lines, warnings: {seen}"


def fork_check(factory: Callable[[int], Wrapper], port: int) -> str:
    """Use the wrapper, fork, and call it in the child (2 s guard), then in the parent."""
    if not hasattr(os, "fork"):
        return "n/a (no fork)"
    wrapper = factory(port)
    wrapper.get(TARGET)
    before = wrapper.opened()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        # The call runs in the forking thread (as after a plain fork), under a 2 s alarm.
        outcome = "hangs (no loop runs in the child)"

        def alarm(signum: int, frame: object) -> None:
            raise TimeoutError

        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        try:
            body = wrapper.get(TARGET)
            if len(body) != BODY_SIZE:
                outcome = "wrong body"
            elif wrapper.opened() == before:
                outcome = "works on the PARENT's socket and loop (unsafe)"
            else:
                outcome = "ok, fresh loop and connection"
        except TimeoutError:
            pass
        except Exception as exc:
            outcome = f"fails: {type(exc).__name__}: {exc}"[:80]
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    outcome = os.read(read_end, 200).decode()
    os.close(read_end)
    started = time.perf_counter()
    wrapper.get(TARGET)
    parent = time.perf_counter() - started
    wrapper.close()
    return f"child: {outcome}; parent after: {parent * 1e3:.1f} ms"


def epoll_sharing_check(isolate: bool) -> str:
    """A child closes an inherited idle loop; how long does the parent's wake-up take?"""
    if not hasattr(os, "fork"):
        return "n/a"
    from reqivo_sync._bridge import _isolate_inherited_loop

    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        runner.run(_noop())
        loop = runner.get_loop()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            if isolate:
                _isolate_inherited_loop(loop)
            loop.close()
            os._exit(0)
        os.waitpid(pid, 0)

        async def woken_by_thread() -> float:
            future = loop.create_future()
            started = time.perf_counter()
            threading.Timer(0.01, loop.call_soon_threadsafe, (future.set_result, None)).start()
            await asyncio.wait_for(future, 2.5)
            return time.perf_counter() - started

        return f"{runner.run(woken_by_thread()) * 1e3:.0f} ms (expected ~10 ms)"


# -- main --------------------------------------------------------------------------------


@contextlib.contextmanager
def _server() -> Iterator[int]:
    with start_nginx() as nginx:
        for folder in glob.glob("/tmp/reqivo-nginx-*"):  # workers drop privileges
            os.chmod(folder, 0o755)
        yield nginx.port


def _measure_sequential(
    port: int, requests: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Rates per mechanism and, per round, each rate over that round's native rate."""
    rates: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    peers = {name: make for name, (module, make) in PEERS.items() if _available(module)}
    for number in range(rounds):
        row = {"1 native async (floor)": asyncio.run(_native(port, requests))}
        for name, make in {**MECHANISMS, **peers}.items():
            wrapper = make(port)
            count = requests // 10 if name.startswith("2 ") else requests
            row[name] = sequential(wrapper, count)
            wrapper.close()
        row["7 prototype, called inside a running loop"] = bridged_inside_loop(port, requests)
        for name, rate in row.items():
            rates.setdefault(name, []).append(rate)
            ratios.setdefault(name, []).append(rate / row["1 native async (floor)"])
        print(f"  round {number + 1}/{rounds} done", flush=True)
    return rates, ratios


def main() -> None:
    """Run every measurement and check; print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.5)
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; nginx worker_processes 1")
    for module in ("urllib3", "requests"):
        if not _available(module):
            print(f"  ({module} not importable: add `--with {module}` to `uv run`)")
    with _server() as port:
        print(f"\nSequential keep-alive GET /1k, {args.requests} requests x {args.rounds} rounds")
        rates, ratios = _measure_sequential(port, args.requests, args.rounds)
        urllib3_ratios = ratios.get("6 urllib3 PoolManager")
        print("(ratios: medians of per-round ratios, as other load drifts between rounds)")
        print(
            f"{'mechanism':44} {'req/s (median)':>14} {'min-max':>13} {'us/req':>7} "
            f"{'vs async':>8} {'vs urllib3':>10}"
        )
        for name, values in rates.items():
            median = statistics.median(values)
            spread = f"{min(values):.0f}-{max(values):.0f}"
            versus = "         -"
            if urllib3_ratios:
                relative = [a / b for a, b in zip(ratios[name], urllib3_ratios, strict=True)]
                versus = f"{statistics.median(relative):9.2f}x"
            print(
                f"{name:44} {median:14.0f} {spread:>13} {1e6 / median:7.1f} "
                f"{statistics.median(ratios[name]):7.2f}x {versus}"
            )

        print(f"\n{args.threads} threads sharing one wrapper, {args.seconds:.1f} s each, 2 rounds")
        shared: dict[str, Callable[[int], Wrapper]] = {
            "3 per-thread Runner": ThreadRunner,
            "3b per-thread loop.run_until_complete": lambda port: ThreadRunner(port, bare=True),
            "4 bg thread + run_coroutine_threadsafe": BackgroundFutures,
            "5 bg thread + call_soon_threadsafe/lock": BackgroundLean,
            "7 prototype LoopBridge": Bridged,
        }
        if _available("urllib3"):
            shared["6 urllib3 PoolManager (maxsize 64)"] = Urllib3
        totals: dict[str, list[float]] = {}
        for _ in range(2):
            for name, make in shared.items():
                wrapper = make(port)
                rate, errors = threaded(wrapper, args.threads, args.seconds)
                wrapper.close()
                totals.setdefault(name, []).append(rate)
                if errors:
                    print(f"  {name}: {errors} errors")
        for name, values in totals.items():
            spread = f"{min(values):.0f}-{max(values):.0f}"
            print(f"  {name:44} {statistics.mean(values):8.0f} req/s  ({spread})")
        print(f"  (no errors unless listed; every wrapper opened {args.threads} connections)")

        print("\nBare handoff cost, no-op coroutine (us/call)")
        for name, cost in handoff_costs(20000).items():
            print(f"  {name:44} {cost:7.1f}")
        print("\nCreation cost: create, one no-op call, close (us)")
        for name, cost in creation_costs().items():
            print(f"  {name:44} {cost:7.0f}")

        print("\nHard requirements")
        print(f"  reuse of a connection across asyncio.run calls: {reuse_across_asyncio_run(port)}")
        checked = {k: v for k, v in MECHANISMS.items() if not k.startswith(("3b", "6"))}
        for name, make in checked.items():
            print(f"  [{name}]")
            print(f"    inside a running loop: {inside_running_loop(make, port)}")
            wrapper = make(port)
            for _ in range(100):
                wrapper.get(TARGET)
            print(f"    connections for 100 sequential calls: {wrapper.opened()}")
            wrapper.close()
            print(f"    exit without close (-X dev): {exit_check(name, port, close=False)}")
            print(f"    exit after close   (-X dev): {exit_check(name, port, close=True)}")
            print(f"    after os.fork(): {fork_check(make, port)}")
        print("  child closes an inherited idle loop; parent's threadsafe wake-up took:")
        print(f"    plain:                      {epoll_sharing_check(isolate=False)}")
        print(f"    after _isolate_inherited_loop: {epoll_sharing_check(isolate=True)}")


if __name__ == "__main__":
    main()
