"""Decompression bombs stop at the limit with bounded memory; TLS is strict by default.

See docs/security.md. The bomb is the test app's ``/bomb/{n}`` (gzip of ``n`` zero bytes,
about 1000:1) and nested encodings from a raw server; memory is measured with
tracemalloc (peak of Python allocations, which includes zlib's output buffers).
"""

from __future__ import annotations

import functools
import gzip
import tracemalloc
import zlib
from typing import Any

import pytest

from reqivo_protocol import DecompressionLimitExceeded, TlsError
from servers.models import Server, TLSServer
from servers.raw import RawServer, ReadRequest, Repeat, Send, http_response

MIB = 1 << 20
APP_BOMB = 16 * MIB  # the app compresses on the fly (CPU-bound): keep it small


@functools.cache
def _gzip_bomb() -> bytes:
    """256 MiB of zeros, gzip level 1: about 1.1 MiB on the wire (0.5 s, once)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(MIB)
    return b"".join(compressor.compress(block) for _ in range(256)) + compressor.flush()


def _bomb_server(raw_server: Any) -> RawServer:
    reply = http_response(body=_gzip_bomb(), headers=[("Content-Encoding", "gzip")])
    server: RawServer = raw_server([Repeat((ReadRequest(), Send(reply)))])
    return server


def _peak_mib() -> float:
    return tracemalloc.get_traced_memory()[1] / MIB


def test_app_bomb_stopped_at_the_limit(
    make_client: Any, uvicorn_h11_server: Server, traced: None
) -> None:
    client = make_client(max_decompressed_size=MIB)
    tracemalloc.reset_peak()
    with pytest.raises(DecompressionLimitExceeded) as info:
        client.get(uvicorn_h11_server.join(f"/bomb/{APP_BOMB}"))
    assert info.value.limit_name == "max_decompressed_size"
    assert info.value.limit == MIB
    assert _peak_mib() < 16, f"peak {_peak_mib():.1f} MiB for a 1 MiB limit"
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"


def test_bomb_stopped_at_the_limit(make_client: Any, raw_server: Any, traced: None) -> None:
    server = _bomb_server(raw_server)
    client = make_client(max_decompressed_size=MIB)
    tracemalloc.reset_peak()
    with pytest.raises(DecompressionLimitExceeded, match="max_decompressed_size"):
        client.get(server.url + "/")
    assert _peak_mib() < 16, f"peak {_peak_mib():.1f} MiB for a 1 MiB limit"


def test_bomb_streamed_stops_at_the_limit(make_client: Any, raw_server: Any, traced: None) -> None:
    server = _bomb_server(raw_server)
    client = make_client(max_decompressed_size=4 * MIB)
    chunks: list[int] = []
    tracemalloc.reset_peak()
    with client.stream("GET", server.url + "/") as response:
        iterator = client.iter_bytes(response)
        with pytest.raises(DecompressionLimitExceeded):
            chunks.extend(len(chunk) for chunk in iterator)
    assert sum(chunks) <= 4 * MIB
    assert _peak_mib() < 24


def test_streaming_without_a_limit_keeps_memory_bounded(
    client: Any, raw_server: Any, traced: None
) -> None:
    """No limit set: each chunk is still bounded, so streaming a bomb costs little memory."""
    server = _bomb_server(raw_server)
    received = biggest = 0
    tracemalloc.reset_peak()
    with client.stream("GET", server.url + "/") as response:
        for chunk in client.iter_bytes(response):
            received += len(chunk)
            biggest = max(biggest, len(chunk))
            if received >= 64 * MIB:
                break
    assert biggest <= 4 * MIB, biggest
    assert received >= 64 * MIB
    assert _peak_mib() < 24, f"peak {_peak_mib():.1f} MiB streaming a bomb"


@functools.cache
def _nested(encoding: str) -> bytes:
    """16 MiB of zeros under each coding of ``encoding`` in turn: a few hundred bytes."""
    body = bytes(16 * MIB)
    for coding in [c.strip() for c in encoding.split(",")]:
        body = gzip.compress(body, 1) if coding == "gzip" else zlib.compress(body, 1)
    return body


@pytest.mark.parametrize("encoding", ["gzip, gzip, gzip", "gzip, deflate"])
def test_nested_encodings_limit_every_stage(
    make_client: Any, raw_server: Any, encoding: str, traced: None
) -> None:
    body = _nested(encoding)
    reply = http_response(body=body, headers=[("Content-Encoding", encoding)])
    server = raw_server([Repeat((ReadRequest(), Send(reply)))])
    client = make_client(max_decompressed_size=MIB)
    tracemalloc.reset_peak()
    with pytest.raises(DecompressionLimitExceeded):
        client.get(server.url + "/")
    assert _peak_mib() < 16


# -- TLS -----------------------------------------------------------------------------------


def test_verification_on_by_default(client: Any, https_server: TLSServer) -> None:
    """The test CA is not in the system store: the default client must refuse it."""
    with pytest.raises(TlsError, match="certificate verify failed"):
        client.get(https_server.join("/health"))


def test_verification_with_the_right_ca(make_client: Any, https_server: TLSServer) -> None:
    client = make_client(verify=https_server.ca_bundle)
    assert client.get(https_server.join("/health")).text == "ok"


def test_hostname_mismatch_fails(make_client: Any, https_wrong_host_server: TLSServer) -> None:
    client = make_client(verify=https_wrong_host_server.ca_bundle)
    with pytest.raises(TlsError, match=r"certificate verify failed|hostname|match"):
        client.get(https_wrong_host_server.join("/health"))


def test_expired_certificate_fails(make_client: Any, https_expired_server: TLSServer) -> None:
    client = make_client(verify=https_expired_server.ca_bundle)
    with pytest.raises(TlsError, match=r"expired|certificate verify failed"):
        client.get(https_expired_server.join("/health"))


@pytest.mark.parametrize("verify", ["ca", False], ids=["verified", "verify-off"])
def test_tls_below_1_2_refused(make_client: Any, legacy_tls_server: TLSServer, verify: Any) -> None:
    """A server offering only TLS 1.0/1.1 is refused, even with verification off."""
    client = make_client(verify=legacy_tls_server.ca_bundle if verify == "ca" else False)
    with pytest.raises(TlsError):
        client.get(legacy_tls_server.join("/health"))
