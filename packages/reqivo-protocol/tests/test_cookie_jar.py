from __future__ import annotations

import pytest

from reqivo_protocol._cookiejar import CookieConflict, CookieJar
from reqivo_protocol._cookies import Cookie
from reqivo_protocol._exceptions import LocalProtocolError, ReqivoError
from reqivo_protocol._url import URL

NOW = 1_700_000_000.0
SITE = URL("https://www.example.com/")


def jar_with(*values: str, url: URL = SITE, now: float = NOW) -> CookieJar:
    jar = CookieJar()
    jar.set_from_response(url, list(values), now)
    return jar


def test_round_trip() -> None:
    jar = jar_with("a=1", "b=2; Path=/")
    assert len(jar) == 2
    assert jar.header_for(URL("https://www.example.com/x"), NOW) == "a=1; b=2"
    assert jar.header_for(URL("https://other.com/"), NOW) is None
    assert jar.header_for(URL("https://example.com/"), NOW) is None  # host-only
    assert jar.header_for(URL("https://sub.www.example.com/"), NOW) is None


def test_empty_jar_and_hostless_url() -> None:
    assert CookieJar().header_for(SITE, NOW) is None
    assert jar_with("a=1").header_for(URL("/relative"), NOW) is None


def test_domain_cookies_reach_subdomains() -> None:
    jar = jar_with("a=1; Domain=example.com")
    for url in ("https://example.com/", "https://www.example.com/", "https://x.y.example.com/"):
        assert jar.header_for(URL(url), NOW) == "a=1", url
    assert jar.header_for(URL("https://badexample.com/"), NOW) is None


def test_order_longer_path_first_then_creation() -> None:
    jar = CookieJar()
    jar.set_from_response(SITE, ["late=1; Path=/"], NOW + 5)
    jar.set_from_response(SITE, ["early=1; Path=/"], NOW)
    jar.set_from_response(SITE, ["deep=1; Path=/a/b"], NOW + 10)
    jar.set_from_response(SITE, ["mid=1; Path=/a"], NOW + 20)
    assert jar.header_for(URL("https://www.example.com/a/b/c"), NOW + 30) == (
        "deep=1; mid=1; early=1; late=1"
    )
    assert jar.header_for(URL("https://www.example.com/ab"), NOW + 30) == "early=1; late=1"


def test_replacement_keeps_creation_time_and_updates_value() -> None:
    jar = CookieJar()
    jar.set_from_response(SITE, ["a=1", "b=1"], NOW)
    jar.set_from_response(SITE, ["a=2"], NOW + 10)
    assert len(jar) == 2
    assert jar.header_for(SITE, NOW + 20) == "a=2; b=1"
    (a,) = [c for c in jar if c.name == "a"]
    assert a.creation_time == NOW


def test_same_name_different_path_or_domain_are_different_cookies() -> None:
    jar = jar_with("a=1; Path=/", "a=2; Path=/x", "a=3; Domain=example.com; Path=/")
    assert len(jar) == 3
    assert jar.header_for(URL("https://www.example.com/x"), NOW) == "a=2; a=1; a=3"


def test_secure_cookies_only_over_https_and_wss() -> None:
    jar = jar_with("s=1; Secure; Path=/", "p=1; Path=/")
    assert jar.header_for(URL("https://www.example.com/"), NOW) == "s=1; p=1"
    assert jar.header_for(URL("wss://www.example.com/"), NOW) == "s=1; p=1"
    assert jar.header_for(URL("http://www.example.com/"), NOW) == "p=1"
    assert jar.header_for(URL("ws://www.example.com/"), NOW) == "p=1"


def test_expired_cookies_are_dropped_and_evicted() -> None:
    jar = jar_with("a=1; Max-Age=10", "b=2")
    assert jar.header_for(SITE, NOW + 5) == "a=1; b=2"
    assert jar.header_for(SITE, NOW + 10) == "b=2"
    assert len(jar) == 1
    jar.set_from_response(SITE, ["b=; Max-Age=0"], NOW + 11)
    assert len(jar) == 0
    assert jar.header_for(SITE, NOW + 12) is None


