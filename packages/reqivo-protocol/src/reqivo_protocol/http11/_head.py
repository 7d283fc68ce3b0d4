"""Parsing of response heads and trailer sections (RFC 9112 sections 2, 4 and 5).

Strategy: find the blank line that ends the head with ``bytes.find`` (remembering how far
the previous search went), then validate the whole block with a few C-speed scans and
split it into lines once. Python-level work per header field is one ``partition``, one
``strip`` and one ``append``; field names are checked together with one regular
expression over their concatenation. Precise error messages are computed only on the
error path.

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
from typing import Final

from reqivo_protocol._exceptions import (
    HeadersTooLarge,
    RemoteProtocolError,
    TooManyHeaders,
)

__all__ = ["find_blank_line", "parse_fields", "parse_status_head"]

_BAD_CTL: Final = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOKEN: Final = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_VERSIONS: Final = {"HTTP/1.1 ": "1.1", "HTTP/1.0 ": "1.0"}
_DIGITS: Final = frozenset("0123456789")


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
    """Split a head block (ending with its blank line) into lines, checking bytes."""
    crs = block.count(b"\r")
    crlfs = block.count(b"\r\n")
    if crs != crlfs:
        raise RemoteProtocolError(
            f"bare CR in {what} at byte {_bare_cr_offset(block)}: {_excerpt(block)}"
        )
    bad = _BAD_CTL.search(block)
    if bad is not None:
        raise RemoteProtocolError(
            f"invalid control character {bad.group()!r} in {what} at byte {bad.start()}: "
            f"{_excerpt(block)}"
        )
    text = block.decode("latin-1")
    if block.count(b"\n") != crlfs:
        text = text.replace("\r\n", "\n")
        return text.split("\n")[:-2]
    return text.split("\r\n")[:-2]


def parse_status_head(
    block: bytes, max_header_count: int
) -> tuple[str, int, str, list[tuple[str, str]]]:
    """Parse a complete response head: ``(http_version, status_code, reason, fields)``."""
    lines = split_lines(block, "response head")
    if len(lines) - 1 > max_header_count:
        raise TooManyHeaders(
            f"response head has {len(lines) - 1} header fields, more than "
            f"max_header_count={max_header_count}",
            limit_name="max_header_count",
            limit=max_header_count,
        )
    line = lines[0]
    version = _VERSIONS.get(line[:9])
    code = line[9:12]
    if (
        version is None
        or len(code) != 3
        or not _DIGITS.issuperset(code)
        or code[0] == "0"
        or (len(line) > 12 and line[12] != " ")
    ):
        raise RemoteProtocolError(_status_line_error(line))
    return version, int(code), line[13:], parse_fields(lines, 1, "response head")


def parse_fields(lines: list[str], first: int, what: str) -> list[tuple[str, str]]:
    """Parse ``lines[first:]`` as field lines into ``(name, value)`` pairs."""
    fields: list[tuple[str, str]] = []
    names: list[str] = []
    append = fields.append
    add_name = names.append
    for index in range(first, len(lines)):
        name, colon, value = lines[index].partition(":")
        if not colon:
            raise RemoteProtocolError(_field_error(lines, index, what))
        add_name(name)
        append((name, value.strip(" \t")))
    if names and (not _TOKEN.fullmatch("".join(names)) or "" in names):
        for index in range(first, len(lines)):
            if not _TOKEN.fullmatch(lines[index].partition(":")[0]):
                raise RemoteProtocolError(_field_error(lines, index, what))
    return fields


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
