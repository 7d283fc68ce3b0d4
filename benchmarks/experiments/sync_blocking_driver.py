"""Experiment for issue 12: what a blocking-socket driver would give reqivo-sync sequentially.

``uv run python -m benchmarks.experiments.sync_blocking_driver`` (about 40 s; run it on an
otherwise idle machine, and again with ``--awake``: see ``benchmarks/_machine.py``).

The shape under test keeps policy written once: ``AsyncSession`` itself (redirects, auth,
cookies, retries, hooks) is driven *without an event loop*, by ``coroutine.send(None)``,
over a transport whose ``async`` methods never suspend because they do blocking socket I/O
with the same sans-IO HTTP/1.1 machine (``reqivo_protocol.http11.ClientConnection``). The
prototype transport here is minimal on purpose (one keep-alive connection per origin,
cleartext, bodies read whole, no timeouts, no pool limits): it measures the floor of the
approach, what a full blocking pool could at best reach, not a product.

Contenders, one process, alternating rounds of ``SECONDS``, ``GET /1k`` on nginx:

* ``raw``: a blocking socket sending a fixed request and reading to the end of the body
  (no parsing): the floor of any client here;
* ``driven``: ``AsyncSession.get`` over the prototype blocking transport, driven by
  ``send(None)``, the response body read;
* ``reqivo-sync``: today's ``Session.get`` (the event-loop bridge of ADR-012);
* ``urllib3``: ``PoolManager.request``.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from benchmarks._machine import KeepAwake
from benchmarks._nginx import start_nginx

from reqivo_async import AsyncRequest, AsyncSession, Response
from reqivo_protocol.http11 import NEED_DATA, ClientConnection, Data, EndOfMessage
from reqivo_protocol.http11 import Response as ResponseHead

SECONDS = 1.5
ROUNDS = 5


class _Connection:
    """A blocking socket and the sans-IO machine that frames its bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.machine = ClientConnection()

    def next_event(self) -> Any:
        machine = self.machine
        while (event := machine.next_event()) is NEED_DATA:
            machine.receive_data(self.sock.recv(65536))
        return event


class _BodyStream:
    """The body of one response, read with blocking ``recv``s (never suspends)."""

    def __init__(self, transport: BlockingTransport, key: tuple[str, int], conn: _Connection):
        self._transport = transport
        self._key = key
        self._conn: _Connection | None = conn

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        assert conn is not None
        while True:
            event = conn.next_event()
            if type(event) is Data:
                yield event.data
            elif type(event) is EndOfMessage:
                break
        self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and conn.machine.reusable:
            conn.machine.start_next_cycle()
            self._transport.idle.setdefault(self._key, []).append(conn)
        elif conn is not None:
            conn.sock.close()

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.sock.close()


class BlockingTransport:
    """``handle_async_request`` over blocking sockets: a stack of idle connections per
    origin (``list.append`` and ``list.pop`` are atomic: threads may share it)."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        url = request.url
        key = (url.host, url.port or 80)
        try:
            conn = self.idle[key].pop()
        except (KeyError, IndexError):
            conn = _Connection(*key)
        fields = [(name, value) for name, _, value in request.headers._fields]
        if not any(lower == "host" for _, lower, _ in request.headers._fields):
            fields.insert(0, ("Host", url.netloc))
        body = request.stream.body
        conn.sock.sendall(conn.machine.send_request(request.method, url.target, fields, body))
        head = conn.next_event()
        assert type(head) is ResponseHead
        return Response(
            head.status_code,
            headers=head.headers,
            reason=head.reason,
            stream=_BodyStream(self, key, conn),
            request=request,
        )

    async def aclose(self) -> None:
        for stack in self.idle.values():
            for conn in stack:
                conn.sock.close()
        self.idle.clear()


def drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise RuntimeError("the coroutine suspended: it needs an event loop")


def _rates(contenders: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    for call in contenders.values():
        for _ in range(300):
            call()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for number in range(ROUNDS):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            call = contenders[name]
            calls = 0
            started = time.perf_counter()
            while time.perf_counter() - started < SECONDS:
                call()
                calls += 1
            rates[name].append(calls / (time.perf_counter() - started))
    return rates


def main() -> None:
    import urllib3

    from reqivo_sync import Session

    with start_nginx() as nginx:
        url = nginx.url + "/1k"
        host, port = nginx.url.split("//")[1].split(":")
        raw = socket.create_connection((host, int(port)))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wire = f"GET /1k HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

        def raw_get() -> None:
            raw.sendall(wire)
            received = b""
            while True:
                received += raw.recv(65536)
                end = received.find(b"\r\n\r\n")
                if end >= 0 and len(received) - end - 4 >= 1024:
                    return

        driven = AsyncSession(transport=BlockingTransport())  # type: ignore[arg-type]

        def driven_get() -> None:
            assert len(drive(driven.get(url)).content) == 1024

        session = Session()
        pool = urllib3.PoolManager(maxsize=64)
        contenders: dict[str, Callable[[], object]] = {
            "raw": raw_get,
            "driven": driven_get,
            "reqivo-sync": lambda: session.get(url).content,
            "urllib3": lambda: pool.request("GET", url).data,
        }
        rates = _rates(contenders)
        session.close()
        drive(driven.aclose())
        raw.close()
    urllib3_rates = rates["urllib3"]
    for name, values in rates.items():
        ratios = [ours / theirs for ours, theirs in zip(values, urllib3_rates, strict=True)]
        print(
            f"{name:<12} {statistics.median(values):>9,.0f} req/s "
            f"({min(values):,.0f}-{max(values):,.0f})  "
            f"{1e6 / statistics.median(values):6.1f} us  "
            f"x urllib3 {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    if "--awake" in sys.argv:
        with KeepAwake():
            main()
    else:
        main()
