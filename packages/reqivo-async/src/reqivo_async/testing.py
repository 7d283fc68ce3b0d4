"""``ReqivoMock``: answer the requests of every session with canned responses, for tests.

Register routes (what a request must look like, and the answer), run the code under
test, then look at what it sent::

    from reqivo_async.testing import ReqivoMock

    with ReqivoMock() as mock:
        route = mock.add_response(method="GET", url="https://api.test/users", json=[])
        ...  # code that builds its own AsyncSession() or reqivo_sync.Session()
    assert route.call_count == 1

While it is active (``with``, or ``start()`` ... ``stop()``), every session built without
``transport=`` sends through it (``reqivo_async.transport.override_default_transport``):
``AsyncSession`` and ``reqivo_sync.Session`` alike, whoever builds them. The pytest
fixture ``reqivo_mock`` (``reqivo_async.pytest_plugin``, installed with the ``testing``
extra) gives one per test.

Matching: a route matches when every criterion it was given holds: ``method``
(case-insensitive); ``url`` (a string or ``URL``: scheme, host, port, path and query
equal, the query in any order; a compiled ``re.Pattern``: ``pattern.match(str(url))``);
``params`` (the query holds these items, others allowed); ``match_headers`` (these
headers, these values); ``match_content`` (the body bytes); ``match_json`` (the body,
parsed as JSON, equals this value). Selection: the first matching route not called yet,
in the order of registration; when every matching route was called, the last one answers
again. So ``add_response(status_code=503)`` then ``add_response(json=...)`` on one URL
answer 503 first, then 200 for good.

Checks (``check()``, run on leaving ``with`` and at the fixture's teardown): a request
that matched no route fails, even if the code under test swallowed the
``TransportError`` it raised (``assert_all_mocked=False``: such requests get an empty
200 instead); a route never called fails unless it was added with ``optional=True``
(``assert_all_called=False``: no route must be called).
"""

from __future__ import annotations

import contextlib
import inspect
import json as jsonlib
import re
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from reqivo_async._logging import redact_url
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_async._transports._mock import MockTransport
from reqivo_async._transports._override import override_default_transport
from reqivo_protocol import (
    URL,
    Headers,
    HeaderTypes,
    QueryParams,
    QueryParamTypes,
    RequestError,
    TransportError,
)

__all__ = ["Callback", "ReqivoMock", "Route"]

#: ``callback(request)`` returns the ``Response`` (a plain or a coroutine function).
Callback = Callable[[AsyncRequest], "Response | Awaitable[Response]"]

_UNSET: Any = object()


class _Matcher:
    """What a request must look like (every criterion given must hold)."""

    __slots__ = ("content", "headers", "json", "method", "params", "url")

    def __init__(
        self,
        method: str | None,
        url: URL | str | re.Pattern[str] | None,
        params: QueryParamTypes | None,
        match_headers: HeaderTypes | None,
        match_content: bytes | None,
        match_json: Any,
    ) -> None:
        self.method = None if method is None else method.upper()
        self.url = URL(url) if isinstance(url, str) else url
        self.params = None if params is None else QueryParams(params).multi_items()
        self.headers = None if match_headers is None else Headers(match_headers).multi_items()
        self.content = match_content
        self.json = match_json

    def matches(self, request: AsyncRequest) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        url = self.url
        if isinstance(url, re.Pattern):
            if url.match(str(request.url)) is None:
                return False
        elif url is not None and not _same_url(url, request.url):
            return False
        if self.params is not None:
            query = request.url.params.multi_items()
            if any(item not in query for item in self.params):
                return False
        if self.headers is not None:
            headers = request.headers
            if any(value not in headers.get_list(name) for name, value in self.headers):
                return False
        if self.content is not None and request.content != self.content:
            return False
        if self.json is not _UNSET:
            try:
                body = jsonlib.loads(request.content)
            except ValueError:
                return False
            if body != self.json:
                return False
        return True

    def __str__(self) -> str:
        url = self.url
        text = "any URL" if url is None else url.pattern if isinstance(url, re.Pattern) else url
        parts = [f"{self.method or 'any method'} {text}"]
        if self.params is not None:
            parts.append(f"params {self.params}")
        if self.headers is not None:
            parts.append(f"headers {self.headers}")
        if self.content is not None:
            parts.append(f"content {self.content!r}")
        if self.json is not _UNSET:
            parts.append(f"json {self.json!r}")
        return ", ".join(parts)


def _same_url(expected: URL, actual: URL) -> bool:
    return (
        expected.scheme == actual.scheme
        and expected.host == actual.host
        and expected.effective_port == actual.effective_port
        and (expected.path or "/") == (actual.path or "/")
        and expected.params == actual.params
    )


