#!/usr/bin/env python3
"""Fuzz target: the content decoders (``reqivo_protocol.content.ContentDecoder``).

The payload is a response body with a ``Content-Encoding``; it is decoded fed whole,
then split at fuzzer-chosen points. Invariants:

* only ``DecodingError`` (including ``DecompressionLimitExceeded``) escapes ``decode``,
  ``iter_decode`` and ``flush``;
* no piece of ``iter_decode`` is longer than its ``chunk_size`` (unless nothing is
  decoded: identity hands its input through as it is);
* ``max_decompressed_size`` holds: never more decoded bytes than the limit;
* both feeds end the same way, success or a ``DecodingError``: on success they decoded
  the same bytes; after errors, one output is a prefix of the other. The error classes
  may differ in one case only: zlib drops the output of a call that hits corrupt data,
  so a stream that passes ``max_decompressed_size`` just before corrupt bytes fails
  with ``DecodingError`` fed whole and ``DecompressionLimitExceeded`` when the bytes
  before the corruption arrive in an earlier piece.

Flags: bits 0-2 the coding (``CODINGS``), bits 3-4 ``max_decompressed_size`` (none, 0,
1000, 64 KiB), bit 5 ``flush()`` at the end, bit 6 ``iter_decode`` in 7-byte pieces
(else ``decode``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from common import Input, Mismatch, check_same, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol import DecodingError
    from reqivo_protocol.content import _stages
    from reqivo_protocol.content._decoders import ContentDecoder

#: (Content-Encoding, force python-zstandard as the zstd backend)
CODINGS = [
    ("gzip", False),
    ("deflate", False),
    ("br", False),
    ("zstd", False),
    ("zstd", True),
    ("gzip, deflate", False),
    ("br, gzip", False),
    ("identity", False),
]
LIMITS = [None, 0, 1000, 64 * 1024]
SMALL_PIECE = 7
LIMIT_ERROR = "DecompressionLimitExceeded"

_real_zstd_backend = _stages.zstd_backend


def _zstandard_backend() -> tuple[str, ModuleType] | None:
    import zstandard

    return "zstandard", zstandard


Outcome = tuple[bytes, str | None]


def run(item: Input, chunks: Sequence[bytes]) -> Outcome:
    """Decode ``chunks`` with the choices ``item.flags`` makes: (output, error class)."""
    coding, zstandard = CODINGS[item.flags & 7]
    limit = LIMITS[(item.flags >> 3) & 3]
    flush = bool(item.flags & 32)
    small = bool(item.flags & 64)
    _stages.zstd_backend = _zstandard_backend if zstandard else _real_zstd_backend  # type: ignore[assignment]
    out = bytearray()
    error: str | None = None
    try:
        decoder = ContentDecoder.for_encoding(coding, max_decompressed_size=limit)
        for chunk in chunks:
            if small:
                for piece in decoder.iter_decode(chunk, SMALL_PIECE):
                    if len(piece) > SMALL_PIECE and not decoder.is_identity:
                        raise Mismatch(f"iter_decode gave {len(piece)} > {SMALL_PIECE} bytes")
                    out += piece
            else:
                out += decoder.decode(chunk)
        if flush:
            out += decoder.flush()
    except DecodingError as exc:
        error = type(exc).__name__
    finally:
        _stages.zstd_backend = _real_zstd_backend
    if limit is not None and coding != "identity" and len(out) > limit:
        raise Mismatch(f"decoded {len(out)} bytes past max_decompressed_size={limit}")
    return bytes(out), error


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = run(item, [item.payload] if item.payload else [])
    split = run(item, pieces(item))
    if whole[1] is None or split[1] is None:
        check_same(whole, split, item)
        return
    if whole[1] != split[1] and {whole[1], split[1]} != {"DecodingError", LIMIT_ERROR}:
        check_same(whole[1], split[1], item)
    shorter, longer = sorted((whole[0], split[0]), key=len)
    if not longer.startswith(shorter):
        check_same(whole, split, item)


if __name__ == "__main__":
    main(test_one_input)
