"""``override_default_transport``: what a session built without ``transport=`` sends through.

A test seam. Code under test usually builds its own ``AsyncSession()`` (or
``reqivo_sync.Session()``, which builds one), so a test cannot hand it a
``MockTransport``. While ``override_default_transport(factory)`` is active, every
``AsyncSession`` built without ``transport=`` gets ``factory(make_pool)`` as its
transport instead of a connection pool, where ``make_pool()`` builds the pool the session
would have used (its ``verify``, ``cert``, ``limits``, ``proxy``...), for a factory that
sends some requests to the network after all. ``reqivo_async.testing.ReqivoMock`` and the
``reqivo_mock`` pytest fixture are built on it.

The override is read once, when the session is built: the request path does not look at
it. It is process-wide (a session built in any thread or task while it is active gets
it), as test doubles that patch a client usually are; overrides nest, the innermost
winning, and each restores the previous one when it ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from reqivo_async._transports._base import AsyncBaseTransport

__all__ = [
    "TransportFactory",
    "current_override",
    "default_transport",
    "override_default_transport",
    "transport_overridden",
]

#: ``factory(make_pool) -> transport``: ``make_pool()`` builds the session's default pool.
TransportFactory = Callable[[Callable[[], AsyncBaseTransport]], AsyncBaseTransport]

#: The active override (None: sessions build their connection pool).
current_override: TransportFactory | None = None


@contextlib.contextmanager
def override_default_transport(factory: TransportFactory) -> Iterator[None]:
    """Within the block, sessions built without ``transport=`` use ``factory(make_pool)``.

    Sessions built before the block keep their transport, and those built in it keep the
    one they got after it ends.
    """
    global current_override
    previous, current_override = current_override, factory
    try:
        yield
    finally:
        current_override = previous


def default_transport(make_pool: Callable[[], AsyncBaseTransport]) -> AsyncBaseTransport:
    """The transport of a session built without ``transport=``: ``make_pool()``, or the
    active override's ``factory(make_pool)``.

    For code that builds such a session's transport itself (reqivo-sync's
    ``Session.new_async_session``), so that a test's override reaches it too.
    """
    override = current_override
    return make_pool() if override is None else override(make_pool)


def transport_overridden() -> bool:
    """Whether an ``override_default_transport`` is active (reqivo-sync then builds its
    sessions the async way, so that the factory gets the pool it expects)."""
    return current_override is not None
