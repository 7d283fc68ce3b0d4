"""Authentication as sans-IO flows: ``Auth``, ``BasicAuth``, ``BearerAuth``, ``DigestAuth``.

An ``Auth`` is a generator, ``auth_flow(request)``, that yields the requests to send and
receives each response in turn (``response = yield request``), as in httpx. The session
drives it: it sends what the flow yields and stops when the flow returns, keeping the
last response. A flow that needs a second round trip (Digest answering a 401
challenge) just yields again. Nothing here does I/O, so the same flows serve the async
session and the sync wrapper.

A flow that must await something (fetching a token) overrides ``async_auth_flow``
instead, an async generator with the same protocol.

``auth=("user", "pass")`` means Basic; a plain callable ``f(request) -> request`` (sync
or async) becomes a ``FunctionAuth``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeAlias

from reqivo_protocol import RemoteProtocolError

if TYPE_CHECKING:
    from reqivo_async._models import AsyncRequest, Response

__all__ = [
    "Auth",
    "AuthTypes",
    "BasicAuth",
    "BearerAuth",
    "DigestAuth",
    "FunctionAuth",
    "parse_challenges",
    "to_auth",
]

AuthFlow: TypeAlias = "Generator[AsyncRequest, Response, None]"
AuthTypes: TypeAlias = (
    "Auth | tuple[str | bytes, str | bytes] | "
    "Callable[[AsyncRequest], AsyncRequest | Awaitable[AsyncRequest]] | None"
)


class Auth:
    """Base class of authentication schemes.

    Override ``auth_flow`` (a generator: ``response = yield request``). Set
    ``requires_request_body`` when the flow reads ``request.content`` (a streamed body
    is then read into memory first), and ``requires_response_body`` when it reads the
    body of the responses it receives.
    """

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        """Yield the requests to send; each ``yield`` returns the response to it."""
        yield request

    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, Response]:
        """The flow as an async generator (override it when the flow must await)."""
        if self.requires_request_body:
            await request.aread()
        flow = self.auth_flow(request)
        next_request = next(flow)
        while True:
            response = yield next_request
            if self.requires_response_body:
                await response.aread()
            try:
                next_request = flow.send(response)
            except StopIteration:
                return


class FunctionAuth(Auth):
    """Auth by a callable ``func(request) -> request`` (a plain or a coroutine function)."""

    def __init__(self, func: Callable[[AsyncRequest], Any]) -> None:
        self._func = func

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        result = self._func(request)
        if inspect.isawaitable(result):
            # Only the sync driver of the bare generator gets here; close the coroutine.
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError("an async auth function needs async_auth_flow (use the session)")
        yield result

    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, Response]:
        result = self._func(request)
        if inspect.isawaitable(result):
            result = await result
        yield result


def _credential(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


class BasicAuth(Auth):
    """HTTP Basic authentication (RFC 7617); credentials encoded as UTF-8."""

    __slots__ = ("_header",)

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        from base64 import b64encode

        token = b64encode(_credential(username) + b":" + _credential(password))
        self._header = "Basic " + token.decode("ascii")

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BasicAuth([secure])"


class BearerAuth(Auth):
    """``Authorization: Bearer <token>`` (RFC 6750)."""

    __slots__ = ("_header",)

    def __init__(self, token: str) -> None:
        self._header = "Bearer " + token

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth([secure])"


# -- WWW-Authenticate parsing (RFC 9110 section 11.6.1) ----------------------------------

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = rf'[ \t]*({_TOKEN})[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|{_TOKEN})[ \t]*(?:,|$)'
_SCHEME = rf"[ \t,]*({_TOKEN})(?:[ \t]+|$|(?=,))"
_TOKEN68 = r"[ \t]*([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)"


def parse_challenges(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse ``WWW-Authenticate`` values into ``[(scheme lowercased, {param: value})]``.

    Parameter names are lowercased, quoted values unescaped; a token68 (``Bearer
    abc==``) is kept under the key ``""``. Unparseable remainders end the parse.
    """
    # Compiled on first use (re caches them): import time matters to every user.
    param_match = re.compile(_PARAM).match
    scheme_match = re.compile(_SCHEME).match
    token68_match = re.compile(_TOKEN68).match
    challenges: list[tuple[str, dict[str, str]]] = []
    for value in values:
        pos, end = 0, len(value)
        params: dict[str, str] | None = None
        while pos < end:
            match = param_match(value, pos)
            if match is not None and params is not None:
                raw = match.group(2)
                if raw[:1] == '"':
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params[match.group(1).lower()] = raw
                pos = match.end()
                continue
            scheme = scheme_match(value, pos)
            if scheme is None or scheme.end() == pos:
                break
            params = {}
            challenges.append((scheme.group(1).lower(), params))
            pos = scheme.end()
            if param_match(value, pos) is None:
                token = token68_match(value, pos)
                if token is not None and token.group(1):
                    params[""] = token.group(1)
                    pos = token.end()
    return challenges


# -- Digest (RFC 7616) -------------------------------------------------------------------

_ALGORITHMS = {"MD5": "md5", "MD5-SESS": "md5", "SHA-256": "sha256", "SHA-256-SESS": "sha256"}
_SPELLING = {
    "MD5": "MD5",
    "MD5-SESS": "MD5-sess",
    "SHA-256": "SHA-256",
    "SHA-256-SESS": "SHA-256-sess",
}
# Preference when a server offers several Digest challenges: the strongest first.
_PREFERENCE = ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS")


