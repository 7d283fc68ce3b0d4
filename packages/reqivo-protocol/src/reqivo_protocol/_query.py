"""Query parameters and ``application/x-www-form-urlencoded`` bodies.

``QueryParams`` is an ordered multi-dict of ``str`` pairs. It never changes in place:
``set``, ``add``, ``remove`` and ``merge`` return new objects, so a ``URL`` can hand
out its parameters without copying defensively.

Values are normalised as httpx does: ``True``/``False`` become ``"true"``/``"false"``,
``None`` becomes ``""``, numbers their ``str()``; a list or tuple value gives the key
once per item.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from reqivo_protocol._exceptions import LocalProtocolError

__all__ = [
    "PrimitiveData",
    "QueryParamTypes",
    "QueryParams",
    "encode_form",
    "primitive_value_to_str",
]

PrimitiveData: TypeAlias = "str | int | float | bool | None"
"""A value accepted for a query parameter or form field."""

QueryParamTypes: TypeAlias = (
    "QueryParams"
    " | Mapping[str, PrimitiveData | Sequence[PrimitiveData]]"
    " | Sequence[tuple[str, PrimitiveData]]"
    " | str"
    " | bytes"
)
"""Everything ``QueryParams(...)`` and ``encode_form(...)`` accept."""


def primitive_value_to_str(value: PrimitiveData) -> str:
    """Render one parameter value as httpx does (``True`` -> ``"true"``, ``None`` -> ``""``)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(
        f"query parameter and form values must be str, int, float, bool or None, "
        f"not {type(value).__name__}: {value!r}"
    )


def _key_to_str(key: Any) -> str:
    if isinstance(key, str):
        return key
    raise TypeError(f"query parameter and form keys must be str, not {type(key).__name__}")


def _to_pairs(params: Any) -> tuple[tuple[str, str], ...]:
    if params is None:
        return ()
    if isinstance(params, QueryParams):
        return params._pairs
    if isinstance(params, bytes):
        params = params.decode("ascii", errors="replace")
    if isinstance(params, str):
        if not params:
            return ()
        if params[0] == "?":
            params = params[1:]
        from urllib.parse import parse_qsl  # lazily, like every urllib.parse use here

        # parse_qsl keeps malformed %-escapes as they are and replaces invalid UTF-8.
        return tuple(parse_qsl(params, keep_blank_values=True))
    pairs: list[tuple[str, str]] = []
    append = pairs.append
    if isinstance(params, Mapping):
        for key, value in params.items():
            key = _key_to_str(key)
            if isinstance(value, list | tuple):
                for item in value:
                    append((key, primitive_value_to_str(item)))
            else:
                append((key, primitive_value_to_str(value)))
        return tuple(pairs)
    if isinstance(params, list | tuple):
        for item in params:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise TypeError(f"query parameter pairs must be (key, value) tuples, not {item!r}")
            append((_key_to_str(item[0]), primitive_value_to_str(item[1])))
        return tuple(pairs)
    raise TypeError(
        "query parameters must be a str, bytes, a mapping, a list of pairs or QueryParams, "
        f"not {type(params).__name__}"
    )


def _encode_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    # urllib.parse (and the ipaddress it imports) is loaded on first use: import time.
    from urllib.parse import quote_plus

    try:
        return "&".join(
            [quote_plus(key, safe="*") + "=" + quote_plus(value, safe="*") for key, value in pairs]
        )
    except UnicodeEncodeError as exc:
        # Only a lone surrogate ("\ud800") cannot be encoded as UTF-8.
        bad = exc.object[exc.start : exc.end]
        raise LocalProtocolError(
            f"query parameter or form field is not valid Unicode: {bad!r}"
        ) from None


class QueryParams(Mapping[str, str]):
    """An immutable, ordered multi-dict of query parameters.

    ``QueryParams("a=1&b=2&a=3")``, ``QueryParams({"a": ["1", "3"], "b": 2})``,
    ``QueryParams([("a", "1")])`` and ``QueryParams(other)`` are all accepted.
    Mapping access (``params["a"]``, ``get``, ``items``, ``len``) sees the first value
    of each key; ``get_list`` and ``multi_items`` see every value. ``str()`` gives the
    ``application/x-www-form-urlencoded`` form (space as ``+``).
    """

    __slots__ = ("_pairs",)

    _pairs: tuple[tuple[str, str], ...]

    def __init__(self, params: QueryParamTypes | None = None) -> None:
        self._pairs = _to_pairs(params)

    @classmethod
    def _from_pairs(cls, pairs: tuple[tuple[str, str], ...]) -> QueryParams:
        obj = cls.__new__(cls)
        obj._pairs = pairs
        return obj

    # -- reading --------------------------------------------------------------------

    def __getitem__(self, key: str) -> str:
        for k, v in self._pairs:
            if k == key:
                return v
        raise KeyError(key)

    def get_list(self, key: str) -> list[str]:
        """Every value of ``key``, in order (an empty list when absent)."""
        return [v for k, v in self._pairs if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` pair, in order, repeated keys included."""
        return list(self._pairs)

    def _unique_keys(self) -> dict[str, None]:
        return dict.fromkeys(k for k, _ in self._pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._unique_keys())

    def __len__(self) -> int:
        return len(self._unique_keys())

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._pairs)

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryParams):
            try:
                other = QueryParams(other)  # type: ignore[arg-type]
            except TypeError:
                return NotImplemented
        return sorted(self._pairs) == sorted(other._pairs)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._pairs)))

    def __str__(self) -> str:
        return _encode_pairs(self._pairs)

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"

    # -- deriving new objects ---------------------------------------------------------

    def set(self, key: str, value: PrimitiveData) -> QueryParams:
        """A copy where ``key`` has the single ``value`` (at the place of its first value)."""
        key = _key_to_str(key)
        new = primitive_value_to_str(value)
        pairs: list[tuple[str, str]] = []
        placed = False
        for k, v in self._pairs:
            if k != key:
                pairs.append((k, v))
            elif not placed:
                pairs.append((key, new))
                placed = True
        if not placed:
            pairs.append((key, new))
        return QueryParams._from_pairs(tuple(pairs))

    def add(self, key: str, value: PrimitiveData) -> QueryParams:
        """A copy with one more ``(key, value)`` pair at the end."""
        pair = (_key_to_str(key), primitive_value_to_str(value))
        return QueryParams._from_pairs((*self._pairs, pair))

    def remove(self, key: str) -> QueryParams:
        """A copy without any value of ``key``."""
        return QueryParams._from_pairs(tuple(p for p in self._pairs if p[0] != key))

    def merge(self, params: QueryParamTypes | None = None) -> QueryParams:
        """A copy where the keys present in ``params`` take ``params``' values.

        Keys of ``params`` replace every value of the same key here (their values keep
        the order of ``params``); other keys are kept as they are.
        """
        other = _to_pairs(params)
        if not other:
            return self
        if not self._pairs:
            return QueryParams._from_pairs(other)
        replaced = {k for k, _ in other}
        kept = tuple(p for p in self._pairs if p[0] not in replaced)
        return QueryParams._from_pairs(kept + other)


def encode_form(data: QueryParamTypes) -> bytes:
    """Encode ``data`` as an ``application/x-www-form-urlencoded`` body.

    Accepts what ``QueryParams`` accepts; ``{"k": ["a", "b"]}`` repeats the key.
    """
    return _encode_pairs(_to_pairs(data)).encode("ascii")
