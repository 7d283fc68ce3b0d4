"""The cookie jar: storage model and Cookie header of RFC 6265 sections 5.3-5.4.

Pure: nothing reads a clock. ``set_from_response`` and ``header_for`` take ``now``
(seconds since the epoch); user-set cookies get the latest ``now`` the jar has seen as
their creation time, so the header order stays deterministic.

Storage is a dict per cookie domain, keyed by (path, name); ``header_for`` looks up the
request host and each parent domain, never scanning the whole jar.

Limits, as browsers and RFC 6265 section 6.1 suggest: at most ``max_cookies_per_domain``
(50) cookies per cookie domain (``a.example.com`` and ``example.com`` count apart; there
is no public suffix list to group them by site) and ``max_cookies`` (3000) in all. When
a limit is passed, expired cookies go first, then the oldest by creation time (cookies
are immutable, so there is no last-access time). ``MAX_COOKIE_SIZE`` bounds one cookie.

Secure cookies go only to https/wss URLs; a response over plain http cannot set, replace
or delete a cookie whose name matches a secure cookie of a related domain and path
(RFC 6265bis "leave secure cookies alone").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias

from reqivo_protocol._cookies import (
    MAX_COOKIE_SIZE,
    Cookie,
    SameSite,
    _canonical_domain,
    domain_match,
    is_ip_host,
    parse_set_cookie,
    path_match,
)
from reqivo_protocol._exceptions import CookieConflict, LocalProtocolError
from reqivo_protocol._url import URL

__all__ = ["CookieConflict", "CookieJar", "CookieTypes"]

CookieTypes: TypeAlias = "CookieJar | Mapping[str, str] | Iterable[Cookie]"
"""What ``CookieJar(...)`` and ``CookieJar.update(...)`` accept."""

# What a user may not put in a cookie: control characters (header injection) and ";"
# (attribute injection); names additionally exclude "=", space and tab.
_bad_value = re.compile(r"[\x00-\x1f\x7f;]").search
_bad_name = re.compile(r"[\x00-\x20\x7f;=]").search
_bad_domain = re.compile(r"[^a-z0-9\-._~!$&'()*+,=:]").search


_Bucket = dict[tuple[str, str], Cookie]


class CookieJar:
    """Cookies received from servers or set by the user, and the Cookie header to send.

    ``CookieJar({"session": "abc"})`` and ``CookieJar(other_jar)`` are accepted. Cookies
    set by the user without a domain are sent to every host (as in requests and httpx).
    """

    __slots__ = ("_buckets", "_count", "_latest_now", "max_cookies", "max_cookies_per_domain")

    def __init__(
        self,
        cookies: CookieJar | Mapping[str, str] | Iterable[Cookie] | None = None,
        *,
        max_cookies_per_domain: int = 50,
        max_cookies: int = 3000,
    ) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._count = 0
        self._latest_now = 0.0
        self.max_cookies_per_domain = max_cookies_per_domain
        self.max_cookies = max_cookies
        if cookies is not None:
            self.update(cookies)

    # -- storage ------------------------------------------------------------------------

    def _see(self, now: float) -> None:
        if now > self._latest_now:
            self._latest_now = now

    def _remove(self, domain: str, key: tuple[str, str]) -> None:
        bucket = self._buckets[domain]
        del bucket[key]
        self._count -= 1
        if not bucket:
            del self._buckets[domain]

    def _shadowed_by_secure(self, cookie: Cookie) -> bool:
        for domain, bucket in self._buckets.items():
            if not (domain_match(domain, cookie.domain) or domain_match(cookie.domain, domain)):
                continue
            for existing in bucket.values():
                if (
                    existing.secure
                    and existing.name == cookie.name
                    and path_match(cookie.path, existing.path)
                ):
                    return True
        return False

    def _store(self, cookie: Cookie, now: float, secure_origin: bool) -> None:
        if not secure_origin and not cookie.secure and self._shadowed_by_secure(cookie):
            return
        domain = cookie.domain
        key = (cookie.path, cookie.name)
        bucket = self._buckets.get(domain)
        old = bucket.get(key) if bucket is not None else None
        if cookie.is_expired(now):
            if old is not None:
                self._remove(domain, key)
            return
        if old is not None:
            assert bucket is not None
            # RFC 6265 5.3 step 11.3: a replacement keeps the old creation time.
            c = cookie
            bucket[key] = Cookie(
                c.name,
                c.value,
                c.domain,
                c.path,
                c.host_only,
                c.secure,
                c.http_only,
                c.same_site,
                c.expires,
                old.creation_time,
            )
            return
        if bucket is None:
            bucket = self._buckets[domain] = {}
        bucket[key] = cookie
        self._count += 1
        if len(bucket) > self.max_cookies_per_domain:
            self._evict(domain, now)
        if self._count > self.max_cookies:
            self._evict(None, now)

    def _evict(self, domain: str | None, now: float) -> None:
        """Bring one domain (or the whole jar) back under its limit."""
        limit = self.max_cookies_per_domain if domain is not None else self.max_cookies
        domains = [domain] if domain is not None else list(self._buckets)
        for name in domains:
            for key, cookie in list(self._buckets.get(name, {}).items()):
                if cookie.is_expired(now):
                    self._remove(name, key)

        def size() -> int:
            return len(self._buckets.get(domain, ())) if domain is not None else self._count

        while size() > limit:
            oldest = min(
                (
                    (cookie.creation_time, name, key)
                    for name in ([domain] if domain is not None else list(self._buckets))
                    for key, cookie in self._buckets[name].items()
                ),
            )
            self._remove(oldest[1], oldest[2])

    def set_from_response(
        self, request_url: URL, set_cookie_values: Iterable[str], now: float
    ) -> None:
        """Store the cookies of a response to ``request_url`` (its Set-Cookie values).

        Invalid cookies are ignored, expired ones delete their stored twin.
        """
        self._see(now)
        secure_origin = request_url.is_secure
        for value in set_cookie_values:
            cookie = parse_set_cookie(value, request_url, now)
            if cookie is not None:
                self._store(cookie, now, secure_origin)

    def header_for(self, url: URL, now: float) -> str | None:
        """The Cookie header value for a request to ``url`` at ``now``, or ``None``.

        Longer paths first, then earlier creation (RFC 6265 section 5.4); expired
        cookies met on the way are removed.
        """
        host = url.host
        if not self._buckets or not host:
            return None
        self._see(now)
        if is_ip_host(host):
            domains = [host, ""]
        else:
            domains = [host]
            dot = host.find(".")
            while dot >= 0:
                domains.append(host[dot + 1 :])
                dot = host.find(".", dot + 1)
            if domains[-1]:
                domains.append("")
        secure = url.is_secure
        path = url.path or "/"
        found: list[Cookie] = []
        expired: list[Cookie] = []
        for domain in domains:
            bucket = self._buckets.get(domain)
            if bucket is None:
                continue
            for cookie in bucket.values():
                if cookie.expires is not None and cookie.expires <= now:
                    expired.append(cookie)
                elif (
                    (not cookie.host_only or domain == host)
                    and (secure or not cookie.secure)
                    and path_match(path, cookie.path)
                ):
                    found.append(cookie)
        for cookie in expired:
            self._remove(cookie.domain, (cookie.path, cookie.name))
        if not found:
            return None
        if len(found) > 1:
            found.sort(key=lambda c: (-len(c.path), c.creation_time))
        return "; ".join([f"{c.name}={c.value}" for c in found])

    # -- user API -----------------------------------------------------------------------

    def set(
        self,
        name: str,
        value: str,
        domain: str = "",
        path: str = "/",
        *,
        secure: bool = False,
        http_only: bool = False,
        same_site: SameSite | None = None,
        expires: float | None = None,
        host_only: bool = False,
        now: float | None = None,
    ) -> None:
        """Set a cookie by hand. ``domain=""`` sends it to every host.

        With a domain it also goes to subdomains unless ``host_only``. Raises
        ``LocalProtocolError`` for names or values that could inject header content
        (control characters, ``;``; ``=`` and spaces in names) or are too large.
        """
        created = self._latest_now if now is None else now
        canonical = _canonical_domain(domain) if domain else ""
        if canonical is None:
            raise LocalProtocolError(f"invalid domain {domain!r} for cookie {name!r}")
        self.add(
            Cookie(
                name=name,
                value=value,
                domain=canonical,
                path=path,
                host_only=host_only and bool(domain),
                secure=secure,
                http_only=http_only,
                same_site=same_site,
                expires=expires,
                creation_time=created,
            )
        )

    def add(self, cookie: Cookie) -> None:
        """Store a ``Cookie`` object after the same checks as ``set``."""
        _check_user_cookie(cookie)
        self._store(cookie, self._latest_now, True)

    def update(self, cookies: CookieJar | Mapping[str, str] | Iterable[Cookie]) -> None:
        """Add cookies from another jar, a ``{name: value}`` mapping or ``Cookie`` objects."""
        if isinstance(cookies, Mapping):
            for name, value in cookies.items():
                self.set(name, value)
        else:
            for cookie in list(cookies):
                self.add(cookie)

    def _select(self, name: str, domain: str | None, path: str | None) -> list[Cookie]:
        if domain is not None:
            domain = domain.removeprefix(".").lower()
        return [
            c
            for c in self
            if c.name == name
            and (domain is None or c.domain == domain)
            and (path is None or c.path == path)
        ]

    def get(
        self,
        name: str,
        default: str | None = None,
        *,
        domain: str | None = None,
        path: str | None = None,
    ) -> str | None:
        """The value of the cookie ``name`` (optionally of that domain/path), or ``default``.

        Raises ``CookieConflict`` when several cookies match. Expiry is not checked here
        (no clock); expired cookies leave the jar at the next call that passes ``now``.
        """
        matches = self._select(name, domain, path)
        if not matches:
            return default
        if len(matches) > 1:
            where = ", ".join(f"{c.domain or '*'}{c.path}" for c in matches)
            raise CookieConflict(
                f"{len(matches)} cookies are named {name!r} ({where}); "
                "pass domain= or path= to choose one"
            )
        return matches[0].value

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        """Remove every cookie named ``name`` (of that domain/path when given)."""
        for cookie in self._select(name, domain, path):
            self._remove(cookie.domain, (cookie.path, cookie.name))

    def clear(self, domain: str | None = None, path: str | None = None) -> None:
        """Remove all cookies, or those of one domain (and path)."""
        if domain is None and path is None:
            self._buckets.clear()
            self._count = 0
            return
        if domain is not None:
            domain = domain.removeprefix(".").lower()
        for cookie in list(self):
            if (domain is None or cookie.domain == domain) and (
                path is None or cookie.path == path
            ):
                self._remove(cookie.domain, (cookie.path, cookie.name))

    def clear_expired(self, now: float) -> None:
        """Remove the cookies that have expired at ``now``."""
        for cookie in list(self):
            if cookie.is_expired(now):
                self._remove(cookie.domain, (cookie.path, cookie.name))

    def clear_session_cookies(self) -> None:
        """Remove the cookies without an expiry (what ends with a browser session)."""
        for cookie in list(self):
            if cookie.expires is None:
                self._remove(cookie.domain, (cookie.path, cookie.name))

    def __iter__(self) -> Iterator[Cookie]:
        for bucket in list(self._buckets.values()):
            yield from list(bucket.values())

    def __len__(self) -> int:
        return self._count

    def __contains__(self, name: object) -> bool:
        return any(cookie.name == name for cookie in self)

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` of every cookie."""
        return [(cookie.name, cookie.value) for cookie in self]

    def as_dict(self) -> dict[str, str]:
        """``{name: value}``; when names repeat, the last stored cookie wins."""
        return dict(self.items())

    def __repr__(self) -> str:
        return f"<CookieJar {list(self)!r}>"


