"""Regenerate the committed seed corpus (``fuzzing/corpus/<target>/``), by hand.

Seeds are small and meaningful: real server responses from the protocol package's
captures, real gzip/deflate/br/zstd streams, RFC 3986 URLs, RFC 6455 frames (plain and
permessage-deflate), Set-Cookie values. Each is stored in the layout ``common.unpack``
reads (flags, cuts, payload), with flags chosen to match the payload (a HEAD capture
gets the HEAD request, a br stream the br decoder...). Run::

    uv run python fuzzing/make_corpus.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import struct
import zlib
from pathlib import Path

from common import seed

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CAPTURES = HERE.parent / "packages" / "reqivo-protocol" / "tests" / "captures"
#: Captures above this size are left out (the 1 MiB static file).
MAX_CAPTURE = 8 * 1024

TEXT = b"".join(
    b"%d: Reqivo decodes this line of a body, again and again (%s)\n"
    % (i, hashlib.sha256(b"%d" % i).hexdigest()[: i % 24].encode())
    for i in range(60)
)


def _write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def _cuts(payload: bytes, count: int = 4) -> tuple[int, ...]:
    """Deterministic cut points spread over ``payload``."""
    if len(payload) < 2:
        return ()
    return tuple(sorted({(len(payload) * (k + 1)) // (count + 1) for k in range(count)}))


def http11() -> None:
    for meta_path in sorted(CAPTURES.glob("*.json")):
        if meta_path.name.startswith("uvicorn-httptools"):
            continue  # byte-identical to uvicorn-h11 for most scenarios
        wire = meta_path.with_suffix(".bin").read_bytes()
        if len(wire) > MAX_CAPTURE:
            continue
        meta = json.loads(meta_path.read_text())
        flags = 1 if meta["requests"][0]["method"] == "HEAD" else 0
        if meta["server_closed"]:
            flags |= 4
        _write("http11", meta_path.stem, seed(wire, flags, _cuts(wire)))
    handwritten = {
        "switch-101": (
            3,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n\r\n\x81\x05hello",
        ),
        "connect-200": (2, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
        "chunked-trailers": (
            0,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n",
        ),
        "interim-103": (
            0,
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
        "obs-fold": (4, b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        "te-and-cl": (
            4,
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\n\r\n",
        ),
        "cl-list": (0, b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nokextra"),
        "http10-close": (4, b"HTTP/1.0 200 OK\r\n\r\nuntil close"),
        "small-limits": (8, b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 9 + b"\r\n"),
    }
    for name, (flags, wire) in handwritten.items():
        _write("http11", name, seed(wire, flags, _cuts(wire)))


def chunked() -> None:
    for name in ("nginx-gzip-chunked", "nginx-gzip-trailers", "nginx-autoindex-chunked"):
        wire = (CAPTURES / f"{name}.bin").read_bytes()
        body = wire.partition(b"\r\n\r\n")[2]
        _write("chunked", name, seed(body, 0, _cuts(body)))
    handwritten = {
        "simple": (0, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        "extensions": (0, b'5 ; name=value;q="x"\r\nhello\r\n0;last\r\n\r\n'),
        "trailers": (0, b"3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: y\r\n\r\n"),
        "upper-hex": (0, b"A\r\n0123456789\r\n0\r\n\r\n"),
        "truncated-eof": (1, b"10\r\nonly a part"),
        "small-limits": (2, b"0000000000000000005\r\nhello\r\n0\r\n\r\n"),
        "close-framed": (4, b"2\r\nok\r\n0\r\n\r\n"),
        "bare-lf-trailer": (0, b"1\r\nx\r\n0\r\n\n"),
    }
    for name, (flags, body) in handwritten.items():
        _write("chunked", name, seed(body, flags, _cuts(body)))


def decoders() -> None:
    import brotli
    from backports import zstd

    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw_deflate = raw.compress(TEXT) + raw.flush()
    bomb = gzip.compress(b"\0" * (1024 * 1024), 9)
    # flags: bits 0-2 coding (see fuzz_decoders.CODINGS), bits 3-4 limit, bit 5 flush
    streams = {
        "gzip": (0, gzip.compress(TEXT, mtime=0)),
        "gzip-two-members": (
            0,
            gzip.compress(TEXT[:900], mtime=0) + gzip.compress(b"tail", mtime=0),
        ),
        "gzip-truncated": (0 | 32, gzip.compress(TEXT, mtime=0)[:-7]),
        "gzip-bomb-limit": (0 | (2 << 3) | 32, bomb),
        "deflate-zlib": (1 | 32, zlib.compress(TEXT)),
        "deflate-raw": (1 | 32, raw_deflate),
        "br": (2 | 32, brotli.compress(TEXT)),
        "zstd": (3 | 32, zstd.compress(TEXT)),
        "zstd-zstandard": (4 | 32, zstd.compress(TEXT)),
        "gzip-deflate-stack": (5 | 32, zlib.compress(gzip.compress(TEXT, mtime=0))),
        "br-gzip-stack": (6 | 32, gzip.compress(brotli.compress(TEXT), mtime=0)),
        "identity": (7, TEXT[:200]),
    }
    for name, (flags, stream) in streams.items():
        _write("decoders", name, seed(stream, flags, _cuts(stream)))


RFC3986_BASE = "http://a/b/c/d;p?q"
RFC3986_REFS = [
    "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x",
    "g;x?y#s", "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g",
    "../../../g", "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g", "./../g",
    "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "g?y/./x", "g?y/../x",
    "g#s/./x", "g#s/../x", "http:g",
]  # fmt: skip
URLS = [
    "https://user:pa%20ss@Example.COM:8443/a/./b/../c?x=1&y=%zz#frag",
    "http://[2001:db8::1]:80/p",
    "http://[fe80::1%25eth0]/",
    "https://bücher.example/straße?q=ü",
    "http://192.168.0.1:0/",
    "ws://host/chat?room=1",
    "mailto:someone@example.com",
    "file:///etc/hosts",
    "//example.com/path",
    "http://a.b.c.d.e.f.g.h/%2e%2E/x",
    "HTTP://EXAMPLE.com:00080/",
    "http://0x7f.1/",
]


def url() -> None:
    # flags: bits 0-1 text decoding (utf-8/latin-1/surrogateescape); 0xFF separates
    # the base from the reference to join.
    for index, ref in enumerate(RFC3986_REFS):
        payload = RFC3986_BASE.encode() + b"\xff" + ref.encode()
        _write("url", f"rfc3986-{index:02d}", seed(payload))
    for index, text in enumerate(URLS):
        payload = text.encode()
        _write("url", f"url-{index:02d}", seed(payload + b"\xff../x?y#z"))


COOKIES = [
    "SID=31d4d96e407aad42; Path=/; Secure; HttpOnly",
    "lang=en-US; Path=/; Domain=example.com",
    "lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
    "id=a3fWa; Max-Age=2592000; SameSite=Lax",
    "__Host-token=x; Secure; Path=/",
    "__Secure-x=1; Secure; Domain=sub.example.com",
    'quoted="a b c"; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=-1',
    "n=v; expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/a/b; samesite=None; secure",
    "weird = spaced value ; Domain=.EXAMPLE.com ; Path = /x",
    "ü=ÿ; Domain=bücher.example",
]


def cookies() -> None:
    # flags: bits 0-1 the request URL (fuzz_cookies.URLS), bits 2-3 text decoding
    for index, value in enumerate(COOKIES):
        _write("cookies", f"cookie-{index:02d}", seed(value.encode(), index % 4))


def _frame(opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes([b0, size])
    elif size < 65536:
        head = bytes([b0, 126]) + struct.pack("!H", size)
    else:
        head = bytes([b0, 127]) + struct.pack("!Q", size)
    return head + payload


def _deflate(data: bytes, compressor: zlib._Compress | None = None) -> bytes:
    obj = compressor or zlib.compressobj(6, zlib.DEFLATED, -15)
    out = obj.compress(data) + obj.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def websocket() -> None:
    # flags: bits 0-1 deflate settings (0 none), bits 2-3 max_message_size, bit 4
    # max_frame_size, bit 5 end of file, bit 6 defer_close
    close = _frame(8, struct.pack("!H", 1000) + b"bye")
    shared = zlib.compressobj(6, zlib.DEFLATED, -15)
    frames = {
        "text": (0, _frame(1, b"Hello, \xe2\x82\xac!") + close),
        "binary-16bit-length": (0, _frame(2, bytes(range(256)) * 2) + close),
        "fragmented": (0, _frame(1, b"Hel", fin=False) + _frame(9, b"p") + _frame(0, b"lo")),
        "ping-pong": (0, _frame(9, b"are you there") + _frame(10, b"yes")),
        "close-empty": (0, _frame(8, b"")),
        "close-bad-code": (0, _frame(8, struct.pack("!H", 999))),
        "invalid-utf8": (0, _frame(1, b"\xc3\x28")),
        "eof-mid-frame": (32, _frame(2, b"x" * 100)[:40]),
        "too-big": (4, _frame(2, b"y" * 200)),
        "frame-limit": (16, _frame(2, b"z" * 300)),
        "deflate-text": (1, _frame(1, _deflate(b"Hello Hello Hello"), rsv1=True) + close),
        "deflate-context": (
            1,
            _frame(1, _deflate(b"takeover " * 8, shared), rsv1=True)
            + _frame(1, _deflate(b"takeover " * 8, shared), rsv1=True),
        ),
        "deflate-fragmented": (
            2,
            _frame(2, _deflate(b"abc" * 40)[:5], fin=False, rsv1=True)
            + _frame(0, _deflate(b"abc" * 40)[5:]),
        ),
        "deflate-bomb": (1 | 4, _frame(2, _deflate(b"\0" * 100_000), rsv1=True)),
        "defer-close": (64, _frame(1, b"last") + close + _frame(1, b"ignored")),
    }
    for name, (flags, wire) in frames.items():
        _write("websocket", name, seed(wire, flags, _cuts(wire)))


def _blocks(blocks: list[bytes], flags: int = 0) -> bytes:
    """A sequence of HPACK blocks, cut at their boundaries."""
    bounds = [sum(len(b) for b in blocks[: i + 1]) for i in range(len(blocks) - 1)]
    return seed(b"".join(blocks), flags, tuple(bounds))


def hpack() -> None:
    # flags: bits 0-1 max_table_size, 2-3 max_header_list_size, 4 no Huffman, 5 lower
    from reqivo_protocol.http2.hpack import Encoder

    rfc = {  # RFC 7541 appendix C.3 to C.6
        "c3": ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
               "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"],
        "c4": ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
               "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"],
        "c6": ["3fe101", "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff"
               "6e919d29ad171863c78f0b97c8e9ae82ae43d3", "4883640effc1c0bf",
               "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e782"
               "1dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5"
               "b1063d5007"],
    }  # fmt: skip
    for name, blocks in rfc.items():
        flags = 1 if name == "c6" else 0
        _write("hpack", f"rfc-{name}", _blocks([bytes.fromhex(b) for b in blocks], flags))
    request = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.com"),
               (b":path", b"/index.html"), (b"user-agent", b"reqivo/0.1"),
               (b"accept-encoding", b"gzip, br"), (b"cookie", b"a=1"),
               (b"authorization", b"Bearer abc"), (b"x-long", b"v" * 200)]  # fmt: skip
    encoder = Encoder()
    encoded = [encoder.encode(request) for _ in range(3)]
    encoder.header_table_size = 128
    encoded.append(encoder.encode(request))
    _write("hpack", "requests", _blocks(encoded))
    _write("hpack", "requests-lowered", _blocks(encoded, 32 | 4))
    plain = Encoder(huffman=False)
    _write("hpack", "plain", _blocks([plain.encode(request), plain.encode(request)], 16))
    _write("hpack", "bomb", _blocks([b"\x40\x01x\x7f\x81\x1f" + b"v" * 4000 + b"\xbe" * 200]))


def h2frames() -> None:
    # flags: bits 0-1 max_frame_size
    from reqivo_protocol.http2 import (
        ContinuationFrame,
        DataFrame,
        Frame,
        GoAwayFrame,
        HeadersFrame,
        PingFrame,
        Priority,
        PriorityFrame,
        PushPromiseFrame,
        RstStreamFrame,
        SettingsFrame,
        UnknownFrame,
        WindowUpdateFrame,
    )  # fmt: skip

    streams: dict[str, list[Frame]] = {
        "server-start": [
            SettingsFrame(((3, 100), (4, 65535), (5, 16384), (6, 8192))),
            SettingsFrame(ack=True),
            WindowUpdateFrame(0, 1 << 20),
        ],
        "response": [
            HeadersFrame(1, b"\x88\x0f\x10\x0ftext/html", end_headers=False),
            ContinuationFrame(1, b"\x5c\x0212", end_headers=True),
            DataFrame(1, b"hello world!", padding=3),
            DataFrame(1, b"", end_stream=True),
        ],
        "everything": [
            HeadersFrame(3, b"\x88", priority=Priority(1, 32, True), padding=2),
            PriorityFrame(5, Priority(3, 1)),
            RstStreamFrame(3, 8),
            PushPromiseFrame(1, 2, b"\x82", padding=1),
            PingFrame(b"12345678"),
            UnknownFrame(0xFA, 0x3, 0, b"ignored"),
            GoAwayFrame(3, 0, b"bye"),
        ],
        "large-data": [DataFrame(1, b"x" * 16384), DataFrame(1, b"y" * 200, end_stream=True)],
    }
    for name, frames in streams.items():
        wire = b"".join(frame.serialize() for frame in frames)
        _write("h2frames", name, seed(wire, 0, _cuts(wire)))
    stream_error = bytes.fromhex("000004080000000003") + bytes(4) + PingFrame().serialize()
    _write("h2frames", "stream-error", seed(stream_error, 0, (3, 13)))
    _write("h2frames", "too-large", seed(bytes.fromhex("00ffff000000000001") + bytes(200), 2))


def h2connection() -> None:
    # flags: bits 0-1 client settings, 2-3 streams opened (1, 2, 3, 5), 4 open for
    # sending, 5 HEAD first. The payload is what the server sends after the prefaces.
    from reqivo_protocol.http2 import (
        ContinuationFrame,
        DataFrame,
        Frame,
        GoAwayFrame,
        HeadersFrame,
        PingFrame,
        RstStreamFrame,
        SettingsFrame,
        WindowUpdateFrame,
    )  # fmt: skip
    from reqivo_protocol.http2.hpack import Encoder

    encoder = Encoder()
    ok = encoder.encode([(b":status", b"200"), (b"content-type", b"text/plain"),
                         (b"content-length", b"5")])  # fmt: skip
    info = encoder.encode([(b":status", b"103"), (b"link", b"</a.css>")])
    trailers = encoder.encode([(b"grpc-status", b"0")])
    streams: dict[str, tuple[int, list[Frame]]] = {
        "response": (0, [HeadersFrame(1, ok), DataFrame(1, b"hello", True)]),
        "continuation-trailers": (
            4,
            [
                HeadersFrame(1, info),
                HeadersFrame(1, ok[:2], end_headers=False),
                ContinuationFrame(1, ok[2:], True),
                DataFrame(1, b"he", padding=4),
                DataFrame(1, b"llo"),
                HeadersFrame(1, trailers, True),
            ],
        ),
        "interleaved": (
            8,
            [
                HeadersFrame(3, ok),
                HeadersFrame(1, ok),
                DataFrame(3, b"hel"),
                DataFrame(1, b"hello", True),
                DataFrame(3, b"lo", True),
            ],
        ),
        "control": (
            0x14,
            [
                SettingsFrame(((4, 1 << 20), (5, 1 << 15), (1, 0), (3, 10))),
                PingFrame(b"pingpong"),
                WindowUpdateFrame(0, 1000),
                WindowUpdateFrame(1, 1000),
                RstStreamFrame(3, 8),
                GoAwayFrame(1, 0, b"bye"),
            ],
        ),
        "small-windows": (1, [HeadersFrame(1, ok), DataFrame(1, b"x" * 150, True)]),
    }
    for name, (flags, frames) in streams.items():
        wire = b"".join(frame.serialize() for frame in frames)
        _write("h2connection", name, seed(wire, flags, _cuts(wire)))


def main() -> None:
    for target in (
        "http11", "chunked", "decoders", "url", "cookies", "websocket", "hpack", "h2frames",
        "h2connection",
    ):  # fmt: skip
        shutil.rmtree(CORPUS / target, ignore_errors=True)
    http11()
    chunked()
    decoders()
    url()
    cookies()
    websocket()
    hpack()
    h2frames()
    h2connection()
    for finding in sorted((HERE / "regressions").glob("*-*")):  # past findings are seeds too
        _write(finding.name.partition("-")[0], finding.name, finding.read_bytes())
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    count = sum(1 for p in CORPUS.rglob("*") if p.is_file())
    print(f"{count} seeds, {total} bytes")


if __name__ == "__main__":
    main()
