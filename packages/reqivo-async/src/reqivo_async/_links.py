"""``parse_link_header``: the ``Link`` header field (RFC 8288) as ``Response.links`` shows it.

A field value is a comma-separated list of links, each ``<uri-reference>`` followed by
``;``-separated parameters (``rel="next"``, ``title*=UTF-8''...``, ``anchor=...``)::

    Link: <https://api.example.com/items?page=3>; rel="next", </items?page=9>; rel=last

Each link becomes a dict: ``"url"`` (the target as written, not resolved against the
request URL, as requests and httpx leave it) plus one entry per parameter, its name
lowercased (RFC 8288 section 3: parameter names are case-insensitive) and its value
unquoted (a quoted-string may hold ``,`` and ``;``; ``\\`` escapes the next character).
A parameter without a value maps to ``""``; the first occurrence of a name wins (RFC
8288 section 3.3 says to ignore later ``rel`` parameters).

The parser is lenient, as a client's should be: a member that does not start with
``<`` is skipped up to the next top-level comma, and an unterminated ``<`` or quote ends
at the end of the value. It never raises on what a server sends.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["links_by_key", "parse_link_header"]

_SPACE = " \t"


def parse_link_header(value: str) -> list[dict[str, str]]:
    """The links of one ``Link`` field value, in order (see the module docstring)."""
    links: list[dict[str, str]] = []
    end = len(value)
    i = 0
    while i < end:
        while i < end and value[i] in _SPACE + ",":
            i += 1
        if i >= end:
            break
        if value[i] != "<":
            i = _skip_member(value, i)
            continue
        close = value.find(">", i + 1)
        if close < 0:
            close = end
        link = {"url": value[i + 1 : close].strip(_SPACE)}
        i = close + 1
        while True:
            while i < end and value[i] in _SPACE:
                i += 1
            if i >= end or value[i] != ";":
                break
            i, name, param = _parameter(value, i + 1)
            if name and name not in link:
                link[name] = param
        links.append(link)
        i = _skip_member(value, i)
    return links


def links_by_key(values: Iterable[str]) -> dict[str, dict[str, str]]:
    """The links of several ``Link`` field values keyed by ``rel`` (or ``url`` without it).

    As requests and httpx do, a later link with the same key replaces an earlier one.
    """
    return {
        link.get("rel") or link["url"]: link
        for value in values
        for link in parse_link_header(value)
    }


def _parameter(value: str, i: int) -> tuple[int, str, str]:
    """One ``name[=value]`` starting at ``i``: (index after it, lowercased name, value)."""
    end = len(value)
    start = i
    while i < end and value[i] not in "=;,":
        i += 1
    name = value[start:i].strip(_SPACE).lower()
    if i >= end or value[i] != "=":
        return i, name, ""
    i += 1
    while i < end and value[i] in _SPACE:
        i += 1
    if i < end and value[i] == '"':
        chars: list[str] = []
        i += 1
        while i < end and value[i] != '"':
            if value[i] == "\\" and i + 1 < end:
                i += 1
            chars.append(value[i])
            i += 1
        return i + 1, name, "".join(chars)
    start = i
    while i < end and value[i] not in ";,":
        i += 1
    return i, name, value[start:i].strip(_SPACE)


def _skip_member(value: str, i: int) -> int:
    """The index of the next top-level ``,`` from ``i`` (quotes and ``<...>`` skipped)."""
    end = len(value)
    while i < end:
        char = value[i]
        if char == ",":
            return i
        if char == '"':
            i += 1
            while i < end and value[i] != '"':
                i += 2 if value[i] == "\\" else 1
        elif char == "<":
            close = value.find(">", i + 1)
            i = end if close < 0 else close
        i += 1
    return end
