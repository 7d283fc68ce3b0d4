"""Opt-in retries: ``Retry`` (the policy) and ``RetryState`` (one request's attempts).

Pure: nothing here sleeps or reads a clock; the session asks ``RetryState`` how long to
wait (``None``: do not retry) and does the waiting itself.

What is retried:

- connection failures (``ConnectError``, ``ConnectTimeout``) for every method: the
  request never reached the server, so even a POST is safe to send again;
- responses whose status is in ``statuses``, only for idempotent ``methods`` (RFC 9110
  section 9.2.2: GET, HEAD, OPTIONS, PUT, DELETE, TRACE);
- never a request whose body cannot be sent again (a generator, an unseekable file).

The wait before retry *n* (1, 2, ...) is exponential, ``backoff_factor * 2 ** (n - 1)``
capped at ``backoff_max``, with "full jitter" (a uniform draw between 0 and that value)
so that many clients do not retry in lockstep. A ``Retry-After`` header (seconds or an
HTTP-date) on a retried response replaces the backoff when ``respect_retry_after``,
capped at ``retry_after_max``. When the attempts run out, the last response is returned
(or the last connection error raised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reqivo_protocol import ConnectError, ConnectTimeout

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "Retry", "RetryState", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


_FIELDS = (
    "total",
    "connect",
    "statuses",
    "methods",
    "backoff_factor",
    "backoff_max",
    "jitter",
    "respect_retry_after",
    "retry_after_max",
)


class Retry:
    """When and how often to send a request again (immutable).

    - ``total``: retries in all (attempts are ``total + 1`` at most).
    - ``connect``: of those, retries after connection failures (None: ``total``).
    - ``statuses``: response statuses worth retrying (for idempotent methods).
    - ``methods``: the methods whose responses may be retried.
    - ``backoff_factor``, ``backoff_max``, ``jitter``: the wait between attempts.
    - ``respect_retry_after``, ``retry_after_max``: honour the server's Retry-After.
    """

    # A plain slotted class: a frozen dataclass costs about a millisecond of import time.
    __slots__ = _FIELDS

    total: int
    connect: int | None
    statuses: frozenset[int]
    methods: frozenset[str]
    backoff_factor: float
    backoff_max: float
    jitter: bool
    respect_retry_after: bool
    retry_after_max: float

    def __init__(
        self,
        total: int = 3,
        connect: int | None = None,
        statuses: Iterable[int] = RETRY_STATUSES,
        methods: Iterable[str] = IDEMPOTENT_METHODS,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        jitter: bool = True,
        respect_retry_after: bool = True,
        retry_after_max: float = 60.0,
    ) -> None:
        if total < 0 or (connect is not None and connect < 0):
            raise ValueError("Retry counts must not be negative")
        if backoff_factor < 0 or backoff_max < 0 or retry_after_max < 0:
            raise ValueError("Retry wait times must not be negative")
        values = (
            total,
            connect,
            frozenset(statuses),
            frozenset(m.upper() for m in methods),
            backoff_factor,
            backoff_max,
            jitter,
            respect_retry_after,
            retry_after_max,
        )
        for name, value in zip(_FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Retry is immutable; build a new one (setting {name!r})")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"Retry({fields})"

    def backoff(self, retry_number: int, rand: Callable[[], float] | None = None) -> float:
        """The wait in seconds before retry number ``retry_number`` (1 for the first).

        ``rand`` draws the jitter in [0, 1) (default ``random.random``).
        """
        if self.backoff_factor == 0:
            return 0.0
        ceiling = min(self.backoff_max, self.backoff_factor * (2.0 ** (retry_number - 1)))
        if not self.jitter:
            return ceiling
        if rand is None:
            import random  # lazily: costs import time

            return ceiling * random.random()
        return ceiling * rand()

    def start(self) -> RetryState:
        """A fresh counter for one request."""
        return RetryState(self)


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date).

    ``now`` is the current time in seconds since the epoch; None when unparseable.
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # lazily: costs import time

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


class RetryState:
    """The attempts made for one request; ask it whether (and when) to retry."""

    __slots__ = ("connect_retries", "rand", "retries", "retry")

    def __init__(self, retry: Retry, rand: Callable[[], float] | None = None) -> None:
        self.retry = retry
        self.retries = 0
        self.connect_retries = 0
        self.rand = rand

    def _can_retry(self, request: Any) -> bool:
        return self.retries < self.retry.total and request.stream.replayable

    def after_error(self, request: Any, error: BaseException) -> float | None:
        """The wait before retrying after ``error``, or None to give up (re-raise it)."""
        if not isinstance(error, ConnectError | ConnectTimeout) or not self._can_retry(request):
            return None
        limit = self.retry.connect if self.retry.connect is not None else self.retry.total
        if self.connect_retries >= limit:
            return None
        self.connect_retries += 1
        self.retries += 1
        return self.retry.backoff(self.retries, self.rand)

    def after_response(self, request: Any, response: Any, now: float) -> float | None:
        """The wait before retrying after ``response``, or None to keep it."""
        retry = self.retry
        if (
            response.status_code not in retry.statuses
            or request.method not in retry.methods
            or not self._can_retry(request)
        ):
            return None
        self.retries += 1
        if retry.respect_retry_after:
            header = response.headers.get("retry-after")
            if header is not None:
                delay = parse_retry_after(header, now)
                if delay is not None:
                    return min(delay, retry.retry_after_max)
        return retry.backoff(self.retries, self.rand)


def to_retry(retries: Retry | int | None) -> Retry | None:
    """Normalize ``retries=``: a ``Retry``, a number of retries, or None (no retries)."""
    if retries is None or isinstance(retries, Retry):
        return retries
    if isinstance(retries, int) and not isinstance(retries, bool):
        return Retry(total=retries) if retries > 0 else None
    raise TypeError(f"retries= takes a Retry or an int, not {type(retries).__name__}")
