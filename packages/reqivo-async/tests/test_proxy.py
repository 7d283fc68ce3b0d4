"""Proxies: absolute-form forwarding, CONNECT tunnels, proxy auth, environment proxies."""

from __future__ import annotations

import base64
import ssl
from typing import Any

import pytest

from reqivo_async._config import Timeout
from reqivo_async._models import AsyncRequest
from reqivo_async._pool import AsyncConnectionPool
from reqivo_async._proxy import Proxy
from reqivo_protocol._exceptions import ProxyError
from servers.models import ProxyServer, Server, TLSServer
from servers.raw import Close, ReadRequest, Repeat, Send, http_response


async def _get(pool: AsyncConnectionPool, url: str, **kwargs: Any) -> Any:
    extensions = {"timeout": Timeout(5.0), **kwargs.pop("extensions", {})}
    request = AsyncRequest("GET", url, extensions=extensions, **kwargs)
    response = await pool.handle_async_request(request)
    await response.aread()
    return response


async def test_http_through_forward_proxy(
    proxy_server: ProxyServer, uvicorn_h11_server: Server, hypercorn_server: Server
) -> None:
    async with AsyncConnectionPool(proxy=proxy_server.url) as pool:
        response = await _get(pool, uvicorn_h11_server.join("/echo?via=proxy"))
        assert response.json()["query"] == "via=proxy"
        headers = {name.lower() for name, _ in response.json()["headers"]}
        assert "via" in headers  # tinyproxy was on the path
        await _get(pool, hypercorn_server.join("/echo"))
        assert pool.connections[0].proxy == proxy_server.url + "/"
        assert pool.idle_connections == 2


async def test_https_through_connect_tunnel(
    proxy_server: ProxyServer, https_server: TLSServer
) -> None:
    events: list[str] = []
    fields: dict[str, list[str]] = {}

    def trace(event: str, info: dict[str, Any]) -> None:
        events.append(event)
        fields[event] = sorted(info)

    async with AsyncConnectionPool(proxy=proxy_server.url, verify=https_server.ca_bundle) as pool:
        response = await _get(pool, https_server.join("/echo"), extensions={"trace": trace})
        assert response.json()["scheme"] == "https"
        await _get(pool, https_server.join("/echo"))
        assert pool.connections[0].requests == 2
    assert fields["connection.proxy_tunnel.started"] == ["proxy", "time"]
    assert fields["connection.proxy_tunnel.complete"] == ["elapsed", "time"]
    assert events.index("connection.proxy_tunnel.complete") < events.index("connection.tls.started")


async def test_websocket_upgrade_to_http_gets_a_tunnel(
    proxy_server: ProxyServer, raw_server: Any
) -> None:
    """A forwarding proxy does not pass an upgrade on: a WebSocket handshake to an http
    origin goes through a CONNECT tunnel, on connections of its own."""
    origin = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    events: list[str] = []
    async with AsyncConnectionPool(proxy=proxy_server.url) as pool:
        url = origin.url + "/socket"
        await _get(pool, url)
        await _get(pool, url, headers=upgrade, extensions={"trace": lambda e, i: events.append(e)})
        await _get(pool, url, headers=upgrade)  # on the same tunnel
        assert sorted(c.requests for c in pool.connections) == [1, 2]
    assert "connection.proxy_tunnel.complete" in events
    forwarded, tunnelled, again = origin.requests
    assert forwarded.header("via") is not None  # tinyproxy forwarded it...
    assert tunnelled.header("via") is None  # ... and only relayed the tunnel's bytes
    assert tunnelled.header("upgrade") == again.header("upgrade") == "websocket"
    assert tunnelled.connection == again.connection != forwarded.connection