def test_expired_cookie_for_unknown_key_is_not_stored() -> None:
    jar = jar_with("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert len(jar) == 0


def test_invalid_set_cookie_values_are_ignored() -> None:
    jar = jar_with("bad", "a=1; Domain=other.com", "ok=1")
    assert jar.as_dict() == {"ok": "1"}


def test_leave_secure_cookies_alone() -> None:
    jar = jar_with("s=secret; Secure; Domain=example.com; Path=/")
    plain = URL("http://www.example.com/")
    jar.set_from_response(plain, ["s=evil; Path=/"], NOW + 1)
    jar.set_from_response(plain, ["s=evil; Path=/sub"], NOW + 1)
    jar.set_from_response(URL("http://a.www.example.com/"), ["s=evil; Path=/"], NOW + 1)
    jar.set_from_response(plain, ["s=; Max-Age=0; Domain=example.com; Path=/"], NOW + 1)
    assert jar.items() == [("s", "secret")]
    # Unrelated names, domains and paths are fine.
    jar.set_from_response(plain, ["t=1; Path=/"], NOW + 1)
    jar.set_from_response(URL("http://other.com/"), ["s=1"], NOW + 1)
    assert len(jar) == 3
    # A secure origin may replace it.
    jar.set_from_response(SITE, ["s=new; Secure; Domain=example.com; Path=/"], NOW + 2)
    assert jar.get("s", domain="example.com") == "new"


def test_leave_secure_cookies_alone_ignores_other_paths() -> None:
    jar = jar_with("s=secret; Secure; Path=/admin")
    jar.set_from_response(URL("http://www.example.com/"), ["s=1; Path=/"], NOW)
    assert len(jar) == 2


def test_ip_host_cookies() -> None:
    url = URL("http://127.0.0.1:8000/")
    jar = jar_with("a=1", url=url)
    assert jar.header_for(URL("http://127.0.0.1:9000/x"), NOW) == "a=1"  # ports are ignored
    assert jar.header_for(URL("http://10.0.0.1/"), NOW) is None
    jar.set("w", "1")
    assert jar.header_for(URL("http://127.0.0.1/"), NOW) == "a=1; w=1"


def test_per_domain_limit_evicts_oldest() -> None:
    jar = CookieJar(max_cookies_per_domain=3)
    for i in range(5):
        jar.set_from_response(SITE, [f"c{i}={i}"], NOW + i)
    assert [c.name for c in jar] == ["c2", "c3", "c4"]


def test_per_domain_limit_evicts_expired_first() -> None:
    jar = CookieJar(max_cookies_per_domain=2)
    jar.set_from_response(SITE, ["old=1"], NOW)
    jar.set_from_response(SITE, ["short=1; Max-Age=5"], NOW + 1)
    jar.set_from_response(SITE, ["new=1"], NOW + 10)
    assert sorted(c.name for c in jar) == ["new", "old"]


def test_total_limit() -> None:
    jar = CookieJar(max_cookies=3)
    for i in range(5):
        jar.set_from_response(URL(f"https://h{i}.example/"), [f"c{i}=1"], NOW + i)
    assert len(jar) == 3
    assert [c.name for c in jar] == ["c2", "c3", "c4"]


def test_total_limit_purges_expired_everywhere() -> None:
    jar = CookieJar(max_cookies=2)
    jar.set_from_response(URL("https://a.example/"), ["a=1; Max-Age=1"], NOW)
    jar.set_from_response(URL("https://b.example/"), ["b=1"], NOW)
    jar.set_from_response(URL("https://c.example/"), ["c=1"], NOW + 5)
    assert sorted(c.name for c in jar) == ["b", "c"]


# -- user API ---------------------------------------------------------------------------


def test_user_set_without_domain_goes_everywhere() -> None:
    jar = CookieJar({"token": "abc"})
    assert jar.header_for(URL("https://any.host/"), NOW) == "token=abc"
    assert jar.header_for(URL("http://[::1]/"), NOW) == "token=abc"
    assert jar.header_for(URL("http://localhost./"), NOW) == "token=abc"
    assert jar.get("token") == "abc"
    assert "token" in jar
    assert "other" not in jar


def test_user_set_with_domain_and_options() -> None:
    jar = CookieJar()
    jar.set("a", "1", domain=".Example.com", path="/x", secure=True, expires=NOW + 100, now=NOW)
    (cookie,) = list(jar)
    assert cookie.domain == "example.com"
    assert not cookie.host_only
    assert cookie.secure
    assert cookie.creation_time == NOW
    assert jar.header_for(URL("https://www.example.com/x/y"), NOW) == "a=1"
    assert jar.header_for(URL("http://www.example.com/x/y"), NOW) is None
    assert jar.header_for(URL("https://www.example.com/x/y"), NOW + 100) is None
    jar.set("h", "1", domain="example.com", host_only=True)
    assert jar.header_for(URL("https://www.example.com/"), NOW) is None
    assert jar.header_for(URL("https://example.com/"), NOW) == "h=1"
    jar.set("i", "1", domain="bücher.example")
    assert jar.get("i", domain="xn--bcher-kva.example") == "1"


def test_user_cookies_default_creation_time_is_latest_now() -> None:
    jar = jar_with("server=1; Path=/")
    jar.set("user", "1")
    (user,) = [c for c in jar if c.name == "user"]
    assert user.creation_time == NOW
    assert jar.header_for(SITE, NOW) == "server=1; user=1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("a", "x\r\nInjected: 1"),
        ("a", "x\n"),
        ("a", "x\x00"),
        ("a", "x; Domain=evil.com"),
        ("a", "\x7f"),
        ("", "x"),
        ("a b", "x"),
        ("a=b", "x"),
        ("a;b", "x"),
        ("a\r", "x"),
        ("a", "€"),
        ("a", "x" * 4096),
    ],
)
def test_user_set_refuses_injection(name: str, value: str) -> None:
    jar = CookieJar()
    with pytest.raises(LocalProtocolError):
        jar.set(name, value)
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("domain", "path"),
    [
        ("a b.com", "/"),
        ("a;b.com", "/"),
        ("a.com", "x"),
        ("a.com", "/x;y"),
        ("a.com", "/\n"),
        ("ä" * 64, "/"),
    ],
)
def test_user_set_refuses_bad_domain_or_path(domain: str, path: str) -> None:
    with pytest.raises(LocalProtocolError):
        CookieJar().set("a", "b", domain=domain, path=path)


