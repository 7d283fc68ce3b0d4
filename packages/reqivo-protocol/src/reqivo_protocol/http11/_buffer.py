"""The receive buffer: bytes received and not yet parsed.

``data`` holds the bytes and ``pos`` where the unparsed part starts; parsers advance
``pos`` instead of deleting from the front. ``feed`` compacts (drops the parsed prefix)
when new bytes arrive, so the buffer never holds more than the unparsed bytes plus one
received block.

When the buffer is empty, a received ``bytes`` object is kept as is (no copy): a body
reader that takes the whole block hands that same object to the user. Only when bytes
must be appended to leftovers does the buffer become a ``bytearray``.
"""

from __future__ import annotations

__all__ = ["ReceiveBuffer"]


class ReceiveBuffer:
    """Received bytes not yet parsed (``data[pos:]``)."""

    __slots__ = ("data", "pos")

    def __init__(self) -> None:
        self.data: bytes | bytearray = b""
        self.pos = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append received bytes."""
        data = self.data
        pos = self.pos
        if pos >= len(data):
            self.data = chunk if type(chunk) is bytes else bytes(chunk)
        elif isinstance(data, bytearray):
            if pos:
                del data[:pos]
            data += chunk
        else:
            grown = bytearray(memoryview(data)[pos:])
            grown += chunk
            self.data = grown
        self.pos = 0

    def take(self, count: int) -> bytes:
        """Remove and return the next ``count`` bytes (the caller checked they exist)."""
        data = self.data
        pos = self.pos
        end = pos + count
        self.pos = end
        if type(data) is bytes:
            return data[pos:end]  # the object itself when it is taken whole
        return bytes(memoryview(data)[pos:end])

    def take_all(self) -> bytes:
        """Remove and return every unparsed byte."""
        return self.take(len(self.data) - self.pos)
