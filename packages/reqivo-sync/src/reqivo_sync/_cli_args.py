"""The ``reqivo`` command line: arguments and request items into a :class:`Command`.

``reqivo [METHOD] URL [ITEM ...]`` in the spirit of httpie and xh. Each item is one of::

    Header:value     a request header (``Header:`` sends it empty)
    name==value      a query parameter
    field=value      a data field, a JSON string (a form field with --form)
    field:=json      a data field, raw JSON (``field:=@file.json`` reads it from a file)
    field=@file      a data field, the text of a file
    field@file       a file upload (multipart/form-data); ``field@file;type=mime``

A backslash escapes a separator character (``a\\=b=c`` is the field ``a=b``). Parsing
is pure: it reads the files named by items and ``--raw @file`` only to check them, and
never touches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["EXIT_CODES_HELP", "Command", "UsageError", "parse_args", "parse_item"]

#: Methods recognised case-insensitively as the first argument. Any other all-uppercase
#: word (``PROPFIND``) is a method too; anything else is the URL.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  any other error (an output file that cannot be written, ...)
  2  usage error (bad arguments, unreadable item file)
  3  with --check-status: a 3xx response (a redirect not followed)
  4  with --check-status: a 4xx response
  5  with --check-status: a 5xx response
  6  too many redirects (see --max-redirects)
  7  network or transport error: connection refused, DNS, timeout, TLS, proxy, or a
     peer that broke the HTTP protocol
  130  interrupted (Ctrl-C)
"""

_EPILOG = (
    """\
request items:
  Header:value     a request header             X-API-Key:abc   Accept:text/plain
  name==value      a query parameter            q==reqivo       page==2
  field=value      a JSON string field          name=Ada        (a form field with --form)
  field:=json      a raw JSON field             age:=36  tags:='["a","b"]'  ok:=true
  field=@file      a field read from a file     bio=@bio.txt    data:=@payload.json
  field@file       a file upload (multipart)    photo@cat.jpg   'doc@a.pdf;type=application/pdf'

METHOD defaults to GET, or POST when there is a body. URL may leave out the scheme
(http:// is assumed) and ":PORT/path" means http://localhost:PORT/path.

examples:
  reqivo httpbin.org/get q==search
  reqivo POST :8000/users name=Ada age:=36 X-Trace:1
  reqivo -f POST :8000/login user=ada password=secret
  echo '{"raw": true}' | reqivo PUT :8000/things/1
  reqivo -o big.iso https://example.com/big.iso

"""
    + EXIT_CODES_HELP
)


class UsageError(Exception):
    """The command line is wrong; the message says how (exit code 2)."""


