"""Property tests: parsing never fails with anything but InvalidURL, and is stable."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqivo_protocol import _url
from reqivo_protocol._exceptions import InvalidURL
from reqivo_protocol._url import URL

URL_ALPHABET = st.sampled_from(
    [*"abcXYZ019-._~!$&'()*+,;=:@/?#[]% \"<>\\^`{|}", "ä", "€", "\u3002", "\uff0f", "ß", "\t"]
)
url_like = st.builds(
    lambda scheme, sep, rest: scheme + sep + rest,
    st.sampled_from(["http", "https", "ws", "wss", "foo", "HTTP", ""]),
    st.sampled_from(["://", ":", ":/", "", "//"]),
    st.text(URL_ALPHABET, max_size=40),
)
any_text = st.one_of(st.text(max_size=60), url_like)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def components(url: URL) -> tuple[object, ...]:
    return (
        url.scheme,
        url.userinfo,
        url.host,
        url.port,
        url.path,
        url.query,
        url.fragment,
        str(url),
    )


@FAST
@given(any_text)
def test_parse_never_raises_anything_but_invalid_url(text: str) -> None:
    try:
        url = URL(text)
    except InvalidURL:
        return
    again = URL(str(url))
    assert again == url
    assert str(again) == str(url)
    assert components(again) == components(url)
    assert url.target.isascii()
    assert url.netloc.isascii()
    repr(url)
    hash(url)


def check_fast_path_agrees(text: str) -> None:
    try:
        fast: object = components(URL(text))
    except InvalidURL as exc:
        fast = type(exc)
    original = _url._fast_match
    _url._fast_match = lambda _text: None  # type: ignore[assignment]
    try:
        try:
            slow: object = components(URL(text))
        except InvalidURL as exc:
            slow = type(exc)
    finally:
        _url._fast_match = original
    assert fast == slow


@FAST
@given(any_text)
def test_fast_path_agrees_with_general_path(text: str) -> None:
    check_fast_path_agrees(text)


@FAST
@given(
    st.sampled_from(["http://a/b/c/d;p?q", "https://u:p@h:8443/x/", "foo:bar/baz", "/rel/x"]),
    any_text,
)
def test_join_is_stable(base: str, reference: str) -> None:
    try:
        joined = URL(base).join(reference)
    except InvalidURL:
        return
    assert URL(str(joined)) == joined


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "scheme": st.sampled_from(["http", "https", "ftp", ""]),
            "host": st.one_of(st.none(), st.text(URL_ALPHABET, max_size=10)),
            "port": st.one_of(st.none(), st.integers(-1, 70000)),
            "path": st.text(URL_ALPHABET, max_size=15),
            "query": st.one_of(st.none(), st.text(max_size=15)),
            "fragment": st.one_of(st.none(), st.text(max_size=15)),
            "username": st.text(max_size=8),
            "password": st.one_of(st.none(), st.text(max_size=8)),
        },
    ),
    st.sampled_from(["http://a/p?q#f", "x/y", "foo:z", "https://u:p@[::1]:1/"]),
)
def test_copy_with_is_stable(kwargs: dict[str, object], base: str) -> None:
    try:
        url = URL(base).copy_with(**kwargs)
    except InvalidURL:
        return
    assert URL(str(url)) == url
    assert components(URL(str(url))) == components(url)


@pytest.mark.parametrize(
    "text",
    [
        "http://a:8000/x",
        "HTTP://a/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://a.0x1/",
        "http://a:99999/",
        "http://x.y/%41/./b/../c?q=%7e&r#f%20",
        "https://example.com:443",
        "foo://h.g:1",
    ],
)
def test_fast_path_examples(text: str) -> None:
    check_fast_path_agrees(text)
