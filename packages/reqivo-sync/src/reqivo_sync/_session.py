"""``Session``: the blocking client, a wrapper over ``AsyncSession``.

Mechanism for plain HTTP/1.1, the default (ADR-015): the ``AsyncSession``'s pool does
blocking socket I/O (``AsyncConnectionPool(blocking=True)``) and each call drives the
session's coroutine in the calling thread, without an event loop (``_driver.Driver``): no
loop, no task, no thread switch; threads share the pool, which locks its bookkeeping.

Mechanism otherwise (HTTP/2, a ``transport=``, an ``https://`` proxy, a test's
``override_default_transport``; ADR-012): the Session holds one ``AsyncSession`` with its
``SessionState`` (headers, params, cookies, auth, timeouts, redirect, retry and hook
settings) and its connection pool, and runs it through a ``LoopBridge``: one event loop
that every calling thread shares, driven by whichever caller holds the baton. So a
Session has one pool whatever the number of threads: ``limits`` hold across threads, a
connection opened by one thread is reused by another, and a streamed response can be
read (and closed) from any thread. A forked child starts with a fresh ``AsyncSession``
over the same state and a new pool (or the same ``transport=``).

Event hooks, auth flows and transports given to the Session see the sync ``Request`` and
``Response`` and run in worker threads (ADR-013).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from reqivo_async import USE_SESSION, AsyncConnectionPool, AsyncRequest, AsyncSession, Limits
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
    default_transport,
    transport_overridden,
)
from reqivo_protocol import URL, HeaderTypes, QueryParamTypes
from reqivo_sync._auth import AuthSetting, to_sync_auth
from reqivo_sync._bridge import LoopBridge
from reqivo_sync._driver import Driver
from reqivo_sync._hooks import EventHooksSetting, sync_event_hooks
from reqivo_sync._models import Request, Response, as_sync_response
from reqivo_sync._wrapper import BlockingWrapper, Twin

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


async def _aclose(session: AsyncSession) -> None:
    """The bridge's closer: close the session and its pool (or its ``transport=``)."""
    await session.aclose()


def _fresh_session(master: AsyncSession, pool_options: dict[str, Any] | None) -> AsyncSession:
    """An AsyncSession sharing ``master``'s state over a new pool made with
    ``pool_options`` (None: over ``master``'s transport, the user's ``transport=``); a
    test's ``override_default_transport`` replaces that pool as for any new session."""
    if pool_options is None:
        return AsyncSession.from_state(master.state, master.transport)
    from reqivo_async import AsyncConnectionPool

    make_pool = functools.partial(AsyncConnectionPool, **pool_options)
    return AsyncSession.from_state(master.state, default_transport(make_pool))


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
    """A Session attribute of its ``AsyncSession``'s ``SessionState`` (which a forked
    child's session and ``new_async_session()`` share): assigning it updates them all."""

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


