"""MultipartEncoder: wire format, file specs, validation, streaming, round trips."""

from __future__ import annotations

import email.parser
import email.policy
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import LocalProtocolError
from reqivo_protocol.content import MultipartEncoder


def body_of(enc: MultipartEncoder) -> bytes:
    body = b"".join(enc)
    if enc.content_length is not None:
        assert len(body) == enc.content_length
    return body


def parse(enc: MultipartEncoder, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """A strict hand-written parser: (headers, content) for each part."""
    delimiter = b"--" + enc.boundary
    assert body.endswith(delimiter + b"--\r\n")
    chunks = body[: -len(delimiter) - 4].split(b"\r\n" + delimiter + b"\r\n")
    assert chunks[0].startswith(delimiter + b"\r\n") or chunks == [b""]
    if chunks == [b""]:
        return []
    chunks[0] = chunks[0][len(delimiter) + 2 :]
    chunks[-1] = chunks[-1][:-2]  # the CRLF before the closing delimiter
    parts = []
    for chunk in chunks:
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            key, _, value = line.decode().partition(": ")
            headers[key.lower()] = value
        parts.append((headers, content))
    return parts


def test_wire_format_exactly() -> None:
    enc = MultipartEncoder(
        data={"a": "1", "b": ["x", b"y"]},
        files={"f": ("hello.txt", b"hi\r\n", "text/plain")},
        boundary="BOUNDARY",
    )
    assert enc.content_type == "multipart/form-data; boundary=BOUNDARY"
    assert bytes(enc) == (
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\nx\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\ny\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="f"; filename="hello.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\r\n\r\n"
        b"--BOUNDARY--\r\n"
    )
    assert enc.content_length == len(bytes(enc))


def test_empty_form() -> None:
    enc = MultipartEncoder(boundary=b"b")
    assert bytes(enc) == b"--b--\r\n"
    assert enc.content_length == 7


def test_generated_boundary_is_random_hex() -> None:
    a, b = MultipartEncoder(), MultipartEncoder()
    assert re.fullmatch(rb"[0-9a-f]{32}", a.boundary)
    assert a.boundary != b.boundary


def test_boundary_that_needs_quoting_and_invalid_ones() -> None:
    enc = MultipartEncoder(data={"a": "b"}, boundary="a b:c")
    assert enc.content_type == 'multipart/form-data; boundary="a b:c"'
    for bad in ("", "x" * 71, "trailing ", "semi;colon", 'quo"te', "new\nline"):
        with pytest.raises(LocalProtocolError, match="invalid multipart boundary"):
            MultipartEncoder(boundary=bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, b"true"),
        (False, b"false"),
        (None, b""),
        (12, b"12"),
        (1.5, b"1.5"),
        (bytearray(b"ba"), b"ba"),
        ("é", "é".encode()),
    ],
)
def test_field_value_types(value: Any, expected: bytes) -> None:
    enc = MultipartEncoder(data=[("k", value)])
    [(headers, content)] = parse(enc, body_of(enc))
    assert content == expected
    assert headers == {"content-disposition": 'form-data; name="k"'}


def test_field_value_type_error() -> None:
    with pytest.raises(TypeError, match="form field 'k'"):
        MultipartEncoder(data={"k": object()})
    with pytest.raises(TypeError, match="field names must be str"):
        MultipartEncoder(data={b"k": "v"})  # type: ignore[dict-item]


def test_names_are_escaped_like_browsers() -> None:
    enc = MultipartEncoder(data={'a"b\r\nc': "v"}, files={"f": ('x"\ny\r.txt', b"")}, boundary="B")
    body = body_of(enc)
    assert b'name="a%22b%0D%0Ac"' in body
    assert b'filename="x%22%0Ay%0D.txt"' in body


