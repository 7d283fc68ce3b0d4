"""Every example of RFC 7541 appendix C, decoded and encoded, with the dynamic table
after each block."""

from __future__ import annotations

import pytest

from reqivo_protocol.http2.hpack import Decoder, Encoder, decode_huffman, encode_huffman

Fields = list[tuple[bytes, bytes]]


def unhex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# -- C.2: one representation each, on a fresh table ---------------------------------------

C2 = [
    # C.2.1 literal with indexing
    (
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        [(b"custom-key", b"custom-header")],
        [(b"custom-key", b"custom-header")],
        55,
    ),
    # C.2.2 literal without indexing
    ("040c 2f73 616d 706c 652f 7061 7468", [(b":path", b"/sample/path")], [], 0),
    # C.2.3 literal never indexed
    ("1008 7061 7373 776f 7264 0673 6563 7265 74", [(b"password", b"secret")], [], 0),
    # C.2.4 indexed field
    ("82", [(b":method", b"GET")], [], 0),
]


@pytest.mark.parametrize(
    ("wire", "fields", "table", "size"), C2, ids=["C.2.1", "C.2.2", "C.2.3", "C.2.4"]
)
def test_c2_decode(wire: str, fields: Fields, table: Fields, size: int) -> None:
    decoder = Decoder()
    assert decoder.decode(unhex(wire)) == fields
    assert decoder.dynamic_table == table
    assert decoder.table_size == size


@pytest.mark.parametrize(
    ("wire", "fields", "table", "size"), C2, ids=["C.2.1", "C.2.2", "C.2.3", "C.2.4"]
)
def test_c2_encode(wire: str, fields: Fields, table: Fields, size: int) -> None:
    encoder = Encoder(huffman=False, never_indexed={b"password"})
    assert encoder.encode(fields) == unhex(wire)
    assert encoder.dynamic_table == table
    assert encoder.table_size == size


# -- C.3 and C.4: three requests on one connection ---------------------------------------

REQUESTS: list[Fields] = [
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com")],
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com"), (b"cache-control", b"no-cache")],
    [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
     (b":authority", b"www.example.com"), (b"custom-key", b"custom-value")],
]  # fmt: skip
REQUEST_TABLES: list[tuple[Fields, int]] = [
    ([(b":authority", b"www.example.com")], 57),
    ([(b"cache-control", b"no-cache"), (b":authority", b"www.example.com")], 110),
    ([(b"custom-key", b"custom-value"), (b"cache-control", b"no-cache"),
      (b":authority", b"www.example.com")], 164),
]  # fmt: skip
C3 = [
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
]
C4 = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
]

# -- C.5 and C.6: three responses, SETTINGS_HEADER_TABLE_SIZE 256 (evictions) ------------

RESPONSES: list[Fields] = [
    [(b":status", b"302"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"), (b"location", b"https://www.example.com")],
    [(b":status", b"307"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"), (b"location", b"https://www.example.com")],
    [(b":status", b"200"), (b"cache-control", b"private"),
     (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT"), (b"location", b"https://www.example.com"),
     (b"content-encoding", b"gzip"),
     (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
]  # fmt: skip
RESPONSE_TABLES: list[tuple[Fields, int]] = [
    ([(b"location", b"https://www.example.com"), (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"),
      (b"cache-control", b"private"), (b":status", b"302")], 222),
    ([(b":status", b"307"), (b"location", b"https://www.example.com"),
      (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT"), (b"cache-control", b"private")], 222),
    ([(b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"),
      (b"content-encoding", b"gzip"), (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT")], 215),
]  # fmt: skip
C5 = [
    """4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
       6c65 2e63 6f6d""",
    "4803 3330 37c1 c0bf",
    """88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
       3d31""",
]
C6 = [
    """4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3""",
    "4883 640e ffc1 c0bf",
    """88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07""",
]
#: A block holding only a dynamic table size update to 256: the premise of C.5 and C.6.
SIZE_256 = b"\x3f\xe1\x01"

SEQUENCES = {
    "C.3": (C3, REQUESTS, REQUEST_TABLES, 4096, False),
    "C.4": (C4, REQUESTS, REQUEST_TABLES, 4096, True),
    "C.5": (C5, RESPONSES, RESPONSE_TABLES, 256, False),
    "C.6": (C6, RESPONSES, RESPONSE_TABLES, 256, True),
}


@pytest.mark.parametrize("section", sorted(SEQUENCES))
def test_sequence_decode(section: str) -> None:
    wires, lists, tables, table_size, _ = SEQUENCES[section]
    decoder = Decoder(max_table_size=table_size)
    if table_size != 4096:
        assert decoder.decode(SIZE_256) == []
        assert decoder.table_limit == 256
    for wire, fields, (table, size) in zip(wires, lists, tables, strict=True):
        assert decoder.decode(unhex(wire)) == fields
        assert decoder.dynamic_table == table
        assert decoder.table_size == size


@pytest.mark.parametrize("section", sorted(SEQUENCES))
def test_sequence_encode(section: str) -> None:
    wires, lists, tables, table_size, huffman = SEQUENCES[section]
    encoder = Encoder(huffman=huffman, unindexed=())
    prefix = b""
    if table_size != 4096:
        encoder.header_table_size = table_size
        prefix = SIZE_256
    for wire, fields, (table, size) in zip(wires, lists, tables, strict=True):
        assert encoder.encode(fields) == prefix + unhex(wire)
        assert encoder.dynamic_table == table
        assert encoder.table_size == size
        prefix = b""


HUFFMAN = [
    ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", b"www.example.com"),
    ("a8eb 1064 9cbf", b"no-cache"),
    ("25a8 49e9 5ba9 7d7f", b"custom-key"),
    ("25a8 49e9 5bb8 e8b4 bf", b"custom-value"),
    ("6402", b"302"),
    ("aec3 771a 4b", b"private"),
    ("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", b"Mon, 21 Oct 2013 20:13:21 GMT"),
    ("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", b"https://www.example.com"),
    ("9bd9 ab", b"gzip"),
    ("", b""),
]


@pytest.mark.parametrize(("wire", "text"), HUFFMAN)
def test_huffman_strings_of_the_examples(wire: str, text: bytes) -> None:
    assert encode_huffman(text) == unhex(wire)
    assert decode_huffman(unhex(wire)) == text
