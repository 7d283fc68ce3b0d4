"""The receive side of the frame layer: byte chunks in, whole frames out.

Received bytes go to one ``bytearray``; ``next_frame`` reads the 9-byte header in place
and, once the whole payload is there, copies it out once and advances an offset. The
consumed prefix is dropped when new bytes arrive and it is at least as long as what
remains, so each byte is moved a bounded number of times: linear in what is received,
however it is split.

A frame longer than ``max_frame_size`` (the SETTINGS_MAX_FRAME_SIZE we announced) is
refused from its header alone (``FrameTooLarge``, FRAME_SIZE_ERROR), before its payload
is buffered. A malformed frame is consumed before ``HTTP2ProtocolError`` is raised, so
after a stream error the buffer goes on with the next frame.
"""

from __future__ import annotations

from collections.abc import Iterator

from reqivo_protocol.http2._errors import FrameTooLarge
from reqivo_protocol.http2._frames import _HEADER, MAX_31_BIT, Frame, parse_frame

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "FrameBuffer"]

#: SETTINGS_MAX_FRAME_SIZE until announced otherwise (RFC 9113 section 6.5.2).
DEFAULT_MAX_FRAME_SIZE = 16384


class FrameBuffer:
    """Parses the frames of a stream of received bytes (``feed``, then ``next_frame``
    until it returns ``None``, or iterate)."""

    __slots__ = ("_data", "_pos", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._data = bytearray()
        self._pos = 0
        self.max_frame_size = max_frame_size

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes."""
        buf = self._data
        pos = self._pos
        if pos and pos * 2 >= len(buf):
            del buf[:pos]
            self._pos = 0
        buf += data

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as frames."""
        return len(self._data) - self._pos

    def next_frame(self) -> Frame | None:
        """The next whole frame, or ``None`` until more bytes arrive."""
        buf = self._data
        pos = self._pos
        if len(buf) - pos < 9:
            return None
        high, low, frame_type, flags, stream_id = _HEADER.unpack_from(buf, pos)
        length = high << 16 | low
        if length > self.max_frame_size:
            raise FrameTooLarge(
                f"frame of {length} bytes (type {frame_type}) is larger than "
                f"max_frame_size={self.max_frame_size}",
                limit=self.max_frame_size,
            )
        start = pos + 9
        end = start + length
        if end > len(buf):
            return None
        with memoryview(buf) as view:
            payload = view[start:end].tobytes()
        self._pos = end
        return parse_frame(frame_type, flags, stream_id & MAX_31_BIT, payload)

    def __iter__(self) -> Iterator[Frame]:
        """Every whole frame buffered now."""
        return iter(self.next_frame, None)
