from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol.websocket import mask


def _slow_mask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 2047, 2048, 2049, 4099, 70000])
def test_mask_matches_reference(size: int) -> None:
    data = os.urandom(size)
    key = os.urandom(4)
    assert mask(data, key) == _slow_mask(data, key)
    assert mask(mask(data, key), key) == data


@settings(max_examples=200)
@given(st.binary(max_size=5000), st.binary(min_size=4, max_size=4))
def test_mask_property(data: bytes, key: bytes) -> None:
    masked = mask(data, key)
    assert isinstance(masked, bytes)
    assert masked == _slow_mask(data, key)


def test_mask_accepts_bytearray_and_memoryview() -> None:
    data = os.urandom(3000)
    key = b"\x01\x02\x03\x04"
    assert mask(bytearray(data), key) == mask(memoryview(data), key) == _slow_mask(data, key)
    assert mask(memoryview(data[:10]), key) == _slow_mask(data[:10], key)