@dataclass(slots=True)
class Command:
    """Everything one invocation asks for, validated; no I/O has happened yet."""

    method: str
    url: str
    #: Whether METHOD was given (else GET, or POST when a body turns up, even on stdin).
    explicit_method: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    #: Data items (``=``, ``:=``): sent as JSON, or as a form with ``--form``/files.
    data: dict[str, Any] = field(default_factory=dict)
    #: Upload items: field -> (path, content type or None).
    files: list[tuple[str, str, str | None]] = field(default_factory=list)
    form: bool = False
    json: bool = False
    #: The ``--raw`` body: text, ``"-"`` for stdin, or ``"@path"``; None: no raw body.
    raw: str | None = None
    output: str | None = None
    verbose: bool = False
    print_head: bool | None = None
    print_body: bool | None = None
    pretty: str = "auto"
    progress: bool | None = None
    timeout: float | None = None
    follow: bool = False
    max_redirects: int = 20
    proxy: str | None = None
    verify: bool | str = True
    cert: str | None = None
    cert_key: str | None = None
    auth: str | None = None
    auth_type: str = "basic"
    check_status: bool = False
    traceback: bool = False
    ignore_stdin: bool = False

    @property
    def has_data(self) -> bool:
        """Whether data or upload items give the request a body."""
        return bool(self.data or self.files)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> _Parser:
    from reqivo_sync import __version__

    p = _Parser(
        prog="reqivo",
        usage="reqivo [OPTIONS] [METHOD] URL [ITEM ...]",
        description="Send an HTTP request and print the response (Reqivo's command line).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument("args", nargs="*", metavar="[METHOD] URL [ITEM ...]", help=argparse.SUPPRESS)

    body = p.add_argument_group("request body")
    kind = body.add_mutually_exclusive_group()
    kind.add_argument(
        "-j", "--json", action="store_true", help="data items as a JSON object (the default)"
    )
    kind.add_argument("-f", "--form", action="store_true", help="data items as a form (urlencoded)")
    body.add_argument(
        "--raw",
        metavar="BODY",
        help='the request body as given; "-" reads stdin, "@FILE" reads a file',
    )
    body.add_argument(
        "-I",
        "--ignore-stdin",
        action="store_true",
        help="do not read a piped stdin as the request body",
    )

    out = p.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="FILE", help="save the response body to FILE")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="print the request and the response heads"
    )
    out.add_argument(
        "-h",
        "--headers",
        dest="head_only",
        action="store_true",
        help="print only the response head (status line and headers)",
    )
    out.add_argument(
        "-b", "--body", dest="body_only", action="store_true", help="print only the body"
    )
    out.add_argument(
        "--pretty",
        choices=["auto", "all", "colors", "format", "none"],
        default="auto",
        help="colours and JSON formatting; auto: both on a terminal (NO_COLOR and "
        "FORCE_COLOR are honoured), none when piped",
    )
    out.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar of a download (-o); default: when stderr is a terminal",
    )

    net = p.add_argument_group("network")
    net.add_argument("--timeout", type=float, metavar="SECONDS", help="connect/read timeout")
    net.add_argument(
        "-F",
        "--follow",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="follow redirects (default: off, the redirect itself is shown)",
    )
    net.add_argument(
        "--max-redirects", type=int, default=20, metavar="N", help="redirects followed at most"
    )
    net.add_argument("--proxy", metavar="URL", help="an HTTP proxy for every request")
    net.add_argument(
        "-k", "--insecure", action="store_true", help="do not verify the TLS certificate"
    )
    net.add_argument(
        "--verify", metavar="CA_BUNDLE", help="verify TLS with this CA bundle (or yes/no)"
    )
    net.add_argument("--cert", metavar="FILE", help="client certificate (PEM) for mutual TLS")
    net.add_argument("--cert-key", metavar="FILE", help="its private key, if not in --cert")

    auth = p.add_argument_group("authentication")
    auth.add_argument(
        "-a", "--auth", metavar="USER[:PASS]|TOKEN", help="credentials (prompts for PASS)"
    )
    auth.add_argument(
        "-A",
        "--auth-type",
        choices=["basic", "digest", "bearer"],
        default="basic",
        help="the scheme of --auth (default: basic)",
    )

    misc = p.add_argument_group("other")
    misc.add_argument(
        "--check-status",
        action="store_true",
        help="exit with 3, 4 or 5 on a 3xx, 4xx or 5xx response",
    )
    misc.add_argument("--traceback", action="store_true", help="print the traceback of an error")
    misc.add_argument("--version", action="version", version=f"reqivo {__version__}")
    misc.add_argument("--help", action="help", help="show this help and exit")
    return p


def _normalize_url(url: str) -> str:
    if url.startswith(":"):
        rest = url[1:]
        port, _, path = rest.partition("/")
        if port and not port.isdigit():
            raise UsageError(f"invalid URL {url!r}: expected :PORT/path")
        return f"http://localhost{':' + port if port else ''}/{path}"
    if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://", url) is None:
        return "http://" + url
    return url


# Longest separators first: at one position, ":=@" wins over ":=" and ":".
_SEPARATORS = (":=@", "=@", "==", ":=", "=", "@", ":")


def _split_item(text: str) -> tuple[str, str, str]:
    """``(key, separator, value)`` at the first unescaped separator; keys lose escapes."""
    key: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            key.append(text[i + 1])
            i += 2
            continue
        for sep in _SEPARATORS:
            if text.startswith(sep, i):
                return "".join(key), sep, text[i + len(sep) :]
        key.append(char)
        i += 1
    raise UsageError(
        f"invalid request item {text!r}: expected Header:value, name==value, "
        "field=value, field:=json or field@file"
    )


