"""Run the Autobahn fuzzing server against reqivo-ws's clients and judge the result.

Usage (``nox -s autobahn`` does this)::

    python autobahn_client.py --wstest ENV/bin/wstest-loopback [--client async]
        [--client sync] [--deflate] [--cases 1-301] [--outdir reports/autobahn]

``--client async`` drives ``AsyncWebSocket`` (agent ``reqivo-async``), ``--client sync``
the blocking ``WebSocket`` (agent ``reqivo-sync``); both by default. Each client gets its
own ``wstest -m fuzzingserver`` (``fuzzingserver.json``, on a free 127.0.0.1 port) and
the clients run side by side. A client echoes every message of a case until the server
closes; the server writes its verdicts and HTML reports under ``OUTDIR/<mode>/<client>``.

Prints one summary block and exits 1 unless every client passes: no case FAILED, at most
``MAX_NON_STRICT`` NON-STRICT, UNIMPLEMENTED only in the compression sections (12, 13)
of an uncompressed run, every section-9 message echoed (every 9.* case OK), every case
reported, and no exception outside reqivo's documented ones (a crash).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reqivo_ws import AsyncWebSocket, ConnectionClosed, ReqivoError, WebSocket

AGENTS = {"async": "reqivo-async", "sync": "reqivo-sync"}
MAX_NON_STRICT = 4
#: Sections that need permessage-deflate: UNIMPLEMENTED is expected there without it.
COMPRESSION_SECTIONS = ("12", "13")
SPEC = Path(__file__).with_name("fuzzingserver.json")
OPTIONS: dict[str, Any] = {
    "max_message_size": None,
    "ping_interval": None,
    "open_timeout": 30.0,
    "close_timeout": 5.0,
}


@dataclass
class ClientRun:
    """What one client did: cases run, seconds, and the exceptions out of its cases."""

    client: str
    index: Path
    cases: int = 0
    seconds: float = 0.0
    #: Documented (``ReqivoError``) exceptions: the client failed the connection; the
    #: server's verdict on the case decides whether that was right.
    errors: list[str] = field(default_factory=list)
    #: Anything else escaping the client: a crash.
    crashes: list[str] = field(default_factory=list)


# -- the two echo clients ----------------------------------------------------------------


def _compression(deflate: bool) -> Literal["deflate"] | None:
    return "deflate" if deflate else None


async def _echo_async(url: str, deflate: bool) -> None:
    async with AsyncWebSocket(url, compression=_compression(deflate), **OPTIONS) as ws:
        try:
            async for message in ws:
                await ws.send(message)
        except ConnectionClosed:
            pass


def _run_async(url: str, deflate: bool) -> None:
    asyncio.run(_echo_async(url, deflate))


def _echo_sync(url: str, deflate: bool) -> None:
    with WebSocket(url, compression=_compression(deflate), **OPTIONS) as ws:
        try:
            for message in ws:
                ws.send(message)
        except ConnectionClosed:
            pass


async def _case_count(base: str) -> int:
    async with AsyncWebSocket(f"{base}/getCaseCount", compression=None) as ws:
        message = await ws.recv(timeout=30)
        return int(message)


async def _update_reports(base: str, agent: str) -> None:
    async with AsyncWebSocket(f"{base}/updateReports?agent={agent}", compression=None) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.recv(timeout=120)


# -- one server per client ---------------------------------------------------------------


@contextlib.contextmanager
def fuzzingserver(wstest: str, workdir: Path) -> Iterator[str]:
    """A fuzzing server on a free loopback port, reporting into ``workdir/reports``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    spec.update(url=f"ws://127.0.0.1:{port}", outdir=str(workdir / "reports"))
    workdir.mkdir(parents=True)
    (workdir / "fuzzingserver.json").write_text(json.dumps(spec), encoding="utf-8")
    with (workdir / "server.log").open("w") as log:
        command = [wstest, "-m", "fuzzingserver", "-s", "fuzzingserver.json", "-u", "0"]
        server = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, server, workdir / "server.log")
            yield spec["url"]
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_listening(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"wstest did not start: see {log}") from None
            time.sleep(0.2)


def run(wstest: str, workdir: Path, client: str, deflate: bool, cases: str) -> ClientRun:
    """Start a server, run the cases with one client, have the server write its reports."""
    agent = AGENTS[client]
    echo = _echo_sync if client == "sync" else _run_async
    result = ClientRun(client, workdir / "reports" / "index.json")
    with fuzzingserver(wstest, workdir) as base:
        started = shown = time.perf_counter()
        selected = _cases(cases, asyncio.run(_case_count(base)))
        for case in selected:
            if time.perf_counter() - shown > 60:  # a sign of life in the long deflate run
                shown = time.perf_counter()
                print(
                    f"{agent}: case {case} of {selected[-1]}, {shown - started:.0f} s", flush=True
                )
            result.cases += 1
            try:
                echo(f"{base}/runCase?case={case}&agent={agent}", deflate)
            except ReqivoError as exc:
                result.errors.append(f"case {case}: {exc!r}")
            except Exception as exc:  # an undocumented exception: that is the finding
                result.crashes.append(f"case {case}: {exc!r}")
                traceback.print_exc()
        result.seconds = time.perf_counter() - started
        asyncio.run(_update_reports(base, agent))
    print(f"{agent}: ran {result.cases} cases in {result.seconds:.1f} s", flush=True)
    return result


