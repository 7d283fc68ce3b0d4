"""``BaseTransport``: the blocking transport interface, an adapter onto the async one.

A blocking transport implements ``handle_request(request) -> Response`` (and ``close()``),
as in httpx. It *is* an ``AsyncBaseTransport``: its ``handle_async_request`` calls
``handle_request`` in a worker thread (``_blocking.run_blocking``), with the request
switched to the sync ``Request`` and its body read into memory first. So a ``Session``
(or even an ``AsyncSession``) takes one as ``transport=`` like any other, its redirect,
auth, cookie and retry policies apply to what it returns, and a slow transport blocks
only the request it serves, never the event loop under it.

A response's body may stream: ``Response(status, stream=iterable)`` with a blocking
iterable of bytes (its chunks are pulled in worker threads as the body is read, and its
``close()`` is called when the response closes).
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from reqivo_async import AsyncBaseTransport, AsyncRequest
from reqivo_async import Response as AsyncResponse
from reqivo_sync._blocking import as_sync_request, run_blocking
from reqivo_sync._models import Request

__all__ = ["BaseTransport", "check_response"]


def check_response(response: object, source: str) -> AsyncResponse:
    """``response`` if it is a ``Response`` (sync or async class), else ``TypeError``."""
    if not isinstance(response, AsyncResponse):
        raise TypeError(f"{source} returned {type(response).__name__}, not a Response")
    return response


class BaseTransport(AsyncBaseTransport):
    """Base class of blocking transports: implement ``handle_request`` (and ``close``).

    ``handle_request`` gets a ``Request`` whose body is in memory (``request.content``)
    and returns a ``Response`` (``reqivo_sync.Response``, or reqivo-async's), its body in
    memory (``content=``) or streaming (``stream=`` a blocking iterable of bytes). It runs
    in a worker thread of the session's event loop, so it may block. ``with transport:``
    closes it.
    """

    @abc.abstractmethod
    def handle_request(self, request: Request) -> AsyncResponse:
        """Send ``request`` and return the response (its body may stream)."""

    def close(self) -> None:
        """Release every resource the transport holds."""
        return

    async def handle_async_request(self, request: AsyncRequest) -> AsyncResponse:
        """The async interface: ``handle_request`` in a worker thread, the body read first."""
        if request.stream.body is None:
            await request.aread()
        response = await run_blocking(self.handle_request, as_sync_request(request))
        return check_response(response, f"{type(self).__name__}.handle_request")

    async def aclose(self) -> None:
        """The async interface: ``close()`` in a worker thread."""
        await run_blocking(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
