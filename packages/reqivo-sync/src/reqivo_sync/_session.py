"""``Session``: the blocking client, a wrapper over ``AsyncSession`` through the bridge.

Mechanism (ADR-006): the Session holds one ``AsyncSession`` (``_async``, never used to
send) whose ``SessionState`` is the configuration and state: headers, params, cookies,
auth, timeouts, redirect, retry and hook settings. Each event loop the bridge runs (one
per calling thread, plus the fallback loop for threads that already run one) gets its
own ``AsyncSession.from_state(state, pool)`` sharing that one state object (one
``Cookies`` jar, guarded by its lock, one ``Headers``...), with its own connection pool,
because asyncio connections belong to the loop that opened them. Assigning a setting on
the Session (``session.headers = ...``) thus updates every per-loop session at once.

Consequences, documented for users: connection limits (``Limits``) apply per thread; a
streamed response must be read in the thread that opened it; a transport passed with
``transport=`` is shared by every loop, so it must not hold loop-bound state
(``MockTransport`` does not).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from reqivo_async import USE_SESSION, AsyncRequest, AsyncSession, Limits
from reqivo_async.transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    AsyncBaseTransport,
    AsyncStreamContext,
    AuthTypes,
    CookieTypes,
    EventHook,
    TimeoutTypes,
    UseSession,
)
from reqivo_protocol import URL, HeaderTypes, QueryParamTypes
from reqivo_sync._auth import AuthSetting, to_sync_auth
from reqivo_sync._hooks import EventHooksSetting, sync_event_hooks
from reqivo_sync._models import Request, Response, as_sync_response
from reqivo_sync._wrapper import BlockingWrapper, PerLoop

if TYPE_CHECKING:
    from reqivo_async import Cookies, Retry, Timeout
    from reqivo_async.transport import (
        CertTypes,
        ProxyTypes,
        TraceCallback,
        VerifyTypes,
    )
    from reqivo_protocol import Headers, QueryParams

__all__ = ["Session"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


def _parameters_of(
    twin: Callable[Concatenate[AsyncSession, P], object],
) -> Callable[[Callable[Concatenate[Session, P], R]], Callable[Concatenate[Session, P], R]]:
    """Give a blocking method the parameters of its async ``twin``, declared there once.

    Type checkers see the twin's parameters (``P``), and so do ``inspect.signature`` and
    ``help()``; the method itself takes ``**options`` and passes them on.
    """

    def decorate(
        method: Callable[Concatenate[Session, P], R],
    ) -> Callable[Concatenate[Session, P], R]:
        returns = inspect.signature(method).return_annotation
        method.__signature__ = inspect.signature(twin).replace(  # type: ignore[attr-defined]
            return_annotation=returns
        )
        return method

    return decorate


class _Setting(Generic[T]):
    """A Session attribute of its ``AsyncSession``, whose ``SessionState`` every loop's
    session shares: assigning it updates them all."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        self.__doc__ = getattr(getattr(AsyncSession, name, None), "__doc__", None)

    @overload
    def __get__(self, instance: None, owner: type) -> _Setting[T]: ...
    @overload
    def __get__(self, instance: Session, owner: type) -> T: ...
    def __get__(self, instance: Session | None, owner: type) -> T | _Setting[T]:
        if instance is None:
            return self
        value: T = getattr(instance._async, self._name)
        return value

    def __set__(self, instance: Session, value: Any) -> None:
        setattr(instance._async, self._name, value)


class _Sessions(PerLoop[AsyncSession]):
    """Makes the ``AsyncSession`` of each loop: the shared state, the loop's own pool."""

    __slots__ = ("master", "pool_options", "spare")

    def __init__(self, master: AsyncSession, pool_options: dict[str, Any] | None) -> None:
        self.master = master
        self.pool_options = pool_options
        # The pool the AsyncSession built (checking the options) serves the first loop.
        self.spare: AsyncBaseTransport | None = master.transport
        super().__init__(None, self._new)

    def _new(self) -> AsyncSession:
        if self.pool_options is None:
            # The user's transport is shared by every loop, and closed once by the Session.
            return AsyncSession.from_state(
                self.master.state, self.master.transport, close_transport=False
            )
        with self._lock:
            spare, self.spare = self.spare, None
        if spare is None:
            return self.new_session()
        return AsyncSession.from_state(self.master.state, spare)

    def new_session(self) -> AsyncSession:
        """A session sharing the master's state, over a new pool (pool_options must be set)."""
        from reqivo_async import AsyncConnectionPool

        assert self.pool_options is not None
        return AsyncSession.from_state(self.master.state, AsyncConnectionPool(**self.pool_options))

    async def close(self, session: AsyncSession) -> None:
        """The bridge's closer: close a loop's session and pool (not a user's transport)."""
        await session.aclose()


