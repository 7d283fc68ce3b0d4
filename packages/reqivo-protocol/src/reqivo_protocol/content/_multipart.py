"""A streaming ``multipart/form-data`` encoder (RFC 7578, WHATWG HTML form encoding).

Fields and files follow requests and httpx::

    MultipartEncoder(
        data={"name": "value", "tags": ["a", "b"]},
        files={"upload": ("report.csv", open("report.csv", "rb"), "text/csv")},
    )

Everything that goes into a part's header is checked when the encoder is built, so a
refused input raises ``LocalProtocolError`` before any byte is produced. Names and
filenames are escaped as browsers do (``"`` -> ``%22``, CR -> ``%0D``, LF -> ``%0A``) and
sent as raw UTF-8: RFC 7578 section 4.2 forbids the ``filename*`` form. File contents are
read in 64 KiB chunks as the body is iterated, never whole.

``content_length`` is known when every file's size is: bytes and str contents, and
seekable files (measured with seek/tell, without reading). A seekable file is rewound to
the position it had when the encoder was built each time the body is iterated, so the
same encoder can be sent again (a redirect, a retry). If such a file's size changes under
us, iterating raises ``LocalProtocolError`` instead of sending a body that disagrees with
its ``Content-Length``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, TypeAlias

from reqivo_protocol._exceptions import LocalProtocolError

__all__ = ["FieldValue", "FileContent", "FileSpec", "MultipartEncoder"]

FieldValue: TypeAlias = "str | bytes | int | float | bool | None"
FileContent: TypeAlias = "bytes | str | IO[bytes]"
FileSpec: TypeAlias = (
    "FileContent"
    " | tuple[str | None, FileContent]"
    " | tuple[str | None, FileContent, str | None]"
    " | tuple[str | None, FileContent, str | None, Mapping[str, str]]"
)

_CHUNK = 64 * 1024
_CRLF = b"\r\n"
_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 2046 section 5.1.1: 1 to 70 of these, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_BAD_VALUE = re.compile(r"[\x00\r\n]")


def _utf8(value: str, what: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"{what} {value!r} cannot be encoded as UTF-8") from exc


def _escape_name(value: str, what: str) -> bytes:
    if "\x00" in value:
        raise LocalProtocolError(f"{what} {value!r} contains a NUL character")
    return _utf8(value.translate(_ESCAPES), what)


def _field_bytes(value: object, name: str) -> bytes:
    if isinstance(value, str):
        return _utf8(value, f"the value of form field {name!r}")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        return str(value).encode("ascii")
    raise TypeError(
        f"form field {name!r}: expected str, bytes, int, float, bool or None, "
        f"got {type(value).__name__}"
    )


def _items(mapping: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    if mapping is None:
        return []
    if isinstance(mapping, Mapping):
        return list(mapping.items())
    return list(mapping)


class _Part:
    """One part: its header bytes and its content (bytes, or a file to stream)."""

    __slots__ = ("content", "file", "header", "size", "start")

    def __init__(self, header: bytes, content: bytes, file: IO[bytes] | None = None) -> None:
        self.header = header
        self.content = content
        self.file = file
        self.start: int | None = None
        self.size: int | None = len(content)
        if file is not None:
            self.size, self.start = _measure(file)


def _measure(file: IO[bytes]) -> tuple[int | None, int | None]:
    """(bytes left to read, current position) of a seekable file; (None, None) if not."""
    try:
        if not file.seekable():
            return None, None
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
    except (OSError, ValueError, AttributeError):
        return None, None
    return max(end - position, 0), position


class MultipartEncoder:
    """A ``multipart/form-data`` body, produced as an iterator of bytes chunks.

    ``data``: form fields, a mapping (or pairs) of names to a value or a list of values
    (str, bytes, int, float, bool or None). ``files``: a mapping (or pairs) of names to a
    file spec, as in requests/httpx: content alone, or ``(filename, content)``,
    ``(filename, content, content_type)``, ``(filename, content, content_type, headers)``,
    where content is bytes, str or a binary file object. Without a filename, a file
    object's ``name`` (its last path component) or ``"upload"`` is used; a ``None``
    filename omits the parameter. A missing content type is guessed from the filename
    (``mimetypes``), defaulting to ``application/octet-stream``.

    ``boundary``: given, or 32 random hex digits. Invalid input (a NUL in a name, a bad
    header, an invalid boundary) raises ``LocalProtocolError`` here, before any output.
    """

    __slots__ = ("_parts", "_tail", "boundary", "content_length", "content_type")

    boundary: bytes
    """The boundary delimiting the parts."""
    content_type: str
    """The request's ``Content-Type`` value: ``multipart/form-data; boundary=...``."""
    content_length: int | None
    """The body's size in bytes, or None when some file's size cannot be known."""

    def __init__(
        self,
        data: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        files: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        boundary: bytes | str | None = None,
    ) -> None:
        if boundary is None:
            boundary = os.urandom(16).hex()  # what secrets.token_hex(16) does
        elif isinstance(boundary, bytes):
            boundary = boundary.decode("latin-1")
        if not _BOUNDARY.fullmatch(boundary):
            raise LocalProtocolError(
                f"invalid multipart boundary {boundary!r}: RFC 2046 allows 1 to 70 letters, "
                "digits and '()+_,-./:=? (not ending with a space)"
            )
        self.boundary = boundary.encode("ascii")
        quoted = boundary if _TOKEN.fullmatch(boundary) else f'"{boundary}"'
        self.content_type = f"multipart/form-data; boundary={quoted}"
        delimiter = b"--" + self.boundary + _CRLF
        parts: list[_Part] = []
        for name, value in _items(data):
            disposition = self._disposition(name, None)
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                parts.append(_Part(delimiter + disposition + _CRLF, _field_bytes(item, name)))
        for name, spec in _items(files):
            parts.append(self._file_part(delimiter, name, spec))
        self._parts = parts
        self._tail = b"--" + self.boundary + b"--" + _CRLF
        length: int | None = len(self._tail)
        for part in parts:
            if part.size is None or length is None:
                length = None
            else:
                length += len(part.header) + part.size + 2
        self.content_length = length

    @staticmethod
    def _disposition(name: str, filename: str | None) -> bytes:
        if not isinstance(name, str):
            raise TypeError(f"form field names must be str, got {type(name).__name__}")
        line = b'Content-Disposition: form-data; name="' + _escape_name(name, "field name") + b'"'
        if filename is not None:
            line += b'; filename="' + _escape_name(filename, "filename") + b'"'
        return line + _CRLF

    def _file_part(self, delimiter: bytes, name: str, spec: Any) -> _Part:
        filename: str | None
        content_type: str | None = None
        headers: Mapping[str, str] = {}
        if isinstance(spec, tuple):
            if not 2 <= len(spec) <= 4:
                raise TypeError(f"file {name!r}: a file tuple has 2 to 4 items, got {len(spec)}")
            filename, content = spec[0], spec[1]
            if len(spec) > 2:
                content_type = spec[2]
            if len(spec) > 3:
                headers = spec[3]
        else:
            content = spec
            filename = _default_filename(content)
        if isinstance(content, io.TextIOBase):
            raise TypeError(f"file {name!r}: open files in binary mode ('rb') to upload them")
        if content_type is None:
            import mimetypes  # lazily: it costs import time and reads system tables

            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = guessed or "application/octet-stream"
        header = bytearray(delimiter + self._disposition(name, filename))
        extra = dict(headers)
        if not any(key.lower() == "content-type" for key in extra):
            extra = {"Content-Type": content_type, **extra}
        for key, value in extra.items():
            header += _header_line(name, key, value)
        header += _CRLF
        if isinstance(content, str):
            return _Part(bytes(header), _utf8(content, f"the content of file {name!r}"))
        if isinstance(content, bytes | bytearray | memoryview):
            return _Part(bytes(header), bytes(content))
        if not callable(getattr(content, "read", None)):
            raise TypeError(
                f"file {name!r}: content must be bytes, str or a binary file object, "
                f"got {type(content).__name__}"
            )
        return _Part(bytes(header), b"", content)

    def __iter__(self) -> Iterator[bytes]:
        """The body, in chunks: small parts coalesced, files read 64 KiB at a time."""
        pending = bytearray()
        for part in self._parts:
            pending += part.header
            if part.file is None:
                if len(part.content) >= _CHUNK:
                    yield bytes(pending)
                    pending.clear()
                    yield part.content
                else:
                    pending += part.content
            else:
                yield bytes(pending)
                pending.clear()
                yield from _read_file(part, self.content_length is not None)
            pending += _CRLF
        pending += self._tail
        yield bytes(pending)

    iter_chunks = __iter__

    def __bytes__(self) -> bytes:
        """The whole body at once (reads every file)."""
        return b"".join(self)


