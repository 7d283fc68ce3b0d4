"""The opt-in auto-reconnect policy: when, how often, how long to wait."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from reqivo_protocol.websocket import CloseCode

__all__ = ["Reconnect"]

#: Close codes that say "try again": going away, abnormal end (no close frame),
#: internal error, service restart, try again later, bad gateway.
TRANSIENT_CODES = frozenset(
    {
        CloseCode.GOING_AWAY,
        CloseCode.ABNORMAL_CLOSURE,
        CloseCode.INTERNAL_ERROR,
        CloseCode.SERVICE_RESTART,
        CloseCode.TRY_AGAIN_LATER,
        CloseCode.BAD_GATEWAY,
    }
)


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How ``AsyncWebSocket(reconnect=...)`` reconnects after an unexpected close.

    A connection that ends with a code in ``codes`` (by default the transient ones:
    1001, 1006, 1011-1014), and that the application did not close itself, is opened
    again: attempt ``n`` (from 0) waits ``min(max_delay, initial_delay * factor**n)``,
    shortened by a random fraction of up to ``jitter`` (0: none, 1: "full jitter") so
    that many clients do not come back at the same instant. ``max_attempts`` (None:
    forever) consecutive failures give up with the last error.
    """

    max_attempts: int | None = 10
    initial_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5
    codes: frozenset[int] = field(default=TRANSIENT_CODES)

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None)")
        if self.initial_delay < 0 or self.max_delay < 0 or self.factor < 1:
            raise ValueError("delays must not be negative and factor must be >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, attempt: int, rand: float | None = None) -> float:
        """Seconds to wait before attempt number ``attempt`` (0-based)."""
        base = min(self.max_delay, self.initial_delay * self.factor**attempt)
        r = random.random() if rand is None else rand
        return base * (1.0 - self.jitter * r)
