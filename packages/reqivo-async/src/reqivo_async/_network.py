"""Opening connections, and the one place where OS-level errors become Reqivo errors.

``open_connection`` resolves and connects (happy eyeballs for dual-stack hosts, RFC
8305, through ``loop.create_connection(happy_eyeballs_delay=0.25)``; Unix domain
sockets through ``loop.create_unix_connection``), sets ``TCP_NODELAY`` and the user's
socket options, binds a local address when asked, and upgrades to TLS with
``loop.start_tls``. TCP and TLS are separate steps so that trace callbacks see both.

``map_error`` is the single translation table from ``OSError``, ``ssl.SSLError`` and
``TimeoutError`` to ``ConnectError``/``ConnectTimeout``, ``ReadError``/``ReadTimeout``,
``WriteError``/``WriteTimeout`` and ``TlsError``; the original is kept as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, TypeAlias, TypeVar

from reqivo_protocol import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    RequestError,
    TlsError,
    WriteError,
    WriteTimeout,
)

__all__ = [
    "HAPPY_EYEBALLS_DELAY",
    "Phase",
    "SocketOption",
    "map_error",
    "open_connection",
    "start_tls",
]

#: RFC 8305 "Connection Attempt Delay": stagger IPv6/IPv4 attempts by 250 ms.
HAPPY_EYEBALLS_DELAY: Final = 0.25

Phase: TypeAlias = Literal["connect", "read", "write"]
SocketOption: TypeAlias = "tuple[int, int, int | bytes] | tuple[int, int, None, int]"

_P = TypeVar("_P", bound=asyncio.BaseProtocol)

_NETWORK: Final[dict[str, type[RequestError]]] = {
    "connect": ConnectError,
    "read": ReadError,
    "write": WriteError,
}
_TIMEOUT: Final[dict[str, type[RequestError]]] = {
    "connect": ConnectTimeout,
    "read": ReadTimeout,
    "write": WriteTimeout,
}


def map_error(exc: BaseException, phase: Phase, request: Any = None) -> RequestError:
    """The Reqivo exception for a lower-level error ``exc`` raised during ``phase``.

    Reqivo errors pass through (with ``request`` attached when missing). ``ssl.SSLError``
    (a certificate refused, a failed handshake, a TLS alert such as a missing client
    certificate) is ``TlsError`` whatever the phase; ``TimeoutError`` is the phase's
    timeout; any other ``OSError`` (refused, reset, unreachable, broken pipe) is the
    phase's network error. The caller raises the result ``from exc``.
    """
    if isinstance(exc, RequestError):
        if exc.request is None:
            exc.request = request
        return exc
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return TlsError(_describe(exc, "TLS error"), request=request)
    if isinstance(exc, TimeoutError):
        return _TIMEOUT[phase](_describe(exc, f"{phase} timed out"), request=request)
    return _NETWORK[phase](_describe(exc, f"{phase} failed"), request=request)


def _describe(exc: BaseException, fallback: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    text = str(exc)
    return f"{fallback}: {text}" if text and text != fallback else fallback


async def open_connection(
    protocol_factory: Callable[[], _P],
    host: str,
    port: int,
    *,
    seconds: float | None,
    uds: str | None = None,
    local_address: str | None = None,
    socket_options: Iterable[SocketOption] | None = None,
) -> tuple[asyncio.Transport, _P]:
    """Connect to ``host:port`` (or the Unix socket ``uds``) within ``seconds``.

    Raises ``ConnectError`` or ``ConnectTimeout`` (the caller attaches the request).
    """
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            if uds is not None:
                transport, protocol = await loop.create_unix_connection(protocol_factory, uds)
            else:
                transport, protocol = await loop.create_connection(
                    protocol_factory,
                    host,
                    port,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                    local_addr=(local_address, 0) if local_address else None,
                )
    except (OSError, TimeoutError) as exc:
        raise map_error(exc, "connect") from exc
    sock = transport.get_extra_info("socket")
    try:
        if uds is None and sock is not None:
            # asyncio already sets TCP_NODELAY on TCP transports; say it explicitly
            # (a request head must not wait for Nagle's algorithm).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for option in socket_options or ():
            sock.setsockopt(*option)
    except OSError as exc:
        transport.abort()
        raise map_error(exc, "connect") from exc
    return transport, protocol


async def start_tls(
    transport: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_hostname: str,
    *,
    seconds: float | None,
) -> asyncio.Transport:
    """Run the TLS handshake over ``transport``; the new transport feeds ``protocol``.

    Raises ``TlsError`` (refused certificate, handshake failure) or ``ConnectTimeout``;
    ``transport`` is aborted on failure.
    """
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            tls = await loop.start_tls(
                transport,
                protocol,
                context,
                server_hostname=server_hostname or None,
                ssl_handshake_timeout=None,
            )
    except BaseException as exc:
        transport.abort()
        if isinstance(exc, OSError | TimeoutError | ssl.SSLError):
            if isinstance(exc, ConnectionError) and not isinstance(exc, ssl.SSLError):
                # The peer hung up during the handshake: a TLS failure from the user's view.
                raise TlsError(_describe(exc, "TLS handshake failed")) from exc
            raise map_error(exc, "connect") from exc
        raise
    if tls is None:  # pragma: no cover - start_tls only returns None on a closing loop
        raise TlsError("TLS handshake failed: the transport closed")
    return tls
