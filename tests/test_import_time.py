"""Import cost, checked structurally: what ``import reqivo_async`` must not load.

No timing assertions (they would be flaky): the modules that cost import time are
kept out of ``sys.modules``, which catches the regressions that matter. Measure the
time itself with ``scripts/import_time.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import reqivo_async.transport
import reqivo_protocol
import reqivo_protocol.content

#: Loaded with the first ``AsyncSession`` (its transport stack and cookie jar).
WITH_A_SESSION = [
    "reqivo_async._pool",
    "reqivo_protocol.http11",
    "reqivo_protocol._cookiejar",
    "reqivo_protocol._cookies",
    "reqivo_protocol._cookiedate",
]
#: Loaded on first use only: an HTTP client that sends no files, speaks no WebSocket and
#: has no cookies does not pay for them (nor for the standard library they pull in).
NOT_ON_IMPORT = [
    *WITH_A_SESSION,
    "reqivo_protocol.websocket",
    "reqivo_protocol.http2",
    "reqivo_async._http2",
    "reqivo_protocol.content._multipart",
    "reqivo_async._transports._asgi",
    "reqivo_async._transports._mock",
    "mimetypes",
    "json",
    "hashlib",
    "hmac",
    "secrets",
    "random",
    "ipaddress",
    "urllib.parse",
    "email",
]


def _loaded_by(setup: str, code: str) -> set[str]:
    """The modules a fresh interpreter loads running ``code`` after ``setup``."""
    probe = (
        "import sys, json\n"
        f"{setup}\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_reqivo_async_loads_only_what_a_client_needs() -> None:
    loaded = _loaded_by("import asyncio, ssl", "import reqivo_async")
    assert "reqivo_async._session" in loaded  # the probe works
    assert sorted(loaded & set(NOT_ON_IMPORT)) == []


def test_the_surface_for_sibling_packages_loads_nothing_more_on_import() -> None:
    loaded = _loaded_by("import asyncio, ssl", "import reqivo_async.transport")
    assert "reqivo_async.transport" in loaded  # the probe works
    assert sorted(loaded & set(NOT_ON_IMPORT)) == []


def test_a_session_loads_its_transport_but_no_websocket_or_multipart() -> None:
    loaded = _loaded_by(
        "import asyncio, ssl",
        "import reqivo_async\nreqivo_async.AsyncSession(base_url='https://example.com/')",
    )
    assert set(WITH_A_SESSION) <= loaded  # the probe works
    assert sorted(loaded & (set(NOT_ON_IMPORT) - set(WITH_A_SESSION))) == []


#: An HTTP/1.1 request through a session to a loopback server, in the probe process.
_HTTP11_REQUEST = """
import asyncio, reqivo_async
async def main():
    async def answer(reader, writer):
        await reader.readuntil(b"\\r\\n\\r\\n")
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with reqivo_async.AsyncSession(http2=True) as session:
        response = await session.get(f"http://127.0.0.1:{port}/")
    assert response.content == b"ok" and response.http_version == "HTTP/1.1"
    server.close()
asyncio.run(main())
"""


def test_an_http11_request_loads_no_http2_module() -> None:
    loaded = _loaded_by("import asyncio, ssl, reqivo_async", _HTTP11_REQUEST)
    assert "reqivo_async._pool" in loaded  # the probe works
    assert sorted(name for name in loaded if "http2" in name) == []


def test_import_reqivo_protocol_loads_only_the_shared_vocabulary() -> None:
    loaded = _loaded_by("", "import reqivo_protocol")
    ours = sorted(name for name in loaded if name.startswith("reqivo_protocol"))
    assert ours == ["reqivo_protocol", "reqivo_protocol._exceptions", "reqivo_protocol._headers"]


@pytest.mark.parametrize(
    "module", [reqivo_protocol, reqivo_protocol.content, reqivo_async.transport]
)
def test_every_public_name_resolves_lazily(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    for name in names:
        assert getattr(module, name) is not None
    assert set(names) <= set(dir(module))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name  # type: ignore[attr-defined]


def test_from_import_of_every_public_name() -> None:
    probe = (
        "from reqivo_protocol import *\nfrom reqivo_protocol.content import *\n"
        "from reqivo_async.transport import *\nprint('ok')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
