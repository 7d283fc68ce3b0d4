"""Logging under "reqivo", credentials redacted."""

from __future__ import annotations

import logging

import pytest

from reqivo_async._logging import redact_headers, redact_url
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._session import AsyncSession
from reqivo_async._transports._mock import MockTransport
from reqivo_protocol._exceptions import ConnectError
from reqivo_protocol._headers import Headers
from reqivo_protocol._url import URL


def test_redact_url() -> None:
    assert redact_url(URL("http://h/p")) == "http://h/p"
    assert redact_url(URL("http://user@h/p")) == "http://user@h/p"
    assert redact_url(URL("http://user:pw@h/p?q=1")) == "http://user:[secure]@h/p?q=1"


def test_redact_headers() -> None:
    headers = Headers({"Authorization": "Basic x", "Cookie": "s=1", "Accept": "*/*"})
    assert redact_headers(headers) == [
        ("Authorization", "[secure]"),
        ("Cookie", "[secure]"),
        ("Accept", "*/*"),
    ]


async def test_one_debug_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: AsyncRequest) -> Response:
        if request.url.path == "/fail":
            raise ConnectError("refused")
        return Response(200)

    caplog.set_level(logging.DEBUG, logger="reqivo")
    async with AsyncSession(transport=MockTransport(handler)) as session:
        await session.get("http://user:secret@h/ok", headers={"Cookie": "token=abc"})
        with pytest.raises(ConnectError):
            await session.get("http://h/fail")
    messages = [record.getMessage() for record in caplog.records if record.name == "reqivo"]
    assert messages == [
        'HTTP Request: GET http://user:[secure]@h/ok "HTTP/1.1 200 OK"',
        "HTTP Request: GET http://h/fail failed: ConnectError: refused",
    ]
    record = caplog.records[0]
    sent = record.__dict__["request_headers"]
    assert ("Cookie", "[secure]") in sent
    assert ("Authorization", "[secure]") in sent
    assert "secret" not in caplog.text and "abc" not in caplog.text


async def test_silent_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reqivo")
    async with AsyncSession(transport=MockTransport(lambda r: Response(200))) as session:
        await session.get("http://h/")
    assert caplog.records == []
