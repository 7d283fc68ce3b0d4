"""The exception hierarchy of every Reqivo package.

It is defined once, here, and re-exported by ``reqivo_async``, ``reqivo_sync`` and
``reqivo_ws``, so ``except reqivo_sync.ReadTimeout`` and ``except
reqivo_async.ReadTimeout`` catch the same class::

    ReqivoError
    ├── InvalidURL
    ├── CookieConflict                     (also a LookupError)
    ├── RequestError                       (carries .request)
    │   ├── TransportError
    │   │   ├── TimeoutException           (also a built-in TimeoutError)
    │   │   │   ├── ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
    │   │   │   └── TotalTimeout       (the whole request's deadline passed)
    │   │   ├── NetworkError → ConnectError, ReadError, WriteError
    │   │   ├── TlsError
    │   │   ├── ProxyError
    │   │   └── ProtocolError
    │   │       ├── LocalProtocolError     (we refused to send it)
    │   │       └── RemoteProtocolError    (the peer sent something invalid)
    │   │           └── LimitExceeded      (a configured limit was exceeded by the peer)
    │   │               ├── HeadersTooLarge, TooManyHeaders, LineTooLong
    │   │               ├── BodyTooLarge
    │   │               └── DecompressionLimitExceeded   (also a DecodingError)
    │   ├── DecodingError
    │   └── TooManyRedirects → RedirectLoopError
    ├── HTTPStatusError                    (carries .request and .response)
    ├── StreamError                        (a body used in a way its state forbids)
    │   ├── StreamConsumed, StreamClosed, ResponseNotRead, RequestNotRead
    └── WebSocketError
        ├── HandshakeError                 (carries the refusing response)
        ├── WebSocketProtocolError         (also a RemoteProtocolError; carries .close_code)
        │   └── MessageTooBig              (also a LimitExceeded; close code 1009)
        └── ConnectionClosed → ConnectionClosedOK, ConnectionClosedError

Lower-level errors (``OSError``, ``ssl.SSLError``, ``asyncio.TimeoutError``) never reach
a user on their own: the I/O layers raise one of these with the original as
``__cause__``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BodyTooLarge",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "CookieConflict",
    "DecodingError",
    "DecompressionLimitExceeded",
    "HTTPStatusError",
    "HandshakeError",
    "HeadersTooLarge",
    "InvalidURL",
    "LimitExceeded",
    "LineTooLong",
    "LocalProtocolError",
    "MessageTooBig",
    "NetworkError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RedirectLoopError",
    "RemoteProtocolError",
    "ReqivoError",
    "RequestError",
    "RequestNotRead",
    "ResponseNotRead",
    "StreamClosed",
    "StreamConsumed",
    "StreamError",
    "TimeoutException",
    "TlsError",
    "TooManyHeaders",
    "TooManyRedirects",
    "TotalTimeout",
    "TransportError",
    "WebSocketError",
    "WebSocketProtocolError",
    "WriteError",
    "WriteTimeout",
]


class ReqivoError(Exception):
    """Base class of every exception raised by Reqivo."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidURL(ReqivoError):
    """A URL could not be parsed, or is not usable for a request."""


class CookieConflict(ReqivoError, LookupError):
    """A cookie name matched several cookies (several domains or paths): name one."""


class RequestError(ReqivoError):
    """An error that happened while a request was being sent or its response received.

    ``request`` is the request concerned. The protocol layer knows no request object, so
    it raises these with ``request=None`` and the I/O layers attach the request as the
    error crosses into user code.
    """

    def __init__(self, message: str = "", *, request: Any = None) -> None:
        super().__init__(message)
        self.request = request


class TransportError(RequestError):
    """The request could not be carried to the server and back."""


class TimeoutException(TransportError, TimeoutError):
    """A timeout expired. Also an instance of the built-in ``TimeoutError``."""

    def __init__(self, message: str = "", *, request: Any = None) -> None:
        super().__init__(message, request=request)

    def __str__(self) -> str:
        return self.message


class ConnectTimeout(TimeoutException):
    """Establishing the connection (TCP, TLS or proxy tunnel) took too long."""


class ReadTimeout(TimeoutException):
    """The server sent nothing for longer than the read timeout."""


class WriteTimeout(TimeoutException):
    """Sending the request took longer than the write timeout."""


class PoolTimeout(TimeoutException):
    """No connection of the pool became free within the pool timeout."""


class TotalTimeout(TimeoutException):
    """The deadline of the whole request (redirects and retries included) passed."""


