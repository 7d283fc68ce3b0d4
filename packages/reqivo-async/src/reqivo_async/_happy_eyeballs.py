"""Happy eyeballs (RFC 8305) for event loops whose ``create_connection`` lacks it.

The standard loop races a dual-stack host's addresses itself (``happy_eyeballs_delay``);
uvloop and other loops do not take that keyword. ``connect_socket`` does the same race
with public loop methods only: resolve with ``loop.getaddrinfo``, interleave the address
families (RFC 8305 section 4), start the next attempt when the previous one fails or
after ``delay`` seconds, keep the first socket that connects and close every other one.
The caller hands the connected socket to ``loop.create_connection(sock=...)``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import Any, TypeAlias

__all__ = ["connect_socket", "interleave", "race"]

AddrInfo: TypeAlias = "tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]"


def interleave(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """``infos`` with families alternating, the first family of the resolver's order first."""
    by_family: dict[int, list[AddrInfo]] = {}
    for info in infos:
        by_family.setdefault(info[0], []).append(info)
    queues = list(by_family.values())
    ordered: list[AddrInfo] = []
    for index in range(max(map(len, queues), default=0)):
        ordered.extend(queue[index] for queue in queues if index < len(queue))
    return ordered


async def connect_socket(
    loop: asyncio.AbstractEventLoop,
    host: str,
    port: int,
    *,
    delay: float,
    local_address: str | None = None,
) -> socket.socket:
    """A non-blocking TCP socket connected to ``host:port``, attempts staggered by ``delay``.

    Raises ``OSError``: the attempt's own error when there was one address, else one
    naming every address and why it failed (the type of the errors when they agree, so a
    refusal stays a ``ConnectionRefusedError``).
    """
    infos: Sequence[AddrInfo] = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    local: Sequence[AddrInfo] = ()
    if local_address:
        local = await loop.getaddrinfo(local_address, 0, type=socket.SOCK_STREAM)
        families = {info[0] for info in local}
        infos = [info for info in infos if info[0] in families]
        if not infos:
            raise OSError(f"no address of {host} has the family of {local_address}")
    return await race(loop, infos, delay=delay, local=local)


async def race(
    loop: asyncio.AbstractEventLoop,
    infos: Sequence[AddrInfo],
    *,
    delay: float,
    local: Sequence[AddrInfo] = (),
) -> socket.socket:
    """The first of ``infos`` (interleaved) to connect; the others are cancelled or closed.

    Attempt *n+1* starts when attempt *n* fails or ``delay`` seconds after it started,
    whichever comes first. A socket binds to the first of ``local`` of its family.
    """
    attempts = interleave(infos)
    if len(attempts) == 1:
        return await _attempt(loop, attempts[0], local)
    waiting = iter(attempts)
    left = len(attempts)
    running: set[asyncio.Task[socket.socket]] = set()
    addresses: dict[asyncio.Task[socket.socket], AddrInfo] = {}
    errors: list[tuple[AddrInfo, BaseException]] = []
    try:
        while True:
            info = next(waiting, None)
            if info is not None:
                left -= 1
                task = loop.create_task(_attempt(loop, info, local))
                addresses[task] = info
                running.add(task)
            elif not running:
                raise _all_failed(errors)
            done, running = await asyncio.wait(
                running, timeout=delay if left else None, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                error = task.exception()
                if error is None:
                    for other in done - {task}:
                        _discard(other)
                    return task.result()
                errors.append((addresses[task], error))
    finally:
        for task in running:
            task.cancel()
            task.add_done_callback(_discard)


def _discard(task: asyncio.Task[socket.socket]) -> None:
    """Close a losing attempt's socket (when it connected after all)."""
    if task.done() and not task.cancelled() and task.exception() is None:
        task.result().close()


async def _attempt(
    loop: asyncio.AbstractEventLoop, info: AddrInfo, local: Sequence[AddrInfo]
) -> socket.socket:
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        for local_info in local:
            if local_info[0] == family:
                sock.bind(local_info[4])
                break
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def _all_failed(errors: list[tuple[AddrInfo, BaseException]]) -> OSError:
    kinds = {type(error) for _, error in errors}
    kind = kinds.pop() if len(kinds) == 1 else OSError
    if not issubclass(kind, OSError):  # pragma: no cover - sock_connect raises OSError
        kind = OSError
    causes = "; ".join(f"{_where(info)}: {_reason(error)}" for info, error in errors)
    return kind(f"all {len(errors)} addresses failed: {causes}")


def _where(info: AddrInfo) -> str:
    host, port = info[4][:2]
    return f"[{host}]:{port}" if info[0] == socket.AF_INET6 else f"{host}:{port}"


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__
