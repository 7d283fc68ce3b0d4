"""Standard-library logging under the ``reqivo`` logger, with credentials redacted.

One DEBUG record per request on the wire::

    HTTP Request: GET https://api.example.com/users "HTTP/1.1 200 OK"

(DEBUG rather than httpx's INFO: an application that logs at INFO should not get a line
per HTTP call unless it asks for it: ``logging.getLogger("reqivo").setLevel("DEBUG")``.)
Failures, redirects and retries get a DEBUG record each. Passwords in URLs become
``[secure]``; the records carry the request and response headers in ``extra`` (as
``request_headers`` / ``response_headers``) with ``Authorization``, ``Cookie`` and the
other values of ``SENSITIVE_HEADERS`` redacted, for structured-logging handlers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from reqivo_protocol import SENSITIVE_HEADERS, URL, Headers

if TYPE_CHECKING:
    from reqivo_async._models import AsyncRequest, Response

__all__ = ["log_error", "log_response", "logger", "redact_headers", "redact_url"]

logger = logging.getLogger("reqivo")

REDACTED = "[secure]"


def redact_url(url: URL) -> str:
    """The URL as text with the password of its userinfo replaced by ``[secure]``."""
    text = str(url)
    userinfo = url.userinfo
    if not userinfo or ":" not in userinfo:
        return text
    user = userinfo.partition(":")[0]
    return text.replace(userinfo + "@", f"{user}:{REDACTED}@", 1)


def redact_headers(headers: Headers) -> list[tuple[str, str]]:
    """Every header field, with credential values replaced by ``[secure]``."""
    return [
        (name, REDACTED if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in headers.multi_items()
    ]


def log_response(request: AsyncRequest, response: Response) -> None:
    """Log one request and the status line of its response (call when DEBUG is on)."""
    logger.debug(
        'HTTP Request: %s %s "%s %d %s"',
        request.method,
        redact_url(request.url),
        response.http_version,
        response.status_code,
        response.reason,
        extra={
            "request_headers": redact_headers(request.headers),
            "response_headers": redact_headers(response.headers),
        },
    )


def log_error(request: AsyncRequest, error: BaseException) -> None:
    """Log a request that failed (call when DEBUG is on)."""
    logger.debug(
        "HTTP Request: %s %s failed: %s: %s",
        request.method,
        redact_url(request.url),
        type(error).__name__,
        error,
        extra={"request_headers": redact_headers(request.headers)},
    )
