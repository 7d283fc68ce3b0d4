"""Shared helpers for the WebSocket tests: a tiny server-side frame builder."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

FrameBuilder = Callable[..., bytes]


def build_server_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask_key: bytes | None = None,
    length: int | None = None,
    long_form: int | None = None,
) -> bytes:
    """A frame as a server would send it (unmasked unless ``mask_key`` is given).

    ``length`` overrides the declared length; ``long_form`` (16 or 64) forces a
    non-minimal length encoding.
    """
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask_key is not None else 0
    if long_form == 64 or (long_form is None and n >= 0x10000):
        header = struct.pack("!BBQ", b0, m | 127, n)
    elif long_form == 16 or (long_form is None and n >= 126):
        header = struct.pack("!BBH", b0, m | 126, n)
    else:
        header = bytes((b0, m | n))
    if mask_key is not None:
        payload = bytes(b ^ mask_key[i % 4] for i, b in enumerate(payload))
        header += mask_key
    return header + payload


def unmask_client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode our (masked) client frames into ``(first byte, payload)`` pairs."""
    frames = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert b1 & 0x80, "client frames must be masked"
        n = b1 & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack_from("!H", data, pos)
            pos += 2
        elif n == 127:
            (n,) = struct.unpack_from("!Q", data, pos)
            pos += 8
        key = data[pos : pos + 4]
        pos += 4
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[pos : pos + n]))
        pos += n
        frames.append((b0, payload))
    return frames


@pytest.fixture
def frame() -> FrameBuilder:
    return build_server_frame


@pytest.fixture
def unmask() -> Callable[[bytes], list[tuple[int, bytes]]]:
    return unmask_client_frames
