"""charset_from_content_type, TextDecoder and LineDecoder."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import DecodingError, LimitExceeded, LineTooLong
from reqivo_protocol.content import LineDecoder, TextDecoder, charset_from_content_type


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("text/html", None),
        ("text/html; charset=utf-8", "utf-8"),
        ("text/html;charset=ISO-8859-1", "ISO-8859-1"),
        ('text/html; CHARSET="latin-1"', "latin-1"),
        ('text/plain; format="a;charset=x"; charset=koi8-r', "koi8-r"),
        ('text/plain; charset="ut\\"f"', 'ut"f'),
        ('text/plain; charset="unterminated', "unterminated"),
        ('text/plain; charset="', None),
        ("text/plain; charset=", None),
        ("text/plain; charset = utf-8 ; q=1", "utf-8"),
        ("text/plain; junk; charset=utf-16", "utf-16"),
        ("text/plain; charset=a; charset=b", "a"),
        ("text/plain; charsetx=a", None),
    ],
)
def test_charset_from_content_type(value: str | None, expected: str | None) -> None:
    assert charset_from_content_type(value) == expected


def test_text_decoder_charset_and_fallbacks() -> None:
    assert TextDecoder.from_content_type("text/plain; charset=latin-1").encoding == "iso8859-1"
    assert TextDecoder.from_content_type("application/json").encoding == "utf-8-sig"
    assert TextDecoder.from_content_type("text/plain; charset=bogus").encoding == "utf-8-sig"
    # bytes-to-bytes codecs are not text encodings: never used to decode a body.
    assert TextDecoder("zlib").encoding == "utf-8-sig"
    assert TextDecoder(None, default_encoding="cp1252").encoding == "cp1252"
    with pytest.raises(LookupError):
        TextDecoder(None, default_encoding="nope")


def test_text_decoder_split_multibyte_and_bom() -> None:
    d = TextDecoder("utf-8")
    data = "\ufeffhé€😀".encode()
    out = "".join(d.decode(data[i : i + 1]) for i in range(len(data))) + d.flush()
    assert out == "hé€😀"


def test_text_decoder_replace_and_strict() -> None:
    d = TextDecoder("utf-8")
    assert d.decode(b"a\xff") + d.flush() == "a\ufffd"
    d = TextDecoder("utf-8")
    assert d.decode(b"a\xe2\x82") == "a"
    assert d.flush() == "\ufffd"
    strict = TextDecoder("utf-8", errors="strict")
    with pytest.raises(DecodingError, match="not valid utf-8") as info:
        strict.decode(b"\xff")
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    strict = TextDecoder("utf-8", errors="strict")
    strict.decode(b"\xe2\x82")
    with pytest.raises(DecodingError):
        strict.flush()


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=200),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "gb18030", "shift_jis", "latin-1"]),
    cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=8),
)
def test_text_decoder_split_invariance(text: str, encoding: str, cuts: list[int]) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    d = TextDecoder(encoding)
    out = "".join(d.decode(data[a:b]) for a, b in itertools.pairwise(bounds))
    out += d.flush()
    expected = data.decode(d.encoding, "replace")
    assert out == expected


# -- lines --------------------------------------------------------------------------


def lines_of(chunks: list[str], **kwargs: int) -> list[str]:
    d = LineDecoder(**kwargs)
    out: list[str] = []
    for chunk in chunks:
        out += d.decode(chunk)
    return out + d.flush()


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["a\nb\r\nc\rd"], ["a", "b", "c", "d"]),
        (["a\r", "\nb"], ["a", "b"]),
        (["a\r", "", "\nb"], ["a", "b"]),
        (["a\r", "\r\nb\n"], ["a", "", "b"]),
        (["\n\n"], ["", ""]),
        (["ab", "cd", "e\nf", "g"], ["abcde", "fg"]),
        (["a\u2028b\x85c\n"], ["a\u2028b\x85c"]),
        ([""], []),
        (["x\r"], ["x"]),
    ],
)
def test_line_decoder(chunks: list[str], expected: list[str]) -> None:
    assert lines_of(chunks) == expected


def test_line_decoder_delivers_cr_line_at_once() -> None:
    d = LineDecoder()
    assert d.decode("event: x\r") == ["event: x"]
    assert d.decode("\n") == []
    assert d.flush() == []


def test_line_decoder_max_line_length() -> None:
    assert lines_of(["abc\nde"], max_line_length=3) == ["abc", "de"]
    with pytest.raises(LineTooLong, match="max_line_length") as info:
        lines_of(["ab", "cd"], max_line_length=3)
    assert isinstance(info.value, LimitExceeded)
    assert info.value.limit == 3
    assert info.value.limit_name == "max_line_length"
    with pytest.raises(LineTooLong):
        lines_of(["abcd\n"], max_line_length=3)
    with pytest.raises(LineTooLong):
        lines_of(["ab", "cd\nx"], max_line_length=3)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab\r\n\u2028"), max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=100), max_size=10),
)
def test_line_decoder_split_invariance(text: str, cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    bounds = [0, *points, len(text)]
    chunks = [text[a:b] for a, b in itertools.pairwise(bounds)]
    expected = re.split(r"\r\n|\r|\n", text)
    if expected[-1] == "":
        expected.pop()
    assert lines_of(chunks) == expected
