"""``Headers``: a case-insensitive, ordered, multi-valued mapping of header fields.

Names compare case-insensitively and keep the spelling they were given. A name may
appear several times; ``headers[name]`` joins the values with ``", "`` (RFC 9110
section 5.3), ``get_list(name)`` returns them one by one, and ``multi_items()`` gives
every field in order. Bytes are decoded as Latin-1, the historical encoding of header
values, so any byte string round-trips.

Headers accept only ``str`` and ``bytes`` names and values (anything else is a ``TypeError``
naming the header, raised where the headers are built). They do not validate field syntax:
the request serializer does, before anything is sent (see ``LocalProtocolError``), and the
response parser does on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias, overload

__all__ = ["SENSITIVE_HEADERS", "HeaderTypes", "Headers"]

_StrOrBytes: TypeAlias = str | bytes
HeaderTypes: TypeAlias = (
    "Headers | Mapping[str, str] | Mapping[bytes, bytes]"
    " | Iterable[tuple[_StrOrBytes, _StrOrBytes]]"
)

#: Header names whose values ``repr()`` hides (credentials and session tokens).
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)

_MISSING = object()


def _to_str(value: object, name: object = None) -> str:
    """``value`` as a string (bytes decoded as Latin-1); ``TypeError`` for anything else.

    ``name`` is the field's name when ``value`` is its value (for the message). Checked
    here, when headers are built, so a programming mistake such as ``{"X-Num": 5}`` is a
    ``TypeError`` naming the header rather than a transport error after connecting.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    what = "header name" if name is None else f"the value of header {_to_str(name)!r}"
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}: {value!r}")


class Headers:
    """A case-insensitive, ordered, multi-valued mapping of HTTP header fields."""

    __slots__ = ("_fields",)

    _fields: list[tuple[str, str, str]]  # (name as given, lower-case name, value)

    def __init__(self, headers: HeaderTypes | None = None) -> None:
        self._fields = []
        if headers is None:
            return
        if isinstance(headers, Headers):
            self._fields = list(headers._fields)
            return
        items: Iterable[tuple[_StrOrBytes, _StrOrBytes]]
        items = headers.items() if isinstance(headers, Mapping) else headers
        fields = self._fields
        for name, value in items:
            if type(name) is not str or type(value) is not str:
                name, value = _to_str(name), _to_str(value, name)
            fields.append((name, name.lower(), value))

    @classmethod
    def from_fields(cls, fields: Iterable[tuple[str, str]]) -> Headers:
        """Build headers from ``(name, value)`` string pairs without copying checks.

        This is the fast path the response parser uses; the pairs are trusted to be
        strings already.
        """
        headers = cls.__new__(cls)
        headers._fields = [(name, name.lower(), value) for name, value in fields]
        return headers

    @classmethod
    def _from_triples(cls, fields: list[tuple[str, str, str]]) -> Headers:
        """Adopt ``(name, lower-case name, value)`` triples as they are: no copy, no checks.

        Internal: the HTTP/1.1 parser builds its fields in this layout directly, which
        saves a second pass lower-casing every name.
        """
        headers = cls.__new__(cls)
        headers._fields = fields
        return headers

    # -- reading ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> str:
        key = name.lower()
        values = [value for _, lower, value in self._fields if lower == key]
        if not values:
            raise KeyError(name)
        return values[0] if len(values) == 1 else ", ".join(values)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: None) -> str | None: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name`` (several values joined by ``", "``), or ``default``."""
        try:
            return self[name]
        except KeyError:
            return default

    def get_list(self, name: str, *, split_commas: bool = False) -> list[str]:
        """Every value of ``name`` in order; with ``split_commas``, comma-separated
        list elements are returned one by one (not for ``Set-Cookie``)."""
        key = name.lower()
        values = [value for _, lower, value in self._fields if lower == key]
        if not split_commas:
            return values
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return any(lower == key for _, lower, _ in self._fields)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        """The number of distinct names."""
        return len(self.keys())

    def keys(self) -> list[str]:
        """Distinct names in order of first appearance, as first spelled."""
        seen: dict[str, str] = {}
        for name, lower, _ in self._fields:
            seen.setdefault(lower, name)
        return list(seen.values())

    def values(self) -> list[str]:
        """The value of each distinct name (multiple values joined by ``", "``)."""
        return [self[name] for name in self.keys()]

    def items(self) -> list[tuple[str, str]]:
        """``(name, value)`` per distinct name, multiple values joined by ``", "``."""
        return [(name, self[name]) for name in self.keys()]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every field as ``(name, value)``, in order, repeated names kept."""
        return [(name, value) for name, _, value in self._fields]

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """Every field as Latin-1 encoded bytes, in order."""
        return [
            (name.encode("latin-1"), value.encode("latin-1")) for name, _, value in self._fields
        ]

    # -- writing ---------------------------------------------------------------------

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every field called ``name`` by one field with ``value``."""
        key = name.lower()
        position = next((i for i, (_, lower, _) in enumerate(self._fields) if lower == key), None)
        self._fields = [field for field in self._fields if field[1] != key]
        entry = (name, key, _to_str(value, name))
        if position is None:
            self._fields.append(entry)
        else:
            self._fields.insert(position, entry)

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        kept = [field for field in self._fields if field[1] != key]
        if len(kept) == len(self._fields):
            raise KeyError(name)
        self._fields = kept

    def add(self, name: str, value: str) -> None:
        """Append a field, keeping any existing fields with the same name."""
        self._fields.append((name, name.lower(), _to_str(value, name)))

    def setdefault(self, name: str, value: str) -> str:
        """Set ``name`` to ``value`` unless present; return the resulting value."""
        if name not in self:
            self.add(name, value)
            return value
        return self[name]

    def pop(self, name: str, default: object = _MISSING) -> str:
        """Remove every field called ``name`` and return its joined value."""
        try:
            value = self[name]
        except KeyError:
            if default is _MISSING:
                raise
            return default  # type: ignore[return-value]
        del self[name]
        return value

    def update(self, headers: HeaderTypes | None = None) -> None:
        """Replace the fields named in ``headers`` by the values given there."""
        other = Headers(headers)
        for key in {lower for _, lower, _ in other._fields}:
            self._fields = [field for field in self._fields if field[1] != key]
        self._fields.extend(other._fields)

    def copy(self) -> Headers:
        """A shallow copy."""
        return Headers(self)

    # -- comparison and display ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            mine = sorted((lower, value) for _, lower, value in self._fields)
            theirs = sorted((lower, value) for _, lower, value in other._fields)
            return mine == theirs
        if isinstance(other, Mapping | list):
            try:
                return self == Headers(other)
            except (TypeError, ValueError, AttributeError):
                return False
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = [
            (name, "[secure]" if lower in SENSITIVE_HEADERS else value)
            for name, lower, value in self._fields
        ]
        return f"Headers({shown!r})"
