"""``AsyncSession``: the client users hold, with its state and policies.

The session owns what outlives one request (default headers, params, cookies, auth,
timeouts, the transport and its pooled connections) and drives the policies, written
as pure code elsewhere, around each call of the transport::

    send()                      total deadline; reads the body unless stream=True
     └ redirects loop           _redirects.next_redirect_request (pure)
        └ auth flow             _auth.Auth.auth_flow (sans-IO generator)
           └ retries loop       _retries.RetryState (pure), sleeps here
              └ _send_once      hooks, transport call, cookies, logging, elapsed

Each layer costs nothing when unused: no auth, no retries, no hooks and a response that
is not a redirect go straight through. See ADR-005 for the decisions (redirects on by
default, origin-bound credentials, ``elapsed``, the total deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from operator import attrgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from reqivo_async._auth import Auth, AuthTypes, BasicAuth, to_auth
from reqivo_async._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout, TimeoutTypes
from reqivo_async._content import EMPTY, RequestContentTypes, RequestData, RequestFiles
from reqivo_async._cookies import Cookies, CookieTypes
from reqivo_async._hooks import EventHook, EventHooks, call_hooks, to_event_hooks
from reqivo_async._logging import log_error, log_response, logger, redact_url
from reqivo_async._models import AsyncRequest, Response, _has_field
from reqivo_async._redirects import (
    REDIRECT_STATUSES,
    credentials_allowed,
    next_redirect_request,
    redirect_key,
)
from reqivo_async._retries import Retry, to_retry
from reqivo_async._state import SessionState
from reqivo_async._trace import TraceCallback
from reqivo_async._transports import _override
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_protocol import (
    URL,
    ConnectError,
    ConnectTimeout,
    DecodingError,
    Headers,
    HeaderTypes,
    QueryParams,
    QueryParamTypes,
    RedirectLoopError,
    ReqivoError,
    RequestError,
    TooManyRedirects,
    TotalTimeout,
    TransportError,
)

if TYPE_CHECKING:
    from reqivo_async._proxy import ProxyTypes
    from reqivo_async._tls import CertTypes, VerifyTypes

__all__ = ["USE_SESSION", "AsyncSession", "AsyncStreamContext", "UseSession"]

DEBUG = 10
_perf_counter = time.perf_counter
_URL_CACHE_SIZE = 128
#: Compiled on first use by ``re``'s own cache, not at import (import time matters).
_HAS_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*:"


class UseSession(enum.Enum):
    """The type of ``USE_SESSION``, the default of per-request options that means "use
    the session's setting" (``auth: AuthTypes | UseSession = USE_SESSION``)."""

    USE_SESSION = "USE_SESSION"

    def __repr__(self) -> str:
        return "USE_SESSION"


USE_SESSION: Final = UseSession.USE_SESSION
"""A per-request option left to the session's setting (``None`` often means "none")."""


def _timeout(value: TimeoutTypes) -> Timeout:
    return value if isinstance(value, Timeout) else Timeout(value)


def _shared(name: str, doc: str) -> Any:
    """A session property that reads and writes ``name`` of its ``SessionState``.

    The getter is an ``attrgetter``: a C call, as cheap as reading an instance attribute.
    """

    def set_value(session: AsyncSession, value: object) -> None:
        setattr(session._state, name, value)

    return property(attrgetter("_state." + name), set_value, doc=doc)


