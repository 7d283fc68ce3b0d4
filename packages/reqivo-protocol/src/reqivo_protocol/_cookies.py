"""Cookies: the ``Cookie`` value and the Set-Cookie parser of RFC 6265 section 5.2-5.3.

``parse_set_cookie(text, request_url, now)`` turns one Set-Cookie header value into a
``Cookie`` ready for the jar, or ``None`` when a user agent must ignore it. It never
raises on server input and never reads a clock: ``now`` (seconds since the epoch) is
a parameter. Beyond RFC 6265 it follows the parts of RFC 6265bis that protect users:

* a header value with a control character other than HTAB is ignored whole;
* a cookie whose name and value together exceed ``MAX_COOKIE_SIZE`` (4096) bytes is
  ignored, and an attribute value longer than 1024 characters is ignored;
* ``Expires`` and ``Max-Age`` are capped at 400 days from ``now``;
* ``Secure`` cookies are only accepted from https/wss responses, and the ``__Secure-``
  and ``__Host-`` name prefixes (case-insensitive) are enforced.

Domain rules: the ``Domain`` attribute must domain-match the request host; on an IP
host it must equal the host (the cookie is then host-only). Reqivo ships no public
suffix list: as a heuristic, a ``Domain`` of a single label ("com", "localhost") is
treated as a public suffix, accepted only when it equals the request host (then
host-only). Multi-label public suffixes such as "co.uk" are *not* detected, so a server
under ``a.co.uk`` can set a cookie for all of ``co.uk`` (as in browsers without a
list); only such servers' other subdomains are exposed.

``SameSite`` is parsed and kept but not enforced: a client library has no notion of
the "site for cookies" of a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reqivo_protocol._cookiedate import parse_cookie_date
from reqivo_protocol._url import URL

__all__ = [
    "MAX_COOKIE_LIFETIME",
    "MAX_COOKIE_SIZE",
    "Cookie",
    "SameSite",
    "default_path",
    "domain_match",
    "is_ip_host",
    "parse_set_cookie",
    "path_match",
]

MAX_COOKIE_SIZE = 4096
"""The largest cookie accepted: bytes of name and value together (RFC 6265bis)."""

MAX_COOKIE_LIFETIME = 400 * 86400.0
"""Seconds a cookie may live at most; later Expires/Max-Age are capped (RFC 6265bis)."""

_MAX_ATTRIBUTE_VALUE = 1024

SameSite = Literal["Strict", "Lax", "None"]

_SAME_SITE: dict[str, SameSite] = {"strict": "Strict", "lax": "Lax", "none": "None"}

# Control characters except HTAB make RFC 6265bis user agents ignore the whole header.
_bad_header_char = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]").search


@dataclass(frozen=True, slots=True)
class Cookie:
    """A stored cookie (RFC 6265 section 5.3).

    ``domain`` is lowercase ASCII without a leading dot (``""`` for a cookie set by the
    user without a domain: it is sent to every host). ``host_only`` cookies go to
    exactly that host, others also to its subdomains. ``expires`` is seconds since the
    epoch, or ``None`` for a session cookie. ``creation_time`` orders the Cookie header.
    """

    name: str
    value: str
    domain: str
    path: str = "/"
    host_only: bool = True
    secure: bool = False
    http_only: bool = False
    same_site: SameSite | None = None
    expires: float | None = None
    creation_time: float = 0.0

    def is_expired(self, now: float) -> bool:
        """True when the cookie has expired at ``now`` (session cookies never do)."""
        return self.expires is not None and self.expires <= now

    def __repr__(self) -> str:
        # The value is a secret more often than not.
        return f"<Cookie {self.name}=... for {self.domain or '*'}{self.path}>"


def is_ip_host(host: str) -> bool:
    """True for an IPv4 or IPv6 host as normalised by ``URL`` (never a domain name)."""
    # URL refuses hosts whose last label is numeric unless they are canonical IPv4.
    return ":" in host or host[-1:].isdigit()


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 section 5.1.3: ``host`` is ``domain`` or a subdomain of it (not for IPs)."""
    if host == domain:
        return True
    return bool(domain) and host.endswith("." + domain) and not is_ip_host(host)


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 section 5.1.4: ``cookie_path`` is ``request_path`` or a directory above it."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path[-1:] == "/" or request_path[len(cookie_path)] == "/"
    )


