"""Credentials stay with their origin; redirects go only to http and https (docs/security.md).

Origin A (``127.0.0.1:port-a``) redirects to origin B (``localhost:port-b``: another host,
so not even host-only cookies apply). B records what it receives: no ``Authorization``,
``Cookie`` or ``Proxy-Authorization``, whichever way the credentials were given. A
redirect that stays on A keeps them (the control).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from reqivo_protocol import RemoteProtocolError
from reqivo_sync import BasicAuth, BearerAuth
from servers.models import ProxyServer, TLSServer
from servers.raw import RawServer, ReadRequest, Repeat, Send, http_response

SECRETS = ("Bearer s3cret-token", "sid=s3cret-cookie", "Basic czNjcmV0LXByb3h5")


def _target(raw_server: Any) -> RawServer:
    server: RawServer = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"B"))))])
    return server


def _redirector(raw_server: Any, location: str, status: int = 302) -> RawServer:
    reply = http_response(
        status,
        headers=[("Location", location), ("Set-Cookie", "sid=s3cret-cookie; Path=/")],
        reason="Redirect",
    )
    server: RawServer = raw_server([Repeat((ReadRequest(), Send(reply)))])
    return server


def _b_url(b: RawServer) -> str:
    return f"http://localhost:{b.port}/landing"


def _assert_no_credentials(b: RawServer) -> None:
    assert b.request_count == 1
    request = b.requests[0]
    for name in ("authorization", "cookie", "proxy-authorization"):
        assert request.header(name) is None, (name, request.head)
    for secret in ("s3cret", "czNjcmV0"):
        assert secret.encode() not in b.received


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_explicit_headers_do_not_follow_to_another_origin(
    client: Any, raw_server: Any, status: int
) -> None:
    b = _target(raw_server)
    a = _redirector(raw_server, _b_url(b), status)
    headers = {
        "Authorization": SECRETS[0],
        "Cookie": SECRETS[1],
        "Proxy-Authorization": SECRETS[2],
    }
    response = client.get(a.url + "/start", headers=headers)
    assert response.content == b"B"
    assert a.requests[0].header("authorization") == SECRETS[0]
    _assert_no_credentials(b)


@pytest.mark.parametrize(
    "auth",
    [("user", "s3cret"), BasicAuth("user", "s3cret"), BearerAuth("s3cret-token")],
    ids=["tuple", "basic", "bearer"],
)
@pytest.mark.parametrize("where", ["session", "request"])
def test_auth_does_not_follow_to_another_origin(
    make_client: Any, raw_server: Any, auth: Any, where: str
) -> None:
    b = _target(raw_server)
    a = _redirector(raw_server, _b_url(b))
    if where == "session":
        client = make_client(auth=auth)
        client.get(a.url + "/start")
    else:
        client = make_client()
        client.get(a.url + "/start", auth=auth)
    assert a.requests[0].header("authorization") is not None
    _assert_no_credentials(b)


def test_url_userinfo_does_not_follow_to_another_origin(client: Any, raw_server: Any) -> None:
    b = _target(raw_server)
    a = _redirector(raw_server, _b_url(b))
    client.get(f"http://user:s3cret@127.0.0.1:{a.port}/start")
    expected = "Basic " + base64.b64encode(b"user:s3cret").decode()
    assert a.requests[0].header("authorization") == expected
    _assert_no_credentials(b)


@pytest.mark.parametrize(
    ("userinfo", "user", "password"),
    [
        ("us%2540er:p%2541ss", "us%40er", "p%41ss"),  # decoded once, as curl and httpx do
        ("us%40er:p%40ss", "us@er", "p@ss"),
        ("us%3Aer:p%3Ass", "us:er", "p:ss"),
        ("user:p:ss", "user", "p:ss"),  # the first ':' separates
        ("%C3%BCser:p%C3%A4ss", "üser", "päss"),  # UTF-8, percent-encoded
        ("üser:päss", "üser", "päss"),  # typed as is: sent as UTF-8
    ],
)
def test_url_userinfo_is_percent_decoded_once(
    client: Any, raw_server: Any, userinfo: str, user: str, password: str
) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    client.get(server.url.replace("://", f"://{userinfo}@", 1) + "/")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert server.requests[0].header("authorization") == f"Basic {token}"


def test_cookie_set_by_a_does_not_go_to_b(client: Any, raw_server: Any) -> None:
    b = _target(raw_server)
    a = _redirector(raw_server, _b_url(b))
    client.get(a.url + "/start")
    assert "sid" in client.cookies  # kept for A ...
    _assert_no_credentials(b)  # ... not sent to B


def test_other_port_is_another_origin(client: Any, raw_server: Any) -> None:
    """Same host, other port: Authorization is dropped (cookies are per host, RFC 6265)."""
    b = _target(raw_server)
    a = _redirector(raw_server, b.url + "/landing")
    client.get(a.url + "/start", headers={"Authorization": SECRETS[0]})
    assert b.requests[0].header("authorization") is None


def test_credentials_kept_on_same_origin(make_client: Any, raw_server: Any) -> None:
    """The control: a redirect within A keeps Authorization and the jar's cookie."""
    reply = http_response(302, headers=[("Location", "/landing"), ("Set-Cookie", "sid=1")])
    a = raw_server(
        [ReadRequest(), Send(reply), Repeat((ReadRequest(), Send(http_response(body=b"A"))))]
    )
    client = make_client(auth=("user", "pw"))
    assert client.get(a.url + "/start").content == b"A"
    assert a.requests[1].header("authorization") == a.requests[0].header("authorization")
    assert a.requests[1].header("cookie") == "sid=1"


