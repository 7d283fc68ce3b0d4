"""Parsing of response heads and trailer sections (RFC 9112 sections 2, 4 and 5).

Strategy: find the blank line that ends the head with ``bytes.find`` (remembering how far
the previous search went), then validate the whole block with a few C-speed scans and
split it into lines once. Python-level work per header field is one ``partition``, one
``lower``, one ``strip`` and one ``append`` of the ``(name, lower-case name, value)``
triple that ``Headers`` stores (so it adopts the list without a second pass); field names
are checked together with one regular expression over their concatenation. Precise
error messages are computed only on the error path.

Decisions (also recorded in ADR-003):

* Line endings: CRLF, and also a bare LF, which RFC 9112 section 2.2 allows a recipient
  to accept (h11 does too; llhttp needs a lenient flag). A bare CR anywhere in the head
  is refused.
* Obsolete line folding (a line starting with SP or HTAB) is refused, as h11 does: it is
  deprecated (RFC 9112 section 5.2) and a classic request-smuggling vector.
* Control characters other than HTAB in a status line or field are refused.
* Status line: ``HTTP/1.1`` or ``HTTP/1.0``, SP, exactly three digits (100-999), then
  an optional SP and reason phrase (the reason may be empty, the SP may be missing).
* Whitespace between a field name and the colon is refused (RFC 9112 section 5.1).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Final, TypeAlias

from reqivo_protocol._accelerators import available
from reqivo_protocol._exceptions import (
    HeadersTooLarge,
    RemoteProtocolError,
    TooManyHeaders,
)

__all__ = [
    "ACCELERATED",
    "Fields",
    "check_size",
    "field_values",
    "find_blank_line",
    "parse_fields",
    "parse_status_head",
    "parse_status_head_python",
    "split_lines",
]

#: Bytes allowed in a status line or field line: HTAB, SP, VCHAR, obs-text.
_ALLOWED: Final = bytes([9, *range(32, 127), *range(128, 256)])
_CRLFS: Final = b"\r\n" * 4096


class _Tables:
    """This module's regular expressions and status table, each built on first use
    (building them at import would cost every client import time)."""

    @cached_property
    def bad_ctl(self) -> re.Pattern[bytes]:
        return re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

    @cached_property
    def token(self) -> re.Pattern[str]:
        return re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")

    @cached_property
    def status(self) -> dict[str, tuple[str, int]]:
        """Every valid start of a status line (``HTTP/1.1 200``) -> (version, status
        code): one dict lookup checks the version, the three digits and the range
        100-999 at once."""
        return {
            f"HTTP/{version} {code}": (version, code)
            for version in ("1.1", "1.0")
            for code in range(100, 1000)
        }


_tables: Final = _Tables()

#: Parsed header fields: ``(name, lower-case name, value)`` triples.
Fields: TypeAlias = list[tuple[str, str, str]]


def find_blank_line(data: bytes | bytearray, start: int, stop: int) -> int:
    """Index just past the first blank line (``LF [CR] LF``) in ``data[start:stop]``, or -1.

    ``start`` must be at a line start or after the first byte of the block, so that a
    blank line at the very beginning (an empty trailer section) is handled by the
    caller.
    """
    crlf = data.find(b"\n\r\n", start, stop)
    bare = data.find(b"\n\n", start, stop if crlf < 0 else crlf + 1)
    if bare >= 0:
        return bare + 2
    if crlf >= 0:
        return crlf + 3
    return -1


def split_lines(block: bytes, what: str) -> list[str]:
    """Split a head block (ending with its blank line) into lines, checking its bytes.

    One ``translate`` deletes every byte allowed in a field line; what remains must be
    line endings only. For a CRLF head that is ``CRLF`` repeated, checked by one
    comparison; anything else takes the slower path (bare LF endings, or an error).
    """
    rest = block.translate(None, _ALLOWED)
    if rest != _CRLFS[: len(rest)] or block.count(b"\r\n") * 2 != len(rest):
        return _split_lenient(block, what)
    return block.decode("latin-1").split("\r\n")[:-2]


def _split_lenient(block: bytes, what: str) -> list[str]:
    if block.count(b"\r") != block.count(b"\r\n"):
        raise RemoteProtocolError(
            f"bare CR in {what} at byte {_bare_cr_offset(block)}: {_excerpt(block)}"
        )
    bad = _tables.bad_ctl.search(block)
    if bad is not None:
        raise RemoteProtocolError(
            f"invalid control character {bad.group()!r} in {what} at byte {bad.start()}: "
            f"{_excerpt(block)}"
        )
    return block.decode("latin-1").replace("\r\n", "\n").split("\n")[:-2]


def field_values(fields: Fields, lowers: list[str], name: str) -> list[str]:
    """The values of the field ``name`` (lower-case), in order.

    ``lowers`` holds the lower-case names of ``fields``: searching it takes C-level
    ``count``/``index`` calls instead of a Python loop over the fields (cheaper on the
    usual head, where a framing field appears once or not at all).
    """
    count = lowers.count(name)
    if count == 1:
        return [fields[lowers.index(name)][2]]
    if not count:
        return []
    return [value for _, lower, value in fields if lower == name]


def parse_status_head_python(
    block: bytes, max_header_count: int
) -> tuple[str, int, str, Fields, list[str]]:
    """Parse a complete response head: ``(http_version, status_code, reason, fields,
    lowers)``, the fields and their lower-case names as ``parse_fields`` gives them.

    The reference implementation; ``parse_status_head`` is the compiled one when it was
    built (ADR-016), which gives the same result for a head in strict form and hands any
    other to this one."""
    lines = split_lines(block, "response head")
    if len(lines) - 1 > max_header_count:
        raise TooManyHeaders(
            f"response head has {len(lines) - 1} header fields, more than "
            f"max_header_count={max_header_count}",
            limit_name="max_header_count",
            limit=max_header_count,
        )
    line = lines[0]
    status = _tables.status.get(line[:12])
    if status is None or (len(line) > 12 and line[12] != " "):
        raise RemoteProtocolError(_status_line_error(line))
    version, code = status
    fields, lowers = parse_fields(lines, 1, "response head")
    return version, code, line[13:], fields, lowers


#: Whether response heads are parsed by the compiled extension (``False``: pure Python).
ACCELERATED: Final = available("reqivo_protocol.http11._speedups")

if ACCELERATED:
    from reqivo_protocol.http11._speedups import parse_status_head as parse_status_head_strict

    def parse_status_head(
        block: bytes, max_header_count: int
    ) -> tuple[str, int, str, Fields, list[str]]:
        """``parse_status_head_python``'s result, computed in C for a head in strict form
        (CRLF line endings, no control characters, token names, within the count)."""
        parsed = parse_status_head_strict(block, max_header_count)
        if parsed is None:
            return parse_status_head_python(block, max_header_count)
        return parsed

else:  # pragma: no cover - a pure-Python build
    parse_status_head = parse_status_head_python


def parse_fields(lines: list[str], first: int, what: str) -> tuple[Fields, list[str]]:
    """Parse ``lines[first:]`` as field lines: ``(fields, lowers)``.

    ``fields`` holds ``(name, lower-case name, value)`` triples, the layout ``Headers``
    keeps (it adopts the list, see ``Headers._from_triples``); ``lowers`` the lower-case
    names alone, for C-level searches (``field_values``) and for checking every name at
    once (a name is a token exactly when its lower-case form is one).
    """
    fields: Fields = []
    lowers: list[str] = []
    append = fields.append
    append_lower = lowers.append
    for line in lines[first:] if first else lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise RemoteProtocolError(_field_error(lines, lines.index(line, first), what))
        lower = name.lower()
        append((name, lower, value.strip(" \t")))
        append_lower(lower)
    if lowers and (not _tables.token.fullmatch("".join(lowers)) or "" in lowers):
        index = next(i for i, name in enumerate(lowers, first) if not _tables.token.fullmatch(name))
        raise RemoteProtocolError(_field_error(lines, index, what))
    return fields, lowers


def check_size(size: int, limit: int, what: str) -> None:
    """Raise ``HeadersTooLarge`` if ``size`` bytes of a head exceed ``limit``."""
    if size > limit:
        raise HeadersTooLarge(
            f"{what} exceeds max_header_size={limit} bytes",
            limit_name="max_header_size",
            limit=limit,
        )


# -- error messages (cold path) -----------------------------------------------------------


def _excerpt(data: bytes | str, size: int = 80) -> str:
    raw = data if isinstance(data, bytes) else data.encode("latin-1")
    return repr(raw[:size]) + ("..." if len(raw) > size else "")


def _bare_cr_offset(block: bytes) -> int:
    index = block.find(b"\r")
    while block[index + 1 : index + 2] == b"\n":
        index = block.find(b"\r", index + 1)
    return index


def _status_line_error(line: str) -> str:
    if line.startswith("HTTP/") and line[5:8] not in ("1.1", "1.0"):
        return f"unsupported HTTP version in status line: {_excerpt(line)}"
    return f"invalid status line: {_excerpt(line)}"


def _field_error(lines: list[str], index: int, what: str) -> str:
    line = lines[index]
    where = f"in {what} at line {index + 1}"
    if line[:1] in (" ", "\t"):
        return f"obsolete line folding (obs-fold) is not supported {where}: {_excerpt(line)}"
    if ":" not in line:
        return f"header line without a colon {where}: {_excerpt(line)}"
    return f"invalid header name {where}: {_excerpt(line.partition(':')[0])}"