def default_path(request_path: str) -> str:
    """RFC 6265 section 5.1.4: the directory of the request path ("/" at the top)."""
    if request_path[:1] != "/":
        return "/"
    slash = request_path.rfind("/")
    return request_path[:slash] if slash > 0 else "/"


def _canonical_domain(domain: str) -> str | None:
    domain = domain.removeprefix(".").lower()
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    return domain


def parse_set_cookie(value: str, request_url: URL, now: float) -> Cookie | None:
    """Parse one Set-Cookie header value received for ``request_url`` at ``now``.

    Returns the cookie to store (an already expired one means "delete it"), or ``None``
    when the cookie must be ignored. Never raises on server input.
    """
    if _bad_header_char(value) is not None:
        return None
    pair, _, attributes = value.partition(";")
    name, equals, cookie_value = pair.partition("=")
    if not equals:
        return None
    name = name.strip(" \t")
    cookie_value = cookie_value.strip(" \t")
    if not name or len(name) + len(cookie_value) > MAX_COOKIE_SIZE:
        return None
    if not (name.isascii() and cookie_value.isascii()):
        try:
            name.encode("latin-1")
            cookie_value.encode("latin-1")
        except UnicodeEncodeError:
            return None  # could not be sent back in a latin-1 Cookie header

    expires: float | None = None
    max_age: float | None = None
    domain: str | None = None
    path: str | None = None
    secure = http_only = False
    same_site: SameSite | None = None
    for attribute in attributes.split(";") if attributes else ():
        key, _, attr_value = attribute.partition("=")
        key = key.strip(" \t").lower()
        attr_value = attr_value.strip(" \t")
        if len(attr_value) > _MAX_ATTRIBUTE_VALUE:
            continue
        if key == "expires":
            date = parse_cookie_date(attr_value)
            if date is not None:
                expires = date
        elif key == "max-age":
            digits = attr_value[1:] if attr_value[:1] == "-" else attr_value
            if digits and digits.isascii() and digits.isdigit():
                if attr_value[0] == "-" or int(digits[:12]) == 0:
                    max_age = float("-inf")
                else:
                    max_age = now + min(int(digits[:12]), MAX_COOKIE_LIFETIME)
        elif key == "domain":
            if attr_value:
                domain = attr_value
        elif key == "path":
            path = attr_value if attr_value[:1] == "/" else None
        elif key == "secure":
            secure = True
        elif key == "httponly":
            http_only = True
        elif key == "samesite":
            same_site = _SAME_SITE.get(attr_value.lower(), same_site)

    if max_age is not None:
        expires = max_age
    elif expires is not None:
        expires = min(expires, now + MAX_COOKIE_LIFETIME)

    host = request_url.host
    if not host:
        return None
    domain_attribute = domain is not None
    if domain is None:
        host_only = True
        domain = host
    else:
        canonical = _canonical_domain(domain)
        if canonical is None:
            return None
        if canonical == host:
            # Covers a Domain equal to an IP host or to a single-label host.
            host_only = is_ip_host(host) or "." not in canonical
        elif "." not in canonical or not domain_match(host, canonical):
            return None
        else:
            host_only = False
        domain = canonical

    if secure and not request_url.is_secure:
        return None
    prefix = name[:9].lower()
    if prefix == "__secure-" and not secure:
        return None
    if prefix.startswith("__host-") and (not secure or domain_attribute or path != "/"):
        return None

    return Cookie(
        name=name,
        value=cookie_value,
        domain=domain,
        path=path if path is not None else default_path(request_url.path),
        host_only=host_only,
        secure=secure,
        http_only=http_only,
        same_site=same_site,
        expires=expires,
        creation_time=now,
    )
