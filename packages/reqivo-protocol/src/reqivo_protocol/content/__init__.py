"""Body content handling: content decoders, text decoding and multipart encoding.

Everything here is pure and incremental: bytes in, bytes (or text) out, a piece at a
time, so the I/O layers can stream bodies of any size through it.
"""

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
from reqivo_protocol.content._text import LineDecoder, TextDecoder, charset_from_content_type

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
