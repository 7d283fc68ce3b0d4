"""HTTP proxies: forwarding (absolute-form requests) and ``CONNECT`` tunnels.

- ``http://`` origins go through the proxy as absolute-form requests
  (``GET http://host/path HTTP/1.1``) on connections to the proxy, which all such
  origins may share.
- ``https://`` origins (and ``wss://``) get a ``CONNECT host:port`` tunnel, then TLS to
  the origin inside it (``loop.start_tls`` on the same transport): the proxy sees only
  the encrypted bytes.

Credentials in the proxy URL's userinfo (``http://user:pass@proxy:3128``) become a
``Proxy-Authorization: Basic`` header; they never appear in logs or ``repr``. A proxy
refusing a tunnel raises ``ProxyError`` naming its status (also in ``status_code``).
The proxy itself may be reached over TLS (an ``https://`` proxy URL).
"""

from __future__ import annotations

from typing import Final, TypeAlias

from reqivo_async._http11 import HTTP11Connection, HTTP11Protocol
from reqivo_protocol import URL, ProxyError
from reqivo_protocol.http11 import ClientConnection, InformationalResponse
from reqivo_protocol.http11 import Response as ResponseHead

__all__ = ["Proxy", "ProxyTypes", "open_tunnel"]

ProxyTypes: TypeAlias = "URL | str | Proxy | None"
"""What ``proxy=`` takes: a proxy URL, a ``Proxy``, or None (the environment's, if any)."""
_SCHEMES: Final = ("http", "https")


class Proxy:
    """A proxy to send requests through: its URL and the headers it needs.

    ``Proxy("http://user:pass@proxy.example:3128")``; ``headers`` adds fields sent to
    the proxy (on forwarded requests and on ``CONNECT``).
    """

    __slots__ = ("headers", "url")

    def __init__(
        self, url: URL | str | Proxy, *, headers: list[tuple[str, str]] | None = None
    ) -> None:
        if isinstance(url, Proxy):
            self.url: URL = url.url
            self.headers: list[tuple[str, str]] = list(url.headers)
            return
        parsed = url if isinstance(url, URL) else URL(url)
        if parsed.scheme not in _SCHEMES or not parsed.host:
            raise ValueError(
                f"unsupported proxy URL {parsed!r}: expected http://host:port or https://host:port"
            )
        self.headers = list(headers or [])
        if parsed.userinfo:
            import base64  # lazily: only proxies with credentials need it

            token = f"{parsed.username}:{parsed.password}".encode()
            credentials = base64.b64encode(token).decode("ascii")
            self.headers.append(("Proxy-Authorization", f"Basic {credentials}"))
            parsed = parsed.copy_with(userinfo="")
        self.url = parsed

    @property
    def host(self) -> str:
        """The proxy's host."""
        return self.url.host

    @property
    def port(self) -> int:
        """The proxy's port."""
        return self.url.effective_port or 80

    @property
    def is_secure(self) -> bool:
        """Whether the connection to the proxy itself uses TLS."""
        return self.url.scheme == "https"

    def __repr__(self) -> str:
        return f"Proxy({str(self.url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Proxy) and self.url == other.url and self.headers == other.headers

    def __hash__(self) -> int:
        return hash(self.url)


async def open_tunnel(
    protocol: HTTP11Protocol,
    proxy: Proxy,
    host: str,
    port: int,
    *,
    read_timeout: float | None,
    max_header_size: int,
    max_header_count: int,
) -> None:
    """Ask the proxy to ``CONNECT`` to ``host:port``; return once the tunnel is open.

    Raises ``ProxyError`` if the proxy refuses (its status in the message and in
    ``status_code``), the read errors of ``HTTP11Connection`` otherwise.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    connection = HTTP11Connection(
        protocol, max_header_size=max_header_size, max_header_count=max_header_count
    )
    machine: ClientConnection = connection.machine
    wire = machine.send_request("CONNECT", authority, [("Host", authority), *proxy.headers])
    protocol.transport.write(wire)  # type: ignore[union-attr]
    while True:
        event = await connection._receive_event(read_timeout)
        if type(event) is InformationalResponse:
            continue
        assert type(event) is ResponseHead
        break
    if not 200 <= event.status_code < 300:
        raise ProxyError(
            f"proxy {proxy.url} refused CONNECT to {authority}: "
            f"{event.status_code} {event.reason}".rstrip(),
            status_code=event.status_code,
        )
    leftover = machine.trailing_data
    if leftover or protocol.has_data:
        raise ProxyError(f"proxy {proxy.url} sent data before the tunnel was used")