class Session(BlockingWrapper):
    """A blocking HTTP client with connection pooling, cookies, auth, redirects and retries.

    The same options, defaults, methods and exceptions as ``reqivo_async.AsyncSession``,
    blocking: ``with Session() as session: session.get(url).json()``. One Session may be
    shared by many threads: they share its settings, cookies and connection pool (so
    ``limits`` hold across threads), and a response, streamed or not, may be used from
    any thread. It works inside a running event loop too (it then blocks that loop for
    the call: prefer the async API in async code). Unclosed, it is closed at interpreter
    exit (or when collected, with a ``ResourceWarning``); in a child process after
    ``fork()`` it starts afresh.
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
        pool_options: dict[str, Any] | None = None
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
        blocking_pool = None
        if pool_options is not None and http1 and not http2 and not transport_overridden():
            try:
                blocking_pool = AsyncConnectionPool(blocking=True, **pool_options)
            except ValueError:  # an https:// proxy: TLS inside TLS needs the event loop
                blocking_pool = None
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
            transport=transport if blocking_pool is None else blocking_pool,
            event_hooks=sync_event_hooks(event_hooks, self),
            retries=retries,
            default_encoding=default_encoding,
            max_decompressed_size=max_decompressed_size,
            max_body_size=max_body_size,
            trace=trace,
            http1=http1,
            http2=http2,
        )
        self._pool_options = pool_options
        # The factory must not refer to the Session (it could never be collected).
        twin_options = pool_options
        if blocking_pool is not None and pool_options is not None:
            twin_options = {**pool_options, "blocking": True}
        fresh = functools.partial(_fresh_session, self._async, twin_options)
        twin = Twin(self._async, fresh)
        self._start(twin, _aclose)
        #: Blocking I/O driven in the calling thread (None: through the bridge).
        self._driver: Driver[AsyncSession] | None = (
            None if blocking_pool is None else Driver(twin, _aclose)
        )
        self._runner: Driver[AsyncSession] | LoopBridge[AsyncSession] = (
            self._bridge if self._driver is None else self._driver
        )

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
        """The transport given with ``transport=``, else the Session's connection pool."""
        return self._twin.current.transport  # type: ignore[no-any-return]

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
        if self._pool_options is None:
            raise ValueError(
                "a Session with a custom transport= cannot make an AsyncSession for another "
                "event loop (a WebSocket, for one)"
            )
        return _fresh_session(self._async, self._pool_options)

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
            return as_sync_response(response, bridge)

        return self._runner.run(call)

    def send(
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
        auth = to_sync_auth(auth)
        bridge = self._bridge

        async def call(session: AsyncSession) -> Response:
            response = await session.send(
                request,
                stream=stream,
                auth=auth,
                follow_redirects=follow_redirects,
                retries=retries,
            )
            return as_sync_response(response, bridge)

        return self._runner.run(call)

    @_parameters_of(AsyncSession.stream)
    def stream(
        self,
        method: str,
        url: URL | str,
        *,
        auth: AuthTypes | UseSession = USE_SESSION,
        follow_redirects: bool | UseSession = USE_SESSION,
        retries: Retry | int | UseSession | None = USE_SESSION,
        **options: Any,
    ) -> _StreamContext:
        """``with session.stream(...) as response:`` the body is not read yet.

        Iterate ``response.iter_bytes()`` (or ``iter_text``, ``iter_lines``,
        ``iter_raw``), from any thread; the response is closed when the block ends.
        """
        request = self.build_request(method, url, **options)
        return _StreamContext(
            self._runner, self._bridge, request, to_sync_auth(auth), follow_redirects, retries
        )

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
        """Close every connection (and a ``transport=``) and the event loop. Idempotent.

        Waits for requests in progress in other threads (bounded by their timeouts).
        """
        self._closed_by_user = True
        if self._driver is not None:
            self._driver.close()
        self._bridge.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        driver: Driver[AsyncSession] | None = getattr(self, "_driver", None)
        super().__del__(_warn)
        if driver is not None:
            with contextlib.suppress(Exception):  # collected: nobody to report a failure to
                driver.close()

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

    __slots__ = ("_bridge", "_context", "_response", "_runner")

    def __init__(
        self,
        runner: Driver[AsyncSession] | LoopBridge[AsyncSession],
        bridge: LoopBridge[Any],
        request: AsyncRequest,
        auth: AuthTypes | UseSession,
        follow: bool | UseSession,
        retries: Retry | int | UseSession | None,
    ) -> None:
        self._runner = runner
        self._bridge = bridge
        self._context: tuple[Any, ...] | AsyncStreamContext = (request, auth, follow, retries)
        self._response: Response | None = None

    def __enter__(self) -> Response:
        request, auth, follow, retries = self._context  # type: ignore[misc]
        bridge = self._bridge

        async def enter(session: AsyncSession) -> Response:
            context = AsyncStreamContext(
                session, request, auth=auth, follow_redirects=follow, retries=retries
            )
            response = await context.__aenter__()
            self._context = context
            return as_sync_response(response, bridge)

        self._response = self._runner.run(enter)
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