class NetworkError(TransportError):
    """The operating system reported a failure of the connection."""


class ConnectError(NetworkError):
    """The connection could not be established."""


class ReadError(NetworkError):
    """Receiving data failed (for example, the connection was reset)."""


class WriteError(NetworkError):
    """Sending data failed (for example, the connection was reset)."""


class TlsError(TransportError):
    """The TLS handshake failed or the certificate was refused."""


class ProxyError(TransportError):
    """The proxy refused or failed the request; ``status_code`` is its answer, if any."""

    def __init__(
        self, message: str = "", *, request: Any = None, status_code: int | None = None
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code


class ProtocolError(TransportError):
    """The HTTP or WebSocket protocol was violated."""


class LocalProtocolError(ProtocolError):
    """We refused to send something that would violate the protocol.

    Raised before any byte of the offending message is produced, so nothing invalid
    ever reaches the wire.
    """


class RemoteProtocolError(ProtocolError):
    """The peer sent something that violates the protocol."""


class LimitExceeded(RemoteProtocolError):
    """The peer exceeded a configured limit; ``limit_name`` and ``limit`` say which."""

    def __init__(
        self, message: str = "", *, limit_name: str = "", limit: int = 0, request: Any = None
    ) -> None:
        super().__init__(message, request=request)
        self.limit_name = limit_name
        self.limit = limit


class HeadersTooLarge(LimitExceeded):
    """The status line and headers together exceeded ``max_header_size`` bytes."""


class TooManyHeaders(LimitExceeded):
    """The response carried more than ``max_header_count`` header fields."""


class LineTooLong(LimitExceeded):
    """A chunk-size line or trailer line exceeded its limit."""


class BodyTooLarge(LimitExceeded):
    """A body exceeded the configured maximum size."""


class DecodingError(RequestError):
    """A response body could not be decoded (content coding or character set)."""


class DecompressionLimitExceeded(LimitExceeded, DecodingError):
    """A compressed body expanded past the decompression limit (a decompression bomb)."""


class TooManyRedirects(RequestError):
    """More redirects were followed than ``max_redirects`` allows."""


class RedirectLoopError(TooManyRedirects):
    """A redirect chain came back to a URL it had already visited."""


class HTTPStatusError(ReqivoError):
    """Raised by ``raise_for_status()`` for a 4xx or 5xx response."""

    def __init__(self, message: str = "", *, request: Any = None, response: Any = None) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class StreamError(ReqivoError):
    """A request or response body was used in a way its state does not allow."""


class StreamConsumed(StreamError):
    """The body was already iterated once and cannot be read again."""


class StreamClosed(StreamError):
    """The body was closed before it was read."""


class ResponseNotRead(StreamError):
    """``content``/``text``/``json()`` of a streamed response that was not read yet."""


class RequestNotRead(StreamError):
    """``content`` of a request whose body is a stream that was not read yet."""


class WebSocketError(ReqivoError):
    """Base class of WebSocket errors."""


class HandshakeError(WebSocketError):
    """The server refused the WebSocket upgrade; ``response`` is its answer."""

    def __init__(self, message: str = "", *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class WebSocketProtocolError(WebSocketError, RemoteProtocolError):
    """The peer violated RFC 6455 or RFC 7692; ``close_code`` is the code to close with."""

    def __init__(self, message: str = "", *, close_code: int = 1002) -> None:
        super().__init__(message)
        self.request = None
        self.close_code = close_code


class MessageTooBig(WebSocketProtocolError, LimitExceeded):
    """A WebSocket message or frame exceeded its size limit (close code 1009)."""

    def __init__(self, message: str = "", *, limit_name: str = "", limit: int = 0) -> None:
        super().__init__(message, close_code=1009)
        self.limit_name = limit_name
        self.limit = limit


class ConnectionClosed(WebSocketError):
    """The WebSocket connection is closed; ``code`` and ``reason`` say how.

    ``code`` is the close code the peer sent (1005 when its close frame carried none,
    1006 when the connection ended without a close frame).
    """

    def __init__(self, code: int, reason: str = "", message: str = "") -> None:
        super().__init__(message or _describe_close(code, reason))
        self.code = code
        self.reason = reason


class ConnectionClosedOK(ConnectionClosed):
    """The connection was closed normally (close code 1000 or 1001)."""


class ConnectionClosedError(ConnectionClosed):
    """The connection was closed with an error code, or without a close handshake."""


def _describe_close(code: int, reason: str) -> str:
    text = f"WebSocket connection closed with code {code}"
    return f"{text}: {reason}" if reason else text
