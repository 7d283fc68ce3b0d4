"""Peers for the HTTP/2 connection tests, wired to our ``ClientConnection`` through bytes.

Imported by the tests as ``h2peers`` (``conftest.py`` puts this folder on ``sys.path``).

- ``H2Pair``: the ``h2`` package (the reference implementation) as the server.
- ``RawServer``: a server made of our own frames, free to misbehave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h2.config
import h2.connection
import h2.events

from reqivo_protocol.http2 import (
    PREFACE,
    ClientConnection,
    Event,
    Frame,
    FrameBuffer,
    HeadersFrame,
    SettingsFrame,
)
from reqivo_protocol.http2.hpack import Encoder

Fields = list[tuple[bytes, bytes]]


def request_fields(
    path: bytes = b"/", method: bytes = b"GET", *extra: tuple[bytes, bytes]
) -> Fields:
    """A request's fields."""
    return [
        (b":method", method),
        (b":scheme", b"https"),
        (b":authority", b"example.com"),
        (b":path", path),
        *extra,
    ]


def frames_of(wire: bytes) -> list[Frame]:
    """The frames of bytes our client sent (its preface removed)."""
    if wire.startswith(PREFACE):
        wire = wire[len(PREFACE) :]
    buffer = FrameBuffer(2**24 - 1)
    buffer.feed(wire)
    frames = list(buffer)
    assert not buffer.buffered
    return frames


class H2Pair:
    """Our client and an ``h2`` server, after the preface exchange."""

    def __init__(self, server_settings: dict[int, int] | None = None, **client: Any) -> None:
        self.client = ClientConnection(**client)
        self.client.initiate()
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.server = h2.connection.H2Connection(config)
        self.server.initiate_connection()
        if server_settings:
            self.server.update_settings(server_settings)
        self.server_events: list[h2.events.Event] = []
        self.exchange()

    def to_server(self) -> list[h2.events.Event]:
        """Deliver what the client queued; the server's events."""
        data = self.client.data_to_send()
        events = self.server.receive_data(data) if data else []
        self.server_events += events
        return events

    def to_client(self) -> list[Event]:
        """Deliver what the server queued; the client's events."""
        return self.client.receive_data(self.server.data_to_send())

    def exchange(self) -> list[Event]:
        """Deliver both ways until nothing is left; the client's events."""
        events: list[Event] = []
        while True:
            data = self.client.data_to_send()
            if data:
                self.server_events += self.server.receive_data(data)
            out = self.server.data_to_send()
            if not data and not out:
                return events
            if out:
                events += self.client.receive_data(out)

    def request(self, path: bytes = b"/", end_stream: bool = True, **kw: Any) -> int:
        """Send a GET (or another request) and deliver it."""
        sid = self.client.send_headers(request_fields(path, **kw), end_stream=end_stream)
        self.to_server()
        return sid

    def respond(
        self,
        sid: int,
        body: bytes = b"",
        status: bytes = b"200",
        headers: Iterable[tuple[bytes, bytes]] = (),
        trailers: Fields | None = None,
    ) -> list[Event]:
        """The server answers ``sid``; the client's events."""
        self.server.send_headers(
            sid, [(b":status", status), *headers], end_stream=not body and trailers is None
        )
        if body:
            self.server.send_data(sid, body, end_stream=trailers is None)
        if trailers is not None:
            self.server.send_headers(sid, trailers, end_stream=True)
        return self.exchange()


class RawServer:
    """Our client fed frames we build; ``sent()`` decodes what it answered."""

    def __init__(self, settings: tuple[tuple[int, int], ...] = (), **client: Any) -> None:
        self.client = ClientConnection(**client)
        self.client.initiate()
        self.encoder = Encoder()
        self.first = frames_of(self.client.data_to_send())
        self.events = self.feed(SettingsFrame(settings), SettingsFrame(ack=True))
        self.client.data_to_send()

    def feed(self, *frames: Frame | bytes) -> list[Event]:
        """Deliver frames (or raw bytes) to the client; its events."""
        wire = b"".join(f if isinstance(f, bytes) else f.serialize() for f in frames)
        return self.client.receive_data(wire)

    def block(self, fields: Fields) -> bytes:
        """``fields`` encoded by the server's HPACK encoder."""
        return self.encoder.encode(fields)

    def headers(self, sid: int, fields: Fields, end_stream: bool = False) -> HeadersFrame:
        """A HEADERS frame carrying ``fields``."""
        return HeadersFrame(sid, self.block(fields), end_stream)

    def open(self, end_stream: bool = True, path: bytes = b"/", method: bytes = b"GET") -> int:
        """Open a stream (the request is discarded)."""
        sid = self.client.send_headers(request_fields(path, method), end_stream=end_stream)
        self.client.data_to_send()
        return sid

    def sent(self) -> list[Frame]:
        """The frames the client queued since the last call."""
        return frames_of(self.client.data_to_send())
