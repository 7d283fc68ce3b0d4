"""permessage-deflate (RFC 7692): the offer, the strict check of the server's answer,
and the per-message compressor and bounded decompressor.

A client offers ``DeflateOffer``; the server's answer becomes ``DeflateParams``, the
settings both sides use. "client" parameters govern what we compress, "server"
parameters what we decompress.

zlib refuses ``wbits=-8`` for raw deflate *compression* (``Invalid initialization
option``; decompression with 8 works). A 9-bit window would emit back-references the
server's 256-byte window cannot resolve, so we never offer ``client_max_window_bits=8``
and, if a server nevertheless answers 8 (allowed when we offered the bare parameter),
we accept and send every message uncompressed (RSV1 clear), which RFC 7692 permits.
The websockets library instead rejects such an answer.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from reqivo_protocol._exceptions import HandshakeError, MessageTooBig, WebSocketProtocolError
from reqivo_protocol.websocket._frames import CloseCode

__all__ = ["DeflateOffer", "DeflateParams"]

EXTENSION_NAME = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"


@dataclass(frozen=True, slots=True)
class DeflateOffer:
    """What the client offers for permessage-deflate.

    ``client_max_window_bits``: ``True`` sends the bare parameter (we accept any window
    the server picks), an int 9-15 asks the server to limit our window to that, ``None``
    omits it. ``server_max_window_bits`` (8-15 or ``None``) asks the server to limit its
    window. The no-context-takeover flags ask for a fresh compression context per
    message. ``compression_level`` and ``mem_level`` tune our zlib compressor.
    """

    client_max_window_bits: int | bool | None = True
    server_max_window_bits: int | None = None
    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False
    compression_level: int = zlib.Z_DEFAULT_COMPRESSION
    mem_level: int = 8

    def __post_init__(self) -> None:
        cmwb = self.client_max_window_bits
        if cmwb is False or (cmwb is not None and cmwb is not True and not 9 <= cmwb <= 15):
            raise ValueError("client_max_window_bits must be True, None or 9..15")
        smwb = self.server_max_window_bits
        if smwb is not None and not 8 <= smwb <= 15:
            raise ValueError("server_max_window_bits must be None or 8..15")
        if not -1 <= self.compression_level <= 9:
            raise ValueError("compression_level must be -1..9")
        if not 1 <= self.mem_level <= 9:
            raise ValueError("mem_level must be 1..9")

    def header_value(self) -> str:
        """The ``Sec-WebSocket-Extensions`` element for this offer."""
        parts = [EXTENSION_NAME]
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_max_window_bits is True:
            parts.append("client_max_window_bits")
        elif self.client_max_window_bits is not None:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        return "; ".join(parts)

    def accept(self, params: list[tuple[str, str | None]]) -> DeflateParams:
        """Check the server's response parameters against this offer (RFC 7692 7.1).

        Raises ``HandshakeError`` for unknown or duplicate parameters, bad values, or
        values this offer does not allow.
        """
        seen: dict[str, str | None] = {}
        for name, value in params:
            if name in seen:
                raise HandshakeError(f"duplicate permessage-deflate parameter {name!r}")
            seen[name] = value
        for name in seen:
            if name not in _KNOWN_PARAMS:
                raise HandshakeError(f"unknown permessage-deflate parameter {name!r}")
        for flag in ("client_no_context_takeover", "server_no_context_takeover"):
            if seen.get(flag) is not None:
                raise HandshakeError(f"permessage-deflate parameter {flag!r} takes no value")

        if self.server_no_context_takeover and "server_no_context_takeover" not in seen:
            raise HandshakeError("server ignored the requested server_no_context_takeover")

        server_bits = 15
        if "server_max_window_bits" in seen:
            server_bits = _window_bits(seen["server_max_window_bits"], "server_max_window_bits")
            if self.server_max_window_bits is not None and server_bits > (
                self.server_max_window_bits
            ):
                raise HandshakeError(
                    f"server_max_window_bits={server_bits} exceeds the offered "
                    f"{self.server_max_window_bits}"
                )
        elif self.server_max_window_bits is not None:
            raise HandshakeError("server ignored the requested server_max_window_bits")

        offered = self.client_max_window_bits
        client_bits = 15 if offered is None or offered is True else offered
        if "client_max_window_bits" in seen:
            if offered is None:
                raise HandshakeError("server sent client_max_window_bits, which was not offered")
            client_bits = _window_bits(seen["client_max_window_bits"], "client_max_window_bits")
            if offered is not True and client_bits > offered:
                raise HandshakeError(
                    f"client_max_window_bits={client_bits} exceeds the offered {offered}"
                )
        return DeflateParams(
            client_no_context_takeover=self.client_no_context_takeover
            or "client_no_context_takeover" in seen,
            server_no_context_takeover="server_no_context_takeover" in seen,
            client_max_window_bits=client_bits,
            server_max_window_bits=server_bits,
            compression_level=self.compression_level,
            mem_level=self.mem_level,
        )


_KNOWN_PARAMS = frozenset(
    {
        "client_no_context_takeover",
        "server_no_context_takeover",
        "client_max_window_bits",
        "server_max_window_bits",
    }
)


def _window_bits(value: str | None, name: str) -> int:
    # RFC 7692: 1*DIGIT without leading zero, 8..15
    if value is None or len(value) > 2 or not value.isdigit() or not value.isascii():
        raise HandshakeError(f"invalid value for {name}: {value!r}")
    bits = int(value)
    if not 8 <= bits <= 15 or value[0] == "0":
        raise HandshakeError(f"invalid value for {name}: {value!r}")
    return bits


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """The negotiated permessage-deflate settings (the result of a handshake).

    ``client_*`` settings apply to messages we send, ``server_*`` to those we receive.
    """

    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False
    client_max_window_bits: int = 15
    server_max_window_bits: int = 15
    compression_level: int = zlib.Z_DEFAULT_COMPRESSION
    mem_level: int = 8


class Deflater:
    """Compresses outgoing messages, fragment by fragment."""

    __slots__ = ("_compressor", "_level", "_mem_level", "_no_takeover", "_wbits")

    def __init__(self, params: DeflateParams) -> None:
        self._wbits = -params.client_max_window_bits
        self._level = params.compression_level
        self._mem_level = params.mem_level
        self._no_takeover = params.client_no_context_takeover
        self._compressor = self._new()

    def _new(self) -> zlib._Compress:
        return zlib.compressobj(self._level, zlib.DEFLATED, self._wbits, self._mem_level)

    def compress(self, data: bytes | bytearray | memoryview, final: bool) -> bytes:
        """Compressed bytes of one fragment; the final one loses its 4-byte tail."""
        c = self._compressor
        out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
        if final:
            if out.endswith(_TAIL):
                out = out[:-4]
            if self._no_takeover:
                self._compressor = self._new()
        return out


class Inflater:
    """Decompresses incoming messages frame by frame, never past the size budget."""

    __slots__ = ("_decompressor", "_no_takeover", "_wbits")

    def __init__(self, params: DeflateParams) -> None:
        self._wbits = -params.server_max_window_bits
        self._no_takeover = params.server_no_context_takeover
        self._decompressor = zlib.decompressobj(self._wbits)

    def decompress(
        self, data: bytes | bytearray | memoryview, final: bool, budget: int | None
    ) -> bytes:
        """Decompress one frame's payload; ``budget`` is how many bytes may come out.

        Raises ``MessageTooBig`` when the output would exceed ``budget`` and
        ``WebSocketProtocolError`` (1002) when the data is not valid deflate.
        """
        d = self._decompressor
        try:
            if budget is None:
                out = d.decompress(data)
                if final:
                    out += d.decompress(_TAIL)
            else:
                out = d.decompress(data, budget + 1)
                if final and not d.unconsumed_tail and len(out) <= budget:
                    out += d.decompress(_TAIL, budget + 1 - len(out))
                if len(out) > budget or d.unconsumed_tail:
                    raise MessageTooBig(
                        "decompressed message exceeds max_message_size",
                        limit_name="max_message_size",
                        limit=budget,
                    )
        except zlib.error as exc:
            raise WebSocketProtocolError(
                f"invalid permessage-deflate data: {exc}", close_code=CloseCode.PROTOCOL_ERROR
            ) from None
        if d.eof:
            # The server ended the deflate stream (BFINAL); nothing may follow it.
            if d.unused_data and d.unused_data != _TAIL:
                raise WebSocketProtocolError(
                    "data after the end of a deflate stream", close_code=CloseCode.PROTOCOL_ERROR
                )
            self._decompressor = zlib.decompressobj(self._wbits)
        elif final and self._no_takeover:
            self._decompressor = zlib.decompressobj(self._wbits)
        return out
