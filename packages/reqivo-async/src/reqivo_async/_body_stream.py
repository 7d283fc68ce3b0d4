"""What the HTTP/1.1 and HTTP/2 response bodies share: ending and failing.

A body stream is read chunk by chunk (``__anext__``) or whole (``aread_all``), each
protocol its own way; how it ends is common. At the end of the body (``_complete``) or
after a failure, a cancellation or an early close, the stream gives its transport back
through ``_release`` (HTTP/1.1: the connection is reused or closed; HTTP/2: the stream is
forgotten or reset), tells the trace step, and a failure is raised as the read phase's
Reqivo error (``body_read_error``).
"""

from __future__ import annotations

from typing import NoReturn, Self

from reqivo_async._models import AsyncRequest
from reqivo_async._network import map_error
from reqivo_async._trace import Step
from reqivo_protocol import RequestError

__all__ = ["ResponseBodyStream", "body_read_error"]


def body_read_error(exc: BaseException, request: AsyncRequest) -> BaseException:
    """What to raise for ``exc`` out of reading a response body (HTTP/1.1 or HTTP/2).

    A Reqivo error gets ``request`` when it has none; any other ``Exception`` becomes the
    read phase's error (``map_error``); ``CancelledError`` and other ``BaseException``\\s
    pass unchanged.
    """
    if isinstance(exc, RequestError):
        if exc.request is None:
            exc.request = request
        return exc
    if isinstance(exc, Exception):
        return map_error(exc, "read", request)
    return exc


class ResponseBodyStream:
    """The base of the protocols' body streams: subclasses read, ``_release`` lets go."""

    __slots__ = ("_done", "_request", "_timeout", "_trace")

    def __init__(self, request: AsyncRequest, timeout: float | None, step: Step | None) -> None:
        self._request = request
        self._timeout = timeout
        self._trace = step
        self._done = False

    def __aiter__(self) -> Self:
        return self

    def _release(self, complete: bool) -> None:
        """Give the transport back: ``complete`` when the body was read to its end."""
        raise NotImplementedError

    async def _complete(self) -> None:
        self._done = True
        self._release(True)
        if self._trace is not None:
            await self._trace.complete()

    async def _fail(self, exc: BaseException) -> NoReturn:
        """Let go after ``exc`` and raise it, or the Reqivo error it maps to."""
        self._done = True
        self._release(False)
        if self._trace is not None:
            await self._trace.failed(exc)
        mapped = body_read_error(exc, self._request)
        if mapped is exc:
            raise exc
        raise mapped from exc

    async def aclose(self) -> None:
        """Let go of the transport unless the body was read to its end already."""
        if not self._done:
            self._done = True
            self._release(False)
