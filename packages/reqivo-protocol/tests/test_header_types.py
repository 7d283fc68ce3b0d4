"""Header names and values are ``str`` or ``bytes``; anything else is a ``TypeError``
naming the header, raised where the headers are built."""

from __future__ import annotations

import pytest

from reqivo_protocol import Headers


def test_other_types_are_a_type_error_naming_the_header() -> None:
    with pytest.raises(TypeError, match=r"^the value of header 'X-Num' must be str or bytes"):
        Headers({"X-Num": 5})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^the value of header 'X-Raw' must be str or bytes"):
        Headers([(b"X-Raw", None)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^header name must be str or bytes, not int: 7$"):
        Headers([(7, "v")])  # type: ignore[list-item]
    headers = Headers()
    with pytest.raises(TypeError, match="'X-Set'"):
        headers["X-Set"] = 1.5  # type: ignore[assignment]
    with pytest.raises(TypeError, match="'X-Add'"):
        headers.add("X-Add", ["a"])  # type: ignore[arg-type]
    assert not headers


def test_str_subclasses_and_bytes_are_accepted() -> None:
    class Token(str):
        pass

    headers = Headers([(Token("X-Token"), Token("t")), (b"X-Bytes", b"caf\xe9")])
    assert headers.multi_items() == [("X-Token", "t"), ("X-Bytes", "café")]
