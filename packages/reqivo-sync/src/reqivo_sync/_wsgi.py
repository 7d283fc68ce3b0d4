"""``WSGITransport``: send the blocking API's requests to a WSGI application in-process.

No sockets: each request calls ``app(environ, start_response)`` (PEP 3333) in a worker
thread, like a threaded WSGI server would, and its answer becomes a ``Response`` whose
body streams from the app's iterable as it is read (each chunk pulled in a worker thread,
``_streams.IteratorStream``). The session's policies (redirects, cookies, auth, retries)
apply to what the app answers, as with a real server::

    with Session(transport=WSGITransport(app), base_url="http://testserver") as session:
        assert session.get("/health").status_code == 200

The environ: ``REQUEST_METHOD``, ``SCRIPT_NAME`` (``script_name=``; a request path under
it has it removed from ``PATH_INFO``), ``PATH_INFO`` (percent-decoded, as latin-1
characters), ``QUERY_STRING``, ``SERVER_NAME``/``SERVER_PORT`` (of the URL),
``SERVER_PROTOCOL``, ``REMOTE_ADDR`` (``remote_addr=``), ``CONTENT_TYPE``,
``CONTENT_LENGTH``, ``HTTP_*`` for the other headers (repeated fields joined with ", ",
cookies with "; "; ``HTTP_HOST`` from the URL when the request has no ``Host``), and
``wsgi.input`` (the request body, read into memory), ``wsgi.errors`` (``wsgi_errors=``,
``sys.stderr`` by default), ``wsgi.url_scheme``, ``wsgi.multithread`` (true),
``wsgi.multiprocess`` and ``wsgi.run_once`` (false), ``wsgi.input_terminated`` (true).

``start_response`` keeps the status and headers until the app returns its first
non-empty chunk (or calls ``write()``, or its iterable ends), so an app may replace them
with an error page by calling it again with ``exc_info``; once the response has been
returned, such a call re-raises ``exc_info``. The iterable's ``close()`` is called when
the response closes (read to the end, closed early, or failed). A ``HEAD`` response
carries no body, as from a server.

Errors of the app are re-raised to the caller (``raise_app_exceptions=True``, the default,
handy in tests), including an exception an app passed as ``exc_info`` to report it; with
``raise_app_exceptions=False`` an exception before the response started becomes an
empty ``500`` response (an error page the app built is returned as is) and one during
the body ends the body.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, TextIO, TypeAlias
from urllib.parse import unquote

from reqivo_protocol import RemoteProtocolError
from reqivo_sync._base_transport import BaseTransport
from reqivo_sync._models import Request, Response

__all__ = ["WSGIApp", "WSGITransport"]

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]
#: A WSGI application ``app(environ, start_response) -> iterable of bytes``; loosely typed
#: so that apps annotated with any framework's aliases are accepted.
WSGIApp: TypeAlias = Callable[[dict[str, Any], Any], Iterable[bytes]]


class _Exchange:
    """One request's ``start_response`` and ``write``: what the app has said so far."""

    __slots__ = ("exc_info", "headers", "sent", "status", "written")

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.exc_info: ExcInfo | None = None
        self.sent = False  # the response was returned: status and headers are final
        self.written: list[bytes] = []

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.sent:  # too late to replace the response: the app's error goes on
                try:
                    raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response called a second time without exc_info")
        self.status = status
        self.headers = list(headers)
        self.exc_info = exc_info
        return self.write

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise RuntimeError("write() called before start_response")
        if not isinstance(data, bytes):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        self.written.append(data)

    def take_written(self) -> list[bytes]:
        written, self.written = self.written, []
        return written


