"""Errors a user can act on: what a refused connect, TLS to a plain port and a header
value of the wrong type say. Real loopback servers; nox runs the file on both loops."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from reqivo_async import AsyncConnection, AsyncRequest, AsyncSession
from reqivo_protocol import Headers
from reqivo_protocol._exceptions import ConnectError, TlsError
from servers.fixtures import RawServerFactory
from servers.raw import Close, ReadBytes, Send

NOT_TLS = "the server may not speak TLS on this port"


async def test_refused_connect_says_so_and_names_the_address() -> None:
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))  # bound, not listening: connects are refused
        port = refusing.getsockname()[1]
        async with AsyncSession() as session:
            with pytest.raises(ConnectError) as info:
                await session.get(f"http://127.0.0.1:{port}/")
    assert str(info.value) == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert info.value.request is not None


async def test_missing_unix_socket_names_the_path(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.sock")
    async with AsyncConnection("http://localhost/", uds=path) as conn:
        with pytest.raises(ConnectError, match=f"cannot connect to {path}: .*No such file"):
            await conn.request("GET", "http://localhost/")


async def test_tls_to_a_plain_http_port_hints_at_the_scheme(raw_server: RawServerFactory) -> None:
    # The server reads the ClientHello and answers as HTTP: OpenSSL reads "HTTP/1.1 400"
    # as a TLS record of an unknown version.
    answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    server = raw_server([ReadBytes(5), Send(answer), Close()])
    async with AsyncSession() as session:
        with pytest.raises(TlsError) as info:
            await session.get(server.url.replace("http://", "https://"))
    assert "WRONG_VERSION_NUMBER" in str(info.value) or "record" in str(info.value).lower()
    assert str(info.value).endswith(f"{NOT_TLS} (is it plain HTTP?)")


async def test_tls_hang_up_right_after_connecting_hints_at_the_scheme(
    raw_server: RawServerFactory,
) -> None:
    server = raw_server([ReadBytes(5), Close()])  # a server that drops what it cannot parse
    async with AsyncSession() as session:
        with pytest.raises(TlsError) as info:
            await session.get(server.url.replace("http://", "https://"))
    assert str(info.value).startswith("TLS handshake failed: ")
    assert NOT_TLS in str(info.value)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Num": 5}, "the value of header 'X-Num' must be str or bytes, not int: 5"),
        ({"X-None": None}, "the value of header 'X-None' must be str or bytes, not NoneType"),
        ([(b"X-Raw", 1.5)], "the value of header 'X-Raw' must be str or bytes, not float"),
        ({7: "seven"}, "header name must be str or bytes, not int: 7"),
    ],
)
async def test_header_of_the_wrong_type_is_a_type_error_before_sending(
    raw_server: RawServerFactory, headers: object, message: str
) -> None:
    server = raw_server([ReadBytes(1)])
    async with AsyncSession() as session:
        with pytest.raises(TypeError, match=message):
            session.build_request("GET", server.url, headers=headers)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=message):
            await session.get(server.url, headers=headers)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=message):
            Headers(headers)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        AsyncSession(headers=headers)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        AsyncRequest("GET", server.url, headers=headers)  # type: ignore[arg-type]
    assert server.connections == 0  # refused before anything was sent


async def test_header_values_as_bytes_stay_legal_and_setting_checks_too() -> None:
    headers = Headers([("X-Bytes", b"caf\xe9"), (b"X-Name", "v")])
    assert headers["x-bytes"] == "café" and headers["x-name"] == "v"
    with pytest.raises(TypeError, match="the value of header 'X-Set' must be str or bytes"):
        headers["X-Set"] = 1  # type: ignore[assignment]
    with pytest.raises(TypeError, match="the value of header 'X-Add' must be str or bytes"):
        headers.add("X-Add", None)  # type: ignore[arg-type]
