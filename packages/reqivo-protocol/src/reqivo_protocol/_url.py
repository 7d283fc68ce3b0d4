"""URLs: parsing, normalisation, reference resolution (RFC 3986) and the request target.

Theory of operation
-------------------
``URL(text)`` splits ``text`` with the RFC 3986 appendix B expression, then checks and
normalises each component once, so every later read is a plain attribute access:

* the scheme and host are lowercased; a non-ASCII host is IDNA-encoded with the
  standard library's ``idna`` codec (IDNA 2003: ``"ß"`` becomes ``"ss"``, labels are at
  most 63 characters, and the result must still be a valid host); an IPv4 literal must
  be a canonical dotted quad; an IPv6 literal is validated with ``ipaddress`` and kept
  compressed, without brackets, in ``.host``;
* characters not allowed in a component are percent-encoded as UTF-8 (a space is
  ``%20`` in the path; the query uses the WHATWG query set), valid ``%XX`` escapes are
  kept and a lone ``%`` becomes ``%25``;
* the port is dropped when it is the scheme's default, and an empty http(s)/ws(s) path
  becomes ``"/"``; dot segments are removed from URLs that have a scheme or a host.

Injection is impossible by construction: a control character (0x00-0x1F, 0x7F) anywhere
is refused with ``InvalidURL``, and after normalisation the path, query, host and port are
pure ASCII with no space, so ``target`` and ``netloc`` can go on the wire as they are.

Relative references (no scheme) are valid ``URL`` objects, for ``base_url.join()``.
``is_request_url`` / ``validate_request_url()`` say whether a URL can be requested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeAlias

from reqivo_protocol._exceptions import InvalidURL
from reqivo_protocol._query import QueryParams, QueryParamTypes, primitive_value_to_str

__all__ = ["DEFAULT_PORTS", "MAX_URL_LENGTH", "URL", "Origin", "URLTypes"]

MAX_URL_LENGTH = 65536
"""The longest URL text accepted, in characters."""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
DEFAULT_PORTS: Mapping[str, int] = MappingProxyType(_DEFAULT_PORTS)
"""The schemes a request can use, with their default ports (read-only)."""

_SECURE_SCHEMES = frozenset({"https", "wss"})

URLTypes: TypeAlias = "URL | str"
"""What URL-taking functions accept."""

_IPV4 = (
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
_LABEL = r"[a-z0-9\-_~!$&'()*+,;=]*"


class _Patterns:
    """This module's regular expressions, each compiled on first use.

    Compiling all of them at import would cost every client a few milliseconds of
    ``import reqivo_async``; a ``cached_property`` compiles one when first read and
    keeps it, after which a read is a plain instance attribute lookup.
    """

    @cached_property
    def split(self) -> re.Pattern[str]:
        """RFC 3986 appendix B. Every string matches it (control characters are refused
        first)."""
        return re.compile(
            r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?",
            re.DOTALL,
        )

    @cached_property
    def control(self) -> re.Pattern[str]:
        return re.compile(r"[\x00-\x1f\x7f]")

    @cached_property
    def scheme(self) -> re.Pattern[str]:
        return re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")

    @cached_property
    def host(self) -> re.Pattern[str]:
        """A reg-name after lowercasing and IDNA: unreserved and sub-delims (RFC 3986
        3.2.2)."""
        return re.compile(r"[a-z0-9\-._~!$&'()*+,;=]*")

    @cached_property
    def ipv4(self) -> re.Pattern[str]:
        return re.compile(_IPV4)

    @cached_property
    def fast(self) -> re.Pattern[str]:
        """The common case in one expression: lowercase scheme, no userinfo, a lowercase
        host that is a canonical IPv4 address or whose last label cannot be read as a
        number (it has a letter other than a-f and x), and components needing no
        percent-encoding. What it matches needs no further checks but the port range;
        the rest takes the general path, which gives the same result.

        It runs in linear time: every repetition is possessive (``*+``, ``++``) over
        alternatives that cannot start alike, so a near-miss is never re-split. (Nested
        greedy repetitions like ``(?:[...]+|%..)*`` backtrack exponentially on a long
        path followed by a character that fails the match, a ReDoS found by fuzzing.)
        The host's last label reads "digits, a-f or x; then one other label character;
        then anything", and a host with a trailing dot takes the general path."""
        return re.compile(
            r"([a-z][a-z0-9+.\-]*+)://"
            rf"((?:{_LABEL}\.)*+[a-fx0-9]*+[g-wyz\-_~!$&'()*+,;=]{_LABEL}+|{_IPV4})"
            r"(?::([0-9]{1,5}))?"
            r"((?:/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]++|%[0-9A-Fa-f]{2})*+)*+)"
            r"(?:\?((?:[\x21\x24\x26\x28-\x3b\x3d\x3f-\x7e]++|%[0-9A-Fa-f]{2})*+))?"
            r"(?:#((?:[\x21\x23\x24\x26-\x3b\x3d\x3f-\x5f\x61-\x7e]++|%[0-9A-Fa-f]{2})*+))?"
        )

    @cached_property
    def hex_label(self) -> re.Pattern[str]:
        return re.compile(r"0[xX][0-9A-Fa-f]*")

    # Characters to percent-encode in each component: anything outside the allowed set,
    # and a "%" that does not start a valid escape. Control characters never reach these.

    @cached_property
    def path_bad(self) -> re.Pattern[str]:
        return re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]")

    @cached_property
    def userinfo_bad(self) -> re.Pattern[str]:
        return re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:%]")

    @cached_property
    def userpart_bad(self) -> re.Pattern[str]:
        return re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=%]")

    @cached_property
    def query_bad(self) -> re.Pattern[str]:
        """WHATWG special-query set: everything printable except space " # ' < >."""
        return re.compile(r"%(?![0-9A-Fa-f]{2})|[^\x21\x24-\x26\x28-\x3b\x3d\x3f-\x7e]")

    @cached_property
    def fragment_bad(self) -> re.Pattern[str]:
        """WHATWG fragment set: everything printable except space " < > `."""
        return re.compile(r"%(?![0-9A-Fa-f]{2})|[^\x21\x23-\x3b\x3d\x3f-\x5f\x61-\x7e]")


