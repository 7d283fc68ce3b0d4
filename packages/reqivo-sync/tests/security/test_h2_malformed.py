"""Malformed HTTP/2 responses (RFC 9113 sections 8.1.1 and 8.2) from a hostile peer.

Each is refused with an exception from our hierarchy, and the session stays usable: the
next request (on a new connection where the error was the connection's) succeeds.
"""

from __future__ import annotations

import pytest

from reqivo_protocol import RemoteProtocolError
from security.conftest import HostileH2
from servers.h2raw import Handshake, ReadRequest, Repeat, Respond, SendHeaders

GOOD = (Handshake(), Repeat((ReadRequest(), Respond(body=b"fine"))))


def test_response_without_status_is_refused_and_the_session_goes_on(
    hostile_h2: HostileH2,
) -> None:
    hostile = (Handshake(), ReadRequest(), SendHeaders([("server", "x")], end_stream=True))
    server, client = hostile_h2(hostile, GOOD)
    with pytest.raises(RemoteProtocolError, match=":status"):
        client.get("/a")
    response = client.get("/b")
    assert (response.status_code, response.content) == (200, b"fine")
    assert [r.path for r in server.h2_requests] == ["/a", "/b"]
