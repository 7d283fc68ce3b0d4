"""The ``reqivo`` command against a real (standard library) HTTP and HTTPS server.

Most tests call ``main([...])`` in-process with captured output; a few run the installed
command as a subprocess (stdin bodies, the terminal/progress path, the exit code).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from reqivo_sync._cli import main

BLOCK = bytes(range(256)) * 16


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms ACK waits

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = self._read_chunked()
        if path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            self._send(code, json.dumps({"status": code}).encode())
        elif path.startswith("/redirect/"):
            n = int(path.removeprefix("/redirect/"))
            self._send(302, b"", {"Location": f"/redirect/{n - 1}" if n > 1 else "/echo"})
        elif path.startswith("/bytes/"):
            size = int(path.removeprefix("/bytes/"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            for start in range(0, size, len(BLOCK)):
                self.wfile.write(BLOCK[: min(len(BLOCK), size - start)])
        elif path == "/gzip":
            data = gzip.compress(json.dumps({"compressed": True}).encode())
            self._send(200, data, {"Content-Encoding": "gzip"})
        elif path == "/text":
            self._send(200, "héllo\nwörld".encode(), {"Content-Type": "text/plain; charset=utf-8"})
        elif path == "/delay":
            time.sleep(1)
            self._send(200, b"{}")
        else:
            echo = {
                "method": self.command,
                "path": path,
                "query": parts.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            self._send(200, json.dumps(echo).encode())

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while (size := int(self.rfile.readline().strip(), 16)) > 0:
            data += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return bytes(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


@contextlib.contextmanager
def _serving(context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    scheme = "http"
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with _serving() as url:
        yield url


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with _serving(context) as url:
        yield url, str(bundle)


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "NO_COLOR", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def run(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, str]:
    code = main(["-I", *args])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def echo(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> dict[str, Any]:
    code, out, err = run(capsysbinary, *args)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Any:
    full_env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reqivo_sync._cli", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=full_env,
        timeout=60,
        check=False,
    )


# -- requests --------------------------------------------------------------------------


def test_get_prints_the_body_as_received_when_piped(
    base: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, out, err = run(capsysbinary, f"{base}/echo")
    assert (code, err) == (0, "")
    assert json.loads(out)["method"] == "GET"
    assert b"\x1b[" not in out and b"HTTP/1.1" not in out


def test_json_body_from_items(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    seen = echo(capsysbinary, f"{base}/echo", "name=Ada", "age:=36", "tags:=[1,2]", "ok:=true")
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {"name": "Ada", "age": 36, "tags": [1, 2], "ok": True}
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["accept"].startswith("application/json")


def test_explicit_method_and_form(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    seen = echo(capsysbinary, "-f", "put", f"{base}/echo", "a=1", "b=x y", "n:=2")
    assert seen["method"] == "PUT"
    assert seen["body"] == "a=1&b=x+y&n=2"
    assert seen["headers"]["content-type"].startswith("application/x-www-form-urlencoded")


def test_file_upload_is_multipart(
    base: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text("file contents here")
    seen = echo(capsysbinary, f"{base}/echo", f"doc@{upload};type=text/plain", "title=hi")
    assert seen["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    body = seen["body"]
    assert 'name="doc"; filename="notes.txt"' in body
    assert "Content-Type: text/plain" in body and "file contents here" in body
    assert 'name="title"' in body


def test_headers_and_query(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    seen = echo(capsysbinary, f"{base}/echo?a=0", "X-Api-Key:abc", "q==re qivo", "n==2")
    assert seen["headers"]["x-api-key"] == "abc"
    assert seen["query"] == "a=0&q=re+qivo&n=2"


def test_raw_body_and_file_body(
    base: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    seen = echo(capsysbinary, "--json", f"{base}/echo", "--raw", '{"raw": 1}')
    assert (seen["method"], seen["body"]) == ("POST", '{"raw": 1}')
    assert seen["headers"]["content-type"] == "application/json"
    payload = tmp_path / "body.bin"
    payload.write_bytes(b"from a file")
    seen = echo(capsysbinary, "PATCH", f"{base}/echo", "--raw", f"@{payload}")
    assert (seen["method"], seen["body"]) == ("PATCH", "from a file")


def test_basic_and_bearer_auth(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    seen = echo(capsysbinary, "-a", "ada:s3cret", f"{base}/echo")
    expected = base64.b64encode(b"ada:s3cret").decode()
    assert seen["headers"]["authorization"] == f"Basic {expected}"
    seen = echo(capsysbinary, "-A", "bearer", "-a", "tok", f"{base}/echo")
    assert seen["headers"]["authorization"] == "Bearer tok"


def test_gzip_is_decoded(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert echo(capsysbinary, f"{base}/gzip") == {"compressed": True}


def test_stdin_body_subprocess(base: str) -> None:
    done = cli(f"{base}/echo", stdin=b"piped body")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["method"], seen["body"]) == ("POST", "piped body")
    done = cli("PUT", f"{base}/echo", "--raw", "-", stdin=b"explicit")
    assert json.loads(done.stdout)["body"] == "explicit"


# -- output ----------------------------------------------------------------------------


def test_verbose_prints_both_heads(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary, "-v", f"{base}/echo", "a=b", "X-T:1")
    text = out.decode()
    assert code == 0
    assert text.startswith("POST /echo HTTP/1.1\nHost: 127.0.0.1:")
    assert "X-T: 1\n" in text and "Content-Length: 10\n" in text
    assert '\n\n{"a": "b"}\n' in text
    assert "\nHTTP/1.1 200 OK\n" in text and "Content-Type: application/json" in text


def test_headers_only_and_body_only(base: str, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    _, out, _ = run(capsysbinary, "-h", f"{base}/echo")
    assert out.startswith(b"HTTP/1.1 200 OK\n") and b'"method"' not in out
    _, out, _ = run(capsysbinary, "-b", "-v", f"{base}/echo")
    assert out.startswith(b"GET /echo")


def test_terminal_mode_colours_and_formats(
    base: str, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(capsysbinary, f"{base}/status/200")
    text = out.decode()
    assert text.startswith("\x1b[1;32mHTTP/1.1 200 OK\x1b[0m\n")
    assert '{\x1b[0m\n    \x1b[1;34m"status"' in text  # pretty-printed and highlighted
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsysbinary, f"{base}/status/200")
    assert out.decode().endswith('\n\n{\n    "status": 200\n}\n') and b"\x1b" not in out
    _, out, _ = run(capsysbinary, f"{base}/bytes/100")
    assert b"binary data not shown" in out
    _, out, _ = run(capsysbinary, f"{base}/text")
    assert out.decode().endswith("\n\nhéllo\nwörld\n")


def test_plain_highlighter_without_rich(
    base: str, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)
    _, out, _ = run(capsysbinary, "--pretty", "all", "-b", f"{base}/echo")
    assert '\x1b[1;34m"method"\x1b[0m: \x1b[32m"GET"\x1b[0m' in out.decode()


# -- downloads -------------------------------------------------------------------------


def test_download_to_file_quietly_when_piped(
    base: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    target = tmp_path / "out.bin"
    code, out, err = run(capsysbinary, "-o", str(target), f"{base}/bytes/100000")
    assert (code, out, err) == (0, b"", "")
    assert target.read_bytes() == (BLOCK * 25)[:100000]


def test_download_progress_plain_text(
    base: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    target = tmp_path / "out.bin"
    code, _, err = run(capsysbinary, "--progress", "-o", str(target), f"{base}/bytes/1000000")
    assert code == 0
    bar, final = err.splitlines()
    assert bar.startswith("100% [########################]  1.0 MB / 1.0 MB")
    assert final.startswith(f"Downloaded 1.0 MB to {target} in ")


def test_download_progress_on_a_terminal_with_rich(base: str, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    done = cli("-o", str(target), f"{base}/bytes/2000000", env={"FORCE_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    stderr = done.stderr.decode()
    assert "\x1b[" in stderr and "100%" in stderr and "2.0/2.0 MB" in stderr  # rich's bar
    final = stderr.splitlines()[-1].removeprefix("\x1b[?25h")  # (the cursor comes back)
    assert final.startswith(f"Downloaded 2.0 MB to {target} in ")
    assert done.stdout.decode().startswith("\x1b[1;32mHTTP/1.1 200 OK")
    assert target.stat().st_size == 2000000


def test_download_progress_without_rich_live(
    base: str,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setenv("FORCE_COLOR", "1")
    target = tmp_path / "out.bin"
    code, _, err = run(capsysbinary, "-o", str(target), f"{base}/bytes/300000")
    assert code == 0
    assert err.startswith("\r") and "ETA" in err
    assert err.splitlines()[-1].startswith("Downloaded 300.0 kB to")


# -- redirects and status --------------------------------------------------------------


def test_redirects_off_by_default_and_followed_on_request(
    base: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, out, _ = run(capsysbinary, "-h", f"{base}/redirect/2")
    assert (code, out.splitlines()[0]) == (0, b"HTTP/1.1 302 Found")
    code, out, _ = run(capsysbinary, "-F", "-v", f"{base}/redirect/2")
    text = out.decode()
    assert code == 0
    assert text.count("302 Found") == 2 and "GET /redirect/1 HTTP/1.1" in text
    assert json.loads(text[text.rindex("\n\n{") :])["path"] == "/echo"
    code, _, err = run(capsysbinary, "-F", "--max-redirects", "1", f"{base}/redirect/3")
    assert code == 6
    assert err.startswith("reqivo: error: TooManyRedirects: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("path", "extra", "expected"),
    [
        ("/status/200", [], 0),
        ("/status/404", [], 4),
        ("/status/503", [], 5),
        ("/redirect/1", [], 3),
        ("/redirect/1", ["--follow"], 0),
    ],
)
def test_check_status_exit_codes(
    base: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    path: str,
    extra: list[str],
    expected: int,
) -> None:
    code, _, err = run(capsysbinary, "--check-status", *extra, f"{base}{path}")
    assert code == expected
    assert ("reqivo: warning: HTTP/1.1" in err) == (expected != 0)
    assert run(capsysbinary, f"{base}{path}", *extra)[0] == 0  # without the flag


def test_check_status_subprocess(base: str) -> None:
    done = cli("--check-status", f"{base}/status/404")
    assert done.returncode == 4
    assert done.stderr == b"reqivo: warning: HTTP/1.1 404 Not Found\n"


# -- errors ----------------------------------------------------------------------------


def test_network_error_is_one_line_and_exit_7(
    base: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    with _serving() as gone:
        pass
    code, out, err = run(capsysbinary, f"{gone}/")
    assert (code, out) == (7, b"")
    assert err.startswith("reqivo: error: ConnectError: ") and err.count("\n") == 1
    code, _, err = run(capsysbinary, "--timeout", "0.2", f"{base}/delay")
    assert code == 7 and "Timeout" in err and err.count("\n") == 1


def test_traceback_on_request(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    with _serving() as gone:
        pass
    code, _, err = run(capsysbinary, "--traceback", f"{gone}/")
    assert code == 7 and "Traceback (most recent call last)" in err


def test_network_error_subprocess() -> None:
    with _serving() as gone:
        pass
    done = cli(f"{gone}/")
    assert done.returncode == 7
    assert b"Traceback" not in done.stderr and done.stderr.count(b"\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--no-such-option", "http://x/"],
        ["http://x/", "not-an-item"],
        ["http://x/", "n:=not json"],
        ["http://x/", "f@/no/such/file"],
        ["-h", "-b", "http://x/"],
        ["--json", "http://x/", "f@" + __file__],
        ["http://x/", "a=b", "--raw", "x"],
        ["--timeout", "0", "http://x/"],
        ["http://exa mple.com:99999/"],
    ],
)
def test_usage_errors_exit_2(capsysbinary: pytest.CaptureFixture[bytes], args: list[str]) -> None:
    code, out, err = run(capsysbinary, *args)
    assert (code, out) == (2, b"")
    assert err.startswith("reqivo: error: ") and "Traceback" not in err


def test_usage_error_subprocess() -> None:
    done = cli("POST", "http://x/", "not-an-item")
    assert done.returncode == 2
    assert done.stderr.startswith(b"reqivo: error: ")


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("reqivo 0.")
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and "field:=json" in text and "--check-status" in text


# -- TLS -------------------------------------------------------------------------------


def test_https_insecure_and_verify(
    https: tuple[str, str], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    url, bundle = https
    code, _, err = run(capsysbinary, f"{url}/echo")
    assert code == 7 and "TlsError" in err
    assert echo(capsysbinary, "-k", f"{url}/echo")["method"] == "GET"
    assert echo(capsysbinary, "--verify", bundle, f"{url}/echo")["method"] == "GET"


def test_https_insecure_subprocess(https: tuple[str, str]) -> None:
    done = cli("--insecure", f"{https[0]}/status/201", "--check-status")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"status": 201}
