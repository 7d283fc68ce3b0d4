"""Response body readers: one per framing of RFC 9112 section 6.3.

Each reader turns the receive buffer into ``Data`` events and finally one
``EndOfMessage``, or returns ``NEED_DATA``. ``eof`` tells whether the peer has closed;
a body cut short by the close raises ``RemoteProtocolError``. Data events hand out as
much as the buffer holds in one piece (never one event per chunk fragment), without
copying when a received block is taken whole.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Final

from reqivo_protocol._exceptions import LineTooLong, RemoteProtocolError, TooManyHeaders
from reqivo_protocol._headers import Headers
from reqivo_protocol.http11._buffer import ReceiveBuffer
from reqivo_protocol.http11._events import (
    NEED_DATA,
    Data,
    EndOfMessage,
    NeedData,
    make_data,
    make_end,
)
from reqivo_protocol.http11._head import check_size, find_blank_line, parse_fields, split_lines

__all__ = ["BodyReader", "ChunkedReader", "ContentLengthReader", "UntilCloseReader"]

BodyEvent = Data | EndOfMessage | NeedData


class _Patterns:
    """This module's regular expressions, each compiled on first use (compiling them at
    import would cost every client import time); then read as instance attributes."""

    @cached_property
    def hex(self) -> re.Pattern[bytes]:
        return re.compile(rb"[0-9A-Fa-f]{1,16}")

    @cached_property
    def bad_line(self) -> re.Pattern[bytes]:
        return re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


_rx: Final = _Patterns()


class BodyReader:
    """Base of the readers: ``read`` returns the next body event or ``NEED_DATA``."""

    __slots__ = ()

    def read(self, buf: ReceiveBuffer, eof: bool) -> BodyEvent:  # pragma: no cover - abstract
        raise NotImplementedError


class ContentLengthReader(BodyReader):
    """A body of exactly ``length`` bytes (``Content-Length``, or 0 for no body)."""

    __slots__ = ("length", "remaining")

    def __init__(self, length: int) -> None:
        self.length = length
        self.remaining = length

    def read(self, buf: ReceiveBuffer, eof: bool) -> BodyEvent:
        remaining = self.remaining
        if not remaining:
            return make_end()
        available = len(buf.data) - buf.pos
        if not available:
            if eof:
                raise RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {self.length - remaining} of {self.length} bytes"
                )
            return NEED_DATA
        count = available if available < remaining else remaining
        self.remaining = remaining - count
        return make_data(buf.take(count))


class UntilCloseReader(BodyReader):
    """A body delimited by the peer closing the connection."""

    __slots__ = ()

    def read(self, buf: ReceiveBuffer, eof: bool) -> BodyEvent:
        if len(buf.data) > buf.pos:
            return make_data(buf.take_all())
        if eof:
            return make_end()
        return NEED_DATA


_SIZE_LINE = 0
_CHUNK_DATA = 1
_CHUNK_END = 2
_TRAILERS = 3


class ChunkedReader(BodyReader):
    """A chunked body (RFC 9112 section 7.1): chunk extensions are ignored, trailer
    fields end up in ``EndOfMessage.trailers``. Chunk-size lines need CRLF; each is
    limited to ``max_line_size`` bytes, the trailer section to ``max_header_size``."""

    __slots__ = (
        "max_header_count",
        "max_header_size",
        "max_line_size",
        "remaining",
        "searched",
        "step",
    )

    def __init__(self, max_line_size: int, max_header_size: int, max_header_count: int) -> None:
        self.max_line_size = max_line_size
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.step = _SIZE_LINE
        self.remaining = 0
        self.searched = 0  # bytes after pos already searched for a line end

    def read(self, buf: ReceiveBuffer, eof: bool) -> BodyEvent:
        while True:
            data = buf.data
            pos = buf.pos
            available = len(data) - pos
            step = self.step
            if step == _CHUNK_DATA:
                if not available:
                    break
                remaining = self.remaining
                count = available if available < remaining else remaining
                remaining -= count
                self.remaining = remaining
                if not remaining:
                    self.step = _CHUNK_END
                return make_data(buf.take(count))
            if step == _SIZE_LINE:
                start = pos + self.searched - 1 if self.searched else pos
                end = data.find(b"\r\n", start)
                if end < 0:
                    if available > self.max_line_size + 1:
                        self._line_too_long()
                    self.searched = available
                    break
                if end - pos > self.max_line_size:
                    self._line_too_long()
                self.searched = 0
                self._parse_size_line(bytes(data[pos:end]))
                buf.pos = end + 2
                continue
            if step == _CHUNK_END:
                if available < 2:
                    if available and data[pos] != 13:
                        self._missing_crlf(data[pos : pos + 2])
                    break
                if data[pos : pos + 2] != b"\r\n":
                    self._missing_crlf(data[pos : pos + 2])
                buf.pos = pos + 2
                self.step = _SIZE_LINE
                continue
            return self._read_trailers(buf, eof)
        if eof:
            raise RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                "incomplete chunked encoding"
            )
        return NEED_DATA

    def _parse_size_line(self, line: bytes) -> None:
        size = line.partition(b";")[0].rstrip(b" \t")
        if not _rx.hex.fullmatch(size) or _rx.bad_line.search(line):
            raise RemoteProtocolError(f"invalid chunk-size line: {line[:80]!r}")
        self.remaining = int(size, 16)
        self.step = _CHUNK_DATA if self.remaining else _TRAILERS

    def _read_trailers(self, buf: ReceiveBuffer, eof: bool) -> BodyEvent:
        data = buf.data
        pos = buf.pos
        first = data[pos : pos + 2]
        if first == b"\r\n" or first[:1] == b"\n":
            buf.pos = pos + len(first) if first == b"\r\n" else pos + 1
            return make_end()
        limit = self.max_header_size
        if first != b"\r":  # a lone CR may still become the empty trailer section
            start = pos + self.searched - 2 if self.searched > 2 else pos
            end = find_blank_line(data, start, min(len(data), pos + limit))
            if end >= 0:
                block = bytes(data[pos:end])
                buf.pos = end
                self.searched = 0
                lines = split_lines(block, "trailer section")
                if len(lines) > self.max_header_count:
                    raise TooManyHeaders(
                        f"trailer section has {len(lines)} fields, more than "
                        f"max_header_count={self.max_header_count}",
                        limit_name="max_header_count",
                        limit=self.max_header_count,
                    )
                fields, _ = parse_fields(lines, 0, "trailer section")
                return make_end(Headers._from_triples(fields))
            check_size(len(data) - pos, limit, "trailer section")
            self.searched = len(data) - pos
        if eof:
            raise RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                "incomplete trailer section"
            )
        return NEED_DATA

    def _line_too_long(self) -> None:
        raise LineTooLong(
            f"chunk-size line exceeds max_line_size={self.max_line_size} bytes",
            limit_name="max_line_size",
            limit=self.max_line_size,
        )

    @staticmethod
    def _missing_crlf(got: bytes | bytearray) -> None:
        raise RemoteProtocolError(f"missing CRLF after chunk data, got {bytes(got)!r}")