class Route:
    """A registered answer: what it matches, what it answers, and the requests it got.

    ``calls`` lists the requests it answered (``AsyncRequest``, body in memory), in
    order; ``called`` and ``call_count`` say whether and how often.
    """

    __slots__ = ("_answer", "_matcher", "calls", "optional", "pass_through")

    def __init__(
        self,
        matcher: _Matcher,
        answer: Callable[[AsyncRequest], Awaitable[Response]] | None,
        *,
        optional: bool,
    ) -> None:
        self._matcher = matcher
        self._answer = answer
        self.optional = optional
        self.pass_through = answer is None
        self.calls: list[AsyncRequest] = []

    @property
    def called(self) -> bool:
        """Whether a request reached this route."""
        return bool(self.calls)

    @property
    def call_count(self) -> int:
        """How many requests this route answered."""
        return len(self.calls)

    def matches(self, request: AsyncRequest) -> bool:
        """Whether ``request`` meets every criterion of this route."""
        return self._matcher.matches(request)

    def __repr__(self) -> str:
        return f"<Route {self._matcher} (called {self.call_count} times)>"


def _canned(
    status_code: int,
    headers: HeaderTypes | None,
    content: bytes | None,
    text: str | None,
    json: Any,
    http_version: str,
) -> Callable[[AsyncRequest], Awaitable[Response]]:
    """An answer building a fresh ``Response`` (a response is read once) per request."""
    given = [name for name, v in (("content", content), ("text", text)) if v is not None]
    if json is not _UNSET:
        given.append("json")
    if len(given) > 1:
        raise TypeError(f"give at most one of content, text and json (got {', '.join(given)})")
    fields = Headers(headers)
    if json is not _UNSET:
        body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        fields.setdefault("Content-Type", "application/json")
    elif text is not None:
        body = text.encode("utf-8")
        fields.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:
        body = content or b""
    fields.setdefault("Content-Length", str(len(body)))
    items = fields.multi_items()

    async def answer(request: AsyncRequest) -> Response:
        return Response(
            status_code, headers=items, content=body, http_version=http_version, request=request
        )

    return answer


def _calling(callback: Callback) -> Callable[[AsyncRequest], Awaitable[Response]]:
    async def answer(request: AsyncRequest) -> Response:
        response = callback(request)
        if inspect.isawaitable(response):
            response = await response
        return response

    return answer


def _raising(exception: BaseException) -> Callable[[AsyncRequest], Awaitable[Response]]:
    async def answer(request: AsyncRequest) -> Response:
        if isinstance(exception, RequestError) and exception.request is None:
            exception.request = request
        raise exception

    return answer


