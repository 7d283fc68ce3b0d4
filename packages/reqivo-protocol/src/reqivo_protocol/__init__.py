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
"""

from reqivo_protocol import content, http11, websocket
from reqivo_protocol._cookiejar import CookieJar, CookieTypes
from reqivo_protocol._cookies import Cookie, parse_set_cookie
from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as _exception_names
from reqivo_protocol._headers import SENSITIVE_HEADERS, Headers, HeaderTypes
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
    "http11",
    "parse_set_cookie",
    "supported_encodings",
    "websocket",
]