def _cases(spec: str, count: int) -> range:
    if not spec:
        return range(1, count + 1)
    first, _, last = spec.partition("-")
    return range(int(first), int(last or first) + 1)


# -- the verdict -------------------------------------------------------------------------


def _ids(names: Iterable[str]) -> str:
    return " ".join(sorted(names, key=lambda name: tuple(int(p) for p in name.split("."))))


def judge(ran: ClientRun, deflate: bool) -> list[str]:
    """Print one client's lines of the summary; return why it fails (empty: it passes)."""
    agent = AGENTS[ran.client]
    print(f"  {agent}: {ran.cases} cases in {ran.seconds:.1f} s")
    reasons = [f"crashed in {line}" for line in ran.crashes]
    for line in ran.errors:
        print(f"    client error (documented) in {line}")
    if not ran.index.is_file():
        return [*reasons, "no report (the run did not finish)"]
    results: dict[str, Any] = json.loads(ran.index.read_text(encoding="utf-8")).get(agent, {})
    by_behaviour: dict[str, list[str]] = collections.defaultdict(list)
    for case, result in results.items():
        by_behaviour[result["behavior"]].append(case)
    print("    " + ", ".join(f"{b} {len(by_behaviour[b])}" for b in sorted(by_behaviour)))
    for behaviour in ("NON-STRICT", "FAILED"):
        if by_behaviour[behaviour]:
            print(f"    {behaviour}: {_ids(by_behaviour[behaviour])}")
    unimplemented = by_behaviour["UNIMPLEMENTED"]
    if unimplemented:
        sections = sorted({c.split(".")[0] for c in unimplemented}, key=int)
        print(f"    UNIMPLEMENTED: sections {', '.join(sections)}")
    section9 = {c: r for c, r in results.items() if c.startswith("9.")}
    not_echoed = [c for c, r in section9.items() if r["behavior"] != "OK"]
    seconds = sum(r["duration"] for r in section9.values()) / 1000
    echoed = len(section9) - len(not_echoed)
    print(f"    section 9: {echoed}/{len(section9)} cases echoed every message ({seconds:.1f} s)")

    if len(results) != ran.cases:
        reasons.append(f"{len(results)} cases reported of {ran.cases} run")
    if by_behaviour["FAILED"]:
        reasons.append(f"{len(by_behaviour['FAILED'])} FAILED")
    if len(by_behaviour["NON-STRICT"]) > MAX_NON_STRICT:
        reasons.append(f"more than {MAX_NON_STRICT} NON-STRICT")
    allowed = () if deflate else COMPRESSION_SECTIONS
    wrong = [c for c in unimplemented if c.split(".")[0] not in allowed]
    if wrong:
        reasons.append(f"UNIMPLEMENTED: {_ids(wrong)}")
    if not_echoed:
        reasons.append(f"section 9 not echoed: {_ids(not_echoed)}")
    return reasons


def main() -> int:
    """Run the chosen clients side by side, then print the summary block."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--wstest", required=True, help="the wstest-loopback executable")
    parser.add_argument("--client", action="append", choices=sorted(AGENTS))
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    parser.add_argument("--cases", default="", help="N or N-M (case numbers; default all)")
    parser.add_argument("--outdir", default="reports/autobahn", type=Path)
    args = parser.parse_args()
    clients: list[str] = list(dict.fromkeys(args.client or ["async", "sync"]))
    mode = "deflate" if args.deflate else "no-compression"
    outdir = args.outdir.resolve() / mode
    shutil.rmtree(outdir, ignore_errors=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [
            pool.submit(run, args.wstest, outdir / c, c, args.deflate, args.cases) for c in clients
        ]
    runs = []
    for client, future in zip(clients, futures, strict=True):
        try:
            runs.append(future.result())
        except Exception as exc:  # the server or the case count: the run itself failed
            runs.append(
                ClientRun(client, outdir / client / "no-index", crashes=[f"the run: {exc!r}"])
            )
    print(f"\nAutobahn fuzzingserver ({mode}), {time.perf_counter() - started:.0f} s; {outdir}")
    failing = False
    for ran in runs:
        reasons = judge(ran, args.deflate)
        print(f"    verdict: {'PASS' if not reasons else 'FAIL: ' + '; '.join(reasons)}")
        failing = failing or bool(reasons)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
