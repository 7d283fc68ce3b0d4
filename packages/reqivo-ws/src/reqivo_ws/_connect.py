"""The opening handshake over reqivo-async's transport.

The upgrade request is an ordinary ``GET`` sent through an ``AsyncSession`` (the
user's, so that its cookies, auth, default headers, TLS and proxy settings apply, or a
private one built from ``verify``/``cert``/``proxy``/``trust_env``). The connection
pool hands the raw connection over in ``response.extensions["network_stream"]`` after
``101`` and forgets it, so closing the session later does not touch the WebSocket.

``ws://`` through a proxy needs a ``CONNECT`` tunnel (forwarding proxies do not pass an
upgrade on), which the pool only builds for ``https``: ``TunnelTransport`` opens one per
handshake, used through a session that copies the user's headers and auth and shares
its cookie jar (so cookies set by the server are stored there, as for direct handshakes).
An ``https://`` proxy is reached with the session pool's TLS context (its ``verify``,
``cert`` and ``trust_env``), as the pool itself would reach it.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

from reqivo_async import AsyncSession, Timeout
from reqivo_async._config import DEFAULT_TIMEOUT
from reqivo_async._http11 import HTTP11Connection, HTTP11Protocol, NetworkStream
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._network import open_connection, start_tls
from reqivo_async._pool import AsyncConnectionPool
from reqivo_async._proxy import Proxy, open_tunnel
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_protocol._exceptions import HandshakeError, InvalidURL
from reqivo_protocol._headers import HeaderTypes
from reqivo_protocol._url import URL
from reqivo_protocol.websocket import ClientHandshake, DeflateOffer, HandshakeResult

__all__ = ["Handshaked", "TunnelTransport", "http_url", "open_handshake"]

_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
#: How much of a refusing response's body ``HandshakeError.response`` keeps.
MAX_ERROR_BODY = 64 * 1024


def http_url(url: URL | str) -> URL:
    """``url`` with ``ws``/``wss`` mapped to ``http``/``https`` (``InvalidURL`` otherwise)."""
    text = str(url)
    scheme, sep, rest = text.partition(":")
    mapped = _SCHEMES.get(scheme.lower()) if sep else None
    if mapped is None:
        raise InvalidURL(f"a WebSocket URL must start with ws:// or wss://, got {text!r}")
    result = URL(f"{mapped}:{rest}")
    result.validate_request_url()
    return result


class Handshaked:
    """What a successful handshake leaves: the stream, its first bytes, the result."""

    __slots__ = ("response", "result", "stream", "trailing", "url")

    def __init__(
        self,
        stream: NetworkStream,
        trailing: bytes,
        result: HandshakeResult,
        response: Response,
        url: URL,
    ) -> None:
        self.stream = stream
        self.trailing = trailing
        self.result = result
        self.response = response
        self.url = url


class TunnelTransport(AsyncBaseTransport):
    """One ``CONNECT`` tunnel per request through ``proxy`` (for ``ws://`` via a proxy).

    ``ssl_context``: for an ``https://`` proxy (default: the system's trust store).
    """

    def __init__(self, proxy: Proxy, ssl_context: ssl.SSLContext | None = None) -> None:
        self._proxy = proxy
        self._ssl_context = ssl_context

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
        proxy = self._proxy
        url = request.url
        transport, protocol = await open_connection(
            HTTP11Protocol, proxy.host, proxy.port, seconds=timeout.connect
        )
        try:
            if proxy.is_secure:
                context = self._ssl_context
                if context is None:
                    from reqivo_async._tls import create_ssl_context

                    context = create_ssl_context(True, None)
                protocol.transport = await start_tls(
                    transport, protocol, context, proxy.host, seconds=timeout.connect
                )
            await open_tunnel(
                protocol,
                proxy,
                url.host,
                url.effective_port or 80,
                read_timeout=timeout.read,
                max_header_size=65536,
                max_header_count=128,
            )
            http = HTTP11Connection(protocol, max_header_size=65536, max_header_count=128)
            return await http.handle_async_request(request)
        except BaseException:
            (protocol.transport or transport).abort()
            raise


def proxy_for(session: AsyncSession, url: URL) -> Proxy | None:
    """The proxy the session's pool would use for ``url`` (None for other transports)."""
    finder = getattr(session.transport, "_proxy_for", None)
    return finder(url) if finder is not None else None


def proxy_ssl_context(session: AsyncSession, proxy: Proxy) -> ssl.SSLContext | None:
    """The TLS context for an ``https://`` ``proxy``: the session pool's (its ``verify``,
    ``cert``, ``trust_env``); None for a plain proxy or another transport (the default)."""
    transport = session.transport
    if proxy.is_secure and isinstance(transport, AsyncConnectionPool):
        return transport.ssl_context
    return None


async def open_handshake(
    session: AsyncSession,
    url: URL,
    *,
    subprotocols: Sequence[str],
    headers: HeaderTypes | None,
    deflate: DeflateOffer | None,
    timeout: float | None,  # noqa: ASYNC109 - a request setting, not awaited here
    proxy: Proxy | None,
) -> Handshaked:
    """Send the upgrade request (following redirects); ``HandshakeError`` if refused."""
    tunnel_session: AsyncSession | None = None
    try:
        for _ in range(MAX_REDIRECTS + 1):
            use = session
            if url.scheme == "http" and proxy is not None:
                tunnel_session = AsyncSession(
                    transport=TunnelTransport(proxy, proxy_ssl_context(session, proxy)),
                    headers=session.headers,
                    auth=session.auth,
                    follow_redirects=False,
                )
                # The same jar, not a copy (the constructor copies): cookies the server
                # sets (in the 101, a redirect, an auth challenge) land in the user's.
                tunnel_session._cookies = session.cookies
                use = tunnel_session
            handshake = ClientHandshake(
                url.netloc, subprotocols=subprotocols, deflate=deflate, headers=headers
            )
            request = use.build_request(
                "GET",
                url,
                headers=handshake.headers,
                timeout=Timeout(timeout),
            )
            response = await use.send(request, stream=True, follow_redirects=False)
            if response.status_code == 101:
                extensions = response.extensions
                stream: NetworkStream | None = extensions.get("network_stream")
                if stream is None:  # pragma: no cover - a transport without upgrades
                    await response.aclose()
                    raise HandshakeError(
                        "the transport cannot hand over the connection", response=response
                    )
                try:
                    result = handshake.validate(101, response.headers, response=response)
                except BaseException:
                    await stream.aclose()
                    raise
                return Handshaked(
                    stream, bytes(extensions.get("trailing_data", b"")), result, response, url
                )
            location = response.headers.get("location")
            body = await _read_some(response)
            if response.status_code in _REDIRECTS and location:
                url = http_url(_ws_location(url.join(location)))
                if tunnel_session is not None:
                    await tunnel_session.aclose()
                    tunnel_session = None
                continue
            raise HandshakeError(
                f"server refused the WebSocket upgrade: {response.status_code} "
                f"{response.reason}".rstrip()
                + (f": {body[:200]!r}" if body else ""),
                response=response,
            )
        raise HandshakeError(f"more than {MAX_REDIRECTS} redirects", response=response)
    finally:
        if tunnel_session is not None:
            await tunnel_session.aclose()


def _ws_location(url: URL) -> str:
    text = str(url)
    scheme, _, rest = text.partition(":")
    return {"http": "ws", "https": "wss"}.get(scheme, scheme) + ":" + rest


async def _read_some(response: Response) -> bytes:
    """Up to ``MAX_ERROR_BODY`` bytes of the refusing response's body, then close it."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_ERROR_BODY:
                break
    except Exception:  # noqa: S110 - the status is the error; a broken body adds nothing
        pass
    finally:
        await response.aclose()
    body = b"".join(chunks)[:MAX_ERROR_BODY]
    response._content = body
    return body