_rx = _Patterns()


def _fast_match(url: str) -> re.Match[str] | None:
    """Match ``url`` against the fast-path expression (tests replace this function)."""
    return _rx.fast.fullmatch(url)


_SECRET_PARTS = frozenset({"userinfo", "username", "password"})


def _escape_match(match: re.Match[str]) -> str:
    return "".join([f"%{b:02X}" for b in match.group().encode("utf-8")])


def _encode(text: str, bad: re.Pattern[str], what: str) -> str:
    if bad.search(text) is None:
        return text
    # Credentials are never echoed into messages (they end up in logs).
    shown = "" if what in _SECRET_PARTS else f" {text[:200]!r}"
    control = _rx.control.search(text)
    if control is not None:
        raise InvalidURL(
            f"invalid URL {what}{shown}: control character {control.group()!r} "
            f"at position {control.start()}"
        )
    try:
        return bad.sub(_escape_match, text)
    except UnicodeEncodeError:
        raise InvalidURL(f"invalid URL {what}{shown}: not valid Unicode") from None


def _check_port(port: str) -> int | None:
    if not port:
        return None
    if len(port) > 5 or not (port.isascii() and port.isdigit()):
        raise InvalidURL(f"invalid port {port!r}: expected a number from 0 to 65535")
    value = int(port)
    if value > 65535:
        raise InvalidURL(f"invalid port {port!r}: expected a number from 0 to 65535")
    return value


def _check_ipv6(host: str) -> str:
    if "%" in host:
        raise InvalidURL(f"invalid IPv6 address {host!r}: zone identifiers are not supported")
    import ipaddress  # lazily, as is urllib.parse: they cost import time

    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        raise InvalidURL(f"invalid IPv6 address {host!r}") from None
    if address.ipv4_mapped is not None:
        # RFC 5952 section 5's form; Python 3.13 prints it so, older versions do not.
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


def _normalize_host(host: str) -> str:
    """Lowercase, IDNA-encode and validate a host given without brackets or port."""
    if "%" in host:
        from urllib.parse import unquote

        try:
            host = unquote(host, errors="strict")
        except UnicodeDecodeError:
            raise InvalidURL(f"invalid percent-encoded host {host!r}: not UTF-8") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            reason = str(exc.__cause__ or exc).removeprefix("encoding with 'idna' codec failed ")
            raise InvalidURL(
                f"invalid international domain name {host!r} (IDNA 2003): {reason}"
            ) from None
    host = host.lower()
    if _rx.host.fullmatch(host) is None:
        if ":" in host:
            return _check_ipv6(host)
        raise InvalidURL(f"invalid character in host {host!r}")
    _check_ipv4_like(host)
    return host


