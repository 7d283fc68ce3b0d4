"""Trace callbacks: timings of each step of a request, without any dependency.

Pass ``extensions={"trace": callback}`` on a request (or ``trace=`` to a session); the
callback, a plain function or a coroutine function, is called as ``callback(event,
info)`` at each step. ``info`` always holds ``"time"`` (``time.perf_counter()`` at the
event) and, for ``*.complete`` events, ``"elapsed"`` since the matching ``*.started``;
``*.failed`` events hold the exception as ``"error"``. Events, in order:

- ``connection.connect.started|complete|failed``  (DNS + TCP; info: host, port)
- ``connection.tls.started|complete|failed``      (info: server_hostname, version)
- ``connection.proxy_tunnel.started|complete|failed`` (info: proxy)
- ``http11.send_request.started|complete|failed``  (request head and body sent)
- ``http11.receive_response_head.started|complete|failed`` (first byte to end of head;
  info: status_code)
- ``http11.response_body.complete|failed``         (the body was read to its end)
- ``connection.reused``                           (an idle pooled connection was taken,
  or an open HTTP/2 connection took the request as a new stream)

On HTTP/2 the three request steps are ``http2.send_request``,
``http2.receive_response_head`` and ``http2.response_body``.

This is the hook OpenTelemetry instrumentation (or plain logging of timings) plugs into.

In the code every step is a ``Step``: it emits ``<name>.started``, then
``<name>.complete`` (adding ``elapsed``) or ``<name>.failed``. A step that is one block is
``async with trace(callback, "name", **info) as step`` (``step.done(**info)`` adds fields
to ``complete``); without a callback ``trace`` returns ``NO_TRACE``, a shared step whose
methods do nothing. The per-request path (``_http11``) holds ``Step | None`` instead and
awaits the step's methods only when there is one: no-op ``async with`` steps there cost
an untraced keep-alive GET about 1.5 µs of its ~32 µs of client code (measured on a fake
transport), and an untraced request must pay nothing for tracing.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeAlias

__all__ = ["NO_TRACE", "Step", "TraceCallback", "emit", "trace"]

TraceCallback: TypeAlias = Callable[[str, dict[str, Any]], "Awaitable[None] | None"]


async def emit(callback: TraceCallback, event: str, **info: Any) -> None:
    """Tell ``callback`` about ``event`` (a lone event, not a step)."""
    pending = _call(callback, event, info)
    if pending is not None:
        await pending


def _call(callback: TraceCallback, event: str, info: dict[str, Any]) -> Any:
    """Call ``callback`` (``info["time"]`` set now); what it returned if that is
    awaitable, else None. Synchronous, so that a step's methods await only a coroutine
    callback's result, not one more coroutine of ours."""
    info.setdefault("time", time.perf_counter())
    result = callback(event, info)
    if result is None:  # a plain function: skip the (slow, ABC-based) awaitable check
        return None
    return result if inspect.isawaitable(result) else None


class Step:
    """One traced step: ``<name>.started``, then ``<name>.complete`` or ``<name>.failed``.

    ``info`` goes with ``started``. Used as ``async with``, or driven by its methods; a
    step never started (a response body) has no ``started`` event nor ``elapsed``.
    """

    __slots__ = ("_callback", "_info", "_name", "_result", "_started")

    def __init__(
        self, callback: TraceCallback, name: str, info: dict[str, Any] | None = None
    ) -> None:
        self._callback = callback
        self._name = name
        self._info = info
        self._result: dict[str, Any] = {}
        self._started: float | None = None

    async def __aenter__(self) -> Step:
        await self.started()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.complete(**self._result)
        else:
            await self.failed(exc)

    def done(self, **info: Any) -> None:
        """Fields for the ``complete`` event of an ``async with`` step (its outcome)."""
        self._result = info

    def then(self, name: str) -> Step:
        """The next step, reported to the same callback."""
        return Step(self._callback, name)

    async def started(self) -> None:
        """Emit ``<name>.started``; ``elapsed`` counts from here."""
        self._started = time.perf_counter()
        info = {} if self._info is None else self._info
        pending = _call(self._callback, self._name + ".started", info)
        if pending is not None:
            await pending

    async def complete(self, **info: Any) -> None:
        """Emit ``<name>.complete`` with ``info`` (and ``elapsed`` if it was started)."""
        if self._started is not None:
            info["elapsed"] = time.perf_counter() - self._started
        pending = _call(self._callback, self._name + ".complete", info)
        if pending is not None:
            await pending

    async def failed(self, error: BaseException) -> None:
        """Emit ``<name>.failed`` with the exception."""
        pending = _call(self._callback, self._name + ".failed", {"error": error})
        if pending is not None:
            await pending


class _NoTrace(Step):
    """A step nobody traces: every method does nothing (one shared instance)."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    async def __aenter__(self) -> Step:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def done(self, **info: Any) -> None:
        pass

    def then(self, name: str) -> Step:
        return self

    async def started(self) -> None:
        pass

    async def complete(self, **info: Any) -> None:
        pass

    async def failed(self, error: BaseException) -> None:
        pass


#: The step of every untraced request.
NO_TRACE: Step = _NoTrace()


def trace(callback: TraceCallback | None, name: str, **info: Any) -> Step:
    """The step ``name`` reported to ``callback`` (``info`` goes with ``.started``), or
    ``NO_TRACE`` when there is no callback."""
    if callback is None:
        return NO_TRACE
    return Step(callback, name, info)
