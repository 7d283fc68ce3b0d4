"""reqivo-protocol: sans-IO HTTP/1.1 and WebSocket protocol machines.

Bytes in, events out: nothing here opens a socket, starts an event loop, reads a clock
or keeps global state, so the same code serves asyncio, blocking sockets, trio or a
test feeding byte strings.
"""

from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as _exception_names
from reqivo_protocol._headers import SENSITIVE_HEADERS, Headers, HeaderTypes

__version__ = "0.1.0"

__all__ = [*_exception_names, "SENSITIVE_HEADERS", "HeaderTypes", "Headers", "__version__"]
