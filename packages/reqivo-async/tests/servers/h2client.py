"""A reference HTTP/2 client (the ``h2`` package over a blocking socket) to check servers.

Not reqivo: the yardstick the HTTP/2 fixtures are proven with (``tests/test_h2_servers.py``)
and that tests may use to see what a server sends at the frame level, which clients such as
httpx do not show (trailers, padding, pushes, the server's SETTINGS)::

    exchange = h2_exchange(server.host, server.port, [H2Request("/1k")], ssl_context=ctx)
    assert exchange.alpn == "h2" and exchange.responses[0].status == 200

Every request is opened at once on one connection (or, with ``wait_for_settings=False``,
even before the server's SETTINGS arrived, to see how a server enforces its own limits);
request bodies follow the server's flow-control windows; received data is acknowledged
as it arrives. ``h2_exchange`` returns when every stream ended or was reset, or at a
GOAWAY (the ``h2`` package closes the connection there: streams below its last stream id
that were still open are left unfinished).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.settings

__all__ = ["H2Exchange", "H2Request", "H2Response", "h2_context", "h2_exchange"]


@dataclass(frozen=True, slots=True)
class H2Request:
    """One request: path, method, extra headers (lowercase names) and body."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(slots=True)
class H2Response:
    """What came back on one stream."""

    stream_id: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[bytes, bytes]] | None = None
    data_frames: int = 0
    #: Flow-controlled bytes minus body bytes: what padding cost (0 without padding).
    padding: int = 0
    #: The error code of a RST_STREAM that ended the stream, else None.
    reset: int | None = None
    ended: bool = False

    @property
    def status(self) -> int:
        return int(self.header(":status") or 0)

    def header(self, name: str) -> str | None:
        """The first header of that (lowercase) name, or None."""
        wanted = name.encode()
        return next((v.decode() for k, v in self.headers if k == wanted), None)


@dataclass(slots=True)
class H2Exchange:
    """One connection's outcome: responses in request order, pushes, the server's SETTINGS."""

    alpn: str | None
    responses: list[H2Response]
    #: Pushed streams: (promised stream id, the promised request headers, its response).
    pushes: list[tuple[int, list[tuple[bytes, bytes]], H2Response]]
    #: The server's SETTINGS as received: setting code -> value.
    remote_settings: dict[int, int]
    #: GOAWAY received: (error code, last stream id), else None.
    goaway: tuple[int, int] | None = None
    #: Whether the server's first SETTINGS frame arrived (it may change nothing).
    settings_received: bool = False


def h2_context(ca_bundle: str) -> ssl.SSLContext:
    """A client TLS context trusting ``ca_bundle`` that offers only ``h2`` by ALPN."""
    context = ssl.create_default_context(cafile=ca_bundle)
    context.set_alpn_protocols(["h2"])
    return context


def h2_exchange(
    host: str,
    port: int,
    requests: Sequence[H2Request],
    *,
    ssl_context: ssl.SSLContext | None = None,
    enable_push: bool = False,
    wait_for_settings: bool = True,
    read_until_close: bool = False,
    timeout: float = 5.0,
) -> H2Exchange:
    """Send ``requests`` concurrently on one HTTP/2 connection and read every answer.

    With ``read_until_close`` it goes on reading after the last answer until the server
    sends GOAWAY or closes (to see a GOAWAY that follows the responses).
    """
    raw = socket.create_connection((host, port), timeout=timeout)
    sock: socket.socket = raw
    alpn = None
    try:
        if ssl_context is not None:
            tls = ssl_context.wrap_socket(raw, server_hostname=host)
            sock, alpn = tls, tls.selected_alpn_protocol()
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        conn.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.ENABLE_PUSH: int(enable_push)}
        )
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        exchange = H2Exchange(alpn, [], [], {})
        if wait_for_settings:
            while not exchange.settings_received:
                _receive(sock, conn, exchange, {})
        streams: dict[int, H2Response] = {}
        bodies: dict[int, memoryview] = {}
        authority = f"{host}:{port}"
        scheme = "https" if ssl_context is not None else "http"
        for request in requests:
            sid = conn.get_next_available_stream_id()
            head = [
                (":method", request.method),
                (":scheme", scheme),
                (":authority", authority),
                (":path", request.path),
                *request.headers,
            ]
            conn.send_headers(sid, head, end_stream=not request.body)
            streams[sid] = H2Response(sid)
            exchange.responses.append(streams[sid])
            if request.body:
                bodies[sid] = memoryview(request.body)
        sock.sendall(conn.data_to_send())
        while True:
            _send_bodies(conn, bodies)
            sock.sendall(conn.data_to_send())
            if all(response.ended for response in streams.values()):
                break
            if not _receive(sock, conn, exchange, streams):
                break
        while read_until_close and exchange.goaway is None:
            if not _receive(sock, conn, exchange, streams):
                break
        if exchange.goaway is None:
            conn.close_connection()
            with contextlib.suppress(OSError):  # the server may have closed already
                sock.sendall(conn.data_to_send())
        return exchange
    finally:
        sock.close()


def _send_bodies(conn: h2.connection.H2Connection, bodies: dict[int, memoryview]) -> None:
    for sid in list(bodies):
        body = bodies[sid]
        window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        while body and window > 0:
            conn.send_data(sid, body[:window].tobytes())
            body = body[window:]
            window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        if body:
            bodies[sid] = body
        else:
            conn.end_stream(sid)
            del bodies[sid]


def _receive(
    sock: socket.socket,
    conn: h2.connection.H2Connection,
    exchange: H2Exchange,
    streams: dict[int, H2Response],
) -> bool:
    """Read once and handle the events; False at end of input."""
    data = sock.recv(65536)
    if not data:
        for unfinished in streams.values():
            unfinished.ended = True
        return False
    for event in conn.receive_data(data):
        response: H2Response | None = streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.RemoteSettingsChanged):
            exchange.settings_received = True
            exchange.remote_settings.update(
                {int(code): change.new_value for code, change in event.changed_settings.items()}
            )
        elif isinstance(event, h2.events.ResponseReceived) and response is not None:
            response.headers = list(event.headers)
        elif isinstance(event, h2.events.DataReceived) and response is not None:
            response.body += event.data
            response.data_frames += 1
            response.padding += event.flow_controlled_length - len(event.data)
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived) and response is not None:
            response.trailers = list(event.headers)
        elif isinstance(event, h2.events.StreamEnded) and response is not None:
            response.ended = True
        elif isinstance(event, h2.events.StreamReset) and response is not None:
            response.reset = int(event.error_code or 0)
            response.ended = True
        elif isinstance(event, h2.events.PushedStreamReceived):
            promised = int(event.pushed_stream_id or 0)
            pushed = streams[promised] = H2Response(promised)
            promised_headers = [(bytes(k), bytes(v)) for k, v in event.headers or ()]
            exchange.pushes.append((promised, promised_headers, pushed))
        elif isinstance(event, h2.events.ConnectionTerminated):
            # h2 closes the connection on GOAWAY and takes no frame after it.
            exchange.goaway = (int(event.error_code or 0), int(event.last_stream_id or 0))
            for other in streams.values():
                other.ended = True
            return False
    sock.sendall(conn.data_to_send())
    return True
