from __future__ import annotations

import pytest

from reqivo_protocol._cookies import (
    MAX_COOKIE_LIFETIME,
    MAX_COOKIE_SIZE,
    Cookie,
    default_path,
    domain_match,
    is_ip_host,
    parse_set_cookie,
    path_match,
)
from reqivo_protocol._url import URL

NOW = 1_700_000_000.0
HTTPS = URL("https://www.example.com/dir/page")
HTTP = URL("http://www.example.com/dir/page")


def parse(value: str, url: URL = HTTPS, now: float = NOW) -> Cookie | None:
    return parse_set_cookie(value, url, now)


def test_simple_cookie() -> None:
    cookie = parse("sid=abc")
    assert cookie == Cookie(
        name="sid",
        value="abc",
        domain="www.example.com",
        path="/dir",
        host_only=True,
        secure=False,
        http_only=False,
        same_site=None,
        expires=None,
        creation_time=NOW,
    )
    assert not cookie.is_expired(NOW + 1e9)
    assert "abc" not in repr(cookie)


def test_whitespace_is_trimmed_and_empty_value_allowed() -> None:
    cookie = parse(" \tsid \t= v a l \t; Path=/")
    assert cookie is not None
    assert (cookie.name, cookie.value) == ("sid", "v a l")
    cookie = parse("sid=")
    assert cookie is not None
    assert cookie.value == ""
    cookie = parse('sid="quoted"')
    assert cookie is not None
    assert cookie.value == '"quoted"'
    cookie = parse("a=b=c")
    assert cookie is not None
    assert (cookie.name, cookie.value) == ("a", "b=c")


@pytest.mark.parametrize(
    "value",
    [
        "noequals",
        "=value",
        " =value",
        "",
        "a=b\x00",
        "a=b\r\nSet-Cookie: x=y",
        "a\n=b",
        "a=b; Path=/\x7f",
        "a=\x01",
        "a=€",  # cannot go back into a latin-1 header
    ],
)
def test_ignored_cookies(value: str) -> None:
    assert parse(value) is None


def test_htab_and_latin1_are_allowed() -> None:
    cookie = parse("a=b\tc")
    assert cookie is not None
    assert cookie.value == "b\tc"
    cookie = parse("a=\xe9")
    assert cookie is not None
    assert cookie.value == "\xe9"


def test_size_limit() -> None:
    assert parse("a=" + "x" * (MAX_COOKIE_SIZE - 1)) is not None
    assert parse("a=" + "x" * MAX_COOKIE_SIZE) is None
    assert parse("a=\xe9" + "x" * (MAX_COOKIE_SIZE - 1)) is None


# -- expiry ---------------------------------------------------------------------------------


def test_expires() -> None:
    cookie = parse("a=b; Expires=Wed, 21 Oct 2026 07:28:00 GMT", now=1_780_000_000.0)
    assert cookie is not None
    assert cookie.expires == 1792567680.0
    assert cookie.is_expired(1792567680.0)
    assert not cookie.is_expired(1792567679.0)


def test_invalid_expires_is_ignored() -> None:
    cookie = parse("a=b; Expires=tomorrow")
    assert cookie is not None
    assert cookie.expires is None


def test_past_expires_means_expired() -> None:
    cookie = parse("a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert cookie is not None
    assert cookie.is_expired(NOW)


def test_max_age() -> None:
    cookie = parse("a=b; Max-Age=60")
    assert cookie is not None
    assert cookie.expires == NOW + 60
    for value in ("0", "-1", "-0", "000"):
        cookie = parse(f"a=b; Max-Age={value}")
        assert cookie is not None
        assert cookie.is_expired(NOW), value


@pytest.mark.parametrize("value", ["", "-", "1.5", "+5", "abc", "1e3", "\u0661"])
def test_invalid_max_age_is_ignored(value: str) -> None:
    cookie = parse(f"a=b; Max-Age={value}")
    assert cookie is not None
    assert cookie.expires is None


def test_max_age_wins_over_expires_in_any_order() -> None:
    for value in (
        "a=b; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=10",
    ):
        cookie = parse(value)
        assert cookie is not None
        assert cookie.expires == NOW + 10


def test_lifetime_is_capped_at_400_days() -> None:
    for value in ("a=b; Max-Age=999999999999999999999999", "a=b; Expires=31 Dec 9999 23:59:59"):
        cookie = parse(value)
        assert cookie is not None
        assert cookie.expires == NOW + MAX_COOKIE_LIFETIME


def test_last_attribute_wins() -> None:
    cookie = parse("a=b; Max-Age=10; Max-Age=20; Path=/x; Path=/y")
    assert cookie is not None
    assert cookie.expires == NOW + 20
    assert cookie.path == "/y"


def test_long_attribute_values_are_ignored() -> None:
    cookie = parse("a=b; Path=/" + "x" * 1024)
    assert cookie is not None
    assert cookie.path == "/dir"


# -- path -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "path"),
    [
        ("", "/dir"),
        ("; Path=/x/y", "/x/y"),
        ("; Path=", "/dir"),
        ("; Path=rel", "/dir"),
        ("; path=/", "/"),
    ],
)
def test_path_attribute(attribute: str, path: str) -> None:
    cookie = parse("a=b" + attribute)
    assert cookie is not None
    assert cookie.path == path


