#!/usr/bin/env python3
"""Fuzz target (bonus): ``Set-Cookie`` parsing (``reqivo_protocol.parse_set_cookie``).

The payload is one ``Set-Cookie`` value. Invariants:

* ``parse_set_cookie`` never raises (it returns a cookie or ``None``);
* a returned cookie can be sent back: name and value are Latin-1 text without CR, LF,
  NUL or ``;``, the name is not empty, the path starts with ``/``, and the request's
  host domain-matches the cookie's domain;
* serialising the cookie's attributes and parsing the result again gives the same
  cookie (parsing is stable).

Flags: bits 0-1 the request URL (``URLS``), bits 2-3 how the bytes become text (UTF-8
with replacement, Latin-1, UTF-8 with ``surrogateescape``).
"""

from __future__ import annotations

from common import Mismatch, instrumented, main, unpack

with instrumented():
    from reqivo_protocol import URL
    from reqivo_protocol._cookies import Cookie, domain_match, parse_set_cookie

URLS = [
    URL("http://example.com/a/b"),
    URL("https://sub.example.com/"),
    URL("http://127.0.0.1/x/"),
    URL("https://xn--bcher-kva.example/path/file"),
]
DECODINGS = [("utf-8", "replace"), ("latin-1", "strict"), ("utf-8", "surrogateescape")]
NOW = 1_800_000_000.0
_FORBIDDEN = frozenset("\r\n\0;")


def _serialise(cookie: Cookie) -> str:
    parts = [f"{cookie.name}={cookie.value}", f"Path={cookie.path}"]
    if not cookie.host_only:
        parts.append(f"Domain={cookie.domain}")
    if cookie.secure:
        parts.append("Secure")
    if cookie.http_only:
        parts.append("HttpOnly")
    if cookie.same_site is not None:
        parts.append(f"SameSite={cookie.same_site}")
    return "; ".join(parts)


def _check(cookie: Cookie, url: URL) -> None:
    for what in (cookie.name, cookie.value):
        if _FORBIDDEN.intersection(what):
            raise Mismatch(f"cookie {what!r} cannot be sent back in a Cookie header")
        what.encode("latin-1")  # UnicodeEncodeError is a finding
    if not cookie.name or not cookie.path.startswith("/"):
        raise Mismatch(f"bad cookie {cookie!r}")
    if not domain_match(url.host, cookie.domain):
        raise Mismatch(f"{url.host!r} does not domain-match the cookie's {cookie.domain!r}")


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    url = URLS[item.flags & 3]
    encoding, errors = DECODINGS[((item.flags >> 2) & 3) % 3]
    value = item.payload.decode(encoding, errors)
    cookie = parse_set_cookie(value, url, NOW)
    if cookie is None:
        return
    _check(cookie, url)
    again = parse_set_cookie(_serialise(cookie), url, NOW)
    if again is None:
        raise Mismatch(f"the serialised cookie is refused: {_serialise(cookie)!r}")
    fields = ("name", "value", "domain", "path", "host_only", "secure", "http_only", "same_site")
    for name in fields:
        if getattr(again, name) != getattr(cookie, name):
            raise Mismatch(f"{name} changed on a reparse: {cookie!r} -> {again!r}")


if __name__ == "__main__":
    main(test_one_input)
