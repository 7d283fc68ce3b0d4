"""WebSocket codec: masking and frame decoding against wsproto and websockets.

The same server byte streams are fed to each library's client-side protocol object in
its OPEN state; each must deliver every message. Masking is measured on 1 MiB.
"""

from __future__ import annotations

import os
import struct

from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage as WsprotoBytes
from wsproto.frame_protocol import XorMaskerSimple

from benchmarks._harness import Measurement, measure
from reqivo_protocol.websocket import BytesMessage, WebSocketConnection, mask
from reqivo_protocol.websocket._mask import ACCELERATED, mask_python

TITLE = "WebSocket codec (reqivo-protocol vs wsproto and websockets)" + (
    "" if ACCELERATED else " [compiled masking accelerator NOT in use]"
)

MIB = 1024 * 1024
KEY = os.urandom(4)
PAYLOAD_1M = os.urandom(MIB)


def _server_frame(payload: bytes) -> bytes:
    """An unmasked, final, binary frame as a server sends it."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x82, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x82, 126, n)
    else:
        head = struct.pack("!BBQ", 0x82, 127, n)
    return head + payload


SMALL_COUNT = 1000
SMALL_STREAM = _server_frame(b"x" * 32) * SMALL_COUNT
LARGE_COUNT = 8
LARGE_STREAM = _server_frame(PAYLOAD_1M) * LARGE_COUNT


def _reqivo_decoder() -> WebSocketConnection:
    return WebSocketConnection(max_message_size=None)


def reqivo_decode(conn: WebSocketConnection, stream: bytes) -> int:
    """Feed ``stream`` and count the messages delivered."""
    conn.receive_data(stream)
    return sum(1 for event in conn.events() if type(event) is BytesMessage)


def _wsproto_decoder() -> Connection:
    return Connection(ConnectionType.CLIENT)


def wsproto_decode(conn: Connection, stream: bytes) -> int:
    """Feed ``stream`` to wsproto and count the messages delivered."""
    conn.receive_data(stream)
    return sum(1 for event in conn.events() if isinstance(event, WsprotoBytes))


def _websockets_decoder() -> ClientProtocol:
    return ClientProtocol(parse_uri("ws://127.0.0.1/"), state=State.OPEN, max_size=None)


def websockets_decode(conn: ClientProtocol, stream: bytes) -> int:
    """Feed ``stream`` to websockets' sans-IO protocol and count the messages."""
    conn.receive_data(stream)
    return len(conn.events_received())


def wsproto_mask(data: bytes) -> bytes:
    """wsproto's masker (what its client uses for every frame it sends)."""
    return bytes(XorMaskerSimple(KEY).process(bytearray(data)))


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def run() -> list[Measurement]:
    """Masking and decoding, each contender on the same bytes."""
    # websockets.utils.apply_mask is its pure-Python fallback; the C extension (SIMD) is
    # websockets.speedups when built. Measure both: they bracket what Python and C reach.
    from websockets.utils import apply_mask as python_apply_mask

    try:
        from websockets.speedups import apply_mask
    except ImportError:  # pragma: no cover - depends on the installed wheel
        apply_mask = python_apply_mask

    assert mask(mask(PAYLOAD_1M, KEY), KEY) == PAYLOAD_1M
    assert mask(PAYLOAD_1M, KEY) == apply_mask(PAYLOAD_1M, KEY) == wsproto_mask(PAYLOAD_1M)

    decoders = {
        "reqivo": (_reqivo_decoder(), reqivo_decode),
        f"wsproto {_version('wsproto')}": (_wsproto_decoder(), wsproto_decode),
        f"websockets {_version('websockets')}": (_websockets_decoder(), websockets_decode),
    }
    results = [
        measure("mask 1 MiB (MB/s)", "reqivo", lambda: mask(PAYLOAD_1M, KEY),
                unit="MB/s", work_per_call=MIB / 1e6),
        measure("mask 1 MiB (MB/s)", "reqivo (pure Python)",
                lambda: mask_python(PAYLOAD_1M, KEY), unit="MB/s", work_per_call=MIB / 1e6),
        measure("mask 1 MiB (MB/s)", f"websockets {_version('websockets')} (C)",
                lambda: apply_mask(PAYLOAD_1M, KEY), unit="MB/s", work_per_call=MIB / 1e6),
        measure("mask 1 MiB (MB/s)", f"websockets {_version('websockets')} (Python)",
                lambda: python_apply_mask(PAYLOAD_1M, KEY), unit="MB/s",
                work_per_call=MIB / 1e6),
        measure("mask 1 MiB (MB/s)", f"wsproto {_version('wsproto')}",
                lambda: wsproto_mask(PAYLOAD_1M), unit="MB/s", work_per_call=MIB / 1e6,
                repeat=3, min_time=0.1),
    ]  # fmt: skip
    for name, (conn, decode) in decoders.items():
        assert decode(conn, SMALL_STREAM) == SMALL_COUNT, name  # type: ignore[operator]
        results.append(
            measure(
                "decode 32 B frames (frames/s)", name,
                lambda c=conn, d=decode: d(c, SMALL_STREAM),  # type: ignore[misc]
                unit="frames/s", work_per_call=SMALL_COUNT,
            )
        )  # fmt: skip
    for name, (conn, decode) in decoders.items():
        assert decode(conn, LARGE_STREAM) == LARGE_COUNT, name  # type: ignore[operator]
        results.append(
            measure(
                "decode 1 MiB frames (MB/s)", name,
                lambda c=conn, d=decode: d(c, LARGE_STREAM),  # type: ignore[misc]
                unit="MB/s", work_per_call=LARGE_COUNT * MIB / 1e6,
            )
        )  # fmt: skip
    return results
