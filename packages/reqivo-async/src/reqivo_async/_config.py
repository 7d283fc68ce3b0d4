"""Configuration values: ``Timeout`` and ``Limits``.

Defaults are finite: a request never waits forever, whatever the server does. The
total deadline (``total``) is off by default because a legitimate download may take
long; each wait (connect, every read, every write, waiting for a pooled connection) is
bounded instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "Limits", "Timeout", "TimeoutTypes"]

_UNSET: Any = object()


@dataclass(frozen=True, slots=True, init=False)
class Timeout:
    """Timeouts in seconds (None disables one).

    ``Timeout(10.0)`` sets connect, read, write and pool to 10 s; keywords override one
    each: ``Timeout(10.0, connect=3.0)``. ``total`` bounds a whole request, redirects,
    retries and reading the body included.

    A tuple gives them in the order ``(connect, read[, write[, pool]])``, as requests and
    httpx take it (so ``timeout=(3.05, 27)`` works wherever a timeout does). With two
    values, as requests' ``(connect, read)``, the read timeout also bounds writes (in
    requests it is the socket's timeout, which covers sending); a value not given keeps
    its default (httpx turns them off instead: Reqivo's defaults stay finite).

    - ``connect``: establishing a connection (DNS, TCP, TLS, proxy tunnel).
    - ``read``: each wait for data from the server.
    - ``write``: each wait for the server to accept data we send.
    - ``pool``: waiting for a connection of the pool to become free.
    - ``total``: the deadline of the whole request.
    """

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None

    def __init__(
        self,
        timeout: float | tuple[float | None, ...] | Timeout | None = _UNSET,
        *,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
        total: float | None = _UNSET,
    ) -> None:
        if isinstance(timeout, Timeout):
            base = (timeout.connect, timeout.read, timeout.write, timeout.pool, timeout.total)
        elif timeout is _UNSET:
            base = (DEFAULT_CONNECT, DEFAULT_READ, DEFAULT_WRITE, DEFAULT_POOL, None)
        elif isinstance(timeout, tuple):
            base = _from_tuple(timeout)
        else:
            base = (timeout, timeout, timeout, timeout, None)
        values = [
            given if given is not _UNSET else default
            for given, default in zip((connect, read, write, pool, total), base, strict=True)
        ]
        for name, value in zip(("connect", "read", "write", "pool", "total"), values, strict=True):
            try:
                positive = value is None or value > 0
            except TypeError:
                raise TypeError(
                    f"timeout {name}={value!r}: a timeout is seconds (a number), None, a "
                    "(connect, read) tuple or a Timeout"
                ) from None
            if not positive:
                raise ValueError(f"timeout {name}={value!r} must be a positive number or None")
            object.__setattr__(self, name, None if value is None else float(value))

    def as_dict(self) -> dict[str, float | None]:
        """The five timeouts by name."""
        return {
            "connect": self.connect,
            "read": self.read,
            "write": self.write,
            "pool": self.pool,
            "total": self.total,
        }


def _from_tuple(values: tuple[Any, ...]) -> tuple[Any, Any, Any, Any, None]:
    """(connect, read, write, pool, total) from ``(connect, read[, write[, pool]])``."""
    if not 2 <= len(values) <= 4:
        raise ValueError(
            f"a timeout tuple has 2 to 4 values, (connect, read[, write[, pool]]), not "
            f"{len(values)}: write Timeout(connect=..., read=..., write=..., pool=..., "
            "total=...) for other combinations"
        )
    connect, read = values[0], values[1]
    write = values[2] if len(values) > 2 else read
    pool = values[3] if len(values) > 3 else DEFAULT_POOL
    return (connect, read, write, pool, None)


DEFAULT_CONNECT = 10.0
DEFAULT_READ = 30.0
DEFAULT_WRITE = 30.0
DEFAULT_POOL = 30.0
DEFAULT_TIMEOUT = Timeout()

TimeoutTypes: TypeAlias = (
    "Timeout | float | tuple[float | None, float | None]"
    " | tuple[float | None, float | None, float | None]"
    " | tuple[float | None, float | None, float | None, float | None] | None"
)


def to_timeout(value: TimeoutTypes | Timeout) -> Timeout:
    """Normalize what users pass as ``timeout=`` into a ``Timeout``."""
    if isinstance(value, Timeout):
        return value
    return Timeout(value)


@dataclass(frozen=True, slots=True)
class Limits:
    """How many connections the pool keeps, and for how long.

    - ``max_connections``: open connections in all (None: unlimited).
    - ``max_connections_per_host``: open connections to one origin (None: no own limit).
    - ``max_keepalive_connections``: idle connections kept for reuse.
    - ``keepalive_expiry``: seconds an idle connection is kept before it is closed.
    - ``http2_max_connections_per_host``: HTTP/2 connections to one origin (each carries
      as many concurrent requests as the server allows; above that, requests queue on
      the least loaded one). 1, the default, is what browsers do.
    """

    max_connections: int | None = 100
    max_connections_per_host: int | None = None
    max_keepalive_connections: int | None = 100
    keepalive_expiry: float | None = 15.0
    http2_max_connections_per_host: int | None = 1

    def __post_init__(self) -> None:
        for name in (
            "max_connections",
            "max_connections_per_host",
            "max_keepalive_connections",
            "http2_max_connections_per_host",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name}={value!r} must be at least 1 or None")
        if self.keepalive_expiry is not None and self.keepalive_expiry < 0:
            raise ValueError("keepalive_expiry must not be negative")


DEFAULT_LIMITS = Limits()
