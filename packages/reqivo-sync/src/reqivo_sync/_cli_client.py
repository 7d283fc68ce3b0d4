"""The ``reqivo`` command's one call into the library: :func:`exchange`.

It turns a :class:`Command` into session options and request arguments, sends the
request, and yields the response head with an iterator over its (decoded) body. The
rest of the CLI never touches the library, so the driver underneath can change alone.

The driver is ``reqivo_sync.Session`` (the blocking wrapper), with ``stream()`` so
that a download goes to its file as it arrives, never held whole.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

from reqivo_sync._cli_args import Command, UsageError

__all__ = ["Body", "Exchange", "build_body", "exchange", "session_options"]

JSON_ACCEPT = "application/json, */*;q=0.5"


@dataclass(slots=True)
class Body:
    """The request body the command sends, and what ``--verbose`` shows of it."""

    #: Keyword arguments for the request: ``content=`` or ``data=``/``files=``.
    kwargs: dict[str, Any]
    #: Headers the body implies (Content-Type, Accept), unless the user set them.
    headers: list[tuple[str, str]]
    #: The bytes sent, when they are known up front (None for uploads and files).
    preview: bytes | None
    #: Files opened for the body, closed after the exchange.
    opened: list[IO[bytes]]


def _text_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def build_body(command: Command, stdin: bytes | None) -> Body:
    """The body of ``command``: data items, uploads, ``--raw``, or ``stdin`` (read already)."""
    headers: list[tuple[str, str]] = []
    if command.json or (command.data and not command.form and not command.files):
        headers.append(("Accept", JSON_ACCEPT))
    if command.files:
        opened: list[IO[bytes]] = [open(path, "rb") for _, path, _ in command.files]  # noqa: SIM115 (closed later)
        files = [
            (name, (path.rsplit("/", 1)[-1], file, mime))
            for (name, path, mime), file in zip(command.files, opened, strict=True)
        ]
        data = {key: _text_value(value) for key, value in command.data.items()}
        return Body({"data": data, "files": files}, headers, None, opened)
    if command.data:
        if command.form:
            content = urlencode(
                [(key, _text_value(value)) for key, value in command.data.items()]
            ).encode()
            headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
        else:
            content = json.dumps(command.data, ensure_ascii=False).encode()
            headers.append(("Content-Type", "application/json"))
        return Body({"content": content}, headers, content, [])
    raw = command.raw
    if raw is not None and raw.startswith("@"):
        file = open(raw[1:], "rb")  # noqa: SIM115 (closed after the exchange)
        return Body({"content": file}, _raw_type(command, headers), None, [file])
    if raw == "-" or (raw is None and stdin is not None):
        content = stdin or b""
    elif raw is not None:
        content = raw.encode()
    else:
        return Body({}, headers, None, [])
    return Body({"content": content}, _raw_type(command, headers), content, [])


def _raw_type(command: Command, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if command.json:
        headers.append(("Content-Type", "application/json"))
    elif command.form:
        headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
    return headers


def _auth(command: Command) -> Any:
    if command.auth is None:
        return None
    if command.auth_type == "bearer":
        from reqivo_async import BearerAuth

        return BearerAuth(command.auth)
    user, colon, password = command.auth.partition(":")
    if not colon:
        if not sys.stdin.isatty():
            raise UsageError("--auth USER:PASS: the password is missing (no terminal to ask)")
        password = getpass.getpass(f"password for {user}: ")
    if command.auth_type == "digest":
        from reqivo_async import DigestAuth

        return DigestAuth(user, password)
    return (user, password)


def session_options(command: Command) -> dict[str, Any]:
    """Keyword arguments of the session for ``command``."""
    options: dict[str, Any] = {
        "follow_redirects": command.follow,
        "max_redirects": command.max_redirects,
        "verify": command.verify,
        "auth": _auth(command),
    }
    if command.timeout is not None:
        options["timeout"] = command.timeout
    if command.proxy is not None:
        options["proxy"] = command.proxy
    if command.cert is not None:
        options["cert"] = (
            command.cert
            if command.cert_key is None
            else (
                command.cert,
                command.cert_key,
            )
        )
    return options


def _merge_headers(command: Command, body: Body) -> list[tuple[str, str]]:
    given = {name.lower() for name, _ in command.headers}
    implied = [(name, value) for name, value in body.headers if name.lower() not in given]
    return implied + command.headers


@dataclass(slots=True)
class Exchange:
    """A response whose head has arrived: ``response`` and its body as ``chunks``."""

    #: The response object (status_code, reason, http_version, headers, request, history).
    response: Any
    #: The body, decoded (Content-Encoding undone), as it arrives.
    chunks: Iterator[bytes]


@contextlib.contextmanager
def exchange(command: Command, body: Body) -> Iterator[Exchange]:
    """Send ``command`` with ``body``; yield the :class:`Exchange`; close everything."""
    from reqivo_sync._session import Session

    with contextlib.ExitStack() as stack:
        for file in body.opened:
            stack.callback(file.close)
        session = stack.enter_context(Session(**session_options(command)))
        response = stack.enter_context(
            session.stream(
                command.method,
                command.url,
                params=command.params or None,
                headers=_merge_headers(command, body),
                **body.kwargs,
            )
        )
        yield Exchange(response, response.iter_bytes())
