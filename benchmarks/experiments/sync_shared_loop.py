"""ADR-012's experiment: how reqivo-sync's ``Session`` runs its calls, on the real stack.

Three mechanisms under the same ``Session`` (nginx on loopback, ``GET /1k``, keep-alive):

- ``baton``: the shipped ``LoopBridge``: one loop, driven by whichever caller thread holds
  the baton (no thread switch when uncontended);
- ``loop-thread``: the same Session with every call handed to one dedicated background
  loop thread (``reqivo_sync.LoopThread``: ``call_soon_threadsafe`` + a lock waiter);
- ``per-thread``: the design before ADR-012 (a loop and a pool per calling thread); run
  it by putting that version of reqivo-sync first on the path, e.g.
  ``git archive 5460b92 packages/reqivo-sync/src | tar -x -C /tmp/old`` and
  ``PYTHONPATH=/tmp/old/packages/reqivo-sync/src``;

and two peers: urllib3's ``PoolManager(maxsize=64)`` and pyreqwest's blocking
``SyncClient``. Scenarios: sequential GETs, and 64 threads sharing one client.

Run one mechanism per process (the rounds alternate between processes)::

    uv run python -m benchmarks.experiments.sync_shared_loop baton urllib3 pyreqwest

Each line printed is ``name scenario req/s cpu-us/req connections``: the rate, the
client process's CPU time per request (steadier than the rate on a loaded machine), and
the connections its pool held at the end (-1 where the client does not tell).
``REQIVO_BENCH_SECONDS`` (default 2.0).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from benchmarks._nginx import start_nginx
from benchmarks.client_sync import THREADS, _for_a_while, _threaded

SECONDS = float(os.environ.get("REQIVO_BENCH_SECONDS", "2.0"))


class _ThreadBridge:
    """``LoopBridge``'s interface over one ``LoopThread``: every call is handed over."""

    def __init__(self, resource: Any) -> None:
        from reqivo_sync import LoopThread

        self.runner = LoopThread("bench-loop")
        self.resource = resource
        self.closed = False

    @property
    def loop(self) -> Any:
        return self.runner.loop

    def run(self, fn: Callable[[Any], Any]) -> Any:
        return self.runner.call(lambda: fn(self.resource))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.runner.close(self.resource.aclose)


def _reqivo(kind: str) -> tuple[Callable[[str], int], Callable[[], int], Callable[[], None]]:
    from reqivo_sync import Session

    session = Session()
    if kind == "loop-thread":
        session._bridge.close()
        session._bridge = _ThreadBridge(session._async)  # type: ignore[assignment]

    def get(url: str) -> int:
        return len(session.get(url).content)

    def connections() -> int:
        try:
            return len(session.transport.connections)  # type: ignore[attr-defined]
        except Exception:  # the per-thread design's transport is one thread's pool
            return -1

    return get, connections, session.close


def _urllib3() -> tuple[Callable[[str], int], Callable[[], int], Callable[[], None]]:
    import urllib3

    pool = urllib3.PoolManager(maxsize=THREADS, block=False)
    return (lambda url: len(pool.request("GET", url).data)), (lambda: -1), pool.clear


def _pyreqwest() -> tuple[Callable[[str], int], Callable[[], int], Callable[[], None]]:
    from pyreqwest.client import SyncClientBuilder

    client = SyncClientBuilder().http1_only().build()

    def get(url: str) -> int:
        return len(client.get(url).build().send().bytes())

    return get, (lambda: -1), client.close


def main(names: list[str]) -> None:
    with start_nginx() as nginx:
        url = nginx.url + "/1k"
        for name in names:
            for scenario in ("sequential", "64-threads"):
                if name in ("baton", "loop-thread", "per-thread"):
                    get, connections, close = _reqivo(name)
                elif name == "urllib3":
                    get, connections, close = _urllib3()
                else:
                    get, connections, close = _pyreqwest()
                try:
                    if scenario == "sequential":
                        _for_a_while(functools.partial(get, url), 0.2)
                        cpu = time.process_time()
                        started = time.perf_counter()
                        calls, received = _for_a_while(functools.partial(get, url), SECONDS)
                        assert received == calls * 1024
                        rate = calls / (time.perf_counter() - started)
                    else:
                        client = SimpleNamespace(get=get)
                        _threaded(client, url, 0.2)
                        cpu = time.process_time()
                        rate = _threaded(client, url, SECONDS)
                        calls = round(rate * SECONDS)
                    per_call = (time.process_time() - cpu) / calls * 1e6
                    line = f"{name} {scenario} {rate:.0f} {per_call:.0f} {connections()}"
                    print(line, flush=True)
                finally:
                    close()


if __name__ == "__main__":
    main(sys.argv[1:] or ["baton", "loop-thread", "urllib3", "pyreqwest"])
