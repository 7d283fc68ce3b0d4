"""Property tests: server input never makes the cookie code raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol._cookiedate import parse_cookie_date
from reqivo_protocol._cookiejar import CookieJar
from reqivo_protocol._cookies import Cookie, parse_set_cookie
from reqivo_protocol._url import URL

ATTRIBUTES = st.sampled_from(
    [
        "Expires=Wed, 09 Jun 2021 10:18:14 GMT",
        "Max-Age=",
        "Max-Age=-5",
        "Max-Age=99999999999999999999999",
        "Domain=",
        "Domain=.example.com",
        "Domain=com",
        "Domain=ä.example.com",
        "Path=/",
        "Path=x",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "=",
        "",
    ]
)
set_cookie = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda name, value, attrs: f"{name}={value}; " + "; ".join(attrs),
        st.text(max_size=10),
        st.text(max_size=10),
        st.lists(st.one_of(ATTRIBUTES, st.text(max_size=20)), max_size=5),
    ),
)
URLS = st.sampled_from(
    [
        URL("https://www.example.com/a/b"),
        URL("http://example.com"),
        URL("http://127.0.0.1:8000/"),
        URL("wss://[::1]/x"),
        URL("http://localhost/"),
    ]
)
NOW = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(set_cookie, URLS, NOW)
def test_parse_set_cookie_never_raises(value: str, url: URL, now: float) -> None:
    cookie = parse_set_cookie(value, url, now)
    assert cookie is None or isinstance(cookie, Cookie)
    if cookie is not None:
        assert cookie.name
        assert "\r" not in cookie.value
        assert "\n" not in cookie.value
        assert ";" not in cookie.name + cookie.value
        assert cookie.path.startswith("/")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(URLS, st.lists(set_cookie, max_size=4)), max_size=5), URLS, NOW)
def test_jar_never_raises(responses: list[tuple[URL, list[str]]], target: URL, now: float) -> None:
    jar = CookieJar(max_cookies_per_domain=3, max_cookies=6)
    for url, values in responses:
        jar.set_from_response(url, values, now)
    assert len(jar) == len(list(jar)) <= 6
    header = jar.header_for(target, now)
    if header is not None:
        header.encode("latin-1")
        assert "\r" not in header
        assert "\n" not in header


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_cookie_date_never_raises(text: str) -> None:
    result = parse_cookie_date(text)
    assert result is None or isinstance(result, float)
