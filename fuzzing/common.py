"""Shared pieces of the fuzz targets: the input layout, splitting, and the entry point.

Input layout (every target)
---------------------------
An input is ``flags | cut header | cuts | payload``:

* byte 0, ``flags``: target-specific choices (request method, decoder, limits...);
* byte 1, the cut header: its low 4 bits are the number of cuts ``n``; bit 7 set asks
  for a byte-at-a-time feed (payloads up to ``BYTEWISE_LIMIT`` bytes);
* ``n`` cut offsets of 2 bytes each (little-endian, taken modulo ``len(payload) + 1``);
* the payload: the bytes a server sends (or the text parsed).

Seeds are therefore ``b"\\x00\\x00" + payload`` (see ``seed()``), and the fuzzer mutates
both the choices and the split points along with the bytes. A target feeds the payload
whole, then split at the cuts, and checks both runs agree (split idempotence).

Instrumentation: each target imports ``reqivo_protocol`` inside
``atheris.instrument_imports`` *before* importing this module's users, and this module
never imports ``reqivo_protocol`` itself, so the package is instrumented exactly once.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "BYTEWISE_LIMIT",
    "Input",
    "Mismatch",
    "check_same",
    "instrumented",
    "main",
    "pieces",
    "seed",
    "unpack",
]

#: Longest payload fed one byte at a time (longer ones are fed whole and split only).
BYTEWISE_LIMIT = 2048


class Mismatch(AssertionError):
    """Feeding the input whole and split gave different results: a finding."""


@dataclass(frozen=True, slots=True)
class Input:
    """One decoded fuzz input."""

    flags: int
    cuts: tuple[int, ...]
    bytewise: bool
    payload: bytes


def unpack(data: bytes) -> Input:
    """Split a raw fuzz input into its flags, cut points and payload."""
    if len(data) < 2:
        return Input(data[0] if data else 0, (), False, b"")
    flags, header = data[0], data[1]
    count = header & 0x0F
    raw = data[2 : 2 + 2 * count]
    payload = data[2 + len(raw) :]
    size = len(payload) + 1
    cuts = sorted(
        {int.from_bytes(raw[i : i + 2], "little") % size for i in range(0, len(raw) - 1, 2)}
    )
    return Input(flags, tuple(cuts), bool(header & 0x80), payload)


def pieces(item: Input) -> list[bytes]:
    """The payload cut at the input's cut points (or into single bytes); never empty
    pieces, since ``b""`` means end of file to the protocol machines."""
    payload = item.payload
    if item.bytewise and len(payload) <= BYTEWISE_LIMIT:
        return [payload[i : i + 1] for i in range(len(payload))]
    bounds = [0, *item.cuts, len(payload)]
    return [payload[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def seed(payload: bytes, flags: int = 0, cuts: tuple[int, ...] = ()) -> bytes:
    """A corpus file for ``payload`` with the given flags and cut offsets."""
    if len(cuts) > 15:
        raise ValueError("at most 15 cuts")
    head = bytes([flags & 0xFF, len(cuts)])
    return head + b"".join(c.to_bytes(2, "little") for c in cuts) + payload


def check_same(whole: object, split: object, item: Input) -> None:
    """Raise ``Mismatch`` when the whole and split runs disagree."""
    if whole != split:
        raise Mismatch(
            f"whole and split feeds differ (flags={item.flags:#04x}, cuts={item.cuts}, "
            f"bytewise={item.bytewise}):\n  whole: {whole!r}\n  split: {split!r}"
        )


@contextlib.contextmanager
def instrumented() -> Iterator[None]:
    """Instrument ``reqivo_protocol`` modules imported in the block for coverage feedback
    (a no-op without atheris)."""
    try:
        import atheris
    except ImportError:  # pragma: no cover - replay mode
        yield
        return
    with atheris.instrument_imports(include=["reqivo_protocol"]):
        yield


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run ``test_one_input`` under atheris with the command line's libFuzzer options.

    Without atheris installed, each file named on the command line is replayed once
    (enough to reproduce a finding).
    """
    try:
        import atheris
    except ImportError:  # pragma: no cover - replay mode for machines without atheris
        for path in sys.argv[1:]:
            if not path.startswith("-"):
                with open(path, "rb") as handle:
                    test_one_input(handle.read())
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