class Session(BlockingWrapper):
    """A blocking HTTP client with connection pooling, cookies, auth, redirects and retries.

    The same options, defaults, methods and exceptions as ``reqivo_async.AsyncSession``,
    blocking: ``with Session() as session: session.get(url).json()``. One Session may be
    shared by many threads (cookies and settings are shared; each thread keeps its own
    event loop and connections, so ``limits`` apply per thread) and works inside a
    running event loop too (it then blocks that loop for the call: prefer the async API
    in async code). Unclosed, it is closed at interpreter exit (or when collected, with
    a ``ResourceWarning``); in a child process after ``fork()`` it starts afresh.
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
        self._async = AsyncSession(
            base_url=base_url,
            headers=headers,
            params=params,
            cookies=cookies,
            auth=to_sync_auth(auth),
            timeout=timeout,
            limits=limits,
            follow_redirects=follow_redirects,
            max_redirects=max_redirects,
            verify=verify,
            cert=cert,
            proxy=proxy,
            trust_env=trust_env,
            transport=transport,
            event_hooks=sync_event_hooks(event_hooks, self),
            retries=retries,
            default_encoding=default_encoding,
            max_decompressed_size=max_decompressed_size,
            max_body_size=max_body_size,
            trace=trace,
            http1=http1,
            http2=http2,
        )
        pool_options = None
        if transport is None:
            pool_options = {
                "verify": verify,
                "cert": cert,
                "limits": limits,
                "proxy": proxy,
                "trust_env": trust_env,
                "http1": http1,
                "http2": http2,
            }
        self._sessions = _Sessions(self._async, pool_options)
        self._user_transport = transport
        self._start(self._sessions, self._sessions.close)

    # -- settings (shared by every thread) -----------------------------------------------

    base_url: _Setting[URL | None] = _Setting()
    headers: _Setting[Headers] = _Setting()
    params: _Setting[QueryParams | None] = _Setting()
    cookies: _Setting[Cookies] = _Setting()
    auth = AuthSetting()  # adapted to the blocking API where it enters (_auth, _hooks)
    timeout: _Setting[Timeout] = _Setting()
    follow_redirects: _Setting[bool] = _Setting()
    max_redirects: _Setting[int] = _Setting()
    event_hooks = EventHooksSetting()
    retries: _Setting[Retry | None] = _Setting()
    default_encoding: _Setting[str] = _Setting()
    max_decompressed_size: _Setting[int | None] = _Setting()
    max_body_size: _Setting[int | None] = _Setting()
    trace: _Setting[TraceCallback | None] = _Setting()

    @property
    def is_closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._bridge.closed

    @property
    def transport(self) -> AsyncBaseTransport:
        """The transport given with ``transport=``, else the first thread's connection pool."""
        return self._async.transport

    def new_async_session(self) -> AsyncSession:
        """An ``AsyncSession`` sharing this Session's state, over a connection pool of its own.

        For an event loop the caller runs (reqivo-ws's blocking ``WebSocket`` uses it for
        its loop thread): the same ``SessionState`` (headers, cookies, auth, every
        setting: assigning one on either applies to both) and a new pool made with this
        Session's ``verify``, ``cert``, ``limits``, ``proxy`` and ``trust_env``. The
        caller closes it (``await session.aclose()``, which closes that pool). A Session
        made with ``transport=`` raises ``ValueError``: that transport may be bound to
        other loops, and this Session closes it.
        """
        if self._sessions.pool_options is None:
            raise ValueError(
                "a Session with a custom transport= cannot make an AsyncSession for another "
                "event loop (a WebSocket, for one)"
            )
        return self._sessions.new_session()

    # -- building requests -------------------------------------------------------------

    @_parameters_of(AsyncSession.build_request)
    def build_request(self, method: str, url: URL | str, **options: Any) -> Request:
        """A ``Request`` with the session's base URL, params, headers and cookies.

        Send it with ``send()``; auth is applied when it is sent.
        """
        request = self._async.build_request(method, url, **options)
        request.__class__ = Request
        return request  # type: ignore[return-value]

    # -- sending -----------------------------------------------------------------------

    @_parameters_of(AsyncSession.request)
    def request(self, method: str, url: URL | str, **options: Any) -> Response:
        """Send a request and return its response, body read."""
        if "auth" in options:
            options["auth"] = to_sync_auth(options["auth"])
        bridge = self._bridge

        async def call(session: AsyncSession) -> Response:
            response = await session.request(method, url, **options)
            return as_sync_response(response, bridge, asyncio.get_running_loop())

        return bridge.run(call)

    def send(
        self,
        request: AsyncRequest,
        *,
        stream: bool = False,
        auth: AuthTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
    ) -> Response:
        """Send ``request``; read the body unless ``stream`` (then close the response).

        ``auth`` and ``follow_redirects`` override the session's settings.
        """
        auth = to_sync_auth(auth)
        bridge = self._bridge

        async def call(session: AsyncSession) -> Response:
            response = await session.send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
            return as_sync_response(response, bridge, asyncio.get_running_loop())

        return bridge.run(call)

    @_parameters_of(AsyncSession.stream)
    def stream(
        self,
        method: str,
        url: URL | str,
        *,
        auth: AuthTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
        **options: Any,
    ) -> _StreamContext:
        """``with session.stream(...) as response:`` the body is not read yet.

        Iterate ``response.iter_bytes()`` (or ``iter_text``, ``iter_lines``,
        ``iter_raw``) in the same thread; the response is closed when the block ends.
        """
        request = self.build_request(method, url, **options)
        return _StreamContext(self._bridge, request, to_sync_auth(auth), follow_redirects)

    # -- the HTTP methods (the parameters of AsyncSession's) ---------------------------

    @_parameters_of(AsyncSession.get)
    def get(self, url: URL | str, **options: Any) -> Response:
        """Send a GET request."""
        return self.request("GET", url, **options)

    @_parameters_of(AsyncSession.head)
    def head(self, url: URL | str, **options: Any) -> Response:
        """Send a HEAD request."""
        return self.request("HEAD", url, **options)

    @_parameters_of(AsyncSession.options)
    def options(self, url: URL | str, **options: Any) -> Response:
        """Send an OPTIONS request."""
        return self.request("OPTIONS", url, **options)

    @_parameters_of(AsyncSession.delete)
    def delete(self, url: URL | str, **options: Any) -> Response:
        """Send a DELETE request (use ``request("DELETE", ...)`` to send a body)."""
        return self.request("DELETE", url, **options)

    @_parameters_of(AsyncSession.post)
    def post(self, url: URL | str, **options: Any) -> Response:
        """Send a POST request."""
        return self.request("POST", url, **options)

    @_parameters_of(AsyncSession.put)
    def put(self, url: URL | str, **options: Any) -> Response:
        """Send a PUT request."""
        return self.request("PUT", url, **options)

    @_parameters_of(AsyncSession.patch)
    def patch(self, url: URL | str, **options: Any) -> Response:
        """Send a PATCH request."""
        return self.request("PATCH", url, **options)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection (in every thread's event loop) and the loops. Idempotent.

        Waits for requests in progress in other threads (bounded by their timeouts).
        """
        if self._bridge.closed:
            return
        self._closed_by_user = True
        transport = self._user_transport
        try:
            if transport is not None:
                self._bridge.run(lambda _: transport.aclose())
        finally:
            self._bridge.close()

    def __repr__(self) -> str:
        state = "closed" if self._bridge.closed else "open"
        base = self._async.base_url
        if base is None:
            shown = ""
        else:
            from reqivo_async.transport import redact_url  # reprs are not a hot path

            shown = f" base_url={redact_url(URL(base))!r}"
        return f"<Session{shown} [{state}]>"


class _StreamContext:
    """``with session.stream(...) as response``: sends on entry, closes on exit."""

    __slots__ = ("_bridge", "_context", "_response")

    def __init__(
        self,
        bridge: Any,
        request: AsyncRequest,
        auth: AuthTypes | UseSession,
        follow: bool | UseSession,
    ) -> None:
        self._bridge = bridge
        self._context: (
            tuple[AsyncRequest, AuthTypes | UseSession, bool | UseSession] | AsyncStreamContext
        ) = (request, auth, follow)
        self._response: Response | None = None

    def __enter__(self) -> Response:
        request, auth, follow = self._context  # type: ignore[misc]
        bridge = self._bridge

        async def enter(session: AsyncSession) -> Response:
            context = AsyncStreamContext(session, request, auth=auth, follow_redirects=follow)
            response = await context.__aenter__()
            self._context = context
            return as_sync_response(response, bridge, asyncio.get_running_loop())

        self._response = bridge.run(enter)
        return self._response

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        response, context = self._response, self._context
        if response is not None and isinstance(context, AsyncStreamContext):
            response._run(lambda: context.__aexit__(exc_type, exc, traceback))