async def test_proxy_authentication(
    auth_proxy_server: ProxyServer, uvicorn_h11_server: Server, https_server: TLSServer
) -> None:
    async with AsyncConnectionPool(
        proxy=auth_proxy_server.auth_url, verify=https_server.ca_bundle
    ) as pool:
        assert (await _get(pool, uvicorn_h11_server.join("/echo"))).status_code == 200
        assert (await _get(pool, https_server.join("/echo"))).status_code == 200
    async with AsyncConnectionPool(
        proxy=auth_proxy_server.url, verify=https_server.ca_bundle
    ) as pool:
        assert (await _get(pool, uvicorn_h11_server.join("/echo"))).status_code == 407
        with pytest.raises(ProxyError, match="407") as info:
            await _get(pool, https_server.join("/echo"))
        assert info.value.status_code == 407
        assert info.value.request is not None
        assert pool.active_connections == 0


async def test_forwarded_request_is_absolute_form_with_credentials(raw_server: Any) -> None:
    proxy = raw_server([Repeat((ReadRequest(), Send(http_response(200, b"via"))))])
    proxy_url = proxy.url.replace("http://", "http://us%40er:p%3Ass@")
    async with AsyncConnectionPool(proxy=proxy_url) as pool:
        response = await _get(pool, "http://example.test:8080/path?q=1#frag")
        assert response.content == b"via"
    request = proxy.requests[0]
    assert request.target == "http://example.test:8080/path?q=1"
    assert request.header("host") == "example.test:8080"
    token = base64.b64encode(b"us@er:p:ss").decode()
    assert request.header("proxy-authorization") == f"Basic {token}"
    assert "p:ss" not in repr(Proxy(proxy_url))


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (http_response(502, b"no", reason="Bad Gateway"), "502 Bad Gateway"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + http_response(200, b"") + b"extra", "sent data"),
    ],
)
async def test_tunnel_failures(raw_server: Any, reply: bytes, match: str) -> None:
    proxy = raw_server([ReadRequest(), Send(reply), Close()])
    async with AsyncConnectionPool(proxy=proxy.url) as pool:
        with pytest.raises(ProxyError, match=match):
            await _get(pool, "https://example.test/")
        assert pool.active_connections == 0
    assert proxy.requests[0].method == "CONNECT"
    assert proxy.requests[0].target == "example.test:443"


async def test_proxy_over_tls(raw_server: Any, tls_certs: Any) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_certs.server_cert), str(tls_certs.server_key))
    proxy = raw_server(
        [ReadRequest(), Send(http_response(200, b"secure proxy"))], ssl_context=context
    )
    assert proxy.url.startswith("https://")
    async with AsyncConnectionPool(proxy=proxy.url, verify=str(tls_certs.ca_bundle)) as pool:
        assert (await _get(pool, "http://example.test/")).content == b"secure proxy"


async def test_environment_proxies(
    raw_server: Any, monkeypatch: pytest.MonkeyPatch, uvicorn_h11_server: Server
) -> None:
    proxy = raw_server([Repeat((ReadRequest(), Send(http_response(200, b"env"))))])
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AsyncConnectionPool() as pool:
        assert (await _get(pool, "http://example.test/")).content == b"env"
        assert (await _get(pool, "http://other.test/")).content == b"env"
        assert len(pool._env_proxy_cache) == 1
        direct = await _get(pool, uvicorn_h11_server.join("/health"))
        assert direct.content == b"ok"
    async with AsyncConnectionPool(trust_env=False) as pool:
        assert pool._env_proxies is None
    async with AsyncConnectionPool(uds="/nonexistent", proxy=proxy.url) as pool:
        assert pool._proxy_for(pool._proxy.url) is None  # type: ignore[union-attr]
    monkeypatch.delenv("HTTP_PROXY")
    async with AsyncConnectionPool(uds="/nonexistent") as pool:
        assert pool._env_proxies is None


def test_proxy_validation() -> None:
    with pytest.raises(ValueError, match="unsupported proxy URL"):
        Proxy("socks5://127.0.0.1:1080")
    proxy = Proxy("http://proxy.test")
    assert proxy.port == 80
    assert Proxy(proxy) == proxy
    assert hash(Proxy(proxy)) == hash(proxy)
    assert Proxy("https://proxy.test").port == 443
    assert proxy != "http://proxy.test"