def _check_ipv4_like(host: str) -> None:
    """Refuse a host whose last label is a number unless it is a canonical IPv4 address.

    ``getaddrinfo`` would read "0x7f.1" or "127.1" as 127.0.0.1; WHATWG parses such
    hosts as IPv4 too. We accept only the dotted-quad form and refuse the others.
    """
    last = host[:-1] if host[-1:] == "." else host
    last = last[last.rfind(".") + 1 :]
    numeric = last.isdigit() or _rx.hex_label.fullmatch(last) is not None
    if numeric and _rx.ipv4.fullmatch(host) is None:
        raise InvalidURL(f"invalid IPv4 address {host!r}")


def _split_authority(authority: str) -> tuple[str, str, int | None]:
    """Split an authority into (encoded userinfo, normalised host, port)."""
    userinfo = ""
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        userinfo = _encode(userinfo, _rx.userinfo_bad, "userinfo")
    if authority[:1] == "[":
        end = authority.find("]")
        if end < 0:
            raise InvalidURL(f"invalid IPv6 address {authority!r}: missing ']'")
        host = _check_ipv6(authority[1:end])
        rest = authority[end + 1 :]
        if rest and rest[0] != ":":
            raise InvalidURL(f"invalid text after IPv6 address: {rest!r}")
        return userinfo, host, _check_port(rest[1:])
    colon = authority.rfind(":")
    if colon >= 0:
        port = _check_port(authority[colon + 1 :])
        authority = authority[:colon]
    else:
        port = None
    if _rx.host.fullmatch(authority) is None:
        authority = _normalize_host(authority)
    else:
        _check_ipv4_like(authority)
    return userinfo, authority, port


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, written over segments rather than a character buffer."""
    segments = path.split("/")
    keep = 1 if path[:1] == "/" else 0  # never pop the empty segment before a leading "/"
    output: list[str] = []
    for segment in segments[:-1]:
        if segment == "..":
            if len(output) > keep:
                output.pop()
        elif segment != ".":
            output.append(segment)
    last = segments[-1]
    if last == "..":
        if len(output) > keep:
            output.pop()
        output.append("")
    elif last == ".":
        output.append("")
    else:
        output.append(last)
    return "/".join(output)


def _has_dot_segment(path: str) -> bool:
    return "." in path and (
        "/./" in path
        or "/../" in path
        or path.endswith(("/.", "/.."))
        or path.startswith(("./", "../"))
        or path in (".", "..")
    )


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and effective port: the key of a connection pool and of
    same-origin checks (for example, whether to keep ``Authorization`` on a redirect)."""

    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (
            f"{self.scheme}://{host}"
            if self.port is None
            else f"{self.scheme}://{host}:{self.port}"
        )


