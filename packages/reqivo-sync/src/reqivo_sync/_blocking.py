"""How the blocking API calls the code a user gives it: off the event loop, with sync objects.

Event hooks, auth flows and transports given to a ``Session`` are plain (blocking)
functions, but the policies that call them (redirects, auth, cookies, retries) are
reqivo-async's, written once. Two rules make them meet:

* The user's code never runs on an event loop (``run_blocking``). When the Session runs
  on one (ADR-012: HTTP/2, a ``transport=``), it runs in a worker thread of the loop's
  default executor: it may block (a slow log sink, a token fetched over the network, a
  WSGI app) without stalling the other requests that loop carries, and it may make
  blocking calls of its own, ``response.read()`` included, that go through the bridge like
  any other blocking call. When the Session drives blocking I/O in the calling thread
  (ADR-015, HTTP/1.1), no loop runs: it runs in place, in that thread.
* It sees the sync classes: an ``AsyncRequest`` is switched to ``Request`` in place
  (``as_sync_request``), as responses are (``_models.as_sync_response``); nothing is copied.

Coroutine functions are refused where a blocking callable is expected
(``refuse_coroutine_function``): the blocking API never awaits the user's code.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from reqivo_async import AsyncRequest
from reqivo_sync._models import Request

__all__ = [
    "as_sync_request",
    "is_coroutine_callable",
    "refuse_awaitable",
    "refuse_coroutine_function",
    "run_blocking",
]

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop


async def run_blocking(fn: Callable[..., T], /, *args: Any) -> T:
    """Run ``fn(*args)`` in a worker thread of the running loop, in a copy of the context;
    in place when no loop runs (a Session driven in the calling thread, ADR-015: that
    thread is the caller's own, blocking is what it asked for).

    The one place that decides where a user's blocking code runs (see the module).
    """
    if _get_running_loop() is None:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def as_sync_request(request: AsyncRequest) -> Request:
    """``request`` as a sync ``Request``: its class switched in place (subclasses kept)."""
    if type(request) is AsyncRequest:
        request.__class__ = Request
    return request  # type: ignore[return-value]


def is_coroutine_callable(obj: object) -> bool:
    """Whether calling ``obj`` makes a coroutine (an ``async def`` function, method,
    ``functools.partial`` of one, or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
        getattr(obj, "__call__", None)  # noqa: B004 (the method itself is inspected)
    )


def refuse_coroutine_function(obj: object, what: str, instead: str) -> None:
    """Raise ``TypeError`` if ``obj`` is a coroutine function given as ``what``."""
    if is_coroutine_callable(obj):
        raise TypeError(
            f"{what} {obj!r} is a coroutine function; the blocking API calls plain "
            f"functions (in a worker thread): pass a plain function, or {instead}"
        )


def refuse_awaitable(result: object, what: str) -> None:
    """Raise ``TypeError`` if a blocking callable returned an awaitable (closing it)."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        raise TypeError(
            f"{what} returned an awaitable; the blocking API does not await: "
            "use a plain function (or the async API)"
        )
