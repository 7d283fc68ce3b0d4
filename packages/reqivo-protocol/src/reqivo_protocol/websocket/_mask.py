"""Client-to-server masking (RFC 6455 section 5.3) without a per-byte Python loop.

``mask`` is the compiled ``_speedups.mask`` when that extension was built (wheels for
common platforms ship it; ADR-008) and ``REQIVO_NO_EXTENSIONS`` is not set, else
``mask_python``. Both give identical results; the pure-Python one is the reference.

``mask_python`` has two strategies, both pure standard library:

* small payloads: XOR as one big integer (``int.from_bytes`` / ``int.to_bytes``);
  cheapest in fixed cost.
* larger payloads: every fourth byte shares one key byte, so each of the four strided
  "lanes" is XOR-ed by one ``bytes.translate`` with a precomputed 256-byte table. This
  is about twice as fast per byte as the integer route for large payloads, because the
  int conversions cost about 1 ns per byte each way.
"""

from __future__ import annotations

from reqivo_protocol._accelerators import available

__all__ = ["ACCELERATED", "mask", "mask_python"]

_IDENTITY = bytes(range(256))
_IDENTITY_INT = int.from_bytes(_IDENTITY, "little")

# _XOR_TABLES[k] maps every byte b to b ^ k: an immutable table built once at import.
_XOR_TABLES: tuple[bytes, ...] = tuple(
    (_IDENTITY_INT ^ int.from_bytes(bytes((k,)) * 256, "little")).to_bytes(256, "little")
    for k in range(256)
)

# Below this size the integer route's lower fixed cost wins (measured crossover).
_TRANSLATE_THRESHOLD = 2048


def mask_python(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``key`` repeated; masking and unmasking are the same."""
    n = len(data)
    if n < _TRANSLATE_THRESHOLD:
        if not n:
            return b""
        pattern = key * (n >> 2) + key[: n & 3]
        return (int.from_bytes(data, "little") ^ int.from_bytes(pattern, "little")).to_bytes(
            n, "little"
        )
    out = bytearray(data)
    tables = _XOR_TABLES
    out[0::4] = out[0::4].translate(tables[key[0]])
    out[1::4] = out[1::4].translate(tables[key[1]])
    out[2::4] = out[2::4].translate(tables[key[2]])
    out[3::4] = out[3::4].translate(tables[key[3]])
    return bytes(out)


#: Whether masking runs in the compiled extension (``False``: pure Python).
ACCELERATED = available("reqivo_protocol.websocket._speedups")

if ACCELERATED:
    from reqivo_protocol.websocket._speedups import mask
else:
    mask = mask_python
