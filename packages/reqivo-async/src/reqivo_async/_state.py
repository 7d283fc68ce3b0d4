"""``SessionState``: what the sessions that share one configuration share.

An ``AsyncSession`` keeps its settings, default headers and params, cookie jar, auth,
event hooks and retry policy in one ``SessionState``; only its transport and whether it
is closed are its own. Several sessions may hold the same state, each over its own
transport (``AsyncSession.from_state``): reqivo-sync makes one per event loop, because
asyncio connections belong to the loop that opened them, and reqivo-ws's blocking
``WebSocket`` one for its loop thread. A setting assigned on any of them
(``session.auth = ...``) is then seen by all at once, and the cookies any of them
receives land in the one jar (guarded by its own lock).

The attributes hold normalized values (a ``Timeout``, an ``Auth`` or None, ``Headers``,
a base URL ending with ``/``). Assign them through a session's properties, which check
and convert what they are given (``session.timeout = 5``); ``AsyncSession`` reads them
on every request, so they are plain slots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reqivo_async._config import DEFAULT_TIMEOUT, Timeout
from reqivo_async._cookies import Cookies
from reqivo_async._hooks import EventHooks, to_event_hooks
from reqivo_protocol import URL, Headers, QueryParams, __version__
from reqivo_protocol.content import supported_encodings

if TYPE_CHECKING:
    from reqivo_async._auth import Auth
    from reqivo_async._retries import Retry
    from reqivo_async._trace import TraceCallback

__all__ = ["SessionState"]


def default_headers() -> Headers:
    """The headers every session starts with: user agent, ``Accept``, the encodings we decode."""
    return Headers(
        [
            ("User-Agent", f"reqivo/{__version__}"),
            ("Accept", "*/*"),
            ("Accept-Encoding", ", ".join(supported_encodings())),
        ]
    )


class SessionState:
    """The configuration and state shared by the sessions made from one (see the module).

    A new one holds the defaults of ``AsyncSession()``.
    """

    __slots__ = (
        "auth",
        "base_text",
        "base_url",
        "cookies",
        "default_encoding",
        "event_hooks",
        "follow_redirects",
        "headers",
        "max_body_size",
        "max_decompressed_size",
        "max_redirects",
        "params",
        "retries",
        "timeout",
        "trace",
        "url_cache",
    )

    def __init__(self) -> None:
        self.base_url: URL | None = None
        """Relative request URLs are appended to it (its path ends with ``/``)."""
        self.base_text: str | None = None
        """``str(base_url)``, or None."""
        self.url_cache: dict[str, URL] = {}
        """Request URLs as given -> merged with ``base_url`` and parsed (reset with it)."""
        self.headers: Headers = default_headers()
        self.params: QueryParams | None = None
        self.cookies: Cookies = Cookies()
        self.auth: Auth | None = None
        self.timeout: Timeout = DEFAULT_TIMEOUT
        self.follow_redirects = True
        self.max_redirects = 20
        self.event_hooks: EventHooks = to_event_hooks(None)
        self.retries: Retry | None = None
        self.default_encoding = "utf-8"
        self.max_decompressed_size: int | None = None
        self.max_body_size: int | None = None
        self.trace: TraceCallback | None = None
