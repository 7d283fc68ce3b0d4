"""reqivo-protocol: sans-IO HTTP/1.1 and WebSocket protocol machines.

Bytes in, events out: nothing here opens a socket, starts an event loop, reads a clock
or keeps global state, so the same code serves asyncio, blocking sockets, trio or a
test feeding byte strings.

The top level holds the shared vocabulary: the exception hierarchy, ``Headers``,
``URL``, ``QueryParams``, cookies and content handling. The two protocol machines
live in their own namespaces, whose event names would otherwise collide:

- ``reqivo_protocol.http11``: ``ClientConnection`` and its events (``Request``,
  ``InformationalResponse``, ``Response``, ``Data``, ``EndOfMessage``, ``PeerClosed``).
- ``reqivo_protocol.websocket``: the opening handshake, ``WebSocketConnection`` and its
  events, permessage-deflate, masking.
- ``reqivo_protocol.content``: content decoders, text and line decoding, multipart.
- ``reqivo_protocol.exceptions``: the exception hierarchy alone (also exported here).

These modules are the package's whole public surface, for users and for the other
Reqivo packages alike: nothing outside reqivo-protocol imports its ``_private`` modules
(``tests/test_layering.py`` checks it; ADR-009).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as _exception_names
from reqivo_protocol._headers import SENSITIVE_HEADERS, Headers, HeaderTypes

if TYPE_CHECKING:
    from reqivo_protocol import content, exceptions, http2, http11, websocket
    from reqivo_protocol._cookiejar import CookieJar, CookieTypes
    from reqivo_protocol._cookies import Cookie, parse_set_cookie
    from reqivo_protocol._query import QueryParams, QueryParamTypes, encode_form
    from reqivo_protocol._url import DEFAULT_PORTS, URL, Origin, URLTypes
    from reqivo_protocol.content import (
        ContentDecoder,
        LineDecoder,
        MultipartEncoder,
        TextDecoder,
        charset_from_content_type,
        supported_encodings,
    )

# Everything but the exceptions and ``Headers`` loads on first use (PEP 562), so that a
# client pays import time only for what it uses: an HTTP client never loads the
# WebSocket codec, multipart encoding or the cookie jar unless it needs them.
#: Public names defined in modules imported on first use: name -> module.
_LAZY = {
    "content": "reqivo_protocol.content",
    "http11": "reqivo_protocol.http11",
    "http2": "reqivo_protocol.http2",
    "websocket": "reqivo_protocol.websocket",
    "exceptions": "reqivo_protocol.exceptions",
    "CookieJar": "reqivo_protocol._cookiejar",
    "CookieTypes": "reqivo_protocol._cookiejar",
    "Cookie": "reqivo_protocol._cookies",
    "parse_set_cookie": "reqivo_protocol._cookies",
    "QueryParams": "reqivo_protocol._query",
    "QueryParamTypes": "reqivo_protocol._query",
    "encode_form": "reqivo_protocol._query",
    "DEFAULT_PORTS": "reqivo_protocol._url",
    "URL": "reqivo_protocol._url",
    "Origin": "reqivo_protocol._url",
    "URLTypes": "reqivo_protocol._url",
    "ContentDecoder": "reqivo_protocol.content._decoders",
    "supported_encodings": "reqivo_protocol.content._decoders",
    "MultipartEncoder": "reqivo_protocol.content._multipart",
    "LineDecoder": "reqivo_protocol.content._text",
    "TextDecoder": "reqivo_protocol.content._text",
    "charset_from_content_type": "reqivo_protocol.content._text",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'reqivo_protocol' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__version__ = "0.1.0"

__all__ = [
    *_exception_names,
    "DEFAULT_PORTS",
    "SENSITIVE_HEADERS",
    "URL",
    "ContentDecoder",
    "Cookie",
    "CookieJar",
    "CookieTypes",
    "HeaderTypes",
    "Headers",
    "LineDecoder",
    "MultipartEncoder",
    "Origin",
    "QueryParamTypes",
    "QueryParams",
    "TextDecoder",
    "URLTypes",
    "__version__",
    "charset_from_content_type",
    "content",
    "encode_form",
    "exceptions",
    "http11",
    "http2",
    "parse_set_cookie",
    "supported_encodings",
    "websocket",
]