def _check_user_cookie(cookie: Cookie) -> None:
    name, value = cookie.name, cookie.value
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("cookie names and values must be str")
    if not name or _bad_name(name) is not None:
        raise LocalProtocolError(
            f"invalid cookie name {name!r}: it must be non-empty, without control "
            "characters, spaces, ';' or '='"
        )
    if _bad_value(value) is not None:
        raise LocalProtocolError(
            f"invalid value for cookie {name!r}: control characters and ';' are not allowed"
        )
    try:
        size = len(name.encode("latin-1")) + len(value.encode("latin-1"))
    except UnicodeEncodeError:
        raise LocalProtocolError(
            f"invalid cookie {name!r}: names and values must be latin-1 text "
            "(percent-encode other characters)"
        ) from None
    if size > MAX_COOKIE_SIZE:
        raise LocalProtocolError(f"cookie {name!r} is {size} bytes; the limit is {MAX_COOKIE_SIZE}")
    if cookie.domain and _bad_domain(cookie.domain) is not None:
        raise LocalProtocolError(f"invalid domain {cookie.domain!r} for cookie {name!r}")
    if cookie.path[:1] != "/" or _bad_value(cookie.path) is not None:
        raise LocalProtocolError(
            f"invalid path {cookie.path!r} for cookie {name!r}: it must start with '/' "
            "and have no control characters or ';'"
        )
