"""HTTP/2 through the blocking Session: threads share its one pool (and connection)."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

from reqivo_sync import Session
from servers.models import TLSServer


def test_session_http2(hypercorn_h2_server: TLSServer) -> None:
    with Session(http2=True, verify=hypercorn_h2_server.ca_bundle) as session:
        response = session.post(hypercorn_h2_server.url + "/echo", content=b"sync")
        with ThreadPoolExecutor(4) as pool:
            versions = list(
                pool.map(
                    lambda _: session.get(hypercorn_h2_server.url + "/echo").http_version,
                    range(8),
                )
            )
        connections = session.transport.connections  # type: ignore[attr-defined]
    assert response.http_version == "HTTP/2"
    assert base64.b64decode(response.json()["body_base64"]) == b"sync"
    assert versions == ["HTTP/2"] * 8
    assert len(connections) == 1  # every thread's streams multiplexed on one connection