def test_chain_back_to_the_first_origin(make_client: Any, raw_server: Any) -> None:
    """A -> B -> A: B gets nothing; back on A the session's auth applies again."""
    final = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"end"))))])
    b = raw_server(
        [Repeat((ReadRequest(), Send(http_response(302, headers=[("Location", final.url)]))))]
    )
    a = _redirector(raw_server, _b_url(b))
    client = make_client(auth=("user", "pw"))
    client.get(a.url + "/start")
    _assert_no_credentials(b)
    assert final.requests[0].header("authorization") is None  # another origin too


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/pub",
        "javascript:alert(1)",
        "data:text/plain,hello",
        "gopher://127.0.0.1:70/",
        "ws://127.0.0.1/socket",
        "//",
    ],
)
def test_redirect_to_non_http_scheme_refused(client: Any, raw_server: Any, location: str) -> None:
    a = _redirector(raw_server, location)
    with pytest.raises(RemoteProtocolError, match=r"redirect|Location"):
        client.get(a.url + "/start")
    assert a.request_count == 1


@pytest.mark.parametrize("location", ["file:///etc/passwd", "javascript:alert(1)"])
def test_non_http_redirect_not_offered_as_next_request(
    client: Any, raw_server: Any, location: str
) -> None:
    a = _redirector(raw_server, location)
    response = client.get(a.url + "/start", follow_redirects=False)
    assert response.status_code == 302
    assert response.next_request is None


def test_proxy_credentials_never_reach_the_origin(
    make_client: Any, auth_proxy_server: ProxyServer, https_server: TLSServer
) -> None:
    """Through an authenticating proxy's CONNECT tunnel, the origin sees no proxy header."""
    client = make_client(proxy=auth_proxy_server.auth_url, verify=https_server.ca_bundle)
    seen = client.get(https_server.join("/headers")).json()["headers"]
    names = {name.lower() for name, _ in seen}
    assert "proxy-authorization" not in names, seen
    assert str(auth_proxy_server.password) not in str(seen)


def test_proxy_credentials_go_only_to_the_proxy(make_client: Any, raw_server: Any) -> None:
    """Forwarding http:// through a proxy: Proxy-Authorization goes to the proxy only,
    and a redirect to another origin (still through the proxy) does not carry the
    origin's Authorization."""
    proxy = raw_server(
        [
            ReadRequest(),
            Send(http_response(302, headers=[("Location", "http://other.test/landing")])),
            Repeat((ReadRequest(), Send(http_response(body=b"via")))),
        ],
        [Repeat((ReadRequest(), Send(http_response(body=b"via"))))],
    )
    proxy_url = proxy.url.replace("http://", "http://puser:ppass@")
    client = make_client(proxy=proxy_url)
    client.get("http://origin.test/start", headers={"Authorization": SECRETS[0]})
    first, second = proxy.requests
    assert first.header("authorization") == SECRETS[0]
    assert second.target == "http://other.test/landing"
    assert second.header("authorization") is None
    token = base64.b64encode(b"puser:ppass").decode()
    assert first.header("proxy-authorization") == second.header("proxy-authorization")
    assert first.header("proxy-authorization") == f"Basic {token}"
