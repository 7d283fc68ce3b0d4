"""Body content handling: content decoders, text decoding and multipart encoding.

Everything here is pure and incremental: bytes in, bytes (or text) out, a piece at a
time, so the I/O layers can stream bodies of any size through it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reqivo_protocol.content._decoders import (
        ContentDecoder,
        parse_content_encoding,
        supported_encodings,
    )
    from reqivo_protocol.content._multipart import (
        FieldValue,
        FileContent,
        FileSpec,
        MultipartEncoder,
    )
    from reqivo_protocol.content._text import (
        LineDecoder,
        TextDecoder,
        charset_from_content_type,
    )

# The names load on first use (PEP 562): an HTTP client that never sends files does not
# pay for multipart encoding (and its ``mimetypes``), nor for decoders it never needs.
#: Public names -> the module defining them.
_LAZY = {
    "ContentDecoder": "reqivo_protocol.content._decoders",
    "parse_content_encoding": "reqivo_protocol.content._decoders",
    "supported_encodings": "reqivo_protocol.content._decoders",
    "FieldValue": "reqivo_protocol.content._multipart",
    "FileContent": "reqivo_protocol.content._multipart",
    "FileSpec": "reqivo_protocol.content._multipart",
    "MultipartEncoder": "reqivo_protocol.content._multipart",
    "LineDecoder": "reqivo_protocol.content._text",
    "TextDecoder": "reqivo_protocol.content._text",
    "charset_from_content_type": "reqivo_protocol.content._text",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'reqivo_protocol.content' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ContentDecoder",
    "FieldValue",
    "FileContent",
    "FileSpec",
    "LineDecoder",
    "MultipartEncoder",
    "TextDecoder",
    "charset_from_content_type",
    "parse_content_encoding",
    "supported_encodings",
]
