"""Headers: case-insensitive, ordered, multi-valued."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqivo_protocol import Headers


def test_lookup_is_case_insensitive_and_keeps_spelling() -> None:
    headers = Headers({"Content-Type": "text/plain"})
    assert headers["content-type"] == "text/plain"
    assert headers.get("CONTENT-TYPE") == "text/plain"
    assert "content-TYPE" in headers
    assert list(headers) == ["Content-Type"]
    assert 42 not in headers


def test_multiple_values_join_and_list() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("X", "1"), ("set-cookie", "b=2")])
    assert headers["set-cookie"] == "a=1, b=2"
    assert headers.get_list("Set-Cookie") == ["a=1", "b=2"]
    assert headers.multi_items() == [("Set-Cookie", "a=1"), ("X", "1"), ("set-cookie", "b=2")]
    assert headers.items() == [("Set-Cookie", "a=1, b=2"), ("X", "1")]
    assert headers.keys() == ["Set-Cookie", "X"]
    assert headers.values() == ["a=1, b=2", "1"]
    assert len(headers) == 2


def test_get_list_can_split_comma_lists() -> None:
    headers = Headers([("Connection", "keep-alive, Upgrade"), ("connection", " close ,")])
    assert headers.get_list("connection", split_commas=True) == ["keep-alive", "Upgrade", "close"]


def test_missing_names() -> None:
    headers = Headers()
    with pytest.raises(KeyError):
        headers["nope"]
    assert headers.get("nope") is None
    assert headers.get("nope", "d") == "d"
    assert headers.get_list("nope") == []
    with pytest.raises(KeyError):
        del headers["nope"]
    with pytest.raises(KeyError):
        headers.pop("nope")
    assert headers.pop("nope", "fallback") == "fallback"


def test_bytes_are_latin1() -> None:
    headers = Headers({b"X-Name": b"caf\xe9"})
    assert headers["x-name"] == "café"
    assert headers.raw == [(b"X-Name", b"caf\xe9")]


def test_setitem_replaces_in_place_and_add_appends() -> None:
    headers = Headers([("A", "1"), ("B", "2"), ("a", "3")])
    headers["a"] = "9"
    assert headers.multi_items() == [("a", "9"), ("B", "2")]
    headers["C"] = "4"
    headers.add("c", "5")
    assert headers.get_list("C") == ["4", "5"]
    del headers["c"]
    assert "C" not in headers
    assert headers.setdefault("B", "x") == "2"
    assert headers.setdefault("D", "x") == "x"
    assert headers.pop("d") == "x"


def test_update_replaces_named_fields_only() -> None:
    headers = Headers([("A", "1"), ("B", "2"), ("B", "3")])
    headers.update({"b": "4", "C": "5"})
    assert headers.multi_items() == [("A", "1"), ("b", "4"), ("C", "5")]
    headers.update(None)
    assert len(headers) == 3


def test_copy_is_independent() -> None:
    original = Headers({"A": "1"})
    copied = original.copy()
    copied["A"] = "2"
    assert original["A"] == "1"
    assert Headers(original) == original


def test_equality_ignores_case_and_order_but_not_values() -> None:
    assert Headers([("A", "1"), ("B", "2")]) == Headers([("b", "2"), ("a", "1")])
    assert Headers({"A": "1"}) == {"a": "1"}
    assert Headers({"A": "1"}) == [("A", "1")]
    assert Headers({"A": "1"}) != Headers({"A": "2"})
    assert Headers({"A": "1"}) != [1, 2]
    assert Headers() != 3


def test_repr_hides_credentials() -> None:
    headers = Headers({"Authorization": "Bearer secret", "Cookie": "sid=1", "Accept": "*/*"})
    shown = repr(headers)
    assert "secret" not in shown
    assert "sid=1" not in shown
    assert "*/*" in shown


def test_from_fields_matches_constructor() -> None:
    pairs = [("Host", "x"), ("Accept", "*/*")]
    assert Headers.from_fields(pairs) == Headers(pairs)
    assert Headers.from_fields(pairs).multi_items() == pairs


def test_headers_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Headers())


_names = st.text(alphabet="abcdefgXYZ-", min_size=1, max_size=8)


@given(st.lists(st.tuples(_names, st.text(max_size=10)), max_size=12))
def test_multi_items_round_trip(pairs: list[tuple[str, str]]) -> None:
    headers = Headers(pairs)
    assert headers.multi_items() == pairs
    for name, _ in pairs:
        assert headers.get_list(name) == [v for n, v in pairs if n.lower() == name.lower()]
