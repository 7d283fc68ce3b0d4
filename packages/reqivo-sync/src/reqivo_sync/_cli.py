"""``reqivo``: send an HTTP request from the command line (``pip install reqivo-sync[cli]``).

    reqivo [OPTIONS] [METHOD] URL [ITEM ...]

The modules: :mod:`._cli_args` parses the command line, :mod:`._cli_client` is the one
call into the library, :mod:`._cli_output` prints heads and bodies, and
:mod:`._cli_progress` draws the download bar. This module runs them and turns every
failure into one line on stderr and an exit code (the table is in ``reqivo --help``
and ``docs/cli.md``).
"""

from __future__ import annotations

import os
import stat
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from reqivo_sync._cli_args import Command, UsageError, parse_args
from reqivo_sync._cli_client import Body, build_body, exchange
from reqivo_sync._cli_output import (
    Style,
    Writer,
    decide_style,
    format_request_head,
    format_response_head,
    write_body,
)
from reqivo_sync._cli_progress import start_progress, summary

__all__ = [
    "EXIT_ERROR",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_TOO_MANY_REDIRECTS",
    "EXIT_USAGE",
    "exit_code_for",
    "main",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_REDIRECTS = 6
EXIT_NETWORK = 7
EXIT_INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> int:
    """The exit code of a failure (see the table in ``reqivo --help``)."""
    from reqivo_protocol import InvalidURL, TooManyRedirects, TransportError

    if isinstance(exc, UsageError | InvalidURL):
        return EXIT_USAGE
    if isinstance(exc, TooManyRedirects):
        return EXIT_TOO_MANY_REDIRECTS
    if isinstance(exc, TransportError):
        return EXIT_NETWORK
    return EXIT_ERROR


def _describe(exc: BaseException) -> str:
    from reqivo_protocol import ReqivoError, RequestError

    message = str(exc) or type(exc).__name__
    if isinstance(exc, UsageError):
        return message
    if isinstance(exc, RequestError) and exc.request is not None:
        message = f"{message} ({exc.request.method} {exc.request.url})"
    if isinstance(exc, ReqivoError):
        return f"{type(exc).__name__}: {message}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or message}: {exc.filename}"
    return f"{type(exc).__name__}: {message}"


def _status_exit(status: int, command: Command) -> int:
    """``--check-status``: 3, 4 or 5 for a 3xx (not followed), 4xx or 5xx response."""
    if not command.check_status:
        return EXIT_OK
    kind = status // 100
    if kind == 3 and not command.follow:
        return 3
    return kind if kind in (4, 5) else EXIT_OK


def _stdin_body(command: Command) -> bytes | None:
    """Read stdin when it is the body: ``--raw -``, or piped in with no other body."""
    if command.raw == "-":
        return sys.stdin.buffer.read()
    if command.raw is not None or command.has_data or command.ignore_stdin:
        return None
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return None  # no real stdin (closed, or replaced by a test harness)
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return None  # a terminal or /dev/null: nothing was piped in
    return sys.stdin.buffer.read() or None


def _print_request(writer: Writer, request: Any, body: Body | None, style: Style) -> None:
    writer.text(format_request_head(request, style))
    if body is None:
        return
    if body.preview:
        write_body(writer, iter([body.preview]), request.headers.get("content-type"), style)
        writer.text("\n")
    elif body.kwargs:
        writer.text("(a streamed body: uploads and files are not shown)\n\n")


def _download(chunks: Any, response: Any, command: Command, style: Style) -> None:
    """Save the body to ``command.output``, with a progress bar when one is wanted."""
    assert command.output is not None
    total: int | None = None
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and "content-encoding" not in response.headers:
        total = int(length)
    live = sys.stderr.isatty() or style.terminal
    show = live if command.progress is None else command.progress
    progress = (
        start_progress(total, command.output, sys.stderr, live=live, colors=style.colors)
        if show
        else None
    )
    started = time.monotonic()
    received = 0
    with open(command.output, "wb") as file:
        for chunk in chunks:
            file.write(chunk)
            received += len(chunk)
            if progress is not None:
                progress.advance(len(chunk))
    if progress is not None:
        progress.finish()
    elif style.terminal:
        sys.stderr.write(summary(received, command.output, time.monotonic() - started) + "\n")


def _run(command: Command) -> int:
    stdin = _stdin_body(command)
    if stdin is not None and not command.explicit_method:
        command.method = "POST"
    body = build_body(command, stdin)
    style = decide_style(command.pretty, sys.stdout.isatty())
    writer = Writer(sys.stdout)
    show_head = command.print_head if command.print_head is not None else style.terminal
    show_body = command.print_body if command.print_body is not None else True
    if command.verbose:
        show_head = True
    with exchange(command, body) as ex:
        response = ex.response
        if command.verbose:
            for hop in response.history:
                _print_request(writer, hop.request, None, style)
                writer.text(format_response_head(hop, style))
            _print_request(writer, response.request, body if not response.history else None, style)
        if show_head:
            writer.text(format_response_head(response, style))
        if command.output is not None:
            writer.flush()
            _download(ex.chunks, response, command, style)
        elif show_body:
            write_body(writer, ex.chunks, response.headers.get("content-type"), style)
        writer.flush()
        code = _status_exit(response.status_code, command)
        if code and not sys.stdout.isatty():
            line = f"{response.http_version} {response.status_code} {response.reason}".strip()
            sys.stderr.write(f"reqivo: warning: {line}\n")
        return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reqivo`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    show_traceback = "--traceback" in args
    try:
        command = parse_args(args)
    except UsageError as exc:
        sys.stderr.write(f"reqivo: error: {exc}\n(see reqivo --help)\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        return _run(command)
    except KeyboardInterrupt:
        sys.stderr.write("reqivo: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (reqivo ... | head): not an error worth a line.
        _silence_stdout()
        return EXIT_ERROR
    except Exception as exc:
        if show_traceback:
            traceback.print_exc()
        sys.stderr.write(f"reqivo: error: {_describe(exc)}\n")
        return exit_code_for(exc)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
