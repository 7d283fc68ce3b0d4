"""Event hooks: callables told about every request sent and every response received.

``event_hooks={"request": [f, ...], "response": [g, ...]}``; each hook is a plain or a
coroutine function taking the ``AsyncRequest`` (before it goes to the transport) or the
``Response`` (its head received, the body not read yet). A hook may modify what it gets
or raise to abort (``response.raise_for_status()`` is a common response hook). Hooks run
for every request on the wire: redirects, auth round trips and retries included.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeAlias

__all__ = ["EVENTS", "EventHook", "EventHooks", "call_hooks", "to_event_hooks"]

EVENTS = ("request", "response")
EventHook: TypeAlias = Callable[[Any], "Awaitable[Any] | Any"]
EventHooks: TypeAlias = dict[str, list[EventHook]]


def to_event_hooks(hooks: Mapping[str, Iterable[EventHook]] | None) -> EventHooks:
    """Validate ``event_hooks=`` into ``{"request": [...], "response": [...]}``."""
    result: EventHooks = {"request": [], "response": []}
    if hooks is None:
        return result
    for event, callables in hooks.items():
        if event not in result:
            raise ValueError(f"unknown event hook {event!r}: expected 'request' or 'response'")
        listed = list(callables)
        for hook in listed:
            if not callable(hook):
                raise TypeError(f"event hook {hook!r} for {event!r} is not callable")
        result[event] = listed
    return result


async def call_hooks(hooks: list[EventHook], argument: Any) -> None:
    """Call each hook with ``argument``, awaiting those that return an awaitable."""
    for hook in hooks:
        result = hook(argument)
        if inspect.isawaitable(result):
            await result
