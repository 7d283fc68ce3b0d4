"""Incremental decoding of a response body's ``Content-Encoding``.

Theory of operation
-------------------
``Content-Encoding: gzip, br`` lists the codings in the order the server applied them,
so the body is undone from the last to the first: one *stage* per coding, the output of
``br`` feeding ``gzip``. Each stage produces its output in bounded steps (see
``_stages.py``); a step's output is passed down the chain at once, so no stage ever holds
more than one step, whatever the compression ratio.

Limits:

* ``max_decompressed_size`` bounds the bytes *every* stage may produce (the final body
  and, in a stack, each intermediate stream). A stage is never asked for more than one
  byte past what is left, so the limit trips as soon as it is passed, with
  ``DecompressionLimitExceeded(limit_name="max_decompressed_size")``.
* ``max_encodings`` (5 by default) bounds the length of a stack: ``gzip, gzip, gzip...``
  multiplies both the work and the expansion.
* There is deliberately no *ratio* limit: legitimate bodies (JSON with repeated keys,
  sparse data) reach ratios of 1000:1 and more, so a ratio rule either refuses good
  bodies or is loose enough to let bombs through. The size limit is the guard that means
  something; per-step output bounds keep memory flat when no limit is set, as long as the
  caller consumes ``iter_decode`` piece by piece.

Unknown codings
---------------
A body with a coding we cannot undo (an unknown name, or ``br``/``zstd`` without their
module) is passed through *unchanged*, the whole stack, and ``passthrough`` is True with
the offending names in ``unsupported``. That matches httpx (which skips unknown codings)
without its trap of half-decoding a stack; a caller that prefers an error passes
``strict=True``. ``identity`` is no coding at all and ``x-gzip`` means ``gzip``
(RFC 9110, section 8.4.1.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NoReturn

from reqivo_protocol._exceptions import DecodingError, DecompressionLimitExceeded

if TYPE_CHECKING:
    from reqivo_protocol.content._stages import Stage

__all__ = ["ContentDecoder", "parse_content_encoding", "supported_encodings"]

# Output step of decode(): big enough that per-step Python work is noise, small enough
# that intermediate stages of a stack stay small.
_DECODE_STEP = 1024 * 1024
_DEFAULT_CHUNK = 64 * 1024
_ALIASES = {"x-gzip": "gzip"}


def supported_encodings() -> list[str]:
    """The codings this installation can decode, for ``Accept-Encoding``.

    Always ``gzip`` and ``deflate``; ``br`` when ``brotli`` or ``brotlicffi`` (1.2 or
    newer) is installed; ``zstd`` with ``compression.zstd`` (Python 3.14+),
    ``backports.zstd`` or ``zstandard``.
    """
    from reqivo_protocol.content import _stages

    names = ["gzip", "deflate"]
    if _stages.brotli_module() is not None:
        names.append("br")
    if _stages.zstd_backend() is not None:
        names.append("zstd")
    return names


def parse_content_encoding(value: str | Iterable[str] | None) -> list[str]:
    """The codings named by ``Content-Encoding`` value(s), normalised, in header order.

    Case is folded, ``x-gzip`` becomes ``gzip``, and ``identity`` and empty list
    elements are dropped. Several header lines may be given as an iterable.
    """
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    codings = []
    for item in values:
        for token in item.split(","):
            name = token.strip().lower()
            if name and name != "identity":
                codings.append(_ALIASES.get(name, name))
    return codings


class ContentDecoder:
    """Incremental decoder of a body's content codings.

    Build it with :meth:`for_encoding`; call :meth:`decode` (or :meth:`iter_decode`) for
    each piece of the body as it arrives and :meth:`flush` once at its end. Corrupt data
    raises ``DecodingError`` (the library's error as ``__cause__``); a body that expands
    past ``max_decompressed_size`` raises ``DecompressionLimitExceeded``. After an error
    the decoder is spent: every further call raises ``DecodingError``.
    """

    __slots__ = (
        "_failed",
        "_finished",
        "_limit",
        "_produced",
        "_stages",
        "encodings",
        "passthrough",
        "unsupported",
    )

    encodings: tuple[str, ...]
    """The codings being undone, in header order (empty for identity or passthrough)."""
    unsupported: tuple[str, ...]
    """Codings that could not be decoded; non-empty exactly when ``passthrough``."""
    passthrough: bool
    """True when the body is handed through unchanged because of ``unsupported``."""

    def __init__(
        self,
        codings: Iterable[str] = (),
        *,
        max_decompressed_size: int | None = None,
        strict: bool = False,
        max_encodings: int = 5,
    ) -> None:
        names = tuple(parse_content_encoding(codings))
        if len(names) > max_encodings:
            raise DecompressionLimitExceeded(
                f"the response has {len(names)} stacked content codings "
                f"({', '.join(names)}); max_encodings is {max_encodings}",
                limit_name="max_encodings",
                limit=max_encodings,
            )
        stages: list[Stage | None] = []
        if names:  # the stages (and zlib) load only once an encoded body comes
            from reqivo_protocol.content import _stages

            stages = [_stages.make_stage(name) for name in reversed(names)]
        unsupported = tuple(n for n, s in zip(reversed(names), stages, strict=True) if s is None)
        if unsupported and strict:
            raise DecodingError(
                f"unsupported Content-Encoding {', '.join(unsupported)!s}; "
                f"this installation decodes {', '.join(supported_encodings())}"
            )
        self.unsupported = unsupported[::-1]
        self.passthrough = bool(unsupported)
        self.encodings = () if unsupported else names
        self._stages: list[Stage] = [] if unsupported else [s for s in stages if s is not None]
        self._limit = max_decompressed_size
        self._produced = [0] * len(self._stages)
        self._failed = False
        self._finished = False

    @classmethod
    def for_encoding(
        cls,
        content_encoding: str | Iterable[str] | None,
        *,
        max_decompressed_size: int | None = None,
        strict: bool = False,
        max_encodings: int = 5,
    ) -> ContentDecoder:
        """A decoder for a ``Content-Encoding`` header value (or its several values).

        ``max_decompressed_size``: bytes each stage may produce (None: unlimited).
        ``strict``: raise ``DecodingError`` for an unsupported coding instead of passing
        the body through. ``max_encodings``: the longest stack accepted.
        """
        return cls(
            parse_content_encoding(content_encoding),
            max_decompressed_size=max_decompressed_size,
            strict=strict,
            max_encodings=max_encodings,
        )

    @property
    def is_identity(self) -> bool:
        """True when :meth:`decode` returns its input unchanged."""
        return not self._stages

    @property
    def decompressed_size(self) -> int:
        """Bytes of decoded body produced so far."""
        return self._produced[-1] if self._produced else 0

    def decode(self, data: bytes) -> bytes:
        """Decode the next piece of the body; returns what it decodes to so far."""
        if not self._stages:
            self._check_usable()
            return data
        return b"".join(self.iter_decode(data, _DECODE_STEP))

    def iter_decode(self, data: bytes, chunk_size: int = _DEFAULT_CHUNK) -> Iterator[bytes]:
        """Like :meth:`decode`, as pieces of at most about ``chunk_size`` bytes.

        Memory stays bounded by ``chunk_size`` even for a body with an enormous
        compression ratio, provided each piece is consumed before the next is asked for.
        """
        self._check_usable()
        if not self._stages:
            if data:
                yield data
            return
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._failed = True  # until the pieces are all out: an abandoned run is spent
        yield from self._pump(0, data, chunk_size)
        self._failed = False

    def flush(self) -> bytes:
        """End of body: check every stream was complete; returns the last output.

        Raises ``DecodingError`` when a stream was cut short (gzip, deflate, br and zstd
        can all tell). Every output is produced by :meth:`decode` already, so this
        returns ``b""``; it is a method for symmetry with the other decoders.
        """
        self._check_usable()
        self._finished = True
        self._failed = True
        for stage in self._stages:
            stage.finish()
        self._failed = False
        return b""

    def _check_usable(self) -> None:
        if self._failed:
            raise DecodingError("the content decoder failed earlier and cannot continue")
        if self._finished:
            raise DecodingError("the content decoder was already flushed")

    def _pump(self, index: int, data: bytes, chunk_size: int) -> Iterator[bytes]:
        stage = self._stages[index]
        stage.write(data)
        last = index == len(self._stages) - 1
        limit = self._limit
        produced = self._produced
        read = stage.read
        while True:
            if limit is None:
                out = read(chunk_size)
            else:
                out = read(min(chunk_size, limit - produced[index] + 1))
            if not out:
                return
            produced[index] += len(out)
            if limit is not None and produced[index] > limit:
                self._raise_limit(index, limit)
            if last:
                yield out
            else:
                yield from self._pump(index + 1, out, chunk_size)

    def _raise_limit(self, index: int, limit: int) -> NoReturn:
        coding = self.encodings[len(self.encodings) - 1 - index]
        what = "the body" if index == len(self._stages) - 1 else "an intermediate stream"
        raise DecompressionLimitExceeded(
            f"decoding Content-Encoding {coding} expanded {what} past "
            f"max_decompressed_size ({limit} bytes); refusing a possible decompression bomb",
            limit_name="max_decompressed_size",
            limit=limit,
        )
