"""ADR-012's Ctrl-C storm: interrupts land anywhere in the main thread while 8 threads share
one ``LoopBridge`` (the main thread calling it too, so often driving the others' tasks).

Each round: 1.5 s of calls, the main thread interrupted by SIGALRM (a handler raising
``KeyboardInterrupt``) 0.1-3 ms into each batch of 20 calls; then the workers stop and
must all finish. Prints per round the interrupts and whether a thread was left waiting
(``STUCK``): the bridge repairs its own bookkeeping (``_State._stranded``), but an
interrupt inside asyncio's loop iteration can lose a callback (a timer, a task step),
and a call whose callback was lost waits until something else wakes it.

Run: ``uv run python -m benchmarks.experiments.sync_ctrl_c_storm [rounds]`` (POSIX).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
import threading
import time

from reqivo_sync._bridge import LoopBridge


async def _job(resource: object, delay: float) -> float:
    await asyncio.wait_for(asyncio.sleep(delay), 2)
    return delay


def _round(bridge: LoopBridge[object]) -> tuple[int, int]:
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            with contextlib.suppress(KeyboardInterrupt, TimeoutError):
                bridge.run(functools.partial(_job, delay=0.0005))

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    previous = signal.signal(signal.SIGALRM, interrupt)
    interrupted = 0
    deadline = time.perf_counter() + 1.5
    try:
        while time.perf_counter() < deadline:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.0001 + 0.003 * (interrupted % 7) / 7)
                for _ in range(20):
                    bridge.run(functools.partial(_job, delay=0.0005))
                signal.setitimer(signal.ITIMER_REAL, 0)
            except (KeyboardInterrupt, TimeoutError):
                interrupted += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    stop.set()
    for thread in threads:
        thread.join(5)
    return interrupted, sum(thread.is_alive() for thread in threads)


def main(rounds: int) -> None:
    for number in range(rounds):
        bridge: LoopBridge[object] = LoopBridge(object)
        interrupted, stuck = _round(bridge)
        print(f"round {number + 1}: {interrupted} interrupts, {stuck} threads stuck", flush=True)
        if stuck:
            print("STUCK: the bridge is left open (its threads are daemons)")
            continue
        bridge.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
