"""Fields checked once: ``ClientConnection`` remembers request fields and response heads
that passed RFC 9113's checks (a client sends the same request fields again and again, a
server the same head), a bounded number of small ones; a remembered request is still
held to the peer's max header list size, and what is sent or reported is the same."""

from __future__ import annotations

import pytest
from h2peers import RawServer, frames_of, request_fields

from reqivo_protocol import LocalProtocolError
from reqivo_protocol.http2 import (
    HeadersFrame,
    ResponseReceived,
    SettingCode,
    SettingsFrame,
    StreamReset,
)
from reqivo_protocol.http2._connection import _CHECKED, _CHECKED_SIZE
from reqivo_protocol.http2.hpack import Decoder

HEAD = [(b":status", b"200"), (b"content-length", b"0"), (b"server", b"x")]


def _sent_fields(raw: RawServer, decoder: Decoder) -> list[tuple[bytes, bytes]]:
    (frame,) = frames_of(raw.client.data_to_send())
    assert isinstance(frame, HeadersFrame)
    return decoder.decode(frame.block)


def test_a_request_sent_again_is_encoded_the_same(raw: RawServer) -> None:
    decoder = Decoder()
    fields = request_fields(b"/a", b"GET", (b"cookie", b"a=1; b=2"), (b"x", b"y"))
    for _ in range(3):
        raw.client.send_headers(list(fields), end_stream=True)
        assert _sent_fields(raw, decoder) == [
            *fields[:4],
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x", b"y"),
        ]
    plain = request_fields(b"/b")
    for _ in range(2):
        raw.client.send_headers(plain, end_stream=True)
        assert _sent_fields(raw, decoder) == plain
    assert len(raw.client._checked_requests) == 2


def test_a_remembered_request_is_held_to_the_peers_list_size(raw: RawServer) -> None:
    fields = request_fields(b"/" + b"p" * 200)
    raw.client.send_headers(fields, end_stream=True)
    raw.feed(SettingsFrame(((SettingCode.MAX_HEADER_LIST_SIZE, 300),)))
    with pytest.raises(LocalProtocolError, match="max header list size"):
        raw.client.send_headers(fields, end_stream=True)


def test_invalid_and_unhashable_requests_are_refused_every_time(raw: RawServer) -> None:
    for _ in range(2):
        with pytest.raises(LocalProtocolError, match="invalid field name"):
            raw.client.send_headers(request_fields(b"/", b"GET", (b"Upper", b"x")))
        with pytest.raises(TypeError, match=r"\(bytes, bytes\) pairs"):
            raw.client.send_headers(
                request_fields(b"/", b"GET", (bytearray(b"x"), b"y"))  # type: ignore[arg-type]
            )
    assert not raw.client._checked_requests


def test_requests_remembered_are_few_and_small(raw: RawServer) -> None:
    for i in range(_CHECKED + 4):
        raw.client.send_headers(request_fields(b"/%d" % i), end_stream=True)
    big = request_fields(b"/", b"GET", (b"x", b"y" * _CHECKED_SIZE))
    raw.client.send_headers(big, end_stream=True)
    checked = raw.client._checked_requests
    assert len(checked) == _CHECKED and tuple(big) not in checked
    assert tuple(request_fields(b"/0")) not in checked  # the oldest went first


def test_a_head_received_again_gives_the_same_event(raw: RawServer) -> None:
    heads = []
    for _ in range(3):
        sid = raw.open()
        (head, _end) = raw.feed(raw.headers(sid, HEAD, end_stream=True))
        assert isinstance(head, ResponseReceived)
        heads.append((head.status_code, head.headers))
    assert heads == [(200, HEAD[1:])] * 3
    assert len(raw.client._checked_heads) == 1


def test_a_remembered_head_still_needs_its_content(raw: RawServer) -> None:
    head = [(b":status", b"200"), (b"content-length", b"3")]
    sid = raw.open()
    raw.feed(raw.headers(sid, head))
    sid = raw.open()
    (reset,) = raw.feed(raw.headers(sid, head, end_stream=True))  # no DATA for 3 bytes
    assert isinstance(reset, StreamReset) and reset.stream_id == sid


def test_heads_remembered_are_few_and_from_small_blocks(raw: RawServer) -> None:
    for i in range(_CHECKED + 4):
        sid = raw.open()
        raw.feed(raw.headers(sid, [(b":status", b"200"), (b"x-i", b"%d" % i)], True))
    big = [(b":status", b"204"), (b"x-big", b"v" * 2 * _CHECKED_SIZE)]
    sid = raw.open()
    (head, _end) = raw.feed(raw.headers(sid, big, True))
    assert isinstance(head, ResponseReceived) and head.headers == big[1:]
    checked = raw.client._checked_heads
    assert len(checked) == _CHECKED
    assert all(key[0] != (b":status", b"204") for key in checked)
