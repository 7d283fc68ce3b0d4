"""Default limits of the response parser.

They bound what a peer can make us buffer: a response head (status line and header
fields, up to and including the blank line that ends it), the number of header fields,
and one chunk-size line of a chunked body. Trailer sections share the head limits.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_HEADER_COUNT", "MAX_HEADER_SIZE", "MAX_LINE_SIZE"]

#: Bytes of a response head (status line + fields + terminating blank line).
MAX_HEADER_SIZE: Final = 65536
#: Header fields in one response head (or one trailer section).
MAX_HEADER_COUNT: Final = 128
#: Bytes of one chunk-size line (chunk extensions included, CRLF excluded).
MAX_LINE_SIZE: Final = 8192
