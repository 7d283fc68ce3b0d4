"""One decompression stage per content coding, each with bounded output per step.

Every stage follows the same small contract, which ``_decoders.py`` drives:

* ``write(data)`` hands over compressed bytes. It is only called once the previous input
  has been drained (``read`` returned ``b""``), so a stage keeps at most one pending input.
* ``read(max_length)`` returns the next piece of output, about ``max_length`` bytes at
  most, or ``b""`` when the stage needs more input. The caller loops until ``b""``.
* ``finish()`` checks, at the end of the body, that the stream was complete.

The output bound is what makes decompression bombs harmless: no call ever asks a library
for "everything this input expands to". zlib and ``compression.zstd`` honour a
``max_length`` exactly; brotli (1.2 and newer) honours ``output_buffer_limit`` to within
its buffer growth; ``zstandard``, which has no output bound in its streaming API, is fed
small input slices so one step expands to at most ``_ZSTANDARD_SLICE * 32768`` bytes.
What those two return beyond ``max_length`` is kept and handed out in later reads.

Library errors (``zlib.error``, ``brotli.error``, ``ZstdError``) become ``DecodingError``
with the original as ``__cause__``.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

from reqivo_protocol._exceptions import DecodingError

__all__ = ["Stage", "brotli_module", "make_stage", "zstd_backend"]

# zlib is handed the input in slices of this size: ``unconsumed_tail`` is a copy of the
# rest of the slice, so slicing keeps that copying linear in the input size.
_ZLIB_SLICE = 256 * 1024
# python-zstandard cannot bound the output of one call; a zstd block expands at most
# about 32768:1 (a 4-byte RLE block gives 128 KiB), so 1 KiB of input gives <= 32 MiB.
_ZSTANDARD_SLICE = 1024
#: The longest zstd frame header (RFC 8878 section 3.1.1.1): magic, descriptor, window,
#: dictionary id and content size.
_ZSTD_MAX_FRAME_HEADER = 18

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = zlib.MAX_WBITS | 16


class Stage(Protocol):
    """The contract of one decompression stage (see the module docstring)."""

    def write(self, data: bytes) -> None: ...

    def read(self, max_length: int) -> bytes: ...

    def finish(self) -> None: ...


def _fail(coding: str, exc: BaseException) -> DecodingError:
    error = DecodingError(f"invalid {coding} data in the response body: {exc}")
    error.__cause__ = exc
    return error


def _truncated(coding: str) -> DecodingError:
    return DecodingError(f"the response body ended inside the {coding} stream (truncated)")


class ZlibStage:
    """gzip (any number of members) or deflate (zlib-wrapped or raw, detected)."""

    __slots__ = ("_coding", "_ignore_rest", "_input", "_members", "_more", "_obj", "_seen")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        # None between gzip members, and before deflate has seen the two bytes that
        # tell a zlib header from raw deflate.
        self._obj: Any = zlib.decompressobj(_GZIP_WBITS) if coding == "gzip" else None
        self._input: bytes | memoryview = b""
        self._more = False  # the last step filled max_length: output may be pending
        self._seen = False  # some input reached the current member
        self._members = 0  # members (streams) completed
        self._ignore_rest = False

    def write(self, data: bytes) -> None:
        if self._ignore_rest or not data:
            return
        # Only a 1-byte remainder (half a gzip magic, half a zlib header) can be pending.
        self._input = bytes(self._input) + data if self._input else data

    def read(self, max_length: int) -> bytes:
        try:
            while True:
                obj = self._obj
                if obj is None:
                    if len(self._input) < 2:
                        return b""
                    obj = self._obj = self._start_member()
                    if obj is None:
                        return b""
                elif obj.eof:
                    self._end_member(obj)
                    continue
                tail = obj.unconsumed_tail
                if tail:
                    src: bytes | memoryview = tail
                elif self._more:
                    src = b""
                elif self._input:
                    src = self._input[:_ZLIB_SLICE]
                    rest = self._input[_ZLIB_SLICE:]
                    self._input = rest if rest else b""
                    self._seen = True
                else:
                    return b""
                out: bytes = obj.decompress(src, max_length)
                self._more = len(out) == max_length
                if out:
                    return out
        except zlib.error as exc:
            raise _fail(self._coding, exc) from exc

    def _start_member(self) -> Any:
        head = self._input
        if self._coding == "deflate":
            return zlib.decompressobj(_deflate_wbits(head))
        if head[:2] == _GZIP_MAGIC:
            return zlib.decompressobj(_GZIP_WBITS)
        # Bytes after a complete member that do not start another one are ignored, as
        # gzip(1) and browsers do (servers have been seen padding compressed bodies).
        self._ignore_rest = True
        self._input = b""
        return None

    def _end_member(self, obj: Any) -> None:
        self._members += 1
        self._more = False
        self._seen = False
        self._obj = None
        if self._coding == "deflate":
            # One stream per body: whatever follows its end is ignored, like gzip's.
            self._ignore_rest = True
            self._input = b""
            return
        unused: bytes = obj.unused_data
        self._input = unused + bytes(self._input) if self._input else unused

    def finish(self) -> None:
        if self._ignore_rest:
            return
        obj = self._obj
        if obj is None:
            # A lone byte: half a zlib header (truncated) or after a gzip member (ignored).
            if self._input and self._members == 0:
                raise _truncated(self._coding)
            return
        if self._seen and not obj.eof:
            raise _truncated(self._coding)


def _deflate_wbits(head: bytes | memoryview) -> int:
    """zlib-wrapped (RFC 1950) when the first two bytes form a valid zlib header."""
    cmf, flg = head[0], head[1]
    if cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0:
        return zlib.MAX_WBITS
    return -zlib.MAX_WBITS


class _Sliced:
    """Hands out a library's output ``max_length`` bytes at a time, for libraries that
    may return more than asked (brotli's buffer growth, python-zstandard's unbounded
    calls): the pieces of ``iter_decode`` and the size limit are then exact."""

    __slots__ = ("_out", "_out_pos")

    def __init__(self) -> None:
        self._out = b""  # output not handed out yet, from _out_pos on
        self._out_pos = 0

    def _hand_out(self, out: bytes, max_length: int) -> bytes:
        if len(out) <= max_length:
            return out
        self._out = out
        self._out_pos = 0
        return self._take(max_length)

    def _take(self, max_length: int) -> bytes:
        start = self._out_pos
        end = start + max_length
        piece = self._out[start:end]
        if end >= len(self._out):
            self._out = b""
            end = 0
        self._out_pos = end
        return piece


class BrotliStage(_Sliced):
    """br, through ``brotli`` or ``brotlicffi`` 1.2+ (``output_buffer_limit``)."""

    __slots__ = ("_dec", "_error", "_input", "_seen")

    def __init__(self, module: ModuleType) -> None:
        super().__init__()
        self._dec: Any = module.Decompressor()
        self._error: type[BaseException] = module.error
        self._input = b""
        self._seen = False

    def write(self, data: bytes) -> None:
        if data:
            self._input = data
            self._seen = True

    def read(self, max_length: int) -> bytes:
        if self._out:
            return self._take(max_length)
        dec = self._dec
        try:
            while True:
                src = b""
                if self._input and dec.can_accept_more_data():
                    src, self._input = self._input, b""
                out: bytes = dec.process(src, output_buffer_limit=max_length)
                if out:
                    return self._hand_out(out, max_length)
                if not self._input:
                    return out
        except self._error as exc:
            raise _fail("br", exc) from exc

    def finish(self) -> None:
        if self._seen and not self._dec.is_finished():
            raise _truncated("br")


class _FrameSize:
    """A zstd frame's declared content size, checked against what the frame decoded to.

    libzstd checks the declared size only when a frame ends within the call that began
    it, so a frame shorter than it declared failed fed whole and passed fed in pieces
    (fuzz findings DEC-3 and DEC-4). The size is read from the frame's first bytes.
    """

    __slots__ = ("_declared", "_error", "_head", "_produced", "_read_size")

    def __init__(
        self, read_size: Callable[[bytes], int | None], error: type[BaseException]
    ) -> None:
        #: The declared size from a frame header (None: not declared); raises ``error``
        #: when the bytes are not (yet) a whole frame header.
        self._read_size = read_size
        self._error = error
        self.reset()

    def reset(self) -> None:
        """A new frame begins."""
        self._head: bytearray | None = bytearray()  # its first bytes, while the size is unknown
        self._declared: int | None = None
        self._produced = 0

    def fed(self, src: bytes) -> None:
        """The frame's decompressor is given ``src``."""
        head = self._head
        if head is None:
            return
        head += src[: _ZSTD_MAX_FRAME_HEADER - len(head)]
        try:
            self._declared = self._read_size(bytes(head))
        except self._error:
            if len(head) < _ZSTD_MAX_FRAME_HEADER:
                return  # not enough bytes yet
            # not a frame header: the decompressor reports it
        self._head = None

    def decoded(self, size: int, frame_ended: bool) -> None:
        """The decompressor gave ``size`` bytes; raise when the frame ended short or long."""
        self._produced += size
        if frame_ended and self._declared is not None and self._declared != self._produced:
            raise DecodingError(
                f"invalid zstd data in the response body: a frame declared {self._declared} "
                f"bytes and decoded to {self._produced}"
            )


