"""``Cookies``: the user-facing cookie jar of a session.

It wraps the pure RFC 6265 ``CookieJar`` of reqivo-protocol and supplies the clock
(``time.time()``) the protocol layer refuses to read. A session keeps one ``Cookies``
across requests and redirects: ``Set-Cookie`` fields of every response are stored, and
each request gets the ``Cookie`` header the jar selects for its URL.

As a mapping it reads like requests' and httpx's: ``cookies["name"]``,
``cookies.get(name, domain=..., path=...)``, ``cookies.set(name, value, domain=...)``,
``del cookies["name"]``, ``cookies.clear()``, iteration over names. ``jar`` gives the
underlying ``CookieJar`` (iterating it yields the full ``Cookie`` records).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeAlias

from reqivo_protocol import URL

if TYPE_CHECKING:
    from reqivo_protocol import Cookie, CookieJar

__all__ = ["CookieTypes", "Cookies"]

CookieTypes: TypeAlias = "Cookies | CookieJar | Mapping[str, str] | Iterable[Cookie]"


class Cookies(MutableMapping[str, str]):
    """A cookie jar with a dict-like interface.

    ``Cookies({"session": "abc"})`` sets cookies sent to every host (as requests and
    httpx do for cookies given by the user without a domain); cookies received from
    servers follow RFC 6265 (domain, path, secure, expiry, host-only).
    """

    __slots__ = ("_lock", "jar")

    def __init__(self, cookies: CookieTypes | None = None) -> None:
        # One lock per jar: reqivo-sync shares a session's jar between threads (each with
        # its own event loop), so every read and update of ``jar`` here is atomic.
        self._lock = threading.Lock()
        # Imported here, not at the top: ``import reqivo_async`` does not pay for cookies.
        from reqivo_protocol import CookieJar

        if isinstance(cookies, Cookies):
            with cookies._lock:
                self.jar: CookieJar = CookieJar(cookies.jar)
        else:
            self.jar = CookieJar(cookies)
        """The underlying ``reqivo_protocol`` ``CookieJar`` (not locked: use ``Cookies``)."""

    # -- the session's side ------------------------------------------------------------

    def extract_set_cookie(self, url: URL, set_cookie_values: Iterable[str]) -> None:
        """Store the cookies of a response to ``url`` given its ``Set-Cookie`` values."""
        with self._lock:
            self.jar.set_from_response(url, set_cookie_values, time.time())

    def header_for(self, url: URL) -> str | None:
        """The ``Cookie`` header value to send to ``url`` now, or None."""
        if not len(self.jar):
            return None
        with self._lock:
            return self.jar.header_for(url, time.time())

    # -- the user's side ---------------------------------------------------------------

    def set(self, name: str, value: str, domain: str = "", path: str = "/", **options: Any) -> None:
        """Set a cookie; ``domain=""`` sends it to every host.

        Keyword options of ``CookieJar.set`` (``secure``, ``http_only``, ``expires``,
        ``host_only``, ``same_site``) are accepted.
        """
        with self._lock:
            self.jar.set(name, value, domain, path, now=time.time(), **options)

    def get(  # type: ignore[override]
        self,
        name: str,
        default: str | None = None,
        domain: str | None = None,
        path: str | None = None,
    ) -> str | None:
        """The value of cookie ``name``, or ``default``.

        Raises ``CookieConflict`` (a ``LookupError``) when several cookies have that
        name; pass ``domain=`` or ``path=`` to choose one.
        """
        with self._lock:
            return self.jar.get(name, default, domain=domain, path=path)

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        """Remove the cookies named ``name`` (only those of ``domain``/``path`` if given)."""
        with self._lock:
            self.jar.delete(name, domain, path)

    def clear(self, domain: str | None = None, path: str | None = None) -> None:
        """Remove every cookie, or only those of ``domain`` (and ``path``)."""
        with self._lock:
            self.jar.clear(domain, path)

    def update(self, cookies: Any = None, /, **kwargs: str) -> None:
        """Add cookies from a mapping, a ``Cookies``/``CookieJar`` or ``Cookie`` records."""
        if isinstance(cookies, Cookies):
            cookies = cookies._records()
        with self._lock:
            if cookies is not None:
                self.jar.update(cookies)
            if kwargs:
                self.jar.update(kwargs)

    def _records(self) -> list[Cookie]:
        """A snapshot of the ``Cookie`` records, taken under the lock."""
        with self._lock:
            return list(self.jar)

    def __getitem__(self, name: str) -> str:
        with self._lock:
            value = self.jar.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        with self._lock:
            if name not in self.jar:
                raise KeyError(name)
            self.jar.delete(name)

    def __iter__(self) -> Iterator[str]:
        return iter([cookie.name for cookie in self._records()])

    def __len__(self) -> int:
        return len(self.jar)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self.jar

    def __bool__(self) -> bool:
        return len(self.jar) > 0

    def __repr__(self) -> str:
        # Values stay hidden: they are credentials more often than not.
        names = ", ".join(f"{c.name}=... for {c.domain or '*'}{c.path}" for c in self._records())
        return f"<Cookies [{names}]>"
