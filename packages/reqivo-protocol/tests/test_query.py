from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol._query import QueryParams, encode_form, primitive_value_to_str


def test_from_string() -> None:
    q = QueryParams("a=1&b=2&a=3")
    assert q["a"] == "1"
    assert q.get("a") == "1"
    assert q.get("zz") is None
    assert q.get("zz", "d") == "d"
    assert q.get_list("a") == ["1", "3"]
    assert q.get_list("zz") == []
    assert list(q.keys()) == ["a", "b"]
    assert list(q) == ["a", "b"]
    assert list(q.items()) == [("a", "1"), ("b", "2")]
    assert list(q.values()) == ["1", "2"]
    assert q.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert len(q) == 2
    assert "a" in q
    assert "c" not in q
    assert str(q) == "a=1&b=2&a=3"
    with pytest.raises(KeyError):
        q["c"]


def test_string_decoding() -> None:
    q = QueryParams("?a+b=c%20d&e&f=&%zz=%C3%A4&g=%ff")
    assert q.multi_items() == [
        ("a b", "c d"),
        ("e", ""),
        ("f", ""),
        ("%zz", "ä"),
        ("g", "\ufffd"),
    ]
    assert QueryParams("").multi_items() == []
    assert QueryParams(b"a=1") == QueryParams("a=1")


def test_from_mapping_with_value_rules() -> None:
    q = QueryParams(
        {"s": "x", "i": 1, "f": 1.5, "t": True, "n": None, "l": ["a", 2, False], "e": []}
    )
    assert q.multi_items() == [
        ("s", "x"),
        ("i", "1"),
        ("f", "1.5"),
        ("t", "true"),
        ("n", ""),
        ("l", "a"),
        ("l", "2"),
        ("l", "false"),
    ]
    assert str(q) == "s=x&i=1&f=1.5&t=true&n=&l=a&l=2&l=false"
    assert QueryParams({"t": ("x", "y")}).get_list("t") == ["x", "y"]


def test_from_pairs_and_other_params() -> None:
    q = QueryParams([("a", 1), ("a", None), ("b", "x")])
    assert q.multi_items() == [("a", "1"), ("a", ""), ("b", "x")]
    assert QueryParams(q) == q
    assert QueryParams((("a", "1"),)).multi_items() == [("a", "1")]
    assert QueryParams(None).multi_items() == []
    assert QueryParams([]).multi_items() == []


@pytest.mark.parametrize(
    "bad",
    [
        {"a": object()},
        {1: "a"},
        [("a",)],
        ["ab"],
        [(1, "a")],
        {"a": [b"x"]},
        123,
    ],
)
def test_type_errors(bad: object) -> None:
    with pytest.raises(TypeError):
        QueryParams(bad)  # type: ignore[arg-type]


def test_encoding() -> None:
    q = QueryParams({"a b": "c&d=e", "ä": "~*'/?#+%"})
    assert str(q) == "a+b=c%26d%3De&%C3%A4=~*%27%2F%3F%23%2B%25"
    assert QueryParams(str(q)) == q
    assert repr(QueryParams("a=1")) == "QueryParams('a=1')"


def test_lone_surrogate_is_refused_on_encoding() -> None:
    with pytest.raises(LocalProtocolError, match="not valid Unicode"):
        str(QueryParams({"a": "\ud800"}))
    with pytest.raises(LocalProtocolError, match="not valid Unicode"):
        encode_form({"\udfff": "x"})


def test_equality_is_order_insensitive_like_httpx() -> None:
    assert QueryParams("a=1&b=2") == QueryParams("b=2&a=1")
    assert QueryParams("a=1&a=2") != QueryParams("a=1")
    assert QueryParams("a=1") == "a=1"
    assert QueryParams("a=1") == {"a": "1"}
    assert QueryParams("a=1") != 5
    assert hash(QueryParams("a=1&b=2")) == hash(QueryParams("b=2&a=1"))


def test_derivations_return_new_objects() -> None:
    q = QueryParams("a=1&b=2&a=3")
    assert q.set("a", "x").multi_items() == [("a", "x"), ("b", "2")]
    assert q.set("c", 4).multi_items() == [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")]
    assert q.add("b", True).multi_items() == [("a", "1"), ("b", "2"), ("a", "3"), ("b", "true")]
    assert q.remove("a").multi_items() == [("b", "2")]
    assert q.remove("zz") == q
    assert q.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]


def test_merge() -> None:
    q = QueryParams("a=1&b=2&a=3")
    merged = q.merge({"a": ["x", "y"], "c": "z"})
    assert merged.multi_items() == [("b", "2"), ("a", "x"), ("a", "y"), ("c", "z")]
    assert q.merge(None) is q
    assert q.merge({}) is q
    assert QueryParams().merge("x=1").multi_items() == [("x", "1")]


def test_bool() -> None:
    assert not QueryParams()
    assert QueryParams("a")


def test_encode_form() -> None:
    assert (
        encode_form({"k": "v w", "l": [1, 2], "b": False, "n": None}) == b"k=v+w&l=1&l=2&b=false&n="
    )
    assert encode_form([("a", "1"), ("a", "2")]) == b"a=1&a=2"
    assert encode_form({}) == b""
    assert encode_form({"ä": "€"}) == b"%C3%A4=%E2%82%AC"


def test_primitive_value_to_str() -> None:
    assert primitive_value_to_str(True) == "true"
    assert primitive_value_to_str(0) == "0"
    with pytest.raises(TypeError, match="not bytes"):
        primitive_value_to_str(b"x")  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------------

no_surrogates = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(no_surrogates, no_surrogates), max_size=6))
def test_round_trip_through_text(pairs: list[tuple[str, str]]) -> None:
    q = QueryParams(pairs)
    text = str(q)
    assert text.isascii()
    again = QueryParams(text)
    assert again.multi_items() == q.multi_items()
    assert encode_form(pairs) == text.encode("ascii")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses(text: str) -> None:
    q = QueryParams(text)
    for key, value in q.multi_items():
        assert isinstance(key, str)
        assert isinstance(value, str)