class URL:
    """An immutable, normalised URL (absolute, or a relative reference to join).

    ``URL("https://user:pw@Example.COM:443/a b/?q=1#f")`` gives ``scheme="https"``,
    ``host="example.com"``, ``port=None`` (the default), ``path="/a%20b/"``,
    ``query="q=1"``, ``fragment="f"``; ``str(url)`` is the normalised text and
    ``repr(url)`` hides the password. Invalid input raises ``InvalidURL``.
    """

    __slots__ = (
        "_fragment",
        "_host",
        "_netloc",
        "_origin",
        "_path",
        "_port",
        "_query",
        "_scheme",
        "_str",
        "_userinfo",
    )

    _scheme: str
    _userinfo: str
    _host: str | None
    _port: int | None
    _path: str
    _query: str | None
    _fragment: str | None
    _str: str | None
    _origin: Origin | None
    _netloc: str | None

    def __init__(self, url: URL | str = "") -> None:
        if isinstance(url, URL):
            self._scheme = url._scheme
            self._userinfo = url._userinfo
            self._host = url._host
            self._port = url._port
            self._path = url._path
            self._query = url._query
            self._fragment = url._fragment
            self._str = url._str
            self._origin = url._origin
            self._netloc = url._netloc
            return
        if not isinstance(url, str):
            raise TypeError(f"URL must be a str or URL, not {type(url).__name__}")
        if len(url) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL too long: {len(url)} characters (the limit is {MAX_URL_LENGTH})")
        fast = _fast_match(url)
        if fast is not None:
            scheme, host, port_text, path, query, fragment = fast.groups()
            if port_text is None:
                port = None
            else:
                port = int(port_text)
                if port > 65535:
                    raise InvalidURL(
                        f"invalid port {port_text!r}: expected a number from 0 to 65535"
                    )
                if port == _DEFAULT_PORTS.get(scheme):
                    port = None
            if not path:
                if scheme in _DEFAULT_PORTS:
                    path = "/"
            elif "." in path and _has_dot_segment(path):
                path = _remove_dot_segments(path)
            self._scheme = scheme
            self._userinfo = ""
            self._host = host
            self._port = port
            self._path = path
            self._query = query
            self._fragment = fragment
            self._str = None
            self._origin = None
            self._netloc = None
            return
        control = _rx.control.search(url)
        if control is not None:
            raise InvalidURL(
                f"invalid URL: control character {control.group()!r} at position {control.start()}"
            )
        url = url.strip(" ")
        match = _rx.split.fullmatch(url)
        assert match is not None  # the expression matches every string
        scheme, authority, path, query, fragment = match.groups()
        if scheme is None:
            scheme = ""
        elif not scheme.islower():
            scheme = scheme.lower()
        if authority is None:
            self._userinfo = ""
            self._host = None
            self._port = None
        else:
            userinfo, host, port = _split_authority(authority)
            if not host and scheme in _DEFAULT_PORTS:
                raise InvalidURL(f"invalid {scheme} URL: empty host")
            self._userinfo = userinfo
            self._host = host
            self._port = None if port == _DEFAULT_PORTS.get(scheme) else port
        if _rx.path_bad.search(path) is not None:
            path = _encode(path, _rx.path_bad, "path")
        if scheme or authority is not None:
            if _has_dot_segment(path):
                path = _remove_dot_segments(path)
            if not path and authority is not None and scheme in _DEFAULT_PORTS:
                path = "/"
        self._scheme = scheme
        self._path = path
        self._query = (
            query
            if query is None or _rx.query_bad.search(query) is None
            else _encode(query, _rx.query_bad, "query")
        )
        self._fragment = (
            fragment
            if fragment is None or _rx.fragment_bad.search(fragment) is None
            else _encode(fragment, _rx.fragment_bad, "fragment")
        )
        self._str = None
        self._origin = None
        self._netloc = None

    @classmethod
    def _from_parts(
        cls,
        scheme: str,
        userinfo: str,
        host: str | None,
        port: int | None,
        path: str,
        query: str | None,
        fragment: str | None,
    ) -> URL:
        """Build from components that are already encoded; applies the URL-wide rules."""
        if host is None:
            if userinfo or port is not None:
                raise InvalidURL("a URL without a host cannot have a userinfo or a port")
            if not scheme and path.startswith("//"):
                raise InvalidURL(
                    f"a URL without a host cannot have a path starting with '//': {path!r}"
                )
            if not scheme and ":" in path.partition("/")[0]:
                raise InvalidURL(
                    f"a relative URL's path cannot have ':' in its first segment: {path!r}"
                )
        else:
            if not host and scheme in _DEFAULT_PORTS:
                raise InvalidURL(f"a {scheme} URL needs a host")
            if path and path[0] != "/":
                raise InvalidURL(f"the path of a URL with a host must start with '/': {path!r}")
        if scheme or host is not None:
            if _has_dot_segment(path):
                path = _remove_dot_segments(path)
            if not path and host is not None and scheme in _DEFAULT_PORTS:
                path = "/"
        obj = cls.__new__(cls)
        obj._scheme = scheme
        obj._userinfo = userinfo
        obj._host = host
        obj._port = None if port == _DEFAULT_PORTS.get(scheme) else port
        obj._path = path
        obj._query = query
        obj._fragment = fragment
        obj._str = None
        obj._origin = None
        obj._netloc = None
        return obj

    # -- components ---------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """The lowercase scheme (``""`` for a relative reference)."""
        return self._scheme

    @property
    def userinfo(self) -> str:
        """The raw, percent-encoded ``user:password`` part (``""`` when absent)."""
        return self._userinfo

    @property
    def username(self) -> str:
        """The percent-decoded user name (``""`` when absent)."""
        from urllib.parse import unquote

        return unquote(self._userinfo.partition(":")[0])

    @property
    def password(self) -> str:
        """The percent-decoded password (``""`` when absent)."""
        from urllib.parse import unquote

        return unquote(self._userinfo.partition(":")[2])

    @property
    def host(self) -> str:
        """The lowercase ASCII host (IDNA-encoded; an IPv6 address without brackets)."""
        return self._host or ""

    @property
    def port(self) -> int | None:
        """The explicit port, or ``None`` when absent or equal to the scheme's default."""
        return self._port

    @property
    def effective_port(self) -> int | None:
        """The port to connect to: ``port`` or the scheme's default (``None`` if neither)."""
        return self._port if self._port is not None else _DEFAULT_PORTS.get(self._scheme)

    @property
    def is_default_port(self) -> bool:
        """True when the port is the scheme's default one (given explicitly or not)."""
        return self._port is None and self._scheme in _DEFAULT_PORTS

    @property
    def path(self) -> str:
        """The percent-encoded path (``"/"`` for an empty http(s)/ws(s) path with a host)."""
        return self._path

    @property
    def query(self) -> str:
        """The percent-encoded query, without ``"?"`` (``""`` when absent)."""
        return self._query or ""

    @property
    def fragment(self) -> str:
        """The percent-encoded fragment, without ``"#"`` (``""`` when absent)."""
        return self._fragment or ""

    @property
    def target(self) -> str:
        """The origin-form request target ``path?query`` (ASCII, ready for the wire)."""
        path = self._path or "/"
        return f"{path}?{self._query}" if self._query else path

    raw_path = target

    @property
    def netloc(self) -> str:
        """``host[:port]`` for the Host header: brackets around IPv6, port only if not default."""
        netloc = self._netloc
        if netloc is None:  # computed once: a URL is immutable, a Host header per request
            host = self._host or ""
            if ":" in host:
                host = f"[{host}]"
            netloc = self._netloc = host if self._port is None else f"{host}:{self._port}"
        return netloc

    authority = netloc

    @property
    def origin(self) -> Origin:
        """The (scheme, host, effective port) triple; see ``Origin``."""
        origin = self._origin
        if origin is None:
            origin = self._origin = Origin(self._scheme, self._host or "", self.effective_port)
        return origin

    @property
    def is_absolute_url(self) -> bool:
        """True when the URL has a scheme (RFC 3986 absolute URI)."""
        return bool(self._scheme)

    @property
    def is_relative_url(self) -> bool:
        """True for a relative reference (no scheme), to be joined onto a base URL."""
        return not self._scheme

    @property
    def is_secure(self) -> bool:
        """True for ``https`` and ``wss`` URLs."""
        return self._scheme in _SECURE_SCHEMES

    @property
    def is_request_url(self) -> bool:
        """True when a request can be sent to this URL (http/https/ws/wss with a host)."""
        return self._scheme in _DEFAULT_PORTS and bool(self._host)

    def validate_request_url(self) -> None:
        """Raise ``InvalidURL`` explaining why a request cannot be sent to this URL."""
        if self.is_request_url:
            return
        if not self._scheme:
            hint = f" (did you mean 'https://{self}'?)" if self._host is None else ""
            raise InvalidURL(f"URL {self._redacted():.200} has no scheme{hint}")
        if self._scheme not in _DEFAULT_PORTS:
            raise InvalidURL(
                f"unsupported URL scheme {self._scheme!r} in {self._redacted():.200}: "
                "expected http, https, ws or wss"
            )
        raise InvalidURL(f"URL {self._redacted():.200} has no host")

    @property
    def params(self) -> QueryParams:
        """The query parsed as ``QueryParams``."""
        return QueryParams(self._query or "")

    # -- deriving new URLs --------------------------------------------------------------

    def copy_with(self, **kwargs: Any) -> URL:
        """A copy with some components replaced.

        Accepts ``scheme``, ``username``, ``password``, ``userinfo``, ``host``, ``port``,
        ``path``, ``query``, ``fragment`` (strings are percent-encoded as needed; ``None``
        removes an optional component) and ``params`` (replaces the query).
        """
        scheme = self._scheme
        userinfo = self._userinfo
        host = self._host
        port = self._port
        path = self._path
        query = self._query
        fragment = self._fragment
        for key, value in kwargs.items():
            if key == "scheme":
                value = _expect_str(key, value)
                if value and _rx.scheme.fullmatch(value) is None:
                    raise InvalidURL(f"invalid URL scheme {value!r}")
                scheme = value.lower()
            elif key == "host":
                if value is None:
                    host = None
                else:
                    value = _expect_str(key, value)
                    if _rx.control.search(value) is not None:
                        raise InvalidURL(f"invalid character in host {value!r}")
                    if value[:1] == "[" and value[-1:] == "]":
                        host = _check_ipv6(value[1:-1])
                    else:
                        host = _normalize_host(value)
            elif key == "port":
                if value is not None and (
                    not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535
                ):
                    raise InvalidURL(f"invalid port {value!r}: expected an int from 0 to 65535")
                port = value
            elif key == "path":
                path = _encode(_expect_str(key, value), _rx.path_bad, "path")
            elif key == "query":
                query = (
                    None
                    if value is None
                    else _encode(_expect_str(key, value), _rx.query_bad, "query")
                )
            elif key == "params":
                params = str(QueryParams(value))
                query = params or None
            elif key == "fragment":
                fragment = (
                    None
                    if value is None
                    else _encode(_expect_str(key, value), _rx.fragment_bad, "fragment")
                )
            elif key == "userinfo":
                userinfo = _encode(_expect_str(key, value), _rx.userinfo_bad, "userinfo")
            elif key == "username":
                user = _encode(_expect_str(key, value), _rx.userpart_bad, "username")
                userinfo = user + userinfo[userinfo.find(":") :] if ":" in userinfo else user
            elif key == "password":
                user = userinfo.partition(":")[0]
                if value is None:
                    userinfo = user
                else:
                    userinfo = (
                        user + ":" + _encode(_expect_str(key, value), _rx.userinfo_bad, "password")
                    )
            else:
                raise TypeError(f"copy_with() got an unexpected keyword argument {key!r}")
        if (
            "host" in kwargs
            and host is not None
            and "path" not in kwargs
            and path
            and path[0] != "/"
        ):
            path = "/" + path
        return URL._from_parts(scheme, userinfo, host, port, path, query, fragment)

    def copy_merge_params(self, params: QueryParamTypes | None) -> URL:
        """A copy whose query has ``params`` merged in (their keys replace existing ones)."""
        if not params:
            return self
        return self.copy_with(params=self.params.merge(params))

    def copy_set_param(self, key: str, value: Any) -> URL:
        """A copy where query parameter ``key`` has the single value ``value``."""
        return self.copy_with(params=self.params.set(key, primitive_value_to_str(value)))

    def copy_add_param(self, key: str, value: Any) -> URL:
        """A copy with one more query parameter ``key=value`` at the end."""
        return self.copy_with(params=self.params.add(key, primitive_value_to_str(value)))

    def copy_remove_param(self, key: str) -> URL:
        """A copy without any value of query parameter ``key``."""
        return self.copy_with(params=self.params.remove(key))

    def join(self, url: URL | str) -> URL:
        """Resolve the reference ``url`` against this URL (RFC 3986 section 5.2.2, strict)."""
        ref = url if isinstance(url, URL) else URL(url)
        if ref._scheme:
            return ref
        if ref._host is not None:
            return URL._from_parts(
                self._scheme,
                ref._userinfo,
                ref._host,
                ref._port,
                ref._path,
                ref._query,
                ref._fragment,
            )
        if not ref._path:
            query = ref._query if ref._query is not None else self._query
            return URL._from_parts(
                self._scheme,
                self._userinfo,
                self._host,
                self._port,
                self._path,
                query,
                ref._fragment,
            )
        if ref._path[0] == "/":
            path = _remove_dot_segments(ref._path)
        else:
            if self._host is not None and not self._path:
                merged = "/" + ref._path
            else:
                merged = self._path[: self._path.rfind("/") + 1] + ref._path
            path = _remove_dot_segments(merged)
        return URL._from_parts(
            self._scheme, self._userinfo, self._host, self._port, path, ref._query, ref._fragment
        )

    # -- text, equality -----------------------------------------------------------------

    def _render(self, userinfo: str) -> str:
        parts: list[str] = []
        if self._scheme:
            parts.append(self._scheme + ":")
        path = self._path
        if self._host is not None:
            parts.append("//")
            if userinfo:
                parts.append(userinfo + "@")
            parts.append(self.netloc)
        elif path[:2] == "//":
            # "scheme:" + "//x" would read back as a host: WHATWG's "/." prefix avoids it.
            path = "/." + path
        parts.append(path)
        if self._query is not None:
            parts.append("?" + self._query)
        if self._fragment is not None:
            parts.append("#" + self._fragment)
        return "".join(parts)

    def __str__(self) -> str:
        text = self._str
        if text is None:
            text = self._str = self._render(self._userinfo)
        return text

    def _redacted(self) -> str:
        userinfo = self._userinfo
        if ":" in userinfo:
            userinfo = userinfo.partition(":")[0] + ":[secure]"
        return self._render(userinfo)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._redacted()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return str(self) == str(other)
        if isinstance(other, str):
            try:
                return str(self) == str(URL(other))
            except InvalidURL:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def _expect_str(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"copy_with({key}=...) expects a str, not {type(value).__name__}")
    return value
