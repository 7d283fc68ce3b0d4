"""``MockTransport``: answer requests with a function, for tests.

``MockTransport(handler)`` calls ``handler(request)`` (a plain or a coroutine function)
for every request and returns the ``Response`` it builds. The request body is read into
memory first, so the handler can look at ``request.content``::

    def handler(request):
        return Response(200, json_body...)  # any Response
    session = AsyncSession(transport=MockTransport(handler))
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from reqivo_async._models import AsyncRequest, Response
from reqivo_async._transports._base import AsyncBaseTransport

__all__ = ["MockTransport"]

Handler = Callable[[AsyncRequest], "Response | Awaitable[Response]"]


class MockTransport(AsyncBaseTransport):
    """A transport that hands each request to ``handler`` and returns its response."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        if request.stream.body is None:
            await request.aread()
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        if not isinstance(response, Response):
            raise TypeError(
                f"the MockTransport handler returned {type(response).__name__}, not a Response"
            )
        if response._request is None:
            response.request = request
        return response