def test_add_type_check() -> None:
    with pytest.raises(TypeError):
        CookieJar().add(Cookie(name="a", value=1, domain=""))  # type: ignore[arg-type]


def test_get_conflict() -> None:
    jar = CookieJar()
    jar.set("a", "1", domain="x.com")
    jar.set("a", "2", domain="y.com")
    with pytest.raises(CookieConflict, match="2 cookies are named 'a'") as info:
        jar.get("a")
    assert isinstance(info.value, ReqivoError)
    assert isinstance(info.value, LookupError)
    assert jar.get("a", domain="x.com") == "1"
    assert jar.get("a", domain=".Y.com") == "2"
    assert jar.get("a", domain="z.com") is None
    assert jar.get("a", "dflt", domain="z.com") == "dflt"
    assert jar.get("a", domain="x.com", path="/") == "1"
    assert jar.get("a", domain="x.com", path="/no") is None


def test_delete_and_clear() -> None:
    jar = CookieJar()
    jar.set("a", "1", domain="x.com")
    jar.set("a", "2", domain="y.com")
    jar.set("b", "3", domain="x.com", path="/p")
    jar.set("c", "4")
    jar.delete("a", domain="x.com")
    assert sorted(jar.items()) == [("a", "2"), ("b", "3"), ("c", "4")]
    jar.delete("nothing")
    jar.clear(domain="x.com", path="/other")
    assert len(jar) == 3
    jar.clear(path="/p")
    assert sorted(jar.items()) == [("a", "2"), ("c", "4")]
    jar.clear(domain=".Y.COM")
    assert jar.items() == [("c", "4")]
    jar.delete("c")
    assert len(jar) == 0
    jar.set("z", "1")
    jar.clear()
    assert len(jar) == 0
    assert not list(jar)


def test_clear_expired_and_session_cookies() -> None:
    jar = jar_with("session=1", "persistent=1; Max-Age=100", "short=1; Max-Age=1")
    jar.clear_expired(NOW + 50)
    assert sorted(c.name for c in jar) == ["persistent", "session"]
    jar.clear_session_cookies()
    assert [c.name for c in jar] == ["persistent"]


def test_update_and_copy() -> None:
    jar = jar_with("a=1")
    copy = CookieJar(jar)
    assert list(copy) == list(jar)
    copy.update({"b": "2"})
    copy.update([Cookie(name="c", value="3", domain="c.com")])
    assert copy.as_dict() == {"a": "1", "b": "2", "c": "3"}
    assert len(jar) == 1


def test_as_dict_last_wins_and_repr_hides_values() -> None:
    jar = CookieJar()
    jar.set("a", "first", domain="x.com")
    jar.set("a", "second", domain="y.com")
    assert jar.as_dict() == {"a": "second"}
    assert "first" not in repr(jar)
    assert "<Cookie a=... for x.com/>" in repr(jar)
    assert "<Cookie a=... for */>" in repr(CookieJar({"a": "v"}))


def test_add_expired_user_cookie_deletes() -> None:
    jar = jar_with("a=1; Path=/")
    jar.add(Cookie(name="a", value="", domain="www.example.com", path="/", expires=NOW - 1))
    assert len(jar) == 0
