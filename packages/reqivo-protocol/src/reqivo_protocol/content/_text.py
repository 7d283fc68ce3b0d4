"""Text: the charset of a ``Content-Type``, incremental text decoding, line splitting.

Which character set decodes a body
----------------------------------
1. The ``charset`` parameter of ``Content-Type``, when Python knows it as a *text*
   encoding (``charset=zlib`` or ``rot13`` name codecs, but not text ones: ignored).
2. Otherwise ``default_encoding``, UTF-8 unless the caller says otherwise. UTF-8 is what
   RFC 8259 (section 8.1) requires for JSON, what RFC 6657 and the WHATWG Encoding
   standard point text formats to, and what httpx uses (its ``default_encoding``).
   requests differs: ISO-8859-1 for ``text/*`` (the RFC 2616 rule, since withdrawn by
   RFC 7231) and a statistical guess (``apparent_encoding``) for the rest; we do not
   guess, a guess made on the first chunk of a stream is unreliable.

Undecodable bytes become U+FFFD (``errors="replace"``, as both httpx and requests do)
unless the caller asks for ``"strict"``, in which case ``DecodingError`` is raised.
A UTF-8 byte order mark at the very start is dropped (``utf-8-sig``), as the WHATWG
decode algorithm does, so ``json.loads`` accepts the text.
"""

from __future__ import annotations

import codecs
import re
from functools import cached_property

from reqivo_protocol._exceptions import DecodingError, LineTooLong

__all__ = ["LineDecoder", "TextDecoder", "charset_from_content_type"]


class _Patterns:
    """This module's regular expressions, each compiled on first use (compiling them at
    import would cost every client import time); then read as instance attributes."""

    @cached_property
    def param(self) -> re.Pattern[str]:
        """One "; name=value" parameter: a quoted-string value may hold ";" and escaped
        quotes."""
        return re.compile(
            r';[ \t]*([^\s;=]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*)|;[^;]*',
            re.DOTALL,
        )

    @cached_property
    def quoted_pair(self) -> re.Pattern[str]:
        return re.compile(r"\\(.)", re.DOTALL)


_rx = _Patterns()


def charset_from_content_type(value: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, or None.

    Parameters are parsed properly: names are case-insensitive, values may be quoted
    strings (with ``\\"`` escapes and ``;`` inside). The value is returned stripped,
    as written; None when absent or empty. The first ``charset`` wins.
    """
    if not value:
        return None
    start = value.find(";")
    if start < 0:
        return None
    for match in _rx.param.finditer(value, start):
        name = match.group(1)
        if name is None or name.lower() != "charset":
            continue
        raw = match.group(2).strip()
        if raw.startswith('"'):
            raw = _rx.quoted_pair.sub(
                r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]
            )
        raw = raw.strip()
        return raw or None
    return None


def _text_codec(name: str | None) -> codecs.CodecInfo | None:
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # bytes-to-bytes codecs (zlib, base64, ...) decode to bytes, not text.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info


class TextDecoder:
    """Incremental bytes-to-text decoder for ``aiter_text``.

    ``encoding`` is the charset to use (e.g. from :func:`charset_from_content_type`);
    when None, unknown or not a text encoding, ``default_encoding`` is used. The resolved
    codec name is ``self.encoding``. A character split across chunks is carried over.
    """

    __slots__ = ("_decoder", "encoding", "errors")

    def __init__(
        self,
        encoding: str | None = None,
        *,
        default_encoding: str = "utf-8",
        errors: str = "replace",
    ) -> None:
        info = _text_codec(encoding) or _text_codec(default_encoding)
        if info is None:
            raise LookupError(f"unknown text encoding {default_encoding!r}")
        name = "utf-8-sig" if info.name == "utf-8" else info.name
        self.encoding: str = name
        """The Python codec in use (``utf-8-sig`` for UTF-8: a leading BOM is dropped)."""
        self.errors: str = errors
        self._decoder = codecs.getincrementaldecoder(name)(errors=errors)

    @classmethod
    def from_content_type(
        cls,
        content_type: str | None,
        *,
        default_encoding: str = "utf-8",
        errors: str = "replace",
    ) -> TextDecoder:
        """A decoder for a body with this ``Content-Type`` (see the module docstring)."""
        return cls(
            charset_from_content_type(content_type),
            default_encoding=default_encoding,
            errors=errors,
        )

    def decode(self, data: bytes) -> str:
        """Decode the next piece of the body."""
        try:
            return self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise DecodingError(f"the body is not valid {self.encoding}: {exc}") from exc

    def flush(self) -> str:
        """End of body: the last characters; an incomplete one is replaced (or raises)."""
        try:
            return self._decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise DecodingError(f"the body is not valid {self.encoding}: {exc}") from exc


class LineDecoder:
    """Splits text into lines for ``aiter_lines``, like httpx.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (other Unicode line breaks are text);
    the endings are not kept. A ``\\r\\n`` split across two chunks counts once, and a
    line ending in ``\\r`` is delivered at once, without waiting for the next chunk.
    ``max_line_length`` (characters, None for no limit) bounds an unfinished line and
    raises ``LineTooLong`` when passed.
    """

    __slots__ = ("_max", "_pending", "_pending_len", "_skip_lf")

    def __init__(self, *, max_line_length: int | None = None) -> None:
        self._pending: list[str] = []
        self._pending_len = 0
        self._skip_lf = False
        self._max = max_line_length

    def decode(self, text: str) -> list[str]:
        """The lines completed by this piece of text."""
        if self._skip_lf:
            if not text:
                return []
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._add_pending(text)
            return []
        lines = text.split("\n")
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
            self._pending.clear()
            self._pending_len = 0
        last = lines.pop()
        if self._max is not None:
            self._check_lines(lines)
        if last:
            self._add_pending(last)
        return lines

    def flush(self) -> list[str]:
        """End of text: the unfinished last line, if any."""
        self._skip_lf = False
        if not self._pending:
            return []
        line = "".join(self._pending)
        self._pending.clear()
        self._pending_len = 0
        return [line]

    def _add_pending(self, text: str) -> None:
        self._pending.append(text)
        self._pending_len += len(text)
        if self._max is not None and self._pending_len > self._max:
            self._too_long(self._pending_len)

    def _check_lines(self, lines: list[str]) -> None:
        assert self._max is not None
        longest = max(map(len, lines), default=0)
        if longest > self._max:
            self._too_long(longest)

    def _too_long(self, length: int) -> None:
        raise LineTooLong(
            f"a line of the body is longer than max_line_length ({self._max} characters): "
            f"{length} so far",
            limit_name="max_line_length",
            limit=self._max or 0,
        )
