"""Credentials are redacted in logs and in reprs (docs/security.md).

The secrets all contain ``s3cret``: after a session's worth of requests (Basic auth from
the URL's userinfo, a cookie jar, an API key, a redirect, a Set-Cookie, a failure) with
the ``reqivo`` logger at DEBUG, neither the log text nor the records' structured headers
contain it; nor do the reprs of the objects a user prints while debugging.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reqivo_async import URL, AsyncRequest, AsyncSession, Headers, Response
from reqivo_protocol import ConnectError
from reqivo_sync import Request, Session
from servers.raw import ReadRequest, Repeat, Send, http_response

SECRET = "s3cret"


def _texts(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        for attribute in ("request_headers", "response_headers"):
            parts.append(repr(getattr(record, attribute, "")))
    return "\n".join(parts)


def test_logs_redact_credentials(
    make_client: Any, raw_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    redirect = http_response(
        302, headers=[("Location", "/next"), ("Set-Cookie", f"sid2={SECRET}-set")]
    )
    server = raw_server(
        [ReadRequest(), Send(redirect), Repeat((ReadRequest(), Send(http_response(body=b"ok"))))]
    )
    client = make_client(cookies={"sid": f"{SECRET}-jar"}, headers={"X-Api-Key": f"{SECRET}-key"})
    caplog.set_level(logging.DEBUG, logger="reqivo")
    url = server.url.replace("http://", f"http://user:{SECRET}-pw@") + "/start"
    assert client.get(url).content == b"ok"
    client.get(server.url + "/bearer", headers={"Authorization": f"Bearer {SECRET}-token"})
    with pytest.raises(ConnectError):
        client.get(f"http://user:{SECRET}-pw@127.0.0.1:1/")
    assert server.requests[0].header("authorization")  # the credentials were sent ...
    records = [r for r in caplog.records if r.name.startswith("reqivo")]
    assert len(records) >= 4
    text = _texts(records)
    assert SECRET not in text  # ... and never logged
    assert "user:[secure]@" in text
    structured = [r for r in records if hasattr(r, "request_headers")]
    assert any("[secure]" in repr(getattr(r, "request_headers", "")) for r in structured)


def test_headers_repr() -> None:
    headers = Headers(
        {
            "Authorization": f"Basic {SECRET}",
            "Proxy-Authorization": f"Basic {SECRET}",
            "Cookie": f"sid={SECRET}",
            "Set-Cookie": f"sid={SECRET}",
            "X-Api-Key": SECRET,
            "Accept": "text/plain",
        }
    )
    assert SECRET not in repr(headers)
    assert "text/plain" in repr(headers)


def test_url_repr() -> None:
    url = URL(f"https://user:{SECRET}@example.com/path")
    assert SECRET not in repr(url)
    assert "user" in repr(url)


def test_response_repr() -> None:
    response = Response(200, headers={"Set-Cookie": f"sid={SECRET}"})
    assert SECRET not in repr(response)
    assert SECRET not in repr(response.headers)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: AsyncRequest("GET", f"http://user:{SECRET}@example.com/"),
            id="AsyncRequest-url-password",
        ),
        pytest.param(
            lambda: Request("GET", f"http://user:{SECRET}@example.com/"),
            id="Request-url-password",
        ),
        pytest.param(
            lambda: AsyncRequest("GET", "http://e.com/", headers={"Authorization": SECRET}),
            id="AsyncRequest-headers",
        ),
    ],
)
def test_request_repr(build: Any) -> None:
    request = build()
    assert SECRET not in repr(request)
    assert SECRET not in repr(request.headers)


async def test_async_session_repr() -> None:
    async with AsyncSession(
        base_url=f"http://user:{SECRET}@example.com/", auth=("u", SECRET), cookies={"a": SECRET}
    ) as session:
        assert SECRET not in repr(session)
        assert SECRET not in repr(session.headers)


def test_sync_session_repr() -> None:
    with Session(base_url=f"http://user:{SECRET}@example.com/") as session:
        assert SECRET not in repr(session)