def _default_filename(content: object) -> str:
    name = getattr(content, "name", None)
    if isinstance(name, str) and name:
        return os.path.basename(name) or "upload"
    return "upload"


def _header_line(field: str, key: str, value: str) -> bytes:
    if not isinstance(key, str) or not _TOKEN.fullmatch(key):
        raise LocalProtocolError(f"file {field!r}: invalid part header name {key!r}")
    if key.lower() == "content-disposition":
        raise LocalProtocolError(
            f"file {field!r}: Content-Disposition is built from the field name and filename"
        )
    if not isinstance(value, str) or _BAD_VALUE.search(value):
        raise LocalProtocolError(
            f"file {field!r}: invalid value {value!r} for part header {key!r} "
            "(CR, LF and NUL are not allowed)"
        )
    return _utf8(f"{key}: {value}\r\n", f"file {field!r}: part header {key!r}")


def _read_file(part: _Part, exact: bool) -> Iterator[bytes]:
    file = part.file
    assert file is not None
    if part.start is not None:
        file.seek(part.start)
    left = part.size
    while True:
        chunk: Any = file.read(_CHUNK)
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            if isinstance(chunk, str):
                raise TypeError("open files in binary mode ('rb') to upload them")
            chunk = bytes(chunk)
        if exact and left is not None:
            left -= len(chunk)
            if left < 0:
                raise LocalProtocolError(
                    f"file {_describe(file)} grew while it was being uploaded: "
                    "the body would exceed its Content-Length"
                )
        yield chunk
    if exact and left:
        raise LocalProtocolError(
            f"file {_describe(file)} shrank while it was being uploaded: "
            f"{left} bytes of its Content-Length are missing"
        )


def _describe(file: object) -> str:
    name = getattr(file, "name", None)
    return repr(name) if isinstance(name, str) else type(file).__name__