class _Challenge:
    __slots__ = ("algorithm", "nonce", "opaque", "qop", "realm")

    def __init__(self, realm: str, nonce: str, algorithm: str, qop: str | None, opaque: str | None):
        self.realm = realm
        self.nonce = nonce
        self.algorithm = algorithm
        self.qop = qop
        self.opaque = opaque


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth(Auth):
    """HTTP Digest authentication (RFC 7616; RFC 2617 servers work too).

    Algorithms MD5, MD5-sess, SHA-256 and SHA-256-sess; ``qop=auth`` (and ``auth-int``
    when the request body is in memory; no ``qop`` for RFC 2069 servers). After the
    first challenge, later requests authenticate up front with the same nonce and an
    increasing nonce count (``nc``); a ``stale=true`` or new nonce gets one retry.
    ``userhash`` is not supported.
    """

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self._username = _credential(username)
        self._password = _credential(password)
        self._challenge: _Challenge | None = None
        self._nonce_count = 0

    def __repr__(self) -> str:
        return "DigestAuth([secure])"

    def auth_flow(self, request: AsyncRequest) -> Generator[AsyncRequest, Response, None]:
        sent = self._challenge
        if sent is not None:
            request.headers["Authorization"] = self._authorization(request, sent)
        response = yield request
        if response.status_code != 401:
            return
        challenge = self._pick(response)
        if challenge is None:
            return
        if sent is not None and challenge.nonce == sent.nonce:
            # The server refused our answer to this very nonce: the credentials are wrong.
            return
        self._challenge = challenge
        self._nonce_count = 0
        header = self._authorization(request, challenge)
        request.headers["Authorization"] = header
        yield request

    def _pick(self, response: Response) -> _Challenge | None:
        values = response.headers.get_list("www-authenticate")
        offered: dict[str, dict[str, str]] = {}
        for scheme, params in parse_challenges(values):
            if scheme != "digest":
                continue
            algorithm = params.get("algorithm", "MD5").upper()
            if algorithm in _ALGORITHMS and algorithm not in offered:
                offered[algorithm] = params
        for algorithm in _PREFERENCE:
            if algorithm not in offered:
                continue
            params = offered[algorithm]
            if "nonce" not in params or "realm" not in params:
                raise RemoteProtocolError(
                    "malformed Digest challenge: it lacks 'nonce' or 'realm'",
                    request=response._request,
                )
            qop = None
            if "qop" in params:
                options = {item.strip().lower() for item in params["qop"].split(",")}
                if "auth" in options:
                    qop = "auth"
                elif "auth-int" in options:
                    qop = "auth-int"
                else:
                    return None
            return _Challenge(
                params["realm"], params["nonce"], algorithm, qop, params.get("opaque")
            )
        return None

    def _authorization(self, request: AsyncRequest, challenge: _Challenge) -> str:
        import hashlib
        import os

        algorithm = challenge.algorithm
        hash_name = _ALGORITHMS[algorithm]

        def digest(data: bytes) -> str:
            return hashlib.new(hash_name, data).hexdigest()

        self._nonce_count += 1
        nc = f"{self._nonce_count:08x}"
        cnonce = os.urandom(8).hex()
        nonce = challenge.nonce.encode("latin-1", "replace")
        realm = challenge.realm.encode("latin-1", "replace")
        uri = request.url.target
        ha1 = digest(self._username + b":" + realm + b":" + self._password)
        if algorithm.endswith("-SESS"):
            ha1 = digest(f"{ha1}:".encode() + nonce + f":{cnonce}".encode())
        a2 = f"{request.method}:{uri}"
        qop = challenge.qop
        if qop == "auth-int":
            body = request.stream.body
            if body is None:
                raise RemoteProtocolError(
                    "the server asks for Digest qop=auth-int, which needs the request body "
                    "in memory; this body is a stream",
                    request=request,
                )
            a2 += ":" + digest(body)
        ha2 = digest(a2.encode("latin-1", "replace"))
        if qop is None:
            response = digest(f"{ha1}:".encode() + nonce + f":{ha2}".encode())
        else:
            response = digest(f"{ha1}:".encode() + nonce + f":{nc}:{cnonce}:{qop}:{ha2}".encode())
        fields = [
            f"username={_quote(self._username.decode('latin-1'))}",
            f"realm={_quote(challenge.realm)}",
            f"nonce={_quote(challenge.nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={_SPELLING[algorithm]}",
            f'response="{response}"',
        ]
        if challenge.opaque is not None:
            fields.append(f"opaque={_quote(challenge.opaque)}")
        if qop is not None:
            fields.extend((f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"'))
        elif algorithm.endswith("-SESS"):
            fields.append(f'cnonce="{cnonce}"')  # H(A1) used it (RFC 2617 section 3.2.2.2)
        return "Digest " + ", ".join(fields)


def to_auth(auth: Any) -> Auth | None:
    """Normalize ``auth=``: an ``Auth``, a ``(user, password)`` tuple, a callable or None."""
    if auth is None or isinstance(auth, Auth):
        return auth
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise TypeError("auth=(username, password) takes exactly two items")
        return BasicAuth(auth[0], auth[1])
    if callable(auth):
        return FunctionAuth(auth)
    raise TypeError(
        f"auth= takes an Auth, a (username, password) tuple or a callable, "
        f"not {type(auth).__name__}"
    )
