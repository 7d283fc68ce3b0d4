"""A server that misbehaves on one connection: every fault in both modes, leaks checked.

Each case scripts connection 0 of a raw server to misbehave and every later connection
to serve well. The client must raise exactly the expected class (which is also the
documented parent), fire a timeout at its bound (see ``assert_fires_at``), leave its pool
with nothing active and nothing idle (the broken connection was not put back), send the
failed request exactly once, and then serve a good request on the same client, on a
new connection. ``faults.finish()`` then checks tasks, descriptors and threads.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from faults.conftest import TIMING_ATTEMPTS, Faults, assert_fires_at, on_time
from reqivo_async import Timeout
from reqivo_protocol._exceptions import (
    DecodingError,
    DecompressionLimitExceeded,
    HeadersTooLarge,
    LimitExceeded,
    LineTooLong,
    NetworkError,
    ProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    TimeoutException,
    TooManyHeaders,
    TotalTimeout,
    WriteTimeout,
)
from servers.raw import (
    Close,
    ReadHead,
    ReadRequest,
    Repeat,
    Reset,
    Script,
    Send,
    Sleep,
    Stall,
    Trickle,
    http_response,
)

OK = http_response(200, b"ok")
#: Every connection after the faulty one: a well-behaved keep-alive server.
GOOD: Script = [Repeat((ReadRequest(), Send(OK)))]
HEAD_100 = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
#: Long enough to be sure the client has read what was sent before the reset comes.
SETTLE = Sleep(0.02)
BOMB = gzip.compress(b"\0" * (4 << 20), 1)  # 4 MiB of zeros in ~4 KiB
#: More than loopback socket buffers and the server's stream reader hold (~8-12 MiB).
UPLOAD = b"u" * (32 << 20)
UPLOAD_CHUNK = b"u" * (64 << 10)


def streamed_upload() -> Iterator[bytes]:
    """64 MiB in 64 KiB chunks (produced only as fast as the connection takes them)."""
    return (UPLOAD_CHUNK for _ in range(1024))


@dataclass(frozen=True)
class Case:
    """One fault: what connection 0 does, and what the client must raise."""

    script: Script
    expected: type[RequestError]
    parent: type[RequestError]
    method: str = "GET"
    content: bytes | Callable[[], Iterator[bytes]] | None = None
    timeout: Timeout = field(default_factory=lambda: Timeout(2.0))
    bound: float | None = None  # the timeout (seconds) that must fire
    late: float | None = None  # a documented exception to the timing rule (seconds late)
    options: dict[str, Any] = field(default_factory=dict)


CASES = {
    "reset-before-head": Case([ReadRequest(), Reset()], ReadError, NetworkError),
    "reset-during-head": Case(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Le"), SETTLE, Reset()],
        ReadError,
        NetworkError,
    ),
    "reset-mid-body": Case(
        [ReadRequest(), Send(HEAD_100 + b"half"), SETTLE, Reset()], ReadError, NetworkError
    ),
    "truncated-content-length": Case(
        [ReadRequest(), Send(HEAD_100 + b"half"), Close()], RemoteProtocolError, ProtocolError
    ),
    "truncated-chunked": Case(
        [ReadRequest(), Send(CHUNKED + b"5\r\nhello\r\n9\r\nhal"), Close()],
        RemoteProtocolError,
        ProtocolError,
    ),
    "read-timeout-before-head": Case(
        [ReadRequest(), Stall()],
        ReadTimeout,
        TimeoutException,
        timeout=Timeout(2.0, read=0.3),
        bound=0.3,
    ),
    "read-timeout-mid-body": Case(
        [ReadRequest(), Send(HEAD_100 + b"half"), Stall()],
        ReadTimeout,
        TimeoutException,
        timeout=Timeout(2.0, read=0.3),
        bound=0.3,
    ),
    # The write timeout bounds each wait for the peer to take data, and the peer's kernel
    # may take some after the server stopped reading: in about one run in three the
    # socket became writable once more 0.26 s into the stall (TCP's zero-window probe
    # found a window; measured with the transport's resume_writing callbacks), and the
    # next wait then timed out 0.3 s later, 0.56 s after the call. Allowed here.
    "write-timeout-streamed-upload": Case(
        [ReadHead(), Stall()],
        WriteTimeout,
        TimeoutException,
        method="POST",
        content=streamed_upload,
        timeout=Timeout(2.0, write=0.3),
        bound=0.3,
        late=0.3,
    ),
    # A 32 MiB bytes body goes to the transport in one write; moving it into the kernel
    # until the socket blocks takes 50-120 ms on Python 3.11 (the selector transport
    # memmoves its whole remaining buffer after every send), all before the timed wait
    # begins, and the late window above can come on top: measured from the call, the
    # timeout is that much late. Reported; allowed here.
    "write-timeout-32mib-bytes-body": Case(
        [ReadHead(), Stall()],
        WriteTimeout,
        TimeoutException,
        method="POST",
        content=UPLOAD,
        timeout=Timeout(2.0, write=0.3),
        bound=0.3,
        late=0.4,
    ),
    # One byte every 0.2 s: each read waits 0.2 s < read=0.5, so only the deadline fires.
    "trickle-total-deadline": Case(
        [ReadRequest(), Trickle(http_response(200, b"t" * 50), interval=0.2)],
        TotalTimeout,
        TimeoutException,
        timeout=Timeout(2.0, read=0.5, total=1.0),
        bound=1.0,
    ),
    "headers-too-large": Case(
        [ReadRequest(), Send(http_response(200, b"", [("X-Big", "v" * 70_000)]))],
        HeadersTooLarge,
        LimitExceeded,
    ),
    "too-many-headers": Case(
        [ReadRequest(), Send(http_response(200, b"", [(f"X-H{i}", "v") for i in range(200)]))],
        TooManyHeaders,
        LimitExceeded,
    ),
    "chunk-size-line-too-long": Case(
        [ReadRequest(), Send(CHUNKED + b"5;" + b"x" * 10_000 + b"\r\nhello\r\n0\r\n\r\n")],
        LineTooLong,
        LimitExceeded,
    ),
    "decompressed-body-over-limit": Case(
        [
            ReadRequest(),
            Send(http_response(200, BOMB, [("Content-Encoding", "gzip")])),
        ],
        DecompressionLimitExceeded,
        LimitExceeded,
        options={"max_decompressed_size": 64 << 10},
    ),
    "garbage-then-close": Case(
        [ReadRequest(), Send(b"garbage\r\n\r\n"), Close()], RemoteProtocolError, ProtocolError
    ),
    "binary-garbage": Case(
        [ReadRequest(), Send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" * 20), Close()],
        RemoteProtocolError,
        ProtocolError,
    ),
    # Another protocol's banner, then silence: refused on the status line, no timeout.
    "other-protocol-banner": Case(
        [ReadRequest(), Send(b"SSH-2.0-OpenSSH_9.6\r\n"), Stall()],
        RemoteProtocolError,
        ProtocolError,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fault(faults: Faults, case: Case) -> None:
    content = case.content() if callable(case.content) else case.content
    for attempt in range(1, TIMING_ATTEMPTS + 1):
        server = faults.serve(case.script, GOOD)
        client = faults.client(timeout=case.timeout, **case.options)
        error, elapsed = faults.raises(
            case.expected,
            case.parent,
            partial(client.request, case.method, server.url + "/fault", content=content),
        )
        if case.bound is None or on_time(elapsed, case.bound, case.late):
            break
        if attempt == TIMING_ATTEMPTS:
            assert_fires_at(elapsed, case.bound, case.late)
        client.close()
    if case.bound is None:
        assert elapsed < 1.0, f"a fault that needs no timeout took {elapsed:.3f} s"
    if isinstance(error, LimitExceeded):
        assert error.limit_name and error.limit_name in str(error)
    if case.expected is DecompressionLimitExceeded:
        assert isinstance(error, DecodingError)
    faults.assert_pool(client, idle=0)

    response = client.get(server.url + "/after")
    assert (response.status_code, response.content) == (200, b"ok")
    faults.assert_pool(client, idle=1)
    # The failed request was sent once; the good one went on a new connection.
    assert [(r.connection, r.target) for r in server.requests] == [(0, "/fault"), (1, "/after")]
    faults.finish()