def test_non_ascii_names_are_raw_utf8() -> None:
    enc = MultipartEncoder(files={"fichier": ("résumé.pdf", b"%PDF")}, boundary="B")
    body = body_of(enc)
    assert 'filename="résumé.pdf"'.encode() in body
    assert b"Content-Type: application/pdf\r\n" in body
    assert b"filename*" not in body


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data": {"a\x00": "v"}}, "NUL"),
        ({"files": {"f": ("a\x00.txt", b"")}}, "NUL"),
        ({"data": {"\ud800": "v"}}, "UTF-8"),
        ({"data": {"k": "\ud800"}}, "UTF-8"),
        ({"files": {"f": ("a", "\udcff")}}, "UTF-8"),
        ({"files": {"f": ("a", b"", "text/plain\r\nX-Evil: 1")}}, "CR, LF and NUL"),
        ({"files": {"f": ("a", b"", None, {"X-A": "b\nc"})}}, "CR, LF and NUL"),
        ({"files": {"f": ("a", b"", None, {"X-A": 1})}}, "CR, LF and NUL"),
        ({"files": {"f": ("a", b"", None, {"Bad Name": "x"})}}, "invalid part header name"),
        ({"files": {"f": ("a", b"", None, {"content-disposition": "x"})}}, "Content-Disp"),
    ],
)
def test_header_injection_is_refused_before_any_output(kwargs: Any, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        MultipartEncoder(**kwargs)


def test_file_specs() -> None:
    named = io.BytesIO(b"from file")
    named.name = "/some/dir/photo.png"  # type: ignore[attr-defined]
    enc = MultipartEncoder(
        files=[
            ("plain", b"bytes only"),
            ("text", "text only"),
            ("obj", named),
            ("pair", ("data.json", b"{}")),
            ("nofile", (None, b"x")),
            ("triple", ("a.bin", b"x", None)),
            ("typed", ("a.txt", b"x", "text/x-custom")),
            ("quad", ("a.txt", b"x", "text/plain", {"X-Extra": "1"})),
            ("ctover", ("a.txt", b"x", "text/plain", {"content-type": "image/gif"})),
            ("unknown", ("noext", b"x")),
        ],
        boundary="B",
    )
    parts = parse(enc, body_of(enc))
    dispositions = [h["content-disposition"] for h, _ in parts]
    types = [h.get("content-type") for h, _ in parts]
    assert dispositions == [
        'form-data; name="plain"; filename="upload"',
        'form-data; name="text"; filename="upload"',
        'form-data; name="obj"; filename="photo.png"',
        'form-data; name="pair"; filename="data.json"',
        'form-data; name="nofile"',
        'form-data; name="triple"; filename="a.bin"',
        'form-data; name="typed"; filename="a.txt"',
        'form-data; name="quad"; filename="a.txt"',
        'form-data; name="ctover"; filename="a.txt"',
        'form-data; name="unknown"; filename="noext"',
    ]
    assert types == [
        "application/octet-stream",
        "application/octet-stream",
        "image/png",
        "application/json",
        "application/octet-stream",
        "application/octet-stream",
        "text/x-custom",
        "text/plain",
        "image/gif",
        "application/octet-stream",
    ]
    assert parts[7][0]["x-extra"] == "1"
    assert [c for _, c in parts[:3]] == [b"bytes only", b"text only", b"from file"]


def test_bad_file_specs() -> None:
    with pytest.raises(TypeError, match="2 to 4 items"):
        MultipartEncoder(files={"f": ("a",)})
    with pytest.raises(TypeError, match="binary mode"):
        MultipartEncoder(files={"f": io.StringIO("x")})
    with pytest.raises(TypeError, match="content must be bytes"):
        MultipartEncoder(files={"f": ("a", 12)})


def test_real_file_streams_in_chunks_and_rewinds(tmp_path: Path) -> None:
    path = tmp_path / "big.dat"
    payload = os.urandom(200_000)
    path.write_bytes(b"SKIP" + payload)
    with path.open("rb") as f:
        f.read(4)  # upload from the current position
        enc = MultipartEncoder(files={"f": f}, boundary="B")
        assert enc.content_length is not None
        chunks = list(enc)
        assert max(map(len, chunks)) <= 64 * 1024
        [(headers, content)] = parse(enc, b"".join(chunks))
        assert content == payload
        assert headers["content-disposition"].endswith('filename="big.dat"')
        assert body_of(enc) == b"".join(chunks)  # iterating again rewinds


def test_big_bytes_content_is_not_copied_into_a_buffer() -> None:
    payload = b"z" * 100_000
    enc = MultipartEncoder(files={"f": ("a", payload)})
    assert any(chunk is payload for chunk in enc)


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes, chunk_type: type = bytes) -> None:
        self._data = io.BytesIO(data)
        self._type = chunk_type

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> Any:  # type: ignore[override]
        return self._type(self._data.read(n))


