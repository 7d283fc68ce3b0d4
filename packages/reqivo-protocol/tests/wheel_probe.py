"""Run against an installed reqivo-protocol wheel (cibuildwheel's test command; not a
pytest module): the compiled accelerators are in use and agree with the pure code.

    python packages/reqivo-protocol/tests/wheel_probe.py
"""

from __future__ import annotations

import os

from reqivo_protocol.http11 import _head
from reqivo_protocol.websocket import _mask


def main() -> None:
    assert _mask.ACCELERATED, "the wheel does not carry the compiled accelerator (ADR-008)"
    data = os.urandom(70_003)
    for size in (0, 1, 3, 4, 5, 127, 2047, 2048, 4099, 70_003):
        for key in (b"\x00\x00\x00\x00", b"abcd", os.urandom(4)):
            chunk = data[:size]
            assert _mask.mask(chunk, key) == _mask.mask_python(chunk, key), (size, key)
    assert _head.ACCELERATED, "the wheel does not carry the compiled head parser (ADR-016)"
    block = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\n"
    assert _head.parse_status_head(block, 9) == _head.parse_status_head_python(block, 9)
    print("reqivo-protocol: compiled masking and head parsing in use and correct")


if __name__ == "__main__":
    main()
