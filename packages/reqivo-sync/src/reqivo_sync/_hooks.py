"""Event hooks of the blocking API: plain functions that see ``Request`` and ``Response``.

``Session(event_hooks={"request": [f], "response": [g]})``, ``session.event_hooks = ...``,
``session.event_hooks["request"] = [...]`` and ``session.event_hooks["response"].append(g)``
all put each hook in a ``SyncHook``: a coroutine callable that reqivo-async's session
awaits like one of its own hooks (for every request on the wire: redirects, auth round
trips and retries included), so the policy that calls hooks stays written once. A
``SyncHook`` switches the request or response to the sync class and calls the hook in a
worker thread (``_blocking.run_blocking``): the hook may block, and may read the body
(``response.read()``), which goes through the Session's bridge like any blocking call.

A ``SyncHook`` compares equal to the function it holds, so ``f in session.event_hooks
["request"]`` and ``.remove(f)`` work as they would on the plain lists. Coroutine
functions are refused (``TypeError``): the blocking API never awaits a user's hook.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self, SupportsIndex, overload

from reqivo_async.transport import EventHook
from reqivo_sync._blocking import (
    as_sync_request,
    refuse_awaitable,
    refuse_coroutine_function,
    run_blocking,
)
from reqivo_sync._models import as_sync_response

if TYPE_CHECKING:
    from reqivo_sync._bridge import LoopBridge

__all__ = ["EventHooksSetting", "SyncEventHooks", "SyncHook", "sync_event_hooks"]

_EVENTS = ("request", "response")
BridgeRef = Callable[[], "LoopBridge[Any] | None"]


def _no_bridge() -> None:
    return None


class SyncHook:
    """One user hook, called with the sync ``Request`` or ``Response``: in a worker thread
    when the Session runs on its event loop, in the calling thread when it drives blocking
    I/O itself (``run_blocking``)."""

    __slots__ = ("_bridge", "_event", "hook")

    def __init__(self, hook: Any, event: str, bridge: BridgeRef = _no_bridge) -> None:
        if isinstance(hook, SyncHook):
            hook = hook.hook
        if not callable(hook):
            raise TypeError(f"event hook {hook!r} for {event!r} is not callable")
        refuse_coroutine_function(hook, "event hook", "use AsyncSession for async hooks")
        self.hook: Callable[[Any], object] = hook
        self._event = event
        self._bridge = bridge

    async def __call__(self, subject: Any) -> None:
        if self._event == "response":
            subject = as_sync_response(subject, self._bridge())
        else:
            subject = as_sync_request(subject)
        result = await run_blocking(self.hook, subject)
        refuse_awaitable(result, f"event hook {self.hook!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SyncHook):
            return bool(self.hook == other.hook)
        return bool(self.hook == other)

    def __hash__(self) -> int:
        return hash(self.hook)

    def __repr__(self) -> str:
        return f"<SyncHook {self._event} {self.hook!r}>"


class _HookList(list[EventHook]):
    """The hooks of one event: every callable put in it is wrapped in a ``SyncHook``."""

    __slots__ = ("_wrap",)

    def __init__(self, hooks: Iterable[Any], wrap: Callable[[Any], SyncHook]) -> None:
        self._wrap = wrap
        super().__init__(map(wrap, hooks))

    def append(self, hook: EventHook, /) -> None:
        """Add ``hook`` at the end."""
        super().append(self._wrap(hook))

    def insert(self, index: SupportsIndex, hook: EventHook, /) -> None:
        """Add ``hook`` before ``index``."""
        super().insert(index, self._wrap(hook))

    def extend(self, hooks: Iterable[EventHook], /) -> None:
        """Add ``hooks`` at the end."""
        super().extend(map(self._wrap, hooks))

    def __iadd__(self, hooks: Iterable[EventHook], /) -> Self:  # type: ignore[override, misc]
        self.extend(hooks)
        return self

    @overload
    def __setitem__(self, index: SupportsIndex, hook: EventHook, /) -> None: ...
    @overload
    def __setitem__(self, index: slice, hooks: Iterable[EventHook], /) -> None: ...
    def __setitem__(self, index: SupportsIndex | slice, value: Any, /) -> None:
        if isinstance(index, slice):
            super().__setitem__(index, [self._wrap(hook) for hook in value])
        else:
            super().__setitem__(index, self._wrap(value))


class SyncEventHooks(dict[str, list[EventHook]]):
    """``{"request": [...], "response": [...]}`` whose lists wrap what is put in them."""

    __slots__ = ("_bridge",)

    def __init__(self, hooks: Mapping[str, Iterable[Any]], bridge: BridgeRef) -> None:
        super().__init__()
        self._bridge = bridge
        for event in _EVENTS:
            self[event] = ()
        self.update(hooks)

    def __setitem__(self, event: str, hooks: Iterable[Any]) -> None:
        if event not in _EVENTS:
            raise ValueError(f"unknown event hook {event!r}: expected 'request' or 'response'")
        bridge = self._bridge

        def wrap(hook: Any) -> SyncHook:
            return SyncHook(hook, event, bridge)

        super().__setitem__(event, _HookList(hooks, wrap))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replace the hooks of the events given (as ``dict.update`` takes them)."""
        for event, hooks in dict(*args, **kwargs).items():
            self[event] = hooks


def _bridge_of(session: object) -> BridgeRef:
    """A callable giving ``session``'s bridge (held weakly: hooks outlive no Session)."""
    ref = weakref.ref(session)

    def bridge() -> LoopBridge[Any] | None:
        return getattr(ref(), "_bridge", None)

    return bridge


def sync_event_hooks(
    hooks: Mapping[str, Iterable[EventHook]] | None, session: object
) -> SyncEventHooks:
    """``event_hooks=`` of the blocking ``session``, each hook wrapped (and checked: unknown
    events, objects that are not callable, coroutine functions)."""
    return SyncEventHooks({} if hooks is None else hooks, _bridge_of(session))


_UPGRADE = threading.Lock()


class EventHooksSetting:
    """``Session.event_hooks``: ``{"request": [...], "response": [...]}`` of plain functions
    that get the sync ``Request`` / ``Response`` (in a worker thread); assign it, assign
    one event's list, or change the lists in place: every hook put in is wrapped."""

    @overload
    def __get__(self, instance: None, owner: type) -> EventHooksSetting: ...
    @overload
    def __get__(self, instance: object, owner: type) -> SyncEventHooks: ...
    def __get__(self, instance: Any, owner: type) -> SyncEventHooks | EventHooksSetting:
        if instance is None:
            return self
        state = instance._async.state
        hooks = state.event_hooks
        if type(hooks) is not SyncEventHooks:
            # reqivo-async copied the hooks given to its constructor into a plain dict.
            with _UPGRADE:
                hooks = state.event_hooks
                if type(hooks) is not SyncEventHooks:
                    hooks = state.event_hooks = SyncEventHooks(hooks, _bridge_of(instance))
        return hooks

    def __set__(self, instance: Any, hooks: Mapping[str, Iterable[EventHook]] | None) -> None:
        instance._async.state.event_hooks = sync_event_hooks(hooks, instance)