@pytest.mark.parametrize(
    ("request_path", "expected"),
    [
        ("", "/"),
        ("x", "/"),
        ("/", "/"),
        ("/a", "/"),
        ("/a/", "/a"),
        ("/a/b", "/a"),
        ("/a/b/c", "/a/b"),
    ],
)
def test_default_path(request_path: str, expected: str) -> None:
    assert default_path(request_path) == expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "matches"),
    [
        ("/", "/", True),
        ("/a", "/", True),
        ("/a/b", "/a", True),
        ("/a/b", "/a/", True),
        ("/a", "/a", True),
        ("/ab", "/a", False),
        ("/a", "/a/", False),
        ("/", "/a", False),
        ("/A", "/a", False),
    ],
)
def test_path_match(request_path: str, cookie_path: str, matches: bool) -> None:
    assert path_match(request_path, cookie_path) is matches


# -- domain -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain", "matches"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("1.2.3.4", "2.3.4", False),
        ("1.2.3.4", "1.2.3.4", True),
        ("::1", "::1", True),
        ("example.com", "", False),
    ],
)
def test_domain_match(host: str, domain: str, matches: bool) -> None:
    assert domain_match(host, domain) is matches


def test_is_ip_host() -> None:
    assert is_ip_host("1.2.3.4")
    assert is_ip_host("::1")
    assert not is_ip_host("example.com")
    assert not is_ip_host("")


@pytest.mark.parametrize(
    ("attribute", "domain"),
    [
        ("Domain=example.com", "example.com"),
        ("Domain=.example.com", "example.com"),
        ("domain=EXAMPLE.com", "example.com"),
        ("Domain=www.example.com", "www.example.com"),
    ],
)
def test_domain_attribute(attribute: str, domain: str) -> None:
    cookie = parse(f"a=b; {attribute}")
    assert cookie is not None
    assert cookie.domain == domain
    assert not cookie.host_only


def test_empty_domain_attribute_is_ignored() -> None:
    cookie = parse("a=b; Domain=")
    assert cookie is not None
    assert cookie.host_only
    assert cookie.domain == "www.example.com"


@pytest.mark.parametrize(
    "attribute",
    [
        "Domain=other.com",
        "Domain=ample.com",
        "Domain=sub.www.example.com",
        "Domain=com",  # single-label "public suffix" heuristic
        "Domain=.com",
        "Domain=" + "ä" * 64 + ".com",  # IDNA failure
    ],
)
def test_refused_domain_attributes(attribute: str) -> None:
    assert parse(f"a=b; {attribute}") is None


def test_idna_domain_attribute() -> None:
    cookie = parse("a=b; Domain=Bücher.example", URL("https://www.xn--bcher-kva.example/"))
    assert cookie is not None
    assert cookie.domain == "xn--bcher-kva.example"


def test_single_label_domain_equal_to_host_is_host_only() -> None:
    cookie = parse("a=b; Domain=localhost", URL("http://localhost:8000/"))
    assert cookie is not None
    assert cookie.host_only
    assert cookie.domain == "localhost"


def test_domain_on_ip_host() -> None:
    url = URL("http://192.168.0.1/")
    cookie = parse("a=b; Domain=192.168.0.1", url)
    assert cookie is not None
    assert cookie.host_only
    assert parse("a=b; Domain=168.0.1", url) is None
    assert parse("a=b; Domain=example.com", url) is None
    v6 = parse("a=b", URL("http://[::1]/"))
    assert v6 is not None
    assert v6.domain == "::1"


def test_url_without_host() -> None:
    assert parse("a=b", URL("/relative")) is None


# -- flags and prefixes ------------------------------------------------------------


def test_flags() -> None:
    cookie = parse("a=b; Secure; HttpOnly; SameSite=strict")
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    for value, expected in (("Lax", "Lax"), ("NONE", "None"), ("bogus", None), ("", None)):
        cookie = parse(f"a=b; SameSite={value}")
        assert cookie is not None
        assert cookie.same_site == expected
    cookie = parse("a=b; SameSite=Lax; SameSite=bogus")
    assert cookie is not None
    assert cookie.same_site == "Lax"
    cookie = parse("a=b; unknown=1; ; Secure=ignored-value")
    assert cookie is not None
    assert cookie.secure


def test_secure_cookie_from_plain_http_is_ignored() -> None:
    assert parse("a=b; Secure", HTTP) is None
    assert parse("a=b; Secure", URL("wss://www.example.com/")) is not None


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("__Secure-a=b; Secure", True),
        ("__secure-a=b; Secure", True),
        ("__Secure-a=b", False),
        ("__Host-a=b; Secure; Path=/", True),
        ("__HOST-a=b; Secure; Path=/", True),
        ("__Host-a=b; Secure", False),  # default path /dir
        ("__Host-a=b; Path=/", False),
        ("__Host-a=b; Secure; Path=/; Domain=www.example.com", False),
        ("__Host-a=b; Secure; Path=/x", False),
        ("__Hostile=b", True),
    ],
)
def test_prefixes(value: str, accepted: bool) -> None:
    assert (parse(value) is not None) is accepted
