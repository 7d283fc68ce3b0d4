"""The client's opening handshake (RFC 6455 section 4.1), on plain values.

The HTTP/1.1 machine carries the exchange; this module only builds the request header
fields and checks the response's status code and header fields::

    handshake = ClientHandshake("example.com", subprotocols=["chat"], deflate=DeflateOffer())
    ... send GET with handshake.headers, read the response ...
    result = handshake.validate(status_code, response_headers)   # or HandshakeError
    connection = WebSocketConnection(deflate=result.deflate)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reqivo_protocol._exceptions import HandshakeError, LocalProtocolError
from reqivo_protocol._headers import Headers, HeaderTypes
from reqivo_protocol.websocket._deflate import EXTENSION_NAME, DeflateOffer, DeflateParams

__all__ = [
    "ClientHandshake",
    "HandshakeResponse",
    "HandshakeResult",
    "accept_key",
    "build_handshake_request",
    "validate_handshake_response",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_RESERVED = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    }
)


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value a server must answer to ``key``."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """What the server agreed to: the subprotocol (or ``None``) and permessage-deflate
    settings (or ``None`` when compression was not negotiated)."""

    subprotocol: str | None
    deflate: DeflateParams | None


@dataclass(frozen=True, slots=True)
class HandshakeResponse:
    """The response a ``HandshakeError`` carries when no richer object was given."""

    status_code: int
    headers: Headers


def build_handshake_request(
    host: str,
    *,
    subprotocols: Sequence[str] = (),
    deflate: DeflateOffer | None = None,
    headers: HeaderTypes | None = None,
    key: str | None = None,
) -> tuple[Headers, str]:
    """The header fields of the upgrade request and its ``Sec-WebSocket-Key``.

    ``host`` is the ``Host`` value (with the port when not the default). ``headers``
    adds fields such as ``Origin`` or ``Authorization``; it may not set the fields
    this function owns. ``key`` defaults to 16 random bytes, base64-encoded.
    """
    if key is None:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
    else:
        try:
            raw = base64.b64decode(key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) != 16:
            raise LocalProtocolError("Sec-WebSocket-Key must be 16 bytes, base64-encoded")
    for protocol in subprotocols:
        if not _TOKEN.fullmatch(protocol):
            raise LocalProtocolError(f"invalid subprotocol name {protocol!r}")
    fields = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
    if subprotocols:
        fields.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    if deflate is not None:
        fields.append(("Sec-WebSocket-Extensions", deflate.header_value()))
    if headers is not None:
        for name, value in Headers(headers).multi_items():
            if name.lower() in _RESERVED:
                raise LocalProtocolError(f"the handshake sets {name!r} itself")
            fields.append((name, value))
    return Headers.from_fields(fields), key


def validate_handshake_response(
    status_code: int,
    headers: Headers,
    *,
    key: str,
    subprotocols: Sequence[str] = (),
    deflate: DeflateOffer | None = None,
    response: Any = None,
) -> HandshakeResult:
    """Check the server's answer to the upgrade request; return what was negotiated.

    Raises ``HandshakeError`` (with ``response``, or a ``HandshakeResponse`` built from
    the status code and headers) when the status is not 101, ``Upgrade`` is not
    ``websocket``, ``Connection`` lacks ``upgrade``, ``Sec-WebSocket-Accept`` does not
    match, or the server picked a subprotocol or extension that was not offered.
    """
    if response is None:
        response = HandshakeResponse(status_code, headers)
    try:
        return _validate(status_code, headers, key, subprotocols, deflate)
    except HandshakeError as exc:
        exc.response = response
        raise


def _validate(
    status_code: int,
    headers: Headers,
    key: str,
    subprotocols: Sequence[str],
    deflate: DeflateOffer | None,
) -> HandshakeResult:
    if status_code != 101:
        raise HandshakeError(f"server answered {status_code} instead of 101 Switching Protocols")
    upgrade = headers.get_list("upgrade", split_commas=True)
    if [value.lower() for value in upgrade] != ["websocket"]:
        raise HandshakeError(f"expected 'Upgrade: websocket', got {headers.get('upgrade')!r}")
    connection = headers.get_list("connection", split_commas=True)
    if not any(value.lower() == "upgrade" for value in connection):
        raise HandshakeError(f"expected 'Connection: upgrade', got {headers.get('connection')!r}")
    accept = headers.get_list("sec-websocket-accept")
    if len(accept) != 1 or accept[0].strip() != accept_key(key):
        raise HandshakeError(f"wrong Sec-WebSocket-Accept: {headers.get('sec-websocket-accept')!r}")

    subprotocol = None
    chosen = headers.get_list("sec-websocket-protocol", split_commas=True)
    if len(chosen) > 1:
        raise HandshakeError(f"server chose several subprotocols: {chosen!r}")
    if chosen:
        if chosen[0] not in subprotocols:
            raise HandshakeError(f"server chose subprotocol {chosen[0]!r}, which was not offered")
        subprotocol = chosen[0]

    negotiated = None
    for value in headers.get_list("sec-websocket-extensions"):
        for name, params in _parse_extensions(value):
            if name != EXTENSION_NAME or deflate is None:
                raise HandshakeError(f"server accepted extension {name!r}, which was not offered")
            if negotiated is not None:
                raise HandshakeError(f"server accepted {EXTENSION_NAME} twice")
            negotiated = deflate.accept(params)
    return HandshakeResult(subprotocol, negotiated)


def _parse_extensions(value: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse one ``Sec-WebSocket-Extensions`` value (RFC 6455 section 9.1).

    Parameter values are tokens, optionally quoted; names are lower-cased.
    """
    result = []
    for element in value.split(","):
        if not element.strip():
            continue
        name, *raw_params = (part.strip() for part in element.split(";"))
        if not _TOKEN.fullmatch(name):
            raise HandshakeError(f"invalid Sec-WebSocket-Extensions value: {value!r}")
        params: list[tuple[str, str | None]] = []
        for raw in raw_params:
            pname, eq, pvalue = (p.strip() for p in raw.partition("="))
            if not _TOKEN.fullmatch(pname):
                raise HandshakeError(f"invalid extension parameter: {raw!r}")
            if not eq:
                params.append((pname.lower(), None))
                continue
            if len(pvalue) >= 2 and pvalue[0] == pvalue[-1] == '"':
                pvalue = pvalue[1:-1]
            if not _TOKEN.fullmatch(pvalue):
                raise HandshakeError(f"invalid extension parameter: {raw!r}")
            params.append((pname.lower(), pvalue))
        result.append((name.lower(), params))
    return result


class ClientHandshake:
    """Bundles the request side and the response check of one opening handshake."""

    __slots__ = ("deflate", "headers", "key", "subprotocols")

    def __init__(
        self,
        host: str,
        *,
        subprotocols: Sequence[str] = (),
        deflate: DeflateOffer | None = None,
        headers: HeaderTypes | None = None,
        key: str | None = None,
    ) -> None:
        self.subprotocols = tuple(subprotocols)
        self.deflate = deflate
        #: The header fields to send with ``GET <path> HTTP/1.1``.
        self.headers, self.key = build_handshake_request(
            host, subprotocols=self.subprotocols, deflate=deflate, headers=headers, key=key
        )

    def validate(
        self, status_code: int, headers: Headers, *, response: Any = None
    ) -> HandshakeResult:
        """Check the response; see ``validate_handshake_response``."""
        return validate_handshake_response(
            status_code,
            headers,
            key=self.key,
            subprotocols=self.subprotocols,
            deflate=self.deflate,
            response=response,
        )
