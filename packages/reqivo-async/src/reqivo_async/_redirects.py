"""Redirect policy as pure functions; the session runs the loop (see ADR-005).

``next_redirect_request(request, response)`` builds the request that follows a redirect
response, or raises when it must not be followed. It applies:

- the method rewriting of browsers: 303 turns every method but HEAD into GET, 301 and
  302 turn POST into GET; a request turned into GET loses its body and every
  ``Content-*`` / ``Transfer-Encoding`` header. 307 and 308 keep method and body; a body
  that cannot be sent again (a generator, an unseekable file) is an error
  (``StreamConsumed``) rather than a silently empty request;
- ``Location`` resolved against the request URL (RFC 3986), the request's fragment
  inherited when ``Location`` has none (RFC 9110 section 10.2.2);
- only http and https targets: anything else (``file:``, ``ftp:``, ``javascript:``) is
  refused with ``RemoteProtocolError``. A WebSocket opening handshake (a request with
  ``Upgrade: websocket``, RFC 6455 section 4.1) may also be sent to ``ws:``/``wss:``
  (followed as ``http:``/``https:``), and is never sent from ``https`` to ``http``: a
  ``wss://`` connection is not downgraded (browsers do not follow a handshake's redirect
  at all; the ``websockets`` library refuses the downgrade too). Plain HTTP follows
  ``https`` to ``http`` as requests and httpx do;
- credentials bound to the origin: ``Authorization`` and ``Proxy-Authorization`` are
  dropped when scheme, host or port change, except for the upgrade from
  ``http://host`` to ``https://host`` on default ports (the same party, now over TLS);
  ``Cookie`` is always recomputed from the jar for the new URL.

``redirect_key`` is what the loop detection compares: method, URL and the cookies sent
(a server that sets a cookie and redirects to the same URL is not looping).
"""

from __future__ import annotations

from reqivo_async._content import EMPTY
from reqivo_async._cookies import Cookies
from reqivo_async._models import AsyncRequest, Response
from reqivo_protocol import URL, Headers, InvalidURL, RemoteProtocolError, StreamConsumed

__all__ = [
    "REDIRECT_STATUSES",
    "credentials_allowed",
    "is_websocket_upgrade",
    "next_redirect_request",
    "redirect_key",
    "redirect_method",
    "redirect_url",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_FOLLOWABLE_SCHEMES = frozenset({"http", "https"})
#: The schemes a WebSocket handshake may be redirected to, and what they are sent as.
_WEBSOCKET_SCHEMES = {"ws": "http", "wss": "https"}
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


def redirect_method(method: str, status_code: int) -> str:
    """The method of the request that follows a ``status_code`` redirect of ``method``."""
    if status_code == 303 and method != "HEAD":
        return "GET"
    if status_code in (301, 302) and method == "POST":
        return "GET"
    return method


def is_websocket_upgrade(request: AsyncRequest) -> bool:
    """Whether ``request`` opens a WebSocket (its ``Upgrade`` names ``websocket``)."""
    value = request.headers.get("upgrade")
    return value is not None and any(
        token.strip().lower() == "websocket" for token in value.split(",")
    )


def redirect_url(request: AsyncRequest, response: Response) -> URL:
    """The absolute URL a redirect response points to (``RemoteProtocolError`` if unusable)."""
    location = response.headers.get("location")
    if location is None:
        raise RemoteProtocolError(
            f"redirect response {response.status_code} has no Location header", request=request
        )
    try:
        url = request.url.join(location)
    except InvalidURL as exc:
        raise RemoteProtocolError(
            f"invalid Location header in a {response.status_code} response: {location[:200]!r}",
            request=request,
        ) from exc
    websocket = is_websocket_upgrade(request)
    if url.scheme not in _FOLLOWABLE_SCHEMES:
        scheme = _WEBSOCKET_SCHEMES.get(url.scheme) if websocket else None
        if scheme is None:
            raise RemoteProtocolError(
                f"refusing to follow a redirect to the non-HTTP URL {location[:200]!r}",
                request=request,
            )
        url = url.copy_with(scheme=scheme)
    if not url.host:
        raise RemoteProtocolError(
            f"refusing to follow a redirect to a URL without a host: {location[:200]!r}",
            request=request,
        )
    if websocket and url.scheme == "http" and request.url.scheme == "https":
        raise RemoteProtocolError(
            "refusing to follow the WebSocket handshake's redirect from wss:// to an "
            f"unencrypted ws:// URL: {location[:200]!r}",
            request=request,
        )
    fragment = request.url.fragment
    if fragment and not url.fragment:
        url = url.copy_with(fragment=fragment)
    return url


def credentials_allowed(original: URL, new: URL) -> bool:
    """Whether credentials meant for ``original`` may go to ``new``.

    Same origin (scheme, host, effective port), or ``http`` on port 80 upgraded to
    ``https`` on port 443 of the same host.
    """
    old, nxt = original.origin, new.origin
    if old == nxt:
        return True
    return (
        old.scheme == "http"
        and nxt.scheme == "https"
        and old.host == nxt.host
        and old.port == 80
        and nxt.port == 443
    )


def next_redirect_request(
    request: AsyncRequest, response: Response, *, cookies: Cookies | None = None
) -> AsyncRequest:
    """The request that follows the redirect ``response`` to ``request``.

    ``cookies`` (the session's jar, already updated with the redirect's ``Set-Cookie``)
    gives the ``Cookie`` header for the new URL.
    """
    url = redirect_url(request, response)
    method = redirect_method(request.method, response.status_code)
    headers = Headers(request.headers)
    if not credentials_allowed(request.url, url):
        for name in _CREDENTIAL_HEADERS:
            headers.pop(name, None)
    if url.origin != request.url.origin:
        headers.pop("host", None)
    headers.pop("cookie", None)
    if method != request.method and method == "GET":
        stream = EMPTY
        for name in headers:
            lower = name.lower()
            if lower.startswith("content-") or lower == "transfer-encoding":
                del headers[name]
    else:
        stream = request.stream
        if not stream.replayable:
            raise StreamConsumed(
                f"cannot follow the {response.status_code} redirect: it must resend the request "
                "body, which was a stream that is consumed now (pass bytes or a seekable file "
                "to allow it, or follow_redirects=False)"
            )
    if cookies:
        header = cookies.header_for(url)
        if header is not None:
            headers["Cookie"] = header
    return AsyncRequest(method, url, headers=headers, stream=stream, extensions=request.extensions)


def redirect_key(request: AsyncRequest) -> tuple[str, str, str | None]:
    """What makes two requests of one redirect chain the same, for loop detection."""
    url = request.url
    if url.fragment:
        url = url.copy_with(fragment=None)
    return (request.method, str(url), request.headers.get("cookie"))
