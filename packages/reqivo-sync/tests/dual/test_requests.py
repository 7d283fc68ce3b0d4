"""Methods, bodies, params and headers, against the real servers, in both modes."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from servers.models import Server


def _echo(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def _headers(response: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in _echo(response)["headers"]}


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_methods(client: Any, http_server: Server, method: str, http_version: str) -> None:
    response = getattr(client, method)(http_server.join("/echo"))
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.http_version == {"http1": "HTTP/1.1", "http2": "HTTP/2"}[http_version]
    assert _echo(response)["http_version"] == {"http1": "1.1", "http2": "2"}[http_version]
    assert _echo(response)["method"] == method.upper()
    assert str(response.url) == http_server.join("/echo")
    assert response.elapsed.total_seconds() > 0


def test_head_and_request(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.head(uvicorn_h11_server.join("/bytes/100"))
    assert response.status_code == 200
    assert response.headers["content-length"] == "100"
    assert response.content == b""
    response = client.request("PURGE", uvicorn_h11_server.join("/echo"), content=b"x")
    assert _echo(response)["method"] == "PURGE"
    assert _echo(response)["body_length"] == 1


def test_json_body(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.post(uvicorn_h11_server.join("/echo"), json={"a": [1, "é"]})
    echo = _echo(response)
    assert base64.b64decode(echo["body_base64"]) == '{"a":[1,"é"]}'.encode()
    assert _headers(response)["content-type"] == "application/json"


def test_form_body(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.put(uvicorn_h11_server.join("/echo"), data={"a": "1 2", "b": ["x", "y"]})
    echo = _echo(response)
    assert base64.b64decode(echo["body_base64"]) == b"a=1+2&b=x&b=y"
    assert _headers(response)["content-type"] == "application/x-www-form-urlencoded"


def test_multipart_files(client: Any, hypercorn_server: Server, tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\x00\x01" * 50_000)
    with path.open("rb") as file:
        response = client.post(
            hypercorn_server.join("/multipart"),
            data={"field": "value"},
            files={"doc": ("notes.txt", b"hello", "text/plain"), "blob": file},
        )
    parsed = response.json()
    assert response.status_code == 200, parsed
    text = repr(parsed)
    assert "notes.txt" in text and "value" in text
    assert hashlib.sha256(b"\x00\x01" * 50_000).hexdigest() in text


def _chunks() -> Iterator[bytes]:
    for index in range(64):
        yield bytes([index]) * 4096


async def _async_chunks() -> AsyncIterator[bytes]:
    for index in range(64):
        yield bytes([index]) * 4096


_EXPECTED = b"".join(bytes([index]) * 4096 for index in range(64))


@pytest.mark.parametrize("kind", ["generator", "async-generator", "list", "bytes", "str"])
def test_content_bodies(
    client: Any, uvicorn_h11_server: Server, kind: str, http_version: str
) -> None:
    content: Any = {
        "generator": _chunks(),
        "async-generator": _async_chunks(),
        "list": list(_chunks()),
        "bytes": _EXPECTED,
        "str": _EXPECTED.decode("latin-1"),
    }[kind]
    response = client.post(uvicorn_h11_server.join("/upload"), content=content)
    upload = response.json()
    expected = _EXPECTED if kind != "str" else _EXPECTED.decode("latin-1").encode()
    assert upload["length"] == len(expected)
    assert upload["sha256"] == hashlib.sha256(expected).hexdigest()
    if kind in ("bytes", "str"):
        assert upload["content_length"] == str(len(expected))
    elif http_version == "http1":
        assert upload["transfer_encoding"] == "chunked"
    else:  # HTTP/2 frames the body itself: no length is announced
        assert (upload["content_length"], upload["transfer_encoding"]) == (None, None)


def test_file_body_is_streamed_with_its_length(
    client: Any, uvicorn_h11_server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(_EXPECTED * 8)
    with path.open("rb") as file:
        file.seek(4096)
        response = client.post(uvicorn_h11_server.join("/upload"), content=file)
    upload = response.json()
    assert upload["content_length"] == str(len(_EXPECTED) * 8 - 4096)
    assert upload["sha256"] == hashlib.sha256((_EXPECTED * 8)[4096:]).hexdigest()
    unseekable = io.BufferedReader(io.BytesIO(b"abc"))
    response = client.post(uvicorn_h11_server.join("/upload"), content=unseekable)
    assert response.json()["length"] == 3


def test_body_arguments_are_exclusive(client: Any, uvicorn_h11_server: Server) -> None:
    with pytest.raises(TypeError, match="only one of"):
        client.post(uvicorn_h11_server.join("/echo"), json={}, content=b"x")


def test_params(make_client: Any, uvicorn_h11_server: Server) -> None:
    client = make_client(base_url=uvicorn_h11_server.url + "/", params={"s": "1"})
    response = client.get("echo?q=0", params={"a": ["x", "y"], "b": "é"})
    assert _echo(response)["query"] == "q=0&s=1&a=x&a=y&b=%C3%A9"
    assert response.url.params.get_list("a") == ["x", "y"]


def test_headers(make_client: Any, uvicorn_h11_server: Server) -> None:
    client = make_client(headers={"X-Session": "s", "X-Both": "session"})
    response = client.get(
        uvicorn_h11_server.join("/headers"), headers={"X-Request": "r", "X-Both": "request"}
    )
    headers = {name.lower(): value for name, value in response.json()["headers"]}
    assert headers["x-session"] == "s"
    assert headers["x-request"] == "r"
    assert headers["x-both"] == "request"
    assert headers["user-agent"].startswith("reqivo/")
    assert "gzip" in headers["accept-encoding"]
    client.headers["X-Later"] = "yes"
    response = client.get(uvicorn_h11_server.join("/headers"))
    assert ["x-later", "yes"] in [[n.lower(), v] for n, v in response.json()["headers"]]


def test_build_request_and_send(client: Any, uvicorn_h11_server: Server) -> None:
    request = client.build_request(
        "POST", uvicorn_h11_server.join("/echo"), json={"k": 1}, headers={"X-A": "b"}
    )
    assert request.method == "POST"
    assert request.headers["x-a"] == "b"
    response = client.send(request)
    assert response.request is request
    assert _echo(response)["body_length"] == len(b'{"k":1}')


def test_response_properties(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.get(uvicorn_h11_server.join("/charset/latin-1"))
    assert response.encoding == "latin-1"
    assert "Köln" in response.text
    assert response.is_success and not response.is_error
    response = client.get(uvicorn_h11_server.join("/json"))
    assert response.json()["name"] == "reqivo"
    assert response.headers.get("content-type") == "application/json"
