"""The machine's state during a benchmark run: other load, and cores kept awake or not.

On this kind of machine (a virtual machine with 2 vCPUs) a round trip over loopback costs
about 90 us more when the machine is otherwise idle: a client that waits for the server's
reply lets its vCPU halt, and waking a halted vCPU (the server's on the request, the
client's on the reply) goes through the hypervisor. Every client pays it, so it shrinks
the ratios between clients in latency-bound scenarios (sequential requests): measured
for ADR-012, a raw socket GET took 91 us idle and about 25 us with the cores kept busy,
reqivo-sync 200 and 91 us, urllib3 about 260 and 170 us.

Two things follow for the benchmarks:

* other load on the machine changes the rates (and a niced process is no guarantee: with
  the kernel's autogroups a process started in another session gets a fair share of the
  CPU whatever its nice value), so a run warns when the machine was not idle at its start;
* ``--awake`` runs the suites with one spinner per core under ``SCHED_IDLE`` (it runs only
  when nothing else wants that core, so it takes almost no time from the contenders) to
  measure the other regime, that of a loaded host whose cores never halt. The default is
  the idle machine; a report says which regime it ran in.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: A 1-minute load average above this at the start of a run means other work is running.
BUSY_LOAD = 0.5

_SPIN = (
    "import os\nos.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nwhile True:\n    pass\n"
)


def load_warning() -> str | None:
    """A warning when the machine already runs other work (Linux), else ``None``."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    if load <= BUSY_LOAD:
        return None
    return (
        f"warning: the 1-minute load average is {load:.2f} at the start: other work is "
        "running and skews the rates (see benchmarks/_machine.py)"
    )


class KeepAwake:
    """One ``SCHED_IDLE`` busy loop per core for the duration of a ``with`` block."""

    def __init__(self) -> None:
        self._spinners: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> KeepAwake:
        for _ in range(os.cpu_count() or 1):
            self._spinners.append(subprocess.Popen([sys.executable, "-c", _SPIN]))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for spinner in self._spinners:
            spinner.kill()
        for spinner in self._spinners:
            spinner.wait()
        self._spinners.clear()
