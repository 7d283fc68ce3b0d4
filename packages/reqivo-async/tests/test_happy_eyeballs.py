"""Our own happy eyeballs (RFC 8305), for loops whose ``create_connection`` lacks it.

Real loopback sockets only: an address that refuses (a bound socket that does not
listen), a listener, and a black hole (a listener whose backlog is full: connects hang).
nox runs this file on asyncio's loop and on uvloop (``--loop``); ``race`` works on both,
and ``open_connection`` uses it on uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reqivo_async import AsyncConnection
from reqivo_async._happy_eyeballs import AddrInfo, connect_socket, interleave, race
from reqivo_async._network import (
    _NATIVE_HAPPY_EYEBALLS,
    HAPPY_EYEBALLS_DELAY,
    _connect_error,
    _native_happy_eyeballs,
    open_connection,
)
from reqivo_protocol._exceptions import ConnectError, ConnectTimeout

V4, V6 = socket.AF_INET, socket.AF_INET6


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))


async def _infos(host: str, port: int) -> list[AddrInfo]:
    loop = asyncio.get_running_loop()
    return list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))


@contextlib.contextmanager
def _refusing(host: str) -> Iterator[int]:
    """A port on ``host`` that refuses: bound, never listening."""
    with socket.socket(V6 if ":" in host else V4) as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]


@contextlib.contextmanager
def _listening(host: str, port: int = 0) -> Iterator[socket.socket]:
    with socket.create_server((host, port), family=V6 if ":" in host else V4) as listener:
        yield listener


@contextlib.contextmanager
def _black_hole(host: str) -> Iterator[int]:
    """A listener that never accepts, its backlog filled: new connects hang."""
    family = V6 if ":" in host else V4
    with socket.socket(family) as listener, contextlib.ExitStack() as fillers:
        listener.bind((host, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            filler = fillers.enter_context(socket.socket(family))
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((host, port))
        yield port


def _info(family: socket.AddressFamily, name: str) -> AddrInfo:
    address: tuple[Any, ...] = (name, 80) if family == V4 else (name, 80, 0, 0)
    return (family, socket.SOCK_STREAM, 6, "", address)


def test_interleave_alternates_families_first_family_first() -> None:
    a6, b6, c6 = (_info(V6, f"::{n}") for n in (1, 2, 3))
    a4, b4 = (_info(V4, f"10.0.0.{n}") for n in (1, 2))
    assert interleave([a6, b6, c6, a4, b4]) == [a6, a4, b6, b4, c6]
    assert interleave([a4, a6, b6]) == [a4, a6, b6]
    assert interleave([]) == []


async def test_refused_first_address_moves_on_at_once() -> None:
    # ::1 refuses on the port 127.0.0.1 listens on: the second attempt starts as soon as
    # the first fails, not after the 250 ms delay.
    with _listening("127.0.0.1") as listener:
        port = listener.getsockname()[1]
        with socket.socket(V6) as refusing:
            refusing.bind(("::1", port))
            infos = await _infos("::1", port) + await _infos("127.0.0.1", port)
            started = time.monotonic()
            sock = await race(asyncio.get_running_loop(), infos, delay=HAPPY_EYEBALLS_DELAY)
            took = time.monotonic() - started
            with sock:
                assert sock.family == V4 and sock.getpeername() == ("127.0.0.1", port)
                assert not sock.getblocking()
    assert took < HAPPY_EYEBALLS_DELAY


async def test_black_hole_first_second_address_wins_after_the_delay() -> None:
    with _black_hole("127.0.0.1") as hole, _listening("::1") as listener:
        port = listener.getsockname()[1]
        infos = await _infos("127.0.0.1", hole) + await _infos("::1", port)
        before = _open_fds()
        started = time.monotonic()
        sock = await race(asyncio.get_running_loop(), infos, delay=HAPPY_EYEBALLS_DELAY)
        took = time.monotonic() - started
        with sock:
            assert sock.getpeername()[:2] == ("::1", port)
        await asyncio.sleep(0.01)  # the cancelled attempt closes its socket
        assert _open_fds() == before  # the black hole's attempt did not leak
    assert HAPPY_EYEBALLS_DELAY * 0.8 < took < 2.0


async def test_every_address_failing_names_each_cause() -> None:
    with _refusing("::1") as port6, _refusing("127.0.0.1") as port4:
        infos = await _infos("::1", port6) + await _infos("127.0.0.1", port4)
        before = _open_fds()
        with pytest.raises(ConnectionRefusedError) as info:
            await race(asyncio.get_running_loop(), infos, delay=HAPPY_EYEBALLS_DELAY)
        assert _open_fds() == before
    message = str(info.value)
    assert message.startswith("all 2 addresses failed: ")
    assert f"[::1]:{port6}: connection refused" in message
    assert f"127.0.0.1:{port4}: connection refused" in message
    error = _connect_error(info.value, f"dual-stack.test:{port4}")
    assert isinstance(error, ConnectError)
    assert str(error) == f"cannot connect to dual-stack.test:{port4}: {message}"


async def test_mixed_failures_are_an_oserror_naming_each() -> None:
    # A refusal, and a local address that cannot be bound for the other family.
    with _refusing("127.0.0.1") as port4, _refusing("::1") as port6:
        infos = await _infos("127.0.0.1", port4) + await _infos("::1", port6)
        local = await _infos("127.0.0.2", 0) + await _infos("::2", 0)  # ::2: not ours
        with pytest.raises(OSError, match=r"^all 2 addresses failed: ") as info:
            await race(asyncio.get_running_loop(), infos, delay=HAPPY_EYEBALLS_DELAY, local=local)
    assert type(info.value) is OSError
    assert f"127.0.0.1:{port4}: connection refused" in str(info.value)
    assert f"[::1]:{port6}: cannot assign requested address" in str(info.value)


async def test_timeout_cancels_every_attempt_without_leaking() -> None:
    with _black_hole("127.0.0.1") as hole4, _black_hole("::1") as hole6:
        infos = await _infos("127.0.0.1", hole4) + await _infos("::1", hole6)
        before = _open_fds()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(HAPPY_EYEBALLS_DELAY + 0.1):  # both attempts running
                await race(asyncio.get_running_loop(), infos, delay=HAPPY_EYEBALLS_DELAY)
        await asyncio.sleep(0.01)
        assert _open_fds() == before
        assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_connect_socket_resolves_and_binds_the_local_address() -> None:
    loop = asyncio.get_running_loop()
    with _listening("127.0.0.1") as listener:
        port = listener.getsockname()[1]
        with await connect_socket(loop, "127.0.0.1", port, delay=0.25) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
        bound = await connect_socket(loop, "localhost", port, delay=0.25, local_address="127.0.0.1")
        with bound:
            assert bound.getsockname()[0] == "127.0.0.1"
        with pytest.raises(OSError, match=r"no address of 127\.0\.0\.1 has the family of ::1"):
            await connect_socket(loop, "127.0.0.1", port, delay=0.25, local_address="::1")
    with _refusing("127.0.0.1") as refused, pytest.raises(ConnectionRefusedError):
        await connect_socket(loop, "127.0.0.1", refused, delay=0.25)  # one address: its error


def test_the_way_to_connect_is_decided_per_loop_class() -> None:
    uvloop = pytest.importorskip("uvloop")  # wheels for CPython on Linux and macOS only
    standard, other = asyncio.new_event_loop(), uvloop.new_event_loop()
    try:
        assert _native_happy_eyeballs(standard) is True
        assert _native_happy_eyeballs(other) is False  # uvloop lacks happy_eyeballs_delay
    finally:
        standard.close()
        other.close()


async def test_async_tests_run_on_the_chosen_loop(pytestconfig: pytest.Config) -> None:
    loop_module = type(asyncio.get_running_loop()).__module__.partition(".")[0]
    assert loop_module == pytestconfig.getoption("--loop")


@pytest.mark.parametrize("ours", [False, True], ids=["the-loops-way", "our-race"])
async def test_both_families_and_local_address_on_this_loop(
    monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    # This loop's own way to connect, then ours forced on it: each reaches an IPv6 and an
    # IPv4 literal from the local address asked for.
    if ours:
        monkeypatch.setitem(_NATIVE_HAPPY_EYEBALLS, type(asyncio.get_running_loop()), False)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    for host, url_host in (("::1", "[::1]"), ("127.0.0.1", "127.0.0.1")):
        server = await asyncio.start_server(serve, host, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            url = f"http://{url_host}:{port}/"
            async with AsyncConnection(url, local_address=host) as conn:
                response = await conn.request("GET", url)
                assert await response.aread() == b"ok"
                sock = conn._http.protocol.transport.get_extra_info("socket")  # type: ignore[union-attr]
                assert sock.getsockname()[0] == host
        finally:
            server.close()
            await server.wait_closed()


def test_a_loop_is_asked_through_its_signature() -> None:
    class Native(asyncio.AbstractEventLoop):
        async def create_connection(  # type: ignore[override]
            self, protocol_factory: Any, host: Any = None, *, happy_eyeballs_delay: Any = None
        ) -> Any: ...

    class Plain(asyncio.AbstractEventLoop):
        async def create_connection(  # type: ignore[override]
            self, protocol_factory: Any, host: Any = None
        ) -> Any: ...

    assert _native_happy_eyeballs(Native()) is True  # type: ignore[abstract]
    assert _native_happy_eyeballs(Plain()) is False  # type: ignore[abstract]
    assert _NATIVE_HAPPY_EYEBALLS[Native] is True and _NATIVE_HAPPY_EYEBALLS[Plain] is False


def test_the_standard_loops_every_address_refused_says_so() -> None:
    # The standard loop's own race reports "Multiple exceptions: ..." when the errors differ.
    cause = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 1, 0, 0), "
        "[Errno 111] Connect call failed ('127.0.0.1', 1)"
    )
    assert str(_connect_error(cause, "localhost:1")) == (
        f"cannot connect to localhost:1: connection refused ({cause})"
    )
    mixed = OSError("Multiple exceptions: [Errno 111] x, [Errno 101] Network is unreachable")
    assert str(_connect_error(mixed, "h:1")) == f"cannot connect to h:1: {mixed}"


async def test_open_connection_timeout_names_the_address() -> None:
    with _black_hole("127.0.0.1") as hole:
        before = _open_fds()
        with pytest.raises(ConnectTimeout) as info:
            await open_connection(asyncio.Protocol, "127.0.0.1", hole, seconds=0.1)
        await asyncio.sleep(0.01)
        assert _open_fds() == before
    assert str(info.value) == f"connect to 127.0.0.1:{hole} timed out"


async def test_a_failing_protocol_factory_leaks_no_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Our way to connect, on whichever loop runs the test (asyncio's own way leaves the
    # socket to the garbage collector).
    monkeypatch.setitem(_NATIVE_HAPPY_EYEBALLS, type(asyncio.get_running_loop()), False)

    def factory() -> asyncio.Protocol:
        raise RuntimeError("no protocol")

    with _listening("127.0.0.1") as listener:
        port = listener.getsockname()[1]
        before = _open_fds()
        with pytest.raises(RuntimeError, match="no protocol"):
            await open_connection(factory, "127.0.0.1", port, seconds=5.0)
        await asyncio.sleep(0.01)
        assert _open_fds() == before


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_an_ip_literal_connects_without_a_race_that_leaves_cycles(host: str) -> None:
    # asyncio's race (staggered_race, run whenever happy_eyeballs_delay is given) left a
    # reference cycle of about 50 objects per connection until a full collection, which
    # the soak saw as RSS growth; an IP literal has one address and skips it.
    server = await asyncio.start_server(lambda r, w: w.close(), host, 0)
    port = server.sockets[0].getsockname()[1]
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        transport, _ = await open_connection(asyncio.Protocol, host, port, seconds=5)
        transport.close()
        await asyncio.sleep(0)
        gc.collect()
        racing = [o for o in gc.garbage if isinstance(o, asyncio.Task) and "staggered" in repr(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        server.close()
        await server.wait_closed()
    assert racing == []