class ZstdStage:
    """zstd through ``compression.zstd`` (3.14+) or ``backports.zstd`` (``max_length``).

    A body may hold several frames one after the other (RFC 8878 allows it); each frame
    gets a fresh decompressor, as the standard library's one-frame objects require.
    """

    __slots__ = ("_cls", "_dec", "_error", "_fed", "_input", "_size")

    def __init__(self, module: ModuleType) -> None:
        self._cls: Any = module.ZstdDecompressor
        self._error: type[BaseException] = module.ZstdError
        self._dec: Any = self._cls()
        self._input = b""
        self._fed = False  # the current frame's decompressor has been given input
        frame_info = module.get_frame_info  # .decompressed_size: None when not declared
        self._size = _FrameSize(lambda head: frame_info(head).decompressed_size, self._error)

    def write(self, data: bytes) -> None:
        if data:
            self._input = data

    def read(self, max_length: int) -> bytes:
        try:
            while True:
                dec = self._dec
                if dec.eof:
                    rest = dec.unused_data + self._input
                    if not rest:
                        return b""
                    self._dec = self._cls()
                    self._fed = False
                    self._size.reset()
                    self._input = rest
                    continue
                if not dec.needs_input:
                    src = b""
                elif self._input:
                    src, self._input = self._input, b""
                    self._fed = True
                    self._size.fed(src)
                else:
                    return b""
                out: bytes = dec.decompress(src, max_length)
                self._size.decoded(len(out), dec.eof)
                if out:
                    return out
        except self._error as exc:
            raise _fail("zstd", exc) from exc

    def finish(self) -> None:
        if self._fed and not self._dec.eof:
            raise _truncated("zstd")


