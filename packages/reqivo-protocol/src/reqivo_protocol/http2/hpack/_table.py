"""The static table (RFC 7541 appendix A) and the limits shared by encoder and decoder.

Indexes 1-61 address the static table; 62 and above the dynamic table, newest entry
first (section 2.3.3). An entry's size is its name's and value's lengths plus 32
(section 4.1); the same sum bounds a decoded header list (RFC 9113 section 6.5.2).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_TABLE_SIZE",
    "ENTRY_OVERHEAD",
    "MAX_HEADER_LIST_SIZE",
    "STATIC_FIELDS",
    "STATIC_NAMES",
    "STATIC_TABLE",
]

#: The dynamic table size both sides start with (SETTINGS_HEADER_TABLE_SIZE default).
DEFAULT_TABLE_SIZE: Final = 4096
#: Default bound on a decoded header list (SETTINGS_MAX_HEADER_LIST_SIZE semantics).
MAX_HEADER_LIST_SIZE: Final = 65536
#: Added to a field's name and value lengths to give its size (RFC 7541 section 4.1).
ENTRY_OVERHEAD: Final = 32

#: The 61 entries of the static table; ``STATIC_TABLE[i - 1]`` has index ``i``.
STATIC_TABLE: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
)

#: Static index of each whole (name, value) entry.
STATIC_FIELDS: Final = {field: index for index, field in enumerate(STATIC_TABLE, 1)}
#: Lowest static index of each name.
STATIC_NAMES: Final = {
    name: index for index, (name, _) in reversed(list(enumerate(STATIC_TABLE, 1)))
}