def _read_text(path: str, item: str) -> str:
    try:
        return Path(os.path.expanduser(path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path!r} for item {item!r}: {exc}") from None


def parse_item(text: str, command: Command) -> None:
    """Parse one request item into ``command`` (headers, params, data or files)."""
    key, sep, value = _split_item(text)
    if sep == ":":
        if not key:
            raise UsageError(f"invalid request item {text!r}: empty header name")
        command.headers.append((key, value.strip()))
    elif sep == "==":
        command.params.append((key, value))
    elif sep == "=":
        command.data[key] = value
    elif sep == "=@":
        command.data[key] = _read_text(value, text)
    elif sep in (":=", ":=@"):
        source = _read_text(value, text) if sep == ":=@" else value
        try:
            command.data[key] = json.loads(source)
        except ValueError as exc:
            raise UsageError(f"invalid JSON in item {text!r}: {exc}") from None
    else:  # "@": an upload
        path, _, mime = value.partition(";type=")
        path = os.path.expanduser(path)
        if not os.path.isfile(path):
            raise UsageError(f"cannot upload {path!r} (item {text!r}): no such file")
        command.files.append((key, path, mime or None))


def _is_method(word: str) -> bool:
    return word.upper() in KNOWN_METHODS or (word.isalpha() and word.isupper())


def parse_args(argv: Sequence[str]) -> Command:
    """Parse the command line; raise :class:`UsageError` when it is wrong."""
    ns = _parser().parse_args(list(argv))
    args: list[str] = ns.args
    if not args:
        raise UsageError("the URL is missing (reqivo [METHOD] URL [ITEM ...])")
    method: str | None = None
    if len(args) >= 2 and _is_method(args[0]):
        method, args = args[0].upper(), args[1:]
    url, items = args[0], args[1:]
    command = Command(method="", url=_normalize_url(url))
    for item in items:
        parse_item(item, command)
    command.form = ns.form
    command.json = ns.json
    if command.files and ns.json:
        raise UsageError("file uploads (field@file) cannot be sent with --json")
    if ns.raw is not None and command.has_data:
        raise UsageError("--raw cannot be combined with data or file items")
    if ns.raw is not None and ns.raw.startswith("@"):
        path = os.path.expanduser(ns.raw[1:])
        if not os.path.isfile(path):
            raise UsageError(f"cannot read --raw body {path!r}: no such file")
    if ns.head_only and ns.body_only:
        raise UsageError("--headers and --body exclude each other")
    if ns.max_redirects < 0:
        raise UsageError("--max-redirects must not be negative")
    if ns.timeout is not None and ns.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if ns.insecure and ns.verify not in (None, "no", "false"):
        raise UsageError("--insecure and --verify exclude each other")
    verify: bool | str = True
    if ns.insecure:
        verify = False
    elif ns.verify is not None:
        lowered = ns.verify.lower()
        if lowered in ("yes", "true"):
            verify = True
        elif lowered in ("no", "false"):
            verify = False
        elif not os.path.exists(ns.verify):
            raise UsageError(f"--verify: no such CA bundle {ns.verify!r}")
        else:
            verify = ns.verify
    if ns.cert_key is not None and ns.cert is None:
        raise UsageError("--cert-key needs --cert")
    command.raw = ns.raw
    command.output = ns.output
    command.verbose = ns.verbose
    if ns.head_only:
        command.print_head, command.print_body = True, False
    elif ns.body_only:
        command.print_head, command.print_body = False, True
    command.pretty = ns.pretty
    command.progress = ns.progress
    command.timeout = ns.timeout
    command.follow = ns.follow
    command.max_redirects = ns.max_redirects
    command.proxy = ns.proxy
    command.verify = verify
    command.cert = ns.cert
    command.cert_key = ns.cert_key
    command.auth = ns.auth
    command.auth_type = ns.auth_type
    command.check_status = ns.check_status
    command.traceback = ns.traceback
    command.ignore_stdin = ns.ignore_stdin
    if method is None:
        method = "POST" if command.has_data or command.raw is not None else "GET"
    else:
        command.explicit_method = True
    command.method = method
    return command
