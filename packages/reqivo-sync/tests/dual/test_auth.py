"""Basic, bearer, digest and custom authentication against the real servers, in both modes."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from reqivo_sync import Auth, BasicAuth, BearerAuth, DigestAuth
from servers.models import Server


def test_basic(make_client: Any, uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.join("/basic-auth/ann/pw")
    client = make_client(auth=("ann", "pw"))
    assert client.get(url).status_code == 200
    assert client.get(url, auth=BasicAuth("ann", "nope")).status_code == 401
    assert client.get(url, auth=None).status_code == 401
    userinfo = url.replace("http://", "http://ann:pw@")
    assert make_client().get(userinfo).status_code == 200


def test_bearer(client: Any, uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.join("/bearer?token=t0k")
    assert client.get(url, auth=BearerAuth("t0k")).status_code == 200
    assert client.get(url, auth=BearerAuth("bad")).status_code == 401


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("qop", ["auth", "none"])
def test_digest(client: Any, hypercorn_server: Server, algorithm: str, qop: str) -> None:
    url = hypercorn_server.join(f"/digest-auth/{qop}/ann/pw/{algorithm}")
    response = client.get(url, auth=DigestAuth("ann", "pw"))
    assert response.status_code == 200, response.text
    assert [r.status_code for r in response.history] == []
    assert client.get(url, auth=DigestAuth("ann", "wrong")).status_code == 401


class _TokenOnChallenge(Auth):
    """A custom flow: send as is; on a 401 read its body, then resend with a token."""

    requires_response_body = True

    def __init__(self) -> None:
        self.challenges: list[Any] = []

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        response = yield request
        if response.status_code == 401:
            self.challenges.append(response.json())
            request.headers["Authorization"] = "Bearer t0k"
            yield request


def test_custom_auth_flow(client: Any, uvicorn_h11_server: Server) -> None:
    # No request body: /bearer answers without reading one, and hypercorn's HTTP/2 drops
    # the whole connection when DATA comes for a stream it already answered.
    auth = _TokenOnChallenge()
    response = client.get(uvicorn_h11_server.join("/bearer?token=t0k"), auth=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"authenticated": True, "token": "t0k"}
    assert auth.challenges == [{"authenticated": False}]
