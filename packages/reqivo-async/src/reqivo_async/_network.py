"""Opening connections, and the one place where OS-level errors become Reqivo errors.

``open_connection`` resolves and connects (happy eyeballs for dual-stack hosts, RFC
8305: through ``loop.create_connection(happy_eyeballs_delay=0.25)`` on asyncio's own
loops, through :mod:`reqivo_async._happy_eyeballs` and ``create_connection(sock=...)`` on
a loop without that keyword, such as uvloop; decided once per loop class; Unix domain
sockets through ``loop.create_unix_connection``), sets ``TCP_NODELAY`` and the user's
socket options, binds a local address when asked, and upgrades to TLS with
``loop.start_tls``. TCP and TLS are separate steps so that trace callbacks see both.

``map_error`` is the single translation table from ``OSError``, ``ssl.SSLError`` and
``TimeoutError`` to ``ConnectError``/``ConnectTimeout``, ``ReadError``/``ReadTimeout``,
``WriteError``/``WriteTimeout`` and ``TlsError``; the original is kept as ``__cause__``.
A failed connect names the address ("cannot connect to 127.0.0.1:8080: connection
refused"); a handshake answered by something that is not TLS says so.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, TypeAlias, TypeVar

from reqivo_async._happy_eyeballs import connect_socket
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
    "configure_socket",
    "connect_error",
    "handshake_error",
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


#: OpenSSL's reasons for a handshake answered by something that is not TLS (an HTTP
#: server's "HTTP/1.1 400" read as a TLS record).
_NOT_TLS_REASONS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL"}
)
NOT_TLS_HINT: Final = "the server may not speak TLS on this port (is it plain HTTP?)"


def refused_handshake_error(cause: BaseException, request: Any = None) -> TlsError:
    """The error for a new TLS connection that the server dropped before answering.

    TLS 1.3 reports a refused client certificate only after the handshake: the server
    then closes the connection before it answers anything (HTTP/1.1 and HTTP/2 alike).
    """
    error = TlsError(
        "the server closed the new TLS connection without answering: it may have refused "
        f"the handshake (a client certificate required?): {cause}",
        request=request,
    )
    error.__cause__ = cause
    return error


def _describe(exc: BaseException, fallback: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    text = str(exc)
    text = f"{fallback}: {text}" if text and text != fallback else fallback
    if isinstance(exc, ssl.SSLError) and getattr(exc, "reason", None) in _NOT_TLS_REASONS:
        text = f"{text}; {NOT_TLS_HINT}"
    return text


#: Per loop class: whether its ``create_connection`` races addresses itself (RFC 8305).
_NATIVE_HAPPY_EYEBALLS: Final[dict[type, bool]] = {}


def _ip_literal(host: str) -> bool:
    """Whether ``host`` is an IP address: its one address needs no race (asyncio's race,
    ``staggered_race``, leaves a reference cycle of about 50 objects per connection)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _native_happy_eyeballs(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop.create_connection`` takes ``happy_eyeballs_delay`` (decided once a class).

    asyncio's own loops do (``BaseEventLoop``); another loop (uvloop) is asked through its
    signature, and one that has none gets our own race, which works on any loop.
    """
    native = isinstance(loop, asyncio.BaseEventLoop)
    if not native:
        try:
            native = "happy_eyeballs_delay" in inspect.signature(loop.create_connection).parameters
        except (TypeError, ValueError):
            native = False
    _NATIVE_HAPPY_EYEBALLS[type(loop)] = native
    return native


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connect_error(
    exc: OSError | TimeoutError, host: str, port: int, uds: str | None
) -> RequestError:
    """The connect phase's ``map_error`` for ``host:port`` (or the Unix socket ``uds``)."""
    return _connect_error(exc, uds or _host_port(host, port))


def _connect_error(exc: OSError | TimeoutError, where: str) -> RequestError:
    """The connect phase's ``map_error``: names the address, and a refusal as such."""
    if isinstance(exc, TimeoutError):
        return ConnectTimeout(f"connect to {where} timed out")
    text = str(exc)
    refused = f"[Errno {errno.ECONNREFUSED}]"
    if isinstance(exc, ConnectionRefusedError) and (not text or text.startswith(refused)):
        text = "connection refused"
    elif refused in text and text.count("[Errno") == text.count(refused):
        # The standard loop's "Multiple exceptions: ..." when every address refused.
        text = f"connection refused ({text})"
    return ConnectError(f"cannot connect to {where}: {text or type(exc).__name__}")


def configure_socket(
    sock: socket.socket, *, tcp: bool, socket_options: Iterable[SocketOption] | None
) -> None:
    """Options of a new connection's socket: ``TCP_NODELAY`` on TCP (a request head must
    not wait for Nagle's algorithm), then the caller's ``setsockopt`` triples."""
    if tcp:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for option in socket_options or ():
        sock.setsockopt(*option)


def handshake_error(exc: OSError | ssl.SSLError) -> RequestError:
    """What a failed TLS handshake raises: ``TlsError`` when the peer hung up (a TLS
    failure from the user's view, most often a server that does not speak TLS there),
    else the connect phase's ``map_error``."""
    if isinstance(exc, ConnectionError | ssl.SSLEOFError):
        reason = str(exc) or "the server closed the connection"
        return TlsError(f"TLS handshake failed: {reason}; {NOT_TLS_HINT}")
    return map_error(exc, "connect")


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
    native = _NATIVE_HAPPY_EYEBALLS.get(type(loop))
    if native is None:
        native = _native_happy_eyeballs(loop)
    try:
        async with asyncio.timeout(seconds):
            if uds is not None:
                transport, protocol = await loop.create_unix_connection(protocol_factory, uds)
            elif native:
                transport, protocol = await loop.create_connection(
                    protocol_factory,
                    host,
                    port,
                    happy_eyeballs_delay=None if _ip_literal(host) else HAPPY_EYEBALLS_DELAY,
                    local_addr=(local_address, 0) if local_address else None,
                )
            else:
                connected = await connect_socket(
                    loop, host, port, delay=HAPPY_EYEBALLS_DELAY, local_address=local_address
                )
                try:
                    transport, protocol = await loop.create_connection(
                        protocol_factory, sock=connected
                    )
                except BaseException:
                    connected.close()
                    raise
    except (OSError, TimeoutError) as exc:
        raise connect_error(exc, host, port, uds) from exc
    sock = transport.get_extra_info("socket")
    try:
        # asyncio already sets TCP_NODELAY on TCP transports; configure_socket says it
        # explicitly.
        if sock is not None:
            configure_socket(sock, tcp=uds is None, socket_options=socket_options)
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
        if isinstance(exc, OSError | ssl.SSLError):  # TimeoutError is an OSError
            raise handshake_error(exc) from exc
        raise
    if tls is None:  # pragma: no cover - start_tls only returns None on a closing loop
        raise TlsError("TLS handshake failed: the transport closed")
    return tls
