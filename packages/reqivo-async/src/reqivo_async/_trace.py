"""Trace callbacks: timings of each step of a request, without any dependency.

Pass ``extensions={"trace": callback}`` on a request (or ``trace=`` to a session); the
callback, a plain function or a coroutine function, is called as ``callback(event,
info)`` at each step. ``info`` always holds ``"time"`` (``time.perf_counter()`` at the
event) and, for ``*.complete`` / ``*.failed`` events, ``"elapsed"`` since the matching
``*.started``. Events, in order:

- ``connection.connect.started|complete|failed``  (DNS + TCP; info: host, port)
- ``connection.tls.started|complete|failed``      (info: server_hostname, version)
- ``connection.proxy_tunnel.started|complete|failed``
- ``http11.send_request.started|complete|failed``  (request head and body sent)
- ``http11.receive_response_head.started|complete|failed`` (first byte to end of head;
  info: status_code)
- ``http11.response_body.complete|failed``         (the body was read to its end)
- ``connection.reused``                           (an idle pooled connection was taken)

This is the hook OpenTelemetry instrumentation (or plain logging of timings) plugs into.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

__all__ = ["TraceCallback", "emit"]

TraceCallback: TypeAlias = Callable[[str, dict[str, Any]], "Awaitable[None] | None"]


async def emit(callback: TraceCallback | None, event: str, **info: Any) -> None:
    """Tell ``callback`` about ``event`` (no-op when there is no callback)."""
    if callback is None:
        return
    info.setdefault("time", time.perf_counter())
    result = callback(event, info)
    if inspect.isawaitable(result):
        await result
