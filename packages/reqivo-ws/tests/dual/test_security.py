"""The opening handshake follows redirects with the HTTP policy (docs/security.md), in both
modes: credentials stay with their origin, cookies go by the jar's rules for each URL, a
``wss://`` handshake is never taken to ``ws://``, loops and ``max_redirects`` end a
chain, and the proxy is chosen again for each hop.

As in reqivo-sync's HTTP security suite, origin A (``127.0.0.1``) redirects to origin B
(``localhost``: another host, so not even host-only cookies apply). Redirectors are
scripted raw servers (they record every request head) or ``websockets`` servers with a
``process_request`` hook; the servers that accept the upgrade are ``websockets``
servers, which send back the header fields they received (``send_request_headers``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers as WsHeaders
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from reqivo_async import (
    AsyncSession,
    BasicAuth,
    BearerAuth,
    DigestAuth,
    MockTransport,
    Response,
)
from reqivo_ws import (
    AsyncWebSocket,
    HandshakeError,
    RedirectLoopError,
    RemoteProtocolError,
    TooManyRedirects,
)
from servers.raw import (
    RawServer,
    ReadRequest,
    Repeat,
    Send,
    http_response,
)

from .conftest import Connect, MakeSession
from .servers import Servers, request_headers, send_request_headers

ProcessRequest = Callable[[ServerConnection, WsRequest], WsResponse | None]
SECRET = "s3cret"
BASIC = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()


def redirects(table: Mapping[str, str], cookies: Mapping[str, str] | None = None) -> ProcessRequest:
    """A ``process_request`` answering each path of ``table`` with ``302`` to its value
    (read when the request comes, so a test may fill ``table`` later), and the
    ``Set-Cookie`` of ``cookies`` for that path; other paths go on to the handshake."""

    def process(conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        location = table.get(request.path)
        if location is None:
            return None
        fields = [("Location", location), ("Content-Length", "0")]
        if cookies and request.path in cookies:
            fields.append(("Set-Cookie", cookies[request.path]))
        return WsResponse(302, "Found", WsHeaders(fields), b"")

    return process


def raw_redirector(raw_server: Any, location: str, *, host: str = "127.0.0.1") -> RawServer:
    """A raw server answering every request with ``302`` to ``location`` and a cookie."""
    reply = http_response(
        302, headers=[("Location", location), ("Set-Cookie", f"sid={SECRET}-cookie; Path=/")]
    )
    server: RawServer = raw_server([Repeat((ReadRequest(), Send(reply)))], host=host)
    return server


def port(url: str) -> int:
    """The port of a server URL (``ws://127.0.0.1:PORT/``)."""
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def _assert_no_credentials(seen: dict[str, list[str]]) -> None:
    for name in ("authorization", "cookie", "proxy-authorization"):
        assert name not in seen, (name, seen)
    assert SECRET not in json.dumps(seen)


# -- credentials ---------------------------------------------------------------------------

CREDENTIALS = [
    "session-auth-tuple",
    "session-auth-basic",
    "session-auth-bearer",
    "session-headers",
    "socket-headers",
    "url-userinfo",
]


def _credentials(given: str, make_session: MakeSession, url: str) -> tuple[str, dict[str, Any]]:
    """The URL and ``connect`` options that send credentials the ``given`` way."""
    auth = {
        "session-auth-tuple": ("user", SECRET),
        "session-auth-basic": BasicAuth("user", SECRET),
        "session-auth-bearer": BearerAuth(f"{SECRET}-token"),
    }
    if given in auth:
        return url, {"session": make_session(auth=auth[given])}
    header = {"Authorization": f"Bearer {SECRET}-token"}
    if given == "session-headers":
        return url, {"session": make_session(headers=header)}
    if given == "socket-headers":
        return url, {"headers": header}
    assert given == "url-userinfo"
    return url.replace("://", f"://user:{SECRET}@", 1), {}


@pytest.mark.parametrize("given", CREDENTIALS)
@pytest.mark.parametrize("scheme", ["ws", "http"])
def test_credentials_do_not_follow_to_another_origin(
    connect: Connect,
    servers: Servers,
    make_session: MakeSession,
    raw_server: Any,
    given: str,
    scheme: str,
) -> None:
    b = port(servers.websockets(send_request_headers))
    a = raw_redirector(raw_server, f"{scheme}://localhost:{b}/landing")
    url, options = _credentials(given, make_session, f"ws://127.0.0.1:{a.port}/start")
    ws = connect(url, **options)
    assert a.requests[0].header("authorization") is not None  # A got them...
    seen = request_headers(ws)
    _assert_no_credentials(seen)  # ... B did not
    assert seen["host"] == [f"localhost:{b}"]
    assert seen["upgrade"] == ["websocket"]


@pytest.mark.parametrize("given", ["session-auth-tuple", "socket-headers", "url-userinfo"])
def test_credentials_kept_on_the_same_origin(
    connect: Connect, servers: Servers, make_session: MakeSession, given: str
) -> None:
    """The control: a redirect within A keeps Authorization and gets the redirect's cookie."""
    table = {"/start": "/landing"}
    base = servers.websockets(
        send_request_headers, process_request=redirects(table, {"/start": "sid=1; Path=/"})
    )
    url, options = _credentials(given, make_session, base + "start")
    seen = request_headers(connect(url, **options))
    expected = f"Bearer {SECRET}-token" if given == "socket-headers" else BASIC
    assert seen["authorization"] == [expected]
    assert seen["cookie"] == ["sid=1"]


def test_digest_auth_runs_for_each_hop_of_the_same_origin(
    connect: Connect, servers: Servers, make_session: MakeSession
) -> None:
    """The auth flow answers each URL of the chain (a Digest response names its URI)."""
    answered: list[tuple[str, str]] = []

    def process(conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Digest "):
            challenge = 'Digest realm="ws", nonce="n0", qop="auth", algorithm=SHA-256'
            fields = [("WWW-Authenticate", challenge), ("Content-Length", "0")]
            return WsResponse(401, "Unauthorized", WsHeaders(fields), b"")
        answered.append((request.path, auth.split('uri="', 1)[1].split('"', 1)[0]))
        if request.path == "/start":
            fields = [("Location", "/landing"), ("Content-Length", "0")]
            return WsResponse(302, "Found", WsHeaders(fields), b"")
        return None

    url = servers.websockets(process_request=process)
    ws = connect(url + "start", session=make_session(auth=DigestAuth("user", SECRET)))
    ws.send("in")
    assert ws.recv() == "in"
    assert answered == [("/start", "/start"), ("/landing", "/landing")]


def test_session_auth_applies_again_back_on_the_first_origin(
    connect: Connect, servers: Servers, make_session: MakeSession, raw_server: Any
) -> None:
    """A -> B -> A: B gets nothing; back on A the session's auth is sent again."""
    table: dict[str, str] = {}
    a = servers.websockets(send_request_headers, process_request=redirects(table))
    b = raw_redirector(raw_server, f"ws://127.0.0.1:{port(a)}/back")
    table["/start"] = f"ws://localhost:{b.port}/bounce"
    ws = connect(a + "start", session=make_session(auth=("user", SECRET)))
    assert b.requests[0].header("authorization") is None
    assert request_headers(ws)["authorization"] == [BASIC]


# -- URL userinfo: percent-decoded once ----------------------------------------------------

USERINFO = [
    # (userinfo as typed in the URL, user and password sent)
    ("us%2540er:p%2541ss", "us%40er", "p%41ss"),  # decoded once, as curl and httpx do
    ("us%40er:p%40ss", "us@er", "p@ss"),
    ("us%3Aer:p%3Ass", "us:er", "p:ss"),
    ("user:p:ss", "user", "p:ss"),  # the first ':' separates
    ("%C3%BCser:p%C3%A4ss", "üser", "päss"),  # UTF-8, percent-encoded
    ("üser:päss", "üser", "päss"),  # typed as is: sent as UTF-8
]


@pytest.mark.parametrize(("userinfo", "user", "password"), USERINFO)
def test_userinfo_is_decoded_once(
    connect: Connect, servers: Servers, userinfo: str, user: str, password: str
) -> None:
    url = servers.websockets(send_request_headers).replace("://", f"://{userinfo}@", 1)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert request_headers(connect(url))["authorization"] == [f"Basic {token}"]


# -- cookies -------------------------------------------------------------------------------


def test_cookies_go_by_origin_across_hops(
    connect: Connect, servers: Servers, make_session: MakeSession, raw_server: Any
) -> None:
    """A sets ``a``, redirects to B; B sets ``b``, redirects back to A: B is sent no cookie,
    A only its own; both land in the session's jar."""
    table: dict[str, str] = {}
    a = servers.websockets(
        send_request_headers, process_request=redirects(table, {"/start": "a=1; Path=/"})
    )
    reply = http_response(
        302, headers=[("Location", f"ws://127.0.0.1:{port(a)}/final"), ("Set-Cookie", "b=2")]
    )
    b = raw_server([Repeat((ReadRequest(), Send(reply)))])
    table["/start"] = f"ws://localhost:{b.port}/b"
    session = make_session()
    ws = connect(a + "start", session=session)
    assert b.requests[0].header("cookie") is None
    assert request_headers(ws)["cookie"] == ["a=1"]
    assert (session.cookies.get("a"), session.cookies.get("b")) == ("1", "2")


# -- schemes -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ws", "http"])
def test_wss_is_never_redirected_to_ws(
    connect: Connect, servers: Servers, raw_server: Any, tls_certs: Any, scheme: str
) -> None:
    b = raw_server([Repeat((ReadRequest(), Send(http_response(400))))])
    table = {"/": f"{scheme}://127.0.0.1:{b.port}/"}
    a = servers.websockets(ssl=tls_certs.server_context(), process_request=redirects(table))
    with pytest.raises(RemoteProtocolError, match=r"from wss:// to an unencrypted ws://") as info:
        connect(a, verify=str(tls_certs.ca_bundle))
    assert str(info.value.request.url).startswith("https://127.0.0.1")
    assert b.connections == 0  # nothing was sent in clear


def test_ws_may_be_redirected_to_wss(
    connect: Connect, servers: Servers, raw_server: Any, tls_certs: Any
) -> None:
    b = servers.websockets(ssl=tls_certs.server_context())
    a = raw_redirector(raw_server, b.replace("127.0.0.1", "localhost") + "secure")
    ws = connect(f"ws://127.0.0.1:{a.port}/", verify=str(tls_certs.ca_bundle))
    assert ws.get_extra_info("ssl_object") is not None
    ws.send("upgraded")
    assert ws.recv() == "upgraded"


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/", "file:///etc/passwd", "//"])
def test_redirect_to_another_scheme_is_refused(
    connect: Connect, raw_server: Any, location: str
) -> None:
    a = raw_redirector(raw_server, location)
    with pytest.raises(RemoteProtocolError, match=r"redirect|Location"):
        connect(f"ws://127.0.0.1:{a.port}/")
    assert a.request_count == 1


# -- chains --------------------------------------------------------------------------------


def test_redirect_loop_is_detected(connect: Connect, servers: Servers) -> None:
    url = servers.websockets(process_request=redirects({"/a": "/b", "/b": "/a"}))
    with pytest.raises(RedirectLoopError, match="redirect loop"):
        connect(url + "a")


def test_max_redirects_is_the_sessions(
    connect: Connect, servers: Servers, make_session: MakeSession
) -> None:
    url = servers.websockets(process_request=redirects({"/1": "/2", "/2": "/3", "/3": "/end"}))
    with pytest.raises(TooManyRedirects, match="maximum of 2 redirects"):
        connect(url + "1", session=make_session(max_redirects=2))
    ws = connect(url + "1", session=make_session(max_redirects=3))
    ws.send("three hops")
    assert ws.recv() == "three hops"
    assert [r.status_code for r in ws.response.history] == [302, 302, 302]
    assert str(ws.response.url) == url.replace("ws://", "http://") + "end"


def test_a_private_session_follows_up_to_20(connect: Connect, servers: Servers) -> None:
    def endless(conn: ServerConnection, request: WsRequest) -> WsResponse:
        fields = WsHeaders([("Location", request.path + "x"), ("Content-Length", "0")])
        return WsResponse(307, "Temporary Redirect", fields, b"")

    with pytest.raises(TooManyRedirects, match="maximum of 20 redirects"):
        connect(servers.websockets(process_request=endless))


def test_a_session_that_does_not_follow(
    connect: Connect, servers: Servers, make_session: MakeSession
) -> None:
    url = servers.websockets(process_request=redirects({"/old": "ws://user:pw@localhost/new"}))
    with pytest.raises(HandshakeError) as info:
        connect(url + "old", session=make_session(follow_redirects=False))
    assert info.value.response.status_code == 302
    message = str(info.value)
    assert "'ws://user:[secure]@localhost/new'" in message
    assert "follow_redirects=False" in message


# -- proxies -------------------------------------------------------------------------------


@pytest.fixture
def env_proxy(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``env_proxy(url)``: the environment's proxy is ``url`` for http (so for ws), except
    for 127.0.0.1 (``NO_PROXY``); no other proxy variable is set."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

    def use(url: str) -> None:
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    return use


def test_proxy_chosen_per_hop_direct_then_proxied(
    connect: Connect,
    servers: Servers,
    raw_server: Any,
    proxy_server: Any,
    env_proxy: Callable[[str], None],
) -> None:
    """A (127.0.0.1, in NO_PROXY) directly, then B (localhost) through tinyproxy."""
    env_proxy(proxy_server.url)
    b = servers.websockets()
    a = raw_redirector(raw_server, f"ws://localhost:{port(b)}/")
    ws = connect(f"ws://127.0.0.1:{a.port}/")
    assert (a.requests[0].method, a.requests[0].target) == ("GET", "/")  # A directly
    assert ws.get_extra_info("peername")[1] == proxy_server.port  # B through the proxy
    ws.send("tunnelled")
    assert ws.recv() == "tunnelled"


def test_proxy_chosen_per_hop_proxied_then_direct(
    connect: Connect, servers: Servers, raw_server: Any, env_proxy: Callable[[str], None]
) -> None:
    """A (localhost) through the environment's proxy, then B (127.0.0.1) directly.

    The proxy here is scripted: it records the ``CONNECT`` and answers the tunnelled
    upgrade itself with the redirect (tinyproxy would relay it to A unseen)."""
    b = servers.websockets()
    proxy = raw_server(
        [
            ReadRequest(),
            Send(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            ReadRequest(),
            Send(http_response(302, headers=[("Location", b)])),
        ]
    )
    env_proxy(proxy.url)
    ws = connect("ws://localhost:4242/start")
    connect_request, upgrade = proxy.requests
    assert (connect_request.method, connect_request.target) == ("CONNECT", "localhost:4242")
    assert upgrade.target == "/start"
    assert upgrade.header("upgrade") == "websocket"
    assert ws.get_extra_info("peername")[1] == port(b)  # B directly
    ws.send("direct")
    assert ws.recv() == "direct"


# -- another transport ---------------------------------------------------------------------


async def test_redirects_over_another_transport() -> None:
    """The session follows a handshake's redirects whatever its transport (here a
    ``MockTransport``: it cannot switch protocols, so the landing 200 is a refusal)."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: Any) -> Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.path == "/old":
            return Response(307, headers={"Location": "wss://other.test/new"})
        return Response(200, content=b"a web page")

    async with AsyncSession(transport=MockTransport(handler), auth=("user", SECRET)) as session:
        with pytest.raises(HandshakeError, match="101 Switching Protocols was expected") as info:
            await AsyncWebSocket("ws://example.test/old", session=session).connect()
    assert seen == [("http://example.test/old", BASIC), ("https://other.test/new", None)]
    assert [r.status_code for r in info.value.response.history] == [307]


async def test_a_transport_that_cannot_switch_protocols() -> None:
    transport = MockTransport(lambda request: Response(101, headers={"Upgrade": "websocket"}))
    async with AsyncSession(transport=transport) as session:
        with pytest.raises(HandshakeError, match="cannot hand over the connection"):
            await AsyncWebSocket("ws://example.test/", session=session).connect()