def test_unseekable_file_has_unknown_length() -> None:
    enc = MultipartEncoder(files={"f": ("a", Unseekable(b"abc" * 50_000, bytearray))})
    assert enc.content_length is None
    [(_, content)] = parse(enc, body_of(enc))
    assert content == b"abc" * 50_000


def test_text_chunks_from_a_file_like_are_refused() -> None:
    class TextLike:
        def read(self, n: int) -> str:
            return "text"

    enc = MultipartEncoder(files={"f": ("a", TextLike())})
    assert enc.content_length is None
    with pytest.raises(TypeError, match="binary mode"):
        list(enc)


def test_seek_failure_means_unknown_length() -> None:
    class Broken(io.BytesIO):
        def tell(self) -> int:
            raise OSError("no")

    enc = MultipartEncoder(files={"f": ("a", Broken(b"data"))})
    assert enc.content_length is None
    assert parse(enc, body_of(enc))[0][1] == b"data"


def test_file_changing_size_is_detected() -> None:
    grows = io.BytesIO(b"abc")
    enc = MultipartEncoder(files={"f": ("a", grows)})
    grows.write(b"defg")
    with pytest.raises(LocalProtocolError, match="grew"):
        list(enc)
    shrinks = io.BytesIO(b"abcdef")
    enc = MultipartEncoder(files={"f": ("a", shrinks)})
    shrinks.truncate(2)
    with pytest.raises(LocalProtocolError, match="shrank"):
        list(enc)


def test_std_email_parser_reads_our_output() -> None:
    enc = MultipartEncoder(
        data={"name": "value", "n": 3},
        files={"file": ("a.txt", b"line1\r\nline2", "text/plain")},
    )
    raw = f"Content-Type: {enc.content_type}\r\n\r\n".encode() + bytes(enc)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert msg.is_multipart()
    got = [
        (
            p.get_param("name", header="content-disposition"),
            p.get_filename(),
            p.get_payload(decode=True),
        )
        for p in msg.iter_parts()  # type: ignore[attr-defined]
    ]
    assert got == [
        ("name", None, b"value"),
        ("n", None, b"3"),
        ("file", "a.txt", b"line1\r\nline2"),
    ]


names = st.text(
    st.characters(blacklist_characters='"\r\n\x00', blacklist_categories=("Cs",)), max_size=20
)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.lists(st.tuples(names, st.binary(max_size=200)), max_size=5),
    files=st.lists(st.tuples(names, names, st.binary(max_size=3000)), max_size=4),
    as_stream=st.booleans(),
)
def test_round_trip(
    fields: list[tuple[str, bytes]], files: list[tuple[str, str, bytes]], as_stream: bool
) -> None:
    specs = [
        (name, (filename, io.BytesIO(content) if as_stream else content))
        for name, filename, content in files
    ]
    enc = MultipartEncoder(data=fields, files=specs)
    parts = parse(enc, body_of(enc))
    assert len(parts) == len(fields) + len(files)
    for (headers, content), (name, value) in zip(parts, fields, strict=False):
        assert headers["content-disposition"] == f'form-data; name="{name}"'
        assert content == value
    for (headers, content), (name, filename, value) in zip(
        parts[len(fields) :], files, strict=True
    ):
        assert headers["content-disposition"] == (
            f'form-data; name="{name}"; filename="{filename}"'
        )
        assert content == value
