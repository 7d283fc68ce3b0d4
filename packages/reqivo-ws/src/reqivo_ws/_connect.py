"""The opening handshake over reqivo-async's transport.

The upgrade request is an ordinary ``GET`` sent with ``AsyncSession.send`` (the user's
session, so that its cookies, auth, default headers, TLS, proxy and redirect settings
apply, or a private one built from ``verify``/``cert``/``proxy``/``trust_env``).

Redirects are the session's: it follows them with the policy it applies to any request
(``reqivo_async._redirects``, ADR-005): credentials bound to the origin, the auth flow
re-run per hop of the same origin, ``Cookie`` recomputed from the jar for each URL,
loop detection, ``max_redirects`` and ``follow_redirects``. That policy knows a
WebSocket upgrade (``Upgrade: websocket``): it follows ``ws:``/``wss:`` Locations (as
``http``/``https``) and refuses to take a ``wss://`` handshake to ``ws://``. The
connection pool chooses the proxy for each hop, and opens a ``CONNECT`` tunnel for an
upgrade to a ``ws://`` origin (forwarding proxies do not pass an upgrade on).

After ``101`` the pool hands the raw connection over in
``response.extensions["network_stream"]`` and forgets it, so closing the session later
does not touch the WebSocket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from reqivo_async import AsyncSession, Response, Timeout
from reqivo_async.transport import NetworkStream, redact_url
from reqivo_protocol import URL, HandshakeError, HeaderTypes, InvalidURL
from reqivo_protocol.websocket import ClientHandshake, DeflateOffer, HandshakeResult

__all__ = ["Handshaked", "http_url", "open_handshake", "refusal_message", "ws_text"]

_SCHEMES: Final = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
_WS_SCHEMES: Final = {"http": "ws", "https": "wss"}
#: How much of a refusing response's body ``HandshakeError.response`` keeps.
MAX_ERROR_BODY: Final = 64 * 1024
#: How many characters of that body the ``HandshakeError`` message quotes.
MAX_ERROR_TEXT: Final = 200


def http_url(url: URL | str) -> URL:
    """``url`` with ``ws``/``wss`` mapped to ``http``/``https`` (``InvalidURL`` otherwise)."""
    parsed = url if isinstance(url, URL) else URL(url)
    mapped = _SCHEMES.get(parsed.scheme)
    if mapped is None:
        raise InvalidURL(
            f"a WebSocket URL must start with ws:// or wss://, got {redact_url(parsed)!r}"
        )
    result = parsed if mapped == parsed.scheme else parsed.copy_with(scheme=mapped)
    result.validate_request_url()
    return result


def ws_text(url: URL) -> str:
    """``url`` as text with ``http``/``https`` shown as ``ws``/``wss``, password redacted."""
    scheme, _, rest = redact_url(url).partition(":")
    return _WS_SCHEMES.get(scheme, scheme) + ":" + rest


class Handshaked:
    """What a successful handshake leaves: the stream, its first bytes, the result, the
    ``101`` response and the URL it came from (after redirects; ``http``/``https``)."""

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


async def open_handshake(
    session: AsyncSession,
    url: URL,
    *,
    subprotocols: Sequence[str],
    headers: HeaderTypes | None,
    deflate: DeflateOffer | None,
    timeout: float | None,  # noqa: ASYNC109 - a request setting, not awaited here
) -> Handshaked:
    """Send the upgrade request through ``session`` (which follows redirects);
    ``HandshakeError`` if the server does not switch protocols."""
    handshake = ClientHandshake(
        url.netloc, subprotocols=subprotocols, deflate=deflate, headers=headers
    )
    request = session.build_request("GET", url, headers=handshake.headers, timeout=Timeout(timeout))
    response = await session.send(request, stream=True)
    if response.status_code != 101:
        await _read_some(response)
        raise HandshakeError(refusal_message(response), response=response)
    extensions = response.extensions
    stream: NetworkStream | None = extensions.get("network_stream")
    if stream is None:  # a transport without upgrades (MockTransport)
        await response.aclose()
        raise HandshakeError("the transport cannot hand over the connection", response=response)
    try:
        result = handshake.validate(101, response.headers, response=response)
    except BaseException:
        await stream.aclose()
        raise
    trailing = bytes(extensions.get("trailing_data", b""))
    return Handshaked(stream, trailing, result, response, response.url)


def refusal_message(response: Response) -> str:
    """Why ``response`` (body read) is not the ``101`` the handshake needs, and the start
    of its body: decoded (the Content-Type's charset), whitespace collapsed, cut."""
    status = f"{response.status_code} {response.reason}".rstrip()
    redirect = response.next_request
    if response.is_success:
        message = (
            f"the server answered {status} where 101 Switching Protocols was expected "
            "(is the URL a WebSocket endpoint?)"
        )
    elif redirect is not None:
        message = (
            f"the server redirected the WebSocket upgrade ({status}) to "
            f"{ws_text(redirect.url)!r}, which the session does not follow "
            "(follow_redirects=False)"
        )
    else:
        message = f"the server refused the WebSocket upgrade: {status}"
    text = " ".join(response.text.split())
    if not text:
        return message
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT].rstrip() + "…"
    # repr: a server's control characters (terminal escapes) are shown escaped.
    return f"{message}: {text!r}"


async def _read_some(response: Response) -> None:
    """Read up to ``MAX_ERROR_BODY`` bytes of the refusing response's body into
    ``response.content``, then close it."""
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
    response._content = b"".join(chunks)[:MAX_ERROR_BODY]