class AsyncSession:
    """An HTTP client with connection pooling, cookies, auth, redirects and retries.

    Use it as ``async with AsyncSession() as session:`` (or call ``await
    session.aclose()``). Every option is keyword-only:

    - ``base_url``: relative URLs are appended to it (``"http://h/api"`` +
      ``"users"`` -> ``"http://h/api/users"``, as httpx does);
    - ``headers``, ``params``, ``cookies``, ``auth``: sent with every request;
    - ``timeout`` (a ``Timeout`` or seconds), ``limits`` (a ``Limits``);
    - ``follow_redirects`` (True), ``max_redirects`` (20);
    - ``verify``, ``cert``, ``proxy``, ``trust_env``: passed to the connection pool;
    - ``transport``: another transport (``MockTransport``, ``ASGITransport``, your own);
      without it, a connection pool (or a test's stand-in: see
      ``reqivo_async.transport.override_default_transport``);
    - ``event_hooks``: ``{"request": [...], "response": [...]}``;
    - ``retries``: a ``Retry`` (or a number of retries); off by default (a request's own
      ``retries=`` replaces it for that request);
    - ``default_encoding``: the charset of ``response.text`` when the server names none;
    - ``max_decompressed_size``: bytes a compressed body may expand to (None: no limit);
    - ``max_body_size``: bytes a response body may have on the wire (None: no limit;
      exceeding it raises ``BodyTooLarge``, before reading when Content-Length says so);
    - ``trace``: a trace callback (see ``reqivo_async._trace``) for every request;
    - ``http1``/``http2``: the protocol versions the pool may speak (as in httpx):
      ``http2=True`` offers HTTP/2 by ALPN on ``https`` (``response.http_version`` is
      then ``"HTTP/2"``), ``http1=False`` with it speaks HTTP/2 only, to ``http`` by
      prior knowledge. The default is HTTP/1.1 alone.
    """

    def __init__(
        self,
        *,
        base_url: URL | str | None = None,
        headers: HeaderTypes | None = None,
        params: QueryParamTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        limits: Limits = DEFAULT_LIMITS,
        follow_redirects: bool = True,
        max_redirects: int = 20,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        proxy: ProxyTypes = None,
        trust_env: bool = True,
        transport: AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, Iterable[EventHook]] | None = None,
        retries: Retry | int | None = None,
        default_encoding: str = "utf-8",
        max_decompressed_size: int | None = None,
        max_body_size: int | None = None,
        trace: TraceCallback | None = None,
        http1: bool = True,
        http2: bool = False,
    ) -> None:
        if max_redirects < 0:
            raise ValueError("max_redirects must not be negative")
        self._closed = False
        self._opened = False
        self._owns_transport = transport is None
        self._close_transport = True
        self._state = state = SessionState()
        self.base_url = base_url
        if headers is not None:
            state.headers.update(headers)
        self.params = params
        if cookies is not None:
            state.cookies = Cookies(cookies)
        self.auth = auth
        self.timeout = timeout
        state.follow_redirects = follow_redirects
        state.max_redirects = max_redirects
        state.event_hooks = to_event_hooks(event_hooks)
        state.retries = to_retry(retries)
        state.default_encoding = default_encoding
        state.max_decompressed_size = max_decompressed_size
        state.max_body_size = max_body_size
        state.trace = trace
        if transport is None:
            from reqivo_async._pool import AsyncConnectionPool  # lazily: not needed by mocks

            make_pool = functools.partial(
                AsyncConnectionPool,
                verify=verify,
                cert=cert,
                limits=limits,
                proxy=proxy,
                trust_env=trust_env,
                http1=http1,
                http2=http2,
            )
            # A test's stand-in (override_default_transport), read here once: never per request.
            transport = _override.default_transport(make_pool)
        self._transport = transport
        # A transport doing blocking I/O (reqivo-sync drives this session without a loop):
        # the total timeout and retry back-offs then wait without asyncio (ADR-015).
        self._blocking = getattr(transport, "blocking", False) is True

    # -- settings (kept in the shared SessionState) -------------------------------------

    @property
    def state(self) -> SessionState:
        """The configuration and state this session shares with those made ``from_state``."""
        return self._state

    @property
    def base_url(self) -> URL | None:
        """The URL relative request URLs are appended to (its path ends with ``/``)."""
        return self._state.base_url

    @base_url.setter
    def base_url(self, value: URL | str | None) -> None:
        state = self._state
        if value is None or value == "":
            url = None
        else:
            url = URL(value)
            url.validate_request_url()
            url = url.copy_with(query=None, fragment=None)
            if not url.path.endswith("/"):
                url = url.copy_with(path=url.path + "/")
        state.base_url = url
        state.base_text = None if url is None else str(url)
        state.url_cache = {}

    @property
    def headers(self) -> Headers:
        """The headers sent with every request (modify them in place or assign)."""
        return self._state.headers

    @headers.setter
    def headers(self, value: HeaderTypes) -> None:
        self._state.headers = Headers(value)

    @property
    def params(self) -> QueryParams | None:
        """Query parameters added to every request URL."""
        return self._state.params

    @params.setter
    def params(self, value: QueryParamTypes | None) -> None:
        self._state.params = QueryParams(value) if value else None

    @property
    def cookies(self) -> Cookies:
        """The session's cookie jar, kept across requests and redirects."""
        return self._state.cookies

    @cookies.setter
    def cookies(self, value: CookieTypes) -> None:
        self._state.cookies = Cookies(value)

    @property
    def auth(self) -> Auth | None:
        """The authentication of every request (``(user, password)`` means Basic)."""
        return self._state.auth

    @auth.setter
    def auth(self, value: AuthTypes) -> None:
        self._state.auth = to_auth(value)

    @property
    def timeout(self) -> Timeout:
        """The default ``Timeout`` of requests."""
        return self._state.timeout

    @timeout.setter
    def timeout(self, value: TimeoutTypes) -> None:
        self._state.timeout = _timeout(value)

    @property
    def event_hooks(self) -> EventHooks:
        """``{"request": [...], "response": [...]}``; the lists may be changed in place."""
        return self._state.event_hooks

    @event_hooks.setter
    def event_hooks(self, value: Mapping[str, Iterable[EventHook]]) -> None:
        self._state.event_hooks = to_event_hooks(value)

    @property
    def retries(self) -> Retry | None:
        """The retry policy, or None (no retries)."""
        return self._state.retries

    @retries.setter
    def retries(self, value: Retry | int | None) -> None:
        self._state.retries = to_retry(value)

    follow_redirects: bool = _shared(
        "follow_redirects", "Whether requests follow redirects unless they say otherwise."
    )
    max_redirects: int = _shared(
        "max_redirects", "Redirects followed at most before ``TooManyRedirects``."
    )
    default_encoding: str = _shared(
        "default_encoding", "The charset of ``response.text`` when the server names none."
    )
    max_decompressed_size: int | None = _shared(
        "max_decompressed_size", "Bytes a compressed body may expand to (None: no limit)."
    )
    max_body_size: int | None = _shared(
        "max_body_size", "Bytes a response body may have on the wire (None: no limit)."
    )
    trace: TraceCallback | None = _shared(
        "trace", "The trace callback of every request (see ``TraceCallback``), or None."
    )

    # The names the redirect and auth loops read (read-only views of the shared state).
    _auth: Auth | None = property(attrgetter("_state.auth"))  # type: ignore[assignment]
    _timeout: Timeout = property(attrgetter("_state.timeout"))  # type: ignore[assignment]
    _cookies: Cookies = property(attrgetter("_state.cookies"))  # type: ignore[assignment]

    @property
    def transport(self) -> AsyncBaseTransport:
        """The transport requests go through."""
        return self._transport

    @property
    def is_closed(self) -> bool:
        """Whether ``aclose()`` was called."""
        return self._closed

    # -- building requests -------------------------------------------------------------

    def _merge_url(self, url: URL | str) -> URL:
        state = self._state
        if isinstance(url, URL):
            if state.base_text is None or url.is_absolute_url:
                return url
            url = str(url)
        # URLs are immutable: reuse the parse of a URL seen recently (the same endpoints
        # are requested again and again).
        cache = state.url_cache
        merged = cache.get(url)
        if merged is None:
            base = state.base_text
            if base is None or re.match(_HAS_SCHEME, url):
                merged = URL(url)
            else:
                merged = URL(base + url.lstrip("/"))
            if len(cache) >= _URL_CACHE_SIZE:
                cache.clear()
            cache[url] = merged
        return merged

    def build_request(
        self,
        method: str,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        timeout: TimeoutTypes | UseSession = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncRequest:
        """An ``AsyncRequest`` with the session's base URL, params, headers and cookies.

        Send it with ``send()``; auth is applied when it is sent.
        """
        state = self._state
        merged = self._merge_url(url)
        if state.params is not None:
            merged = merged.copy_merge_params(state.params)
        if params is not None:
            merged = merged.copy_merge_params(params)
        ext: dict[str, Any] = {} if extensions is None else dict(extensions)
        if "timeout" not in ext:
            ext["timeout"] = state.timeout if timeout is USE_SESSION else _timeout(timeout)
        if state.trace is not None and "trace" not in ext:
            ext["trace"] = state.trace
        if content is None and data is None and files is None and json is None:
            request = AsyncRequest(
                method, merged, headers=state.headers, stream=EMPTY, extensions=ext
            )
        else:
            request = AsyncRequest(
                method,
                merged,
                headers=state.headers,
                content=content,
                data=data,
                files=files,
                json=json,
                extensions=ext,
            )
        if headers is not None:
            request.headers.update(headers)
        jar = state.cookies
        if cookies is not None:
            jar = Cookies(jar)
            jar.update(cookies)
        if jar and "cookie" not in request.headers:
            value = jar.header_for(merged)
            if value is not None:
                request.headers.add("Cookie", value)
        return request

    # -- sending -----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a request and return its response, body read.

        ``auth``, ``timeout``, ``follow_redirects`` and ``retries`` (a ``Retry``, a number
        of retries, or None for none) override the session's settings for this request.
        """
        request = self.build_request(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            content=content,
            data=data,
            files=files,
            json=json,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    def stream(
        self,
        method: str,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> AsyncStreamContext:
        """``async with session.stream(...) as response:`` the body is not read yet.

        Iterate ``response.aiter_bytes()`` (or ``aiter_text``, ``aiter_lines``,
        ``aiter_raw``); the response is closed when the block ends.
        """
        request = self.build_request(
            method,
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            content=content,
            data=data,
            files=files,
            json=json,
            timeout=timeout,
            extensions=extensions,
        )
        return AsyncStreamContext(
            self, request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def send(
        self,
        request: AsyncRequest,
        *,
        stream: bool = False,
        auth: AuthTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
    ) -> Response:
        """Send ``request``; read the body unless ``stream`` (then close the response).

        ``auth``, ``follow_redirects`` and ``retries`` override the session's settings.
        """
        if self._closed:
            raise RuntimeError("cannot send a request: the session is closed")
        self._opened = True
        if not request.url.is_request_url:
            request.url.validate_request_url()
        state = self._state
        flow = state.auth if auth is USE_SESSION else to_auth(auth)
        if flow is None and request.url.userinfo:
            url = request.url
            # URL.username and .password are percent-decoded once already (as curl and
            # httpx decode them): "us%2540er" is the user "us%40er".
            flow = BasicAuth(url.username, url.password)
        follow = state.follow_redirects if follow_redirects is USE_SESSION else follow_redirects
        retry = state.retries if retries is USE_SESSION else to_retry(retries)
        extensions = request.extensions
        timeout = extensions.get("timeout")
        if timeout is None:
            timeout = extensions["timeout"] = state.timeout
        try:
            if timeout.total is not None:
                return await self._send_with_deadline(
                    request, flow, follow, retry, stream, timeout.total
                )
            # _send_handling_redirects and _read, inlined: this is the hot path.
            if flow is None and retry is None:
                response = await self._send_once(request)
            else:
                response = await self._send_handling_auth(request, flow, retry)
            if response.status_code in REDIRECT_STATUSES and _has_field(
                response.headers, "location"
            ):
                response = await self._redirected(request, response, flow, follow, retry)
            if not stream:
                try:
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
            return response
        except RequestError as exc:
            if exc.request is None:
                exc.request = request
            raise

    async def _send_with_deadline(
        self,
        request: AsyncRequest,
        flow: Auth | None,
        follow: bool,
        retry: Retry | None,
        stream: bool,
        total: float,
    ) -> Response:
        if self._blocking:
            # No task for asyncio.timeout: its blocking twin bounds every wait instead.
            from reqivo_async._blocking_io import Deadline

            deadline: asyncio.Timeout | Deadline = Deadline(total)
        else:
            deadline = asyncio.timeout(total)
        try:
            async with deadline:
                response = await self._send_handling_redirects(request, flow, follow, retry)
                if not stream:
                    await _read(response)
                return response
        except TimeoutError as exc:
            if deadline.expired():
                raise TotalTimeout(
                    f"the request did not complete within its total timeout of {total} s",
                    request=request,
                ) from exc
            raise

    async def _send_handling_redirects(
        self, request: AsyncRequest, flow: Auth | None, follow: bool, retry: Retry | None
    ) -> Response:
        if flow is None and retry is None:
            response = await self._send_once(request)
        else:
            response = await self._send_handling_auth(request, flow, retry)
        if response.status_code not in REDIRECT_STATUSES or not _has_field(
            response.headers, "location"
        ):
            return response
        return await self._redirected(request, response, flow, follow, retry)

    async def _redirected(
        self,
        request: AsyncRequest,
        response: Response,
        flow: Auth | None,
        follow: bool,
        retry: Retry | None,
    ) -> Response:
        if not follow:
            with contextlib.suppress(ReqivoError):
                response.next_request = next_redirect_request(
                    request, response, cookies=self._cookies
                )
            return response
        return await self._follow(request, response, flow, retry)

    async def _follow(
        self, request: AsyncRequest, response: Response, flow: Auth | None, retry: Retry | None
    ) -> Response:
        history: list[Response] = []
        first_url = request.url
        seen = {redirect_key(request)}
        try:
            while True:
                if len(history) >= self.max_redirects:
                    raise TooManyRedirects(
                        f"exceeded the maximum of {self.max_redirects} redirects "
                        f"(last: {response.status_code} to {response.headers.get('location')!r})",
                        request=request,
                    )
                next_request = next_redirect_request(request, response, cookies=self._cookies)
                key = redirect_key(next_request)
                if key in seen:
                    raise RedirectLoopError(
                        f"redirect loop: {next_request.method} {next_request.url} was already "
                        "requested in this chain",
                        request=next_request,
                    )
                seen.add(key)
                await _discard(response)
                history.append(response)
                request = next_request
                hop_flow = (
                    flow
                    if flow is not None and credentials_allowed(first_url, request.url)
                    else None
                )
                response = await self._send_handling_auth(request, hop_flow, retry)
                if (
                    response.status_code not in REDIRECT_STATUSES
                    or "location" not in response.headers
                ):
                    break
        except BaseException:
            await response.aclose()
            raise
        response.history = history
        return response

    async def _send_handling_auth(
        self, request: AsyncRequest, flow: Auth | None, retry: Retry | None
    ) -> Response:
        if flow is None:
            return await self._send_single(request, retry)
        if (
            type(flow).async_auth_flow is Auth.async_auth_flow
            and not flow.requires_request_body
            and not flow.requires_response_body
        ):
            generator = flow.auth_flow(request)
            request = next(generator)
            while True:
                response = await self._send_single(request, retry)
                try:
                    request = generator.send(response)
                except StopIteration:
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await _discard(response)
        agen = flow.async_auth_flow(request)
        try:
            request = await agen.__anext__()
            while True:
                response = await self._send_single(request, retry)
                try:
                    request = await agen.asend(response)
                except StopAsyncIteration:
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await _discard(response)
        finally:
            await agen.aclose()

    async def _send_single(self, request: AsyncRequest, retry: Retry | None) -> Response:
        if retry is None:
            return await self._send_once(request)
        state = retry.start()
        while True:
            try:
                response = await self._send_once(request)
            except (ConnectError, ConnectTimeout) as exc:
                delay = state.after_error(request, exc)
                if delay is None:
                    raise
                logger.debug(
                    "retrying %s %s in %.2f s after %r", request.method, request.url, delay, exc
                )
            else:
                delay = state.after_response(request, response, time.time())
                if delay is None:
                    return response
                await _discard(response)
                logger.debug(
                    "retrying %s %s in %.2f s after status %d",
                    request.method,
                    request.url,
                    delay,
                    response.status_code,
                )
            if self._blocking:
                from reqivo_async import _blocking_io

                _blocking_io.sleep(delay)
            else:
                await asyncio.sleep(delay)

    async def _send_once(self, request: AsyncRequest) -> Response:
        state = self._state
        hooks = state.event_hooks
        if hooks["request"]:
            await call_hooks(hooks["request"], request)
        start = _perf_counter()
        try:
            response = await self._transport.handle_async_request(request)
        except RequestError as exc:
            if exc.request is None:
                exc.request = request
            if logger.isEnabledFor(DEBUG):
                log_error(request, exc)
            raise
        response._elapsed = _perf_counter() - start
        response._request = request
        response.default_encoding = state.default_encoding
        if state.max_decompressed_size is not None:
            response.max_decompressed_size = state.max_decompressed_size
        if state.max_body_size is not None:
            response.max_body_size = state.max_body_size
        if _has_field(response.headers, "set-cookie"):
            state.cookies.extract_set_cookie(request.url, response.headers.get_list("set-cookie"))
        if logger.isEnabledFor(DEBUG):
            log_response(request, response)
        if hooks["response"]:
            try:
                await call_hooks(hooks["response"], response)
            except BaseException:
                await response.aclose()
                raise
        return response

    # -- the HTTP methods --------------------------------------------------------------

    async def get(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a GET request."""
        request = self.build_request(
            "GET",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def head(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a HEAD request."""
        request = self.build_request(
            "HEAD",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def options(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send an OPTIONS request."""
        request = self.build_request(
            "OPTIONS",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def delete(
        self,
        url: URL | str,
        *,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a DELETE request (use ``request("DELETE", ...)`` to send a body)."""
        request = self.build_request(
            "DELETE",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def post(
        self,
        url: URL | str,
        *,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a POST request."""
        request = self.build_request(
            "POST",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def put(
        self,
        url: URL | str,
        *,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a PUT request."""
        request = self.build_request(
            "PUT",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    async def patch(
        self,
        url: URL | str,
        *,
        content: RequestContentTypes = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseSession = USE_SESSION,
        timeout: TimeoutTypes | UseSession = USE_SESSION,  # noqa: ASYNC109 (httpx's name)
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send a PATCH request."""
        request = self.build_request(
            "PATCH",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )
        return await self.send(
            request, auth=auth, follow_redirects=follow_redirects, retries=retries
        )

    # -- lifetime ----------------------------------------------------------------------

    @classmethod
    def from_state(
        cls, state: SessionState, transport: AsyncBaseTransport, *, close_transport: bool = True
    ) -> AsyncSession:
        """A session sending through ``transport`` that shares ``state`` (another
        session's ``state``): the same object, so a setting assigned on either applies to
        both and the cookies either receives land in the one jar.

        A session is bound to one event loop through its connection pool; this makes one
        per loop over the same configuration (reqivo-sync does, for each loop it runs, and
        reqivo-ws's blocking ``WebSocket`` for its loop thread). Whoever makes it closes
        it: it does not warn when left unclosed, and ``aclose()`` closes ``transport``
        only when ``close_transport`` (leave it false for a transport closed elsewhere).
        """
        session = object.__new__(cls)
        session._state = state
        session._transport = transport
        session._blocking = getattr(transport, "blocking", False) is True
        session._closed = False
        session._opened = False
        session._owns_transport = False
        session._close_transport = close_transport
        return session

    async def aclose(self) -> None:
        """Close the transport (and every pooled connection). Idempotent.

        A session made ``from_state(..., close_transport=False)`` only stops sending.
        """
        if not self._closed:
            self._closed = True
            if self._close_transport:
                await self._transport.aclose()

    async def __aenter__(self) -> AsyncSession:
        if self._closed:
            raise RuntimeError("cannot reopen a closed session")
        self._opened = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if (
            getattr(self, "_opened", False)
            and not getattr(self, "_closed", True)
            and getattr(self, "_owns_transport", False)
        ):
            warnings.warn(
                f"unclosed {self!r}: use 'async with AsyncSession()' or 'await session.aclose()'",
                ResourceWarning,
                stacklevel=2,
                source=self,
            )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        # The base URL's password never shows (reprs end up in logs and tracebacks).
        url = self._state.base_url
        base = f" base_url={redact_url(url)!r}" if url is not None else ""
        return f"<AsyncSession{base} [{state}]>"


class AsyncStreamContext:
    """``async with session.stream(...) as response``: sends on entry, closes on exit.

    ``AsyncStreamContext(session, request, auth=..., follow_redirects=..., retries=...)``
    streams a request already built (what ``AsyncSession.stream`` returns after building
    one).
    """

    __slots__ = ("_auth", "_follow", "_request", "_response", "_retries", "_session")

    def __init__(
        self,
        session: AsyncSession,
        request: AsyncRequest,
        *,
        auth: AuthTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
    ) -> None:
        self._session = session
        self._request = request
        self._auth = auth
        self._follow = follow_redirects
        self._retries = retries
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        self._response = await self._session.send(
            self._request,
            stream=True,
            auth=self._auth,
            follow_redirects=self._follow,
            retries=self._retries,
        )
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.aclose()


async def _read(response: Response) -> None:
    """Read the whole body; close the response if that fails or is cancelled."""
    try:
        await response.aread()
    except BaseException:
        await response.aclose()
        raise


async def _discard(response: Response) -> None:
    """Read and close a response nobody will return (a redirect, a 401, a retried one).

    Its body is read so that the connection can be reused; a failure to read it only
    loses the connection.
    """
    try:
        with contextlib.suppress(TransportError, DecodingError):
            await response.aread()
    finally:
        await response.aclose()