class _Body:
    """The response body: what the app wrote, then its iterable, whose ``close()`` it calls."""

    __slots__ = ("_closed", "_exchange", "_head", "_iterator", "_raise", "_result")

    def __init__(
        self, result: Iterable[bytes], exchange: _Exchange, raise_app_exceptions: bool
    ) -> None:
        self._result = result
        self._exchange = exchange
        self._raise = raise_app_exceptions
        self._head: list[bytes] = []
        self._closed = False
        self._iterator: Iterator[bytes] = iter(())

    def start(self) -> None:
        """Iterate until the status and headers are final: the first non-empty chunk, a
        ``write()``, or the end of the iterable (PEP 3333's rule for sending headers)."""
        exchange = self._exchange
        head = self._head
        self._iterator = iter(self._result)
        while not exchange.written:
            chunk = next(self._iterator, None)
            if chunk is None:
                break
            if chunk:
                head.append(chunk)
                break
        head[:0] = exchange.take_written()

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        yield from self._head
        self._head = []
        try:
            for chunk in self._iterator:
                if exchange.written:
                    yield from exchange.take_written()
                yield chunk
        except Exception:
            if self._raise:
                raise
            return  # the app failed mid-body: the body ends there
        yield from exchange.take_written()

    def close(self) -> None:
        """Close the app's iterable (once)."""
        if not self._closed:
            self._closed = True
            close = getattr(self._result, "close", None)
            if close is not None:
                close()


def _status(status: str | None) -> tuple[int, str]:
    if status is None:
        raise RemoteProtocolError("the WSGI app returned without calling start_response")
    code, _, reason = status.partition(" ")
    if len(code) != 3 or not code.isdigit():
        raise RemoteProtocolError(f"the WSGI app sent an invalid status {status!r}")
    return int(code), reason


class WSGITransport(BaseTransport):
    """Call a WSGI ``app`` in-process instead of going to the network (see the module).

    ``raise_app_exceptions``: re-raise the app's errors (default) or answer 500 / end the
    body; ``script_name``: the ``SCRIPT_NAME`` the app is mounted at; ``remote_addr``: the
    client address it sees; ``wsgi_errors``: its ``wsgi.errors`` stream.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        raise_app_exceptions: bool = True,
        script_name: str = "",
        remote_addr: str = "127.0.0.1",
        wsgi_errors: TextIO | None = None,
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.script_name = script_name.rstrip("/")
        self.remote_addr = remote_addr
        self.wsgi_errors = wsgi_errors

    def environ(self, request: Request) -> dict[str, Any]:
        """The PEP 3333 environ of ``request`` (its body must be in memory)."""
        url = request.url
        body = request.content
        script = self.script_name
        path = unquote(url.path, encoding="latin-1")
        if script and (path == script or path.startswith(script + "/")):
            path = path[len(script) :]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": script,
            "PATH_INFO": path,
            "QUERY_STRING": url.query or "",
            "SERVER_NAME": url.host,
            "SERVER_PORT": str(url.effective_port or ""),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.remote_addr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": self.wsgi_errors if self.wsgi_errors is not None else sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        for name, value in request.headers.multi_items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            if key in environ:
                environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
            else:
                environ[key] = value
        environ.setdefault("HTTP_HOST", url.netloc)
        if body and "CONTENT_LENGTH" not in environ:
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def handle_request(self, request: Request) -> Response:
        """Call the app and return its response, the body streaming from its iterable."""
        if request.stream.body is None:
            request.read()
        exchange = _Exchange()
        try:
            result = self.app(self.environ(request), exchange.start_response)
        except Exception:
            if self.raise_app_exceptions:
                raise
            return Response(500, content=b"", request=request)
        body = _Body(result, exchange, self.raise_app_exceptions)
        try:
            body.start()
            code, reason = _status(exchange.status)
            if exchange.exc_info is not None and self.raise_app_exceptions:
                error = exchange.exc_info[1]
                raise error.with_traceback(exchange.exc_info[2])
        except BaseException as exc:
            body.close()
            if self.raise_app_exceptions or not isinstance(exc, Exception):
                raise
            return Response(500, content=b"", request=request)
        finally:
            exchange.exc_info = None  # no reference cycle through the traceback
        exchange.sent = True
        if request.method == "HEAD" or isinstance(result, list | tuple):
            # No body, or all of it in memory already: no thread needed to read it.
            content = b"" if request.method == "HEAD" else b"".join(body)
            body.close()
            return Response(
                code, headers=exchange.headers, reason=reason, content=content, request=request
            )
        return Response(code, headers=exchange.headers, reason=reason, stream=body, request=request)

    def __repr__(self) -> str:
        return f"WSGITransport({self.app!r})"