class _Transport(MockTransport):
    """One session's transport: routes through the mock; a pass-through route goes to
    a real connection pool, built for this session on first use."""

    def __init__(self, mock: ReqivoMock, make_pool: Callable[[], AsyncBaseTransport]) -> None:
        super().__init__(self._route)
        self._mock = mock
        self._make_pool = make_pool
        self._pool: AsyncBaseTransport | None = None

    async def _route(self, request: AsyncRequest) -> Response:
        route = self._mock._select(request)
        if route is None:
            return Response(200, content=b"", request=request)
        if route._answer is not None:
            return await route._answer(request)
        if self._pool is None:
            self._pool = self._make_pool()
        return await self._pool.handle_async_request(request)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class ReqivoMock:
    """Routes every request of the sessions built while it is active (see the module).

    ``assert_all_called``: ``check()`` fails when a route (not ``optional``) got no
    request; ``assert_all_mocked``: a request that matches no route raises
    ``TransportError`` where it is sent and fails ``check()`` (False: it gets an empty
    200 response).
    """

    def __init__(self, *, assert_all_called: bool = True, assert_all_mocked: bool = True) -> None:
        self.assert_all_called = assert_all_called
        self.assert_all_mocked = assert_all_mocked
        self.routes: list[Route] = []
        """The routes, in the order they were added."""
        self.requests: list[AsyncRequest] = []
        """Every request received, matched or not, in order."""
        self.unmatched: list[AsyncRequest] = []
        """The requests that matched no route."""
        self._lock = threading.Lock()  # sessions of several threads may send at once
        self._active: contextlib.ExitStack | None = None

    # -- routes --------------------------------------------------------------------------

    def add_response(
        self,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
        optional: bool = False,
        status_code: int = 200,
        headers: HeaderTypes | None = None,
        content: bytes | None = None,
        text: str | None = None,
        json: Any = _UNSET,
        http_version: str = "HTTP/1.1",
    ) -> Route:
        """Answer matching requests with this response (one of ``content``, ``text`` or
        ``json`` as its body; ``Content-Type`` and ``Content-Length`` are set for it
        unless ``headers`` names them)."""
        answer = _canned(status_code, headers, content, text, json, http_version)
        matcher = _Matcher(method, url, params, match_headers, match_content, match_json)
        return self._add(Route(matcher, answer, optional=optional))

    def add_callback(
        self,
        callback: Callback,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
        optional: bool = False,
    ) -> Route:
        """Answer matching requests with ``callback(request)`` (an ``AsyncRequest``,
        body in memory), which returns the ``Response`` (a coroutine function may)."""
        matcher = _Matcher(method, url, params, match_headers, match_content, match_json)
        return self._add(Route(matcher, _calling(callback), optional=optional))

    def add_exception(
        self,
        exception: BaseException,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
        optional: bool = False,
    ) -> Route:
        """Raise ``exception`` for matching requests (``ConnectTimeout(...)``, say); a
        ``RequestError`` without a ``request`` gets the one it was raised for."""
        matcher = _Matcher(method, url, params, match_headers, match_content, match_json)
        return self._add(Route(matcher, _raising(exception), optional=optional))

    def add_pass_through(
        self,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
        optional: bool = False,
    ) -> Route:
        """Send matching requests to the network, through the connection pool the
        session would have had (a local test server, say)."""
        matcher = _Matcher(method, url, params, match_headers, match_content, match_json)
        return self._add(Route(matcher, None, optional=optional))

    def _add(self, route: Route) -> Route:
        with self._lock:
            self.routes.append(route)
        return route

    def _select(self, request: AsyncRequest) -> Route | None:
        """The route answering ``request`` (recorded on it), or None (unmatched, allowed)."""
        with self._lock:
            self.requests.append(request)
            matching = [route for route in self.routes if route.matches(request)]
            if not matching:
                self.unmatched.append(request)
                if self.assert_all_mocked:
                    raise TransportError(self._unmatched_message(request), request=request)
                return None
            route = next((r for r in matching if not r.called), matching[-1])
            route.calls.append(request)
            return route

    def _unmatched_message(self, request: AsyncRequest) -> str:
        lines = [f"reqivo_mock: no route matches {request.method} {redact_url(request.url)}"]
        lines.append("routes:")
        lines += [f"  - {route!r}" for route in self.routes] or ["  (none registered)"]
        return "\n".join(lines)

    # -- looking at what was sent --------------------------------------------------------

    def get_requests(
        self,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
    ) -> list[AsyncRequest]:
        """The requests received that meet these criteria (all of them without any)."""
        matcher = _Matcher(method, url, params, match_headers, match_content, match_json)
        with self._lock:
            return [request for request in self.requests if matcher.matches(request)]

    def get_request(
        self,
        *,
        method: str | None = None,
        url: URL | str | re.Pattern[str] | None = None,
        params: QueryParamTypes | None = None,
        match_headers: HeaderTypes | None = None,
        match_content: bytes | None = None,
        match_json: Any = _UNSET,
    ) -> AsyncRequest | None:
        """The one request meeting these criteria, or None; ``AssertionError`` if several."""
        found = self.get_requests(
            method=method,
            url=url,
            params=params,
            match_headers=match_headers,
            match_content=match_content,
            match_json=match_json,
        )
        if len(found) > 1:
            raise AssertionError(
                f"reqivo_mock: {len(found)} requests match, not one: use get_requests()"
            )
        return found[0] if found else None

    def reset(self) -> None:
        """Forget every route and request (the options stay)."""
        with self._lock:
            self.routes.clear()
            self.requests.clear()
            self.unmatched.clear()

    # -- checks and lifetime -------------------------------------------------------------

    def check(self) -> None:
        """``AssertionError`` naming the requests that matched no route (with
        ``assert_all_mocked``) and the routes never called (with ``assert_all_called``)."""
        problems = []
        if self.assert_all_mocked and self.unmatched:
            problems.append(f"{len(self.unmatched)} request(s) matched no route:")
            problems += [f"  - {r.method} {redact_url(r.url)}" for r in self.unmatched]
        if self.assert_all_called:
            unused = [route for route in self.routes if not route.called and not route.optional]
            if unused:
                problems.append(
                    f"{len(unused)} route(s) never called (add them with optional=True, "
                    "or set assert_all_called=False, if that is expected):"
                )
                problems += [f"  - {route!r}" for route in unused]
        if problems:
            raise AssertionError("\n".join(["reqivo_mock:", *problems]))

    def transport(self, make_pool: Callable[[], AsyncBaseTransport]) -> AsyncBaseTransport:
        """A transport routing through this mock (a ``TransportFactory``, for
        ``override_default_transport``; ``make_pool`` serves pass-through routes)."""
        return _Transport(self, make_pool)

    def start(self) -> None:
        """Route the sessions built from now on through this mock, until ``stop()``."""
        if self._active is not None:
            raise RuntimeError("this ReqivoMock is active already")
        active = contextlib.ExitStack()
        active.enter_context(override_default_transport(self.transport))
        self._active = active

    def stop(self) -> None:
        """Stop routing new sessions through this mock (those built meanwhile keep it)."""
        active, self._active = self._active, None
        if active is not None:
            active.close()

    def __enter__(self) -> ReqivoMock:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None:
            self.check()
