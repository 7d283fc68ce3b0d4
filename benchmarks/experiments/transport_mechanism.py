"""Experiment behind ADR-004: asyncio streams vs ``asyncio.Protocol`` vs a blocking socket.

Sequential keep-alive ``GET /1k`` against a private nginx on loopback, with the same
minimal response parsing in every variant (find the blank line, read Content-Length,
wait for the body), so only the I/O mechanism differs:

- ``blocking socket``: ``sendall`` + ``recv`` (the floor without an event loop);
- ``asyncio streams``: ``StreamWriter.write`` + ``readuntil``/``readexactly``;
- ``asyncio Protocol``: ``data_received`` appends to a buffer, the reader awaits one
  future per wait, only when the buffer lacks the response;
- ``reqivo pool`` (with ``--reqivo``): the real client path for comparison.

Run: ``uv run python -m benchmarks.experiments.transport_mechanism [--requests N]
[--rounds R] [--reqivo]``. Numbers drift with machine load: compare rows of one round.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import socket
import time

from benchmarks._nginx import start_nginx

REQUEST = b"GET /1k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def content_length(head: bytes | bytearray) -> int:
    """The Content-Length of a response head (the experiment's whole parser)."""
    start = head.lower().find(b"content-length:")
    end = head.find(b"\r\n", start)
    return int(head[start + 15 : end])


def run_blocking(port: int, count: int) -> float:
    """Requests per second over a blocking socket."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = bytearray()
    started = time.perf_counter()
    for _ in range(count):
        sock.sendall(REQUEST)
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                total = end + 4 + content_length(buffer[: end + 4])
                if len(buffer) >= total:
                    del buffer[:total]
                    break
            buffer += sock.recv(65536)
    elapsed = time.perf_counter() - started
    sock.close()
    return count / elapsed


async def run_streams(port: int, count: int) -> float:
    """Requests per second with asyncio streams."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    for _ in range(count):
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(content_length(head))
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return count / elapsed


class _BufferProtocol(asyncio.Protocol):
    """Appends received bytes to a buffer and wakes the one waiting reader."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def run_protocol(port: int, count: int) -> float:
    """Requests per second with ``asyncio.Protocol`` and one future per wait."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(_BufferProtocol, "127.0.0.1", port)
    started = time.perf_counter()
    for _ in range(count):
        transport.write(REQUEST)
        while True:
            buffer = protocol.buffer
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                total = end + 4 + content_length(buffer[: end + 4])
                if len(buffer) >= total:
                    del buffer[:total]
                    break
            protocol.waiter = loop.create_future()
            await protocol.waiter
            protocol.waiter = None
    elapsed = time.perf_counter() - started
    transport.close()
    return count / elapsed


async def run_reqivo(port: int, count: int) -> float:
    """Requests per second through ``AsyncConnectionPool`` (body read each time)."""
    from reqivo_async._models import AsyncRequest
    from reqivo_async._pool import AsyncConnectionPool

    url = f"http://127.0.0.1:{port}/1k"
    async with AsyncConnectionPool() as pool:
        started = time.perf_counter()
        for _ in range(count):
            response = await pool.handle_async_request(AsyncRequest("GET", url))
            await response.aread()
        return count / (time.perf_counter() - started)


def main() -> None:
    """Run the rounds and print requests per second of each variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reqivo", action="store_true", help="also measure the reqivo pool")
    args = parser.parse_args()
    with start_nginx() as nginx:
        # nginx's workers drop privileges: let them read the private document root.
        for folder in glob.glob("/tmp/reqivo-nginx-*"):
            os.chmod(folder, 0o755)
        for number in range(args.rounds):
            print(f"round {number}")
            print(f"  blocking socket   {run_blocking(nginx.port, args.requests):8.0f} req/s")
            streams = asyncio.run(run_streams(nginx.port, args.requests))
            print(f"  asyncio streams   {streams:8.0f} req/s")
            protocol = asyncio.run(run_protocol(nginx.port, args.requests))
            print(f"  asyncio Protocol  {protocol:8.0f} req/s")
            if args.reqivo:
                rate = asyncio.run(run_reqivo(nginx.port, args.requests))
                print(f"  reqivo pool       {rate:8.0f} req/s")


if __name__ == "__main__":
    main()
