"""The transport interface between sessions and whatever carries requests.

A session builds an ``AsyncRequest`` (URL, headers, cookies, auth, body) and hands it to
a transport; the transport returns a ``Response`` whose body streams from the network
(or from memory, or from an ASGI app). The connection pool is the default transport;
``MockTransport``, ``ASGITransport`` and a user's own class plug in the same way.

Per-request settings travel in ``request.extensions``:

- ``"timeout"``: a ``Timeout`` (connect, read, write and pool are the transport's to
  enforce; the session enforces ``total``).
- ``"trace"``: a callable ``trace(event: str, info: dict)`` (sync or async) told about
  each step (see ``reqivo_async._trace``).

A transport may set in ``response.extensions``:

- ``"network_stream"``: after ``101 Switching Protocols`` (or a tunnel), the raw
  connection, now owned by the caller (used by the WebSocket client).
- ``"trailing_data"``: bytes received after the 101 response head.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from reqivo_async._models import AsyncRequest, Response

__all__ = ["AsyncBaseTransport"]


class AsyncBaseTransport(abc.ABC):
    """Base class of transports: implement ``handle_async_request`` (and ``aclose``)."""

    @abc.abstractmethod
    async def handle_async_request(self, request: AsyncRequest) -> Response:
        """Send ``request`` and return the response, its body not read yet."""

    async def aclose(self) -> None:
        """Release every resource the transport holds."""
        return

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
