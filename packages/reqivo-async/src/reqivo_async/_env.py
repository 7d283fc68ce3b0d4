"""What ``trust_env=True`` reads from the environment: proxies and CA bundles.

Proxies follow curl and the other well-known clients:

- ``http_proxy`` / ``HTTP_PROXY`` for ``http://`` (and ``ws://``) URLs, ``https_proxy`` /
  ``HTTPS_PROXY`` for ``https://`` (and ``wss://``), ``all_proxy`` / ``ALL_PROXY`` for
  both when the specific one is unset. The lowercase name wins. ``HTTP_PROXY`` is
  ignored when ``REQUEST_METHOD`` is set: under CGI it comes from the client's
  ``Proxy:`` request header ("httpoxy").
- ``no_proxy`` / ``NO_PROXY``: comma- or space-separated entries; ``*`` disables proxies;
  ``example.com`` and ``.example.com`` match that domain and its subdomains; an IP
  address matches itself, a CIDR block (``10.0.0.0/8``, ``fd00::/8``) the addresses in
  it; ``host:port`` (``[v6]:port``) restricts an entry to that port.

``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` name the CA bundle file and directory (see
``_tls``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from reqivo_protocol import URL

__all__ = ["EnvironmentProxies", "NoProxy", "get_environment_proxies", "ssl_cert_env"]

if TYPE_CHECKING:
    import ipaddress

    _IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


def ssl_cert_env(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """``(SSL_CERT_FILE, SSL_CERT_DIR)``, each None when unset or empty."""
    env = os.environ if environ is None else environ
    return env.get("SSL_CERT_FILE") or None, env.get("SSL_CERT_DIR") or None


def _lookup(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name.lower())
    if value is None and not (name == "HTTP_PROXY" and "REQUEST_METHOD" in env):
        value = env.get(name)
    return value.strip() or None if value is not None else None


def get_environment_proxies(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Proxy URLs by URL scheme (``"http"``, ``"https"``), plus ``"no_proxy"`` if set."""
    env = os.environ if environ is None else environ
    proxies: dict[str, str] = {}
    every = _lookup(env, "ALL_PROXY")
    for scheme in ("http", "https"):
        value = _lookup(env, f"{scheme.upper()}_PROXY") or every
        if value:
            proxies[scheme] = value
    no_proxy = _lookup(env, "NO_PROXY")
    if no_proxy:
        proxies["no_proxy"] = no_proxy
    return proxies


@dataclass(frozen=True, slots=True)
class _Entry:
    domain: str | None
    network: _IPNetwork | None
    port: int | None


class NoProxy:
    """A parsed ``NO_PROXY`` value: ``matches(host, port)`` tells to bypass the proxy."""

    __slots__ = ("_entries", "_everything")

    def __init__(self, value: str) -> None:
        self._everything = False
        self._entries: list[_Entry] = []
        for raw in value.replace(",", " ").split():
            if raw == "*":
                self._everything = True
                continue
            entry = _parse_entry(raw.lower())
            if entry is not None:
                self._entries.append(entry)

    def matches(self, host: str, port: int | None) -> bool:
        """True when a request to ``host:port`` must not use the proxy."""
        if self._everything:
            return True
        host = host.lower().strip("[]").rstrip(".")
        address = _ip(host)
        for entry in self._entries:
            if entry.port is not None and entry.port != port:
                continue
            if entry.network is not None:
                if address is not None and address in entry.network:
                    return True
            elif entry.domain is not None and (
                host == entry.domain or host.endswith("." + entry.domain)
            ):
                return True
        return False


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    import ipaddress  # lazily: only NO_PROXY matching needs it

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_entry(raw: str) -> _Entry | None:
    port: int | None = None
    host = raw
    if host.startswith("["):
        inside, _, rest = host[1:].partition("]")
        host = inside
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif host.count(":") == 1:
        name, _, port_text = host.partition(":")
        if port_text.isdigit():
            host, port = name, int(port_text)
    import ipaddress  # lazily: only NO_PROXY matching needs it

    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        network = None
    if network is not None:
        return _Entry(None, network, port)
    domain = host.lstrip(".").lstrip("*").lstrip(".").rstrip(".")
    if not domain:
        return None
    return _Entry(domain, None, port)


class EnvironmentProxies:
    """The proxies of the environment, read once (a pool reads them when created)."""

    __slots__ = ("_no_proxy", "proxies")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        proxies = get_environment_proxies(environ)
        no_proxy = proxies.pop("no_proxy", None)
        self.proxies = proxies
        self._no_proxy = NoProxy(no_proxy) if no_proxy else None

    def for_url(self, url: URL) -> str | None:
        """The proxy URL to use for ``url``, or None (no proxy, or bypassed)."""
        scheme = _PROXY_SCHEME.get(url.scheme, url.scheme)
        proxy = self.proxies.get(scheme)
        if proxy is None:
            return None
        if self._no_proxy is not None and self._no_proxy.matches(url.host, url.effective_port):
            return None
        return proxy


_PROXY_SCHEME = {"ws": "http", "wss": "https"}
