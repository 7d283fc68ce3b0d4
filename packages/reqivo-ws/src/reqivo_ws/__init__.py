"""Reqivo's WebSocket client: ``AsyncWebSocket`` (asyncio) and ``WebSocket`` (blocking).

``WebSocket`` is loaded on first use and needs reqivo-sync (``pip install
'reqivo-ws[sync]'``); without it, ``reqivo_ws.WebSocket`` raises ``ImportError``.

Built on reqivo-protocol's sans-IO codec and reqivo-async's transport. The shared
exception hierarchy is re-exported, so ``except reqivo_ws.ConnectionClosed`` (or
``reqivo_ws.ReadTimeout``) works everywhere, and so are the codec's ``CloseCode`` and
``Opcode`` (``IntEnum``: ``exc.code == CloseCode.GOING_AWAY`` and ``exc.code == 1001``
say the same).
"""

from typing import TYPE_CHECKING, Any

from reqivo_protocol.exceptions import *  # noqa: F403
from reqivo_protocol.exceptions import __all__ as _exception_names
from reqivo_protocol.websocket import CloseCode, DeflateOffer, DeflateParams, Opcode
from reqivo_ws._client import AsyncWebSocket, Data
from reqivo_ws._reconnect import TRANSIENT_CODES, Reconnect

if TYPE_CHECKING:
    from reqivo_ws._sync import WebSocket as WebSocket

__version__ = "0.1.0"

# ``WebSocket`` stays out of ``__all__``: ``import *`` must work without the sync extra.
__all__ = [
    *_exception_names,
    "TRANSIENT_CODES",
    "AsyncWebSocket",
    "CloseCode",
    "Data",
    "DeflateOffer",
    "DeflateParams",
    "Opcode",
    "Reconnect",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Load the blocking ``WebSocket`` lazily (PEP 562): it needs the ``sync`` extra."""
    if name == "WebSocket":
        try:
            import reqivo_sync  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "reqivo_ws.WebSocket (blocking) needs reqivo-sync: pip install 'reqivo-ws[sync]'"
            ) from exc
        from reqivo_ws._sync import WebSocket

        return WebSocket
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