class ZstandardStage(_Sliced):
    """zstd through python-zstandard, whose streaming API has no output bound.

    The input is fed in ``_ZSTANDARD_SLICE`` slices instead, which bounds one step's
    output to about 32 MiB; that output is then handed out ``max_length`` bytes at a
    time, so the pieces (and the size limit) are exact as with the other stages.
    """

    __slots__ = ("_error", "_fed", "_input", "_new", "_obj", "_size")

    def __init__(self, module: ModuleType) -> None:
        super().__init__()
        self._new: Any = module.ZstdDecompressor().decompressobj
        self._error: type[BaseException] = module.ZstdError
        self._obj: Any = self._new()
        self._input: bytes | memoryview = b""
        self._fed = False
        content_size = module.frame_content_size  # -1: not declared
        self._size = _FrameSize(
            lambda head: size if (size := content_size(head)) >= 0 else None, self._error
        )

    def write(self, data: bytes) -> None:
        if data:
            self._input = memoryview(data)

    def read(self, max_length: int) -> bytes:
        if self._out:
            return self._take(max_length)
        try:
            while True:
                obj = self._obj
                if obj.eof:
                    rest = obj.unused_data + bytes(self._input)
                    if not rest:
                        return b""
                    self._obj = self._new()
                    self._fed = False
                    self._size.reset()
                    self._input = memoryview(rest)
                    continue
                if not self._input:
                    return b""
                src = bytes(self._input[:_ZSTANDARD_SLICE])
                self._input = self._input[_ZSTANDARD_SLICE:]
                self._fed = True
                self._size.fed(src)
                out: bytes = obj.decompress(src)
                self._size.decoded(len(out), obj.eof)
                if out:
                    return self._hand_out(out, max_length)
        except self._error as exc:
            raise _fail("zstd", exc) from exc

    def finish(self) -> None:
        if self._fed and not self._obj.eof:
            raise _truncated("zstd")


@functools.cache
def brotli_module() -> ModuleType | None:
    """The brotli binding to use, or None. Versions before 1.2 cannot bound their
    output (CVE-2025-6176) and are treated as absent."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        try:
            module.Decompressor().process(b"", output_buffer_limit=1)
        except TypeError:  # pragma: no cover (needs brotli < 1.2 installed)
            continue
        return module
    return None


@functools.cache
def zstd_backend() -> tuple[str, ModuleType] | None:
    """("stdlib", module) for the bounded ``compression.zstd`` API (also provided by
    ``backports.zstd``), ("zstandard", module) for python-zstandard, or None."""
    for name in ("compression.zstd", "backports.zstd"):
        try:
            module = __import__(name, fromlist=["ZstdDecompressor"])
        except ImportError:
            continue
        return "stdlib", module
    try:
        import zstandard
    except ImportError:
        return None
    return "zstandard", zstandard


def make_stage(coding: str) -> Stage | None:
    """A fresh stage for a normalised coding name, or None when it is unavailable."""
    if coding in ("gzip", "deflate"):
        return ZlibStage(coding)
    if coding == "br":
        module = brotli_module()
        return None if module is None else BrotliStage(module)
    if coding == "zstd":
        backend = zstd_backend()
        if backend is None:
            return None
        kind, module = backend
        return ZstdStage(module) if kind == "stdlib" else ZstandardStage(module)
    return None
