"""Reqivo's WebSocket client: ``AsyncWebSocket`` (asyncio).

Built on reqivo-protocol's sans-IO codec and reqivo-async's transport. The shared
exception hierarchy is re-exported, so ``except reqivo_ws.ConnectionClosed`` (or
``reqivo_ws.ReadTimeout``) works everywhere.
"""

from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as _exception_names
from reqivo_protocol.websocket import DeflateOffer, DeflateParams
from reqivo_ws._client import AsyncWebSocket, Data
from reqivo_ws._reconnect import TRANSIENT_CODES, Reconnect

__version__ = "0.1.0"

__all__ = [
    *_exception_names,
    "TRANSIENT_CODES",
    "AsyncWebSocket",
    "Data",
    "DeflateOffer",
    "DeflateParams",
    "Reconnect",
    "__version__",
]
