"""Request bodies: turning ``content=``, ``data=``, ``files=`` and ``json=`` into a stream.

A body is a ``RequestContent``: an async iterable of byte chunks with its length when
known (then ``Content-Length`` is sent, otherwise chunked transfer coding), the
``Content-Type`` it implies, and whether it can be sent again (redirects 307/308 and
retries resend a body only when it is replayable: bytes are, a generator is not).
Files and generators are streamed chunk by chunk, never loaded whole.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any, TypeAlias, cast

from reqivo_protocol import StreamConsumed, encode_form

if TYPE_CHECKING:
    from reqivo_protocol.content import FileSpec, MultipartEncoder

__all__ = [
    "RequestContent",
    "RequestContentTypes",
    "RequestData",
    "RequestFiles",
    "encode_request_body",
]

RequestContentTypes: TypeAlias = (
    "bytes | str | Iterable[bytes] | AsyncIterable[bytes] | IO[bytes] | None"
)
"""What ``content=`` takes: the body itself, whole or as chunks."""
RequestData: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"
"""What ``data=`` takes: form fields (a mapping or pairs; a list value repeats the key)."""
RequestFiles: TypeAlias = "Mapping[str, FileSpec] | Iterable[tuple[str, FileSpec]]"
"""What ``files=`` takes: field name -> content or ``(filename, content[, type[, headers]])``."""
#: Chunk size for reading file bodies.
FILE_CHUNK = 64 * 1024


class RequestContent:
    """A request body: an async iterable of bytes with metadata.

    ``length`` is the size in bytes when known (None: unknown, sent chunked).
    ``content_type`` is the media type the body implies (None: the caller decides).
    ``replayable`` tells whether iterating again yields the same bytes.
    """

    __slots__ = ("_consumed", "_source", "_start", "content_type", "length", "replayable")

    def __init__(
        self,
        source: bytes | Iterable[bytes] | AsyncIterable[bytes] | IO[bytes],
        *,
        length: int | None,
        content_type: str | None = None,
        replayable: bool = False,
    ) -> None:
        self._source = source
        self.length = length
        self.content_type = content_type
        self.replayable = replayable
        self._consumed = False
        # Where a file body starts, so that a replay rewinds there (not to where the
        # previous send stopped reading).
        self._start = _tell(cast("IO[Any]", source)) if hasattr(source, "read") else None

    @property
    def body(self) -> bytes | None:
        """The whole body when it is held in memory, else None."""
        return self._source if isinstance(self._source, bytes) else None

    def __aiter__(self) -> AsyncIterator[bytes]:
        source = self._source
        if isinstance(source, bytes):
            return _single(source)
        if self._consumed and not self.replayable:
            raise StreamConsumed(
                "the request body is a stream that was already sent; it cannot be sent "
                "again (for redirects and retries pass bytes, or a seekable file)"
            )
        self._consumed = True
        if hasattr(source, "read"):
            return _read_file(cast("IO[Any]", source), self._start)
        if hasattr(source, "__aiter__"):
            return _check_chunks(cast("AsyncIterable[Any]", source).__aiter__())
        return _from_sync(iter(cast("Iterable[Any]", source)))


EMPTY = RequestContent(b"", length=0, replayable=True)


async def _single(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


async def _read_file(file: IO[Any], start: int | None) -> AsyncIterator[bytes]:
    if start is not None:
        file.seek(start)
    while True:
        chunk: Any = file.read(FILE_CHUNK)
        if not chunk:
            return
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        yield chunk


async def _check_chunks(chunks: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield _as_bytes(chunk)


async def _from_sync(chunks: Iterator[Any]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield _as_bytes(chunk)


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    raise TypeError(f"a request body stream yielded {type(chunk).__name__}, expected bytes")


def _tell(file: IO[bytes]) -> int | None:
    try:
        return file.tell() if file.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _file_length(file: IO[bytes]) -> int | None:
    """The bytes left to read in ``file``, without reading it; None when unknown."""
    position = _tell(file)
    if position is None:
        return None
    try:
        size = os.fstat(file.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        try:
            size = file.seek(0, os.SEEK_END)
            file.seek(position)
        except (OSError, ValueError):
            return None
    return max(size - position, 0)


def _content_body(content: Any) -> RequestContent:
    if isinstance(content, bytes):
        return RequestContent(content, length=len(content), replayable=True)
    if isinstance(content, str):
        encoded = content.encode("utf-8")
        return RequestContent(encoded, length=len(encoded), replayable=True)
    if isinstance(content, bytearray | memoryview):
        return _content_body(bytes(content))
    if hasattr(content, "read"):
        length = _file_length(content)
        return RequestContent(content, length=length, replayable=_tell(content) is not None)
    if isinstance(content, Mapping):
        raise TypeError("content= takes bytes, str, a file or an iterable; use data= for a form")
    if isinstance(content, list | tuple):
        return RequestContent(content, length=None, replayable=True)
    if hasattr(content, "__aiter__") or isinstance(content, Iterable):
        return RequestContent(content, length=None)
    raise TypeError(f"unsupported request content of type {type(content).__name__}")


def encode_request_body(
    *,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
    boundary: bytes | None = None,
) -> RequestContent:
    """Encode the body arguments of a request (at most one kind is allowed).

    ``json``: compact UTF-8 JSON (``application/json``). ``data`` as a mapping:
    ``application/x-www-form-urlencoded``; with ``files``: ``multipart/form-data``.
    ``content``: bytes, str (UTF-8), a file object, or a sync or async iterable of
    bytes.
    """
    given = [name for name, value in (("content", content), ("json", json)) if value is not None]
    if data is not None or files is not None:
        given.append("data/files")
    if len(given) > 1:
        raise TypeError(f"pass only one of content=, data=/files= and json= (got {given})")
    if content is not None:
        return _content_body(content)
    if json is not None:
        return _json_body(json)
    if files:
        from reqivo_protocol.content import MultipartEncoder  # lazily: rare

        encoder = MultipartEncoder(data or {}, files, boundary=boundary)
        return RequestContent(
            _MultipartSource(encoder),
            length=encoder.content_length,
            content_type=encoder.content_type,
            replayable=encoder.content_length is not None,
        )
    if data is not None:
        if isinstance(data, bytes | str) or hasattr(data, "read") or hasattr(data, "__aiter__"):
            # requests accepts raw bodies as data=; keep that working.
            return _content_body(data)
        body = encode_form(data)
        return RequestContent(
            body,
            length=len(body),
            content_type="application/x-www-form-urlencoded",
            replayable=True,
        )
    return EMPTY


class _MultipartSource:
    """Iterable over a multipart encoder that can be iterated again (files rewound)."""

    __slots__ = ("_encoder",)

    def __init__(self, encoder: MultipartEncoder) -> None:
        self._encoder = encoder

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._encoder)


def _json_body(value: Any) -> RequestContent:
    import json as json_module  # imported lazily: it costs import time for every user

    text = json_module.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    encoded = text.encode("utf-8")
    return RequestContent(
        encoded, length=len(encoded), content_type="application/json", replayable=True
    )
