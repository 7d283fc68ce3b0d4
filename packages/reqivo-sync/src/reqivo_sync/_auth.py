"""Authentication for the blocking API: flows that see ``Request`` and ``Response``.

``Auth`` is reqivo-async's ``Auth`` with the blocking signature: override ``auth_flow``,
a generator (``response = yield request``, as in httpx) that receives the sync ``Request``
and is sent sync ``Response`` objects. reqivo-async's session drives every flow (the auth
policy is written once); ``Auth.async_auth_flow`` is the adapter it awaits: it runs the
generator one step at a time in a worker thread (``_blocking.run_blocking``), so a flow
may block (fetch a token, sign a body), and it switches each request and response to the
sync class. With ``requires_request_body`` the request body is in memory before the flow
starts (``request.content``); with ``requires_response_body`` each response's body is
(``response.content``, ``response.json()``): read it that way, not with ``response.read()``.

``to_sync_auth`` turns whatever ``auth=`` a Session is given into a flow of that kind:

- ``BasicAuth``, ``BearerAuth``, ``DigestAuth`` and ``(user, password)`` pass unchanged:
  they are the policy's own code, do no blocking work and run on the loop, as fast as in
  the async API;
- a plain callable ``f(request) -> request`` becomes ``FunctionAuth(f)`` (the sync one:
  ``f`` runs in a worker thread and sees a ``Request``);
- a subclass of reqivo-async's ``Auth`` that overrides only ``auth_flow`` is driven like a
  sync ``Auth``; one that overrides ``async_auth_flow`` (an async flow) stays on the loop
  but is given the sync objects as well.

Coroutine functions are refused by ``FunctionAuth`` (``TypeError``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, TypeAlias, overload

from reqivo_async import USE_SESSION, AsyncRequest, BasicAuth, BearerAuth, DigestAuth
from reqivo_async import Auth as AsyncAuth
from reqivo_async import Response as AsyncResponse
from reqivo_async.transport import AuthTypes
from reqivo_sync._blocking import (
    as_sync_request,
    refuse_awaitable,
    refuse_coroutine_function,
    run_blocking,
)
from reqivo_sync._models import Request, Response, as_sync_response

__all__ = ["Auth", "AuthSetting", "Flow", "FunctionAuth", "to_sync_auth"]

_END: Any = object()
_BUILT_IN = (BasicAuth, BearerAuth, DigestAuth)


Flow: TypeAlias = Generator[AsyncRequest, AsyncResponse, None]


def _resume(flow: Flow, response: Response) -> AsyncRequest:
    try:
        return flow.send(response)
    except StopIteration:
        return _END  # type: ignore[no-any-return]


async def _drive(
    auth: AsyncAuth,
    auth_flow: Callable[[Request], Flow],
    request: AsyncRequest,
) -> AsyncGenerator[AsyncRequest, AsyncResponse]:
    """Run the blocking generator ``auth_flow`` as reqivo-async's session expects a flow."""
    if auth.requires_request_body:
        await request.aread()
    flow = auth_flow(as_sync_request(request))
    try:
        step = await run_blocking(next, flow, _END)
        while step is not _END:
            response = yield as_sync_request(step)
            synced = as_sync_response(response, None)
            if auth.requires_response_body:
                await response.aread()
            step = await run_blocking(_resume, flow, synced)
    finally:
        flow.close()


class Auth(AsyncAuth):
    """Base class of authentication schemes for the blocking API.

    Override ``auth_flow``, a generator: ``response = yield request`` sends a request and
    returns its response; yield again to send another (a retry with credentials, a token
    request); return when done (the last response is the result). It receives the sync
    ``Request`` and is sent sync ``Response`` objects, and runs in a worker thread, so it
    may block. Set ``requires_request_body`` when it reads ``request.content`` (a streamed
    body is read into memory first) and ``requires_response_body`` when it reads the
    bodies of the responses it is sent (``response.content``, ``.json()``).

    ``auth_flow`` keeps the signature of reqivo-async's (``AsyncRequest``, its
    ``Response``), of which the sync classes are subclasses: type checkers compare an
    override with every base class, so a narrower signature here would make every
    subclass an error. Annotate overrides the same way: ``def auth_flow(self, request:
    AsyncRequest) -> Generator[AsyncRequest, reqivo_async.Response, None]``.
    """

    def auth_flow(self, request: AsyncRequest) -> Flow:
        """Yield the requests to send; each ``yield`` returns the response to it."""
        yield request

    def async_auth_flow(self, request: AsyncRequest) -> AsyncGenerator[AsyncRequest, AsyncResponse]:
        """The flow as reqivo-async's session drives it: ``auth_flow`` step by step, in a
        worker thread, with the sync objects (not meant to be overridden)."""
        return _drive(self, self.auth_flow, request)


