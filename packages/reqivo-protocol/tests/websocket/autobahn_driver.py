"""Drive the Autobahn fuzzing server with our sans-IO client over blocking sockets.

Not collected by pytest. Usage (server from /work/shared/tools/autobahn-install.sh)::

    wstest-loopback -m fuzzingserver -s fuzzingserver.json -u 0 &
    python autobahn_driver.py [--deflate] [--url ws://127.0.0.1:9001] [--cases N-M]

Results land in the server's ``outdir/index.json``.
"""

from __future__ import annotations

import argparse
import json
import socket
from urllib.parse import urlsplit

from reqivo_protocol import Headers
from reqivo_protocol.websocket import (
    BytesMessage,
    ClientHandshake,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    DeflateOffer,
    TextMessage,
    WebSocketConnection,
)

AGENT = "reqivo"


def _connect(url: str, deflate: bool) -> tuple[socket.socket, WebSocketConnection]:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80))
    hs = ClientHandshake(
        f"{parts.hostname}:{parts.port}", deflate=DeflateOffer() if deflate else None
    )
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", *(f"{k}: {v}" for k, v in hs.headers.multi_items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed during handshake")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *field_lines = head.decode("latin-1").split("\r\n")
    fields = [tuple(p.strip() for p in line.split(":", 1)) for line in field_lines]
    result = hs.validate(int(status_line.split()[1]), Headers(fields))  # type: ignore[arg-type]
    ws = WebSocketConnection(deflate=result.deflate, max_message_size=None)
    if rest:
        ws.receive_data(rest)
    return sock, ws


def run(url: str, path: str, deflate: bool, echo: bool = True) -> list[object]:
    sock, ws = _connect(url + path, deflate)
    received: list[object] = []
    try:
        while True:
            out = ws.data_to_send()  # pongs first: they answer frames before any message
            if out:
                sock.sendall(out)
            for event in ws.events():
                if isinstance(event, TextMessage):
                    received.append(event.data)
                    if echo and ws.state is ConnectionState.OPEN:
                        sock.sendall(ws.send_text(event.data))
                elif isinstance(event, BytesMessage):
                    received.append(event.data)
                    if echo and ws.state is ConnectionState.OPEN:
                        sock.sendall(ws.send_bytes(event.data))
                elif isinstance(event, CloseReceived | ConnectionFailed):
                    pass
            out = ws.data_to_send()
            if out:
                sock.sendall(out)
            if ws.state.name == "CLOSED":
                break
            try:
                data = sock.recv(262144)
            except OSError:
                data = b""
            ws.receive_data(data)
    finally:
        sock.close()
    return received


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9001")
    parser.add_argument("--deflate", action="store_true")
    parser.add_argument("--cases", default="")
    parser.add_argument("--only", default="", help="comma-separated case numbers")
    args = parser.parse_args()
    [count] = run(args.url, "/getCaseCount", False, echo=False)
    first, last = 1, int(count)  # type: ignore[call-overload]
    if args.cases:
        a, _, b = args.cases.partition("-")
        first, last = int(a), int(b or a)
    for case in [int(c) for c in args.only.split(",")] if args.only else range(first, last + 1):
        try:
            run(args.url, f"/runCase?case={case}&agent={AGENT}", args.deflate)
        except (OSError, ConnectionError) as exc:
            print(f"case {case}: {exc!r}")
    run(args.url, f"/updateReports?agent={AGENT}", False, echo=False)
    print(json.dumps({"cases": last - first + 1}))


if __name__ == "__main__":
    main()
