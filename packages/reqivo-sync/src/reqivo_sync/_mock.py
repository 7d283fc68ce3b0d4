"""``MockTransport``: answer the blocking API's requests with a plain function, for tests.

``MockTransport(handler)`` calls ``handler(request)`` for every request that reaches the
wire (redirects, auth round trips and retries included: the session's policies run as
with a real server) and returns the ``Response`` it builds. The handler gets a sync
``Request`` with its body in memory (``request.content``) and runs in a worker thread::

    def handler(request: Request) -> Response:
        if request.url.path == "/login":
            return Response(302, headers={"Location": "/", "Set-Cookie": "id=1"})
        return Response(200, content=b"hello")

    with Session(transport=MockTransport(handler)) as session:
        assert session.get("https://example.test/login").text == "hello"

A coroutine function is refused (``TypeError``): give it to ``reqivo_async.MockTransport``
(which a ``Session`` also takes) instead.
"""

from __future__ import annotations

from collections.abc import Callable

from reqivo_async import Response as AsyncResponse
from reqivo_sync._base_transport import BaseTransport, check_response
from reqivo_sync._blocking import refuse_awaitable, refuse_coroutine_function
from reqivo_sync._models import Request

__all__ = ["MockTransport"]


class MockTransport(BaseTransport):
    """A blocking transport that hands each request to ``handler`` and returns its response."""

    def __init__(self, handler: Callable[[Request], AsyncResponse]) -> None:
        refuse_coroutine_function(
            handler, "the MockTransport handler", "use reqivo_async.MockTransport with it"
        )
        self.handler = handler

    def handle_request(self, request: Request) -> AsyncResponse:
        """``handler(request)``, the request body read into memory first."""
        if request.stream.body is None:
            request.read()
        response = self.handler(request)
        refuse_awaitable(response, "the MockTransport handler")
        response = check_response(response, "the MockTransport handler")
        try:
            response.request  # noqa: B018 (raises when the handler set none)
        except RuntimeError:
            response.request = request
        return response

    def __repr__(self) -> str:
        return f"MockTransport({self.handler!r})"