class FunctionAuth(Auth):
    """Auth by a plain function ``func(request) -> request``, called in a worker thread.

    What a plain callable given as ``auth=`` to the blocking API becomes (``requests``
    calls its auth callables the same way). A coroutine function raises ``TypeError``.
    """

    def __init__(self, func: Callable[[Request], AsyncRequest]) -> None:
        refuse_coroutine_function(func, "auth function", "use AsyncSession with it")
        self._func = func

    def auth_flow(self, request: AsyncRequest) -> Flow:
        """Yield ``func(request)``."""
        result = self._func(as_sync_request(request))
        refuse_awaitable(result, f"auth function {self._func!r}")
        yield result

    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, AsyncResponse]:
        """Call ``func`` in a worker thread (one step: nothing runs after the response)."""
        result = await run_blocking(self._func, as_sync_request(request))
        refuse_awaitable(result, f"auth function {self._func!r}")
        yield as_sync_request(result)

    def __repr__(self) -> str:
        return f"FunctionAuth({self._func!r})"


class _AdaptedAuth(Auth):
    """A reqivo-async ``Auth`` whose ``auth_flow`` is a plain generator, driven as a sync one."""

    def __init__(self, auth: AsyncAuth) -> None:
        self.auth = auth
        self.requires_request_body = auth.requires_request_body
        self.requires_response_body = auth.requires_response_body

    def auth_flow(self, request: AsyncRequest) -> Flow:
        """The wrapped scheme's flow."""
        return self.auth.auth_flow(request)

    def __repr__(self) -> str:
        return repr(self.auth)


class _AsyncFlowAuth(AsyncAuth):
    """A reqivo-async ``Auth`` with its own ``async_auth_flow``: it stays on the loop (it
    was written to), and is given the sync request and responses all the same."""

    def __init__(self, auth: AsyncAuth) -> None:
        self.auth = auth

    async def async_auth_flow(
        self, request: AsyncRequest
    ) -> AsyncGenerator[AsyncRequest, AsyncResponse]:
        """The wrapped scheme's async flow, its requests and responses made sync."""
        flow = self.auth.async_auth_flow(as_sync_request(request))
        try:
            step = await flow.__anext__()
            while True:
                response = yield as_sync_request(step)
                step = await flow.asend(as_sync_response(response, None))
        except StopAsyncIteration:
            return
        finally:
            await flow.aclose()

    def __repr__(self) -> str:
        return repr(self.auth)


def to_sync_auth(auth: Any) -> Any:
    """``auth=`` as given to the blocking API, made a flow that sees the sync objects.

    Anything that is not an auth (a wrong type) is returned unchanged, for reqivo-async to
    refuse with its own message; ``None`` and ``USE_SESSION`` too.
    """
    if (
        auth is None
        or auth is USE_SESSION
        or isinstance(auth, tuple)
        or type(auth) in _BUILT_IN
        or isinstance(auth, Auth | _AsyncFlowAuth)
    ):
        return auth
    if isinstance(auth, AsyncAuth):
        if type(auth).async_auth_flow is AsyncAuth.async_auth_flow:
            return _AdaptedAuth(auth)
        return _AsyncFlowAuth(auth)
    if callable(auth):
        return FunctionAuth(auth)
    return auth


class AuthSetting:
    """``Session.auth``: the authentication of every request (``(user, password)`` means
    Basic; a plain function ``f(request) -> request`` becomes a ``FunctionAuth``). What is
    assigned is made a flow that gets the sync objects (``to_sync_auth``)."""

    @overload
    def __get__(self, instance: None, owner: type) -> AuthSetting: ...
    @overload
    def __get__(self, instance: object, owner: type) -> AsyncAuth | None: ...
    def __get__(self, instance: Any, owner: type) -> AsyncAuth | AuthSetting | None:
        if instance is None:
            return self
        return instance._async.auth  # type: ignore[no-any-return]

    def __set__(self, instance: Any, auth: AuthTypes | Callable[[Request], AsyncRequest]) -> None:
        instance._async.auth = to_sync_auth(auth)
