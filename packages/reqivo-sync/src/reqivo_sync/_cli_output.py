"""What the ``reqivo`` command prints: message heads, bodies, colours, JSON formatting.

Two modes. On a terminal (stdout is a TTY, or ``FORCE_COLOR`` is set): the response
head and body, a coloured status line, JSON pretty-printed and highlighted (with
``rich`` when it is installed, else a small built-in highlighter), binary bodies
replaced by a note. Piped: the body's bytes exactly as received (decoded from their
Content-Encoding), no escape codes, nothing else unless asked for (``-v``, ``-h``).
``NO_COLOR`` turns colours off and keeps the formatting.
"""

from __future__ import annotations

import codecs
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = [
    "Style",
    "Writer",
    "decide_style",
    "format_request_head",
    "format_response_head",
    "write_body",
]

_RESET = "\x1b[0m"
_STATUS_COLORS = {1: "\x1b[1;34m", 2: "\x1b[1;32m", 3: "\x1b[1;33m", 4: "\x1b[1;31m"}
_NAME = "\x1b[36m"
_METHOD = "\x1b[1;35m"
_DIM = "\x1b[2m"
#: Bodies up to this size are buffered to be pretty-printed as JSON; larger ones stream.
_FORMAT_LIMIT = 8 * 1024 * 1024
_BINARY_NOTE = (
    "+-----------------------------------------+\n"
    "| NOTE: binary data not shown in terminal |\n"
    "+-----------------------------------------+\n"
)


@dataclass(frozen=True, slots=True)
class Style:
    """How output looks: ``terminal`` (heads by default), ``colors``, ``format`` (JSON)."""

    terminal: bool
    colors: bool
    format: bool


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "") not in ("", "0")


def decide_style(pretty: str, stdout_tty: bool, env: Mapping[str, str] | None = None) -> Style:
    """The :class:`Style` for ``--pretty`` given whether stdout is a terminal."""
    env = os.environ if env is None else env
    terminal = stdout_tty or _env_flag(env, "FORCE_COLOR")
    if pretty == "auto":
        return Style(terminal, terminal and not env.get("NO_COLOR"), terminal)
    return Style(terminal, pretty in ("all", "colors"), pretty in ("all", "format"))


class Writer:
    """Text and bytes to one text stream, in order (bytes go to its ``buffer``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._buffer = getattr(stream, "buffer", None)

    def text(self, data: str) -> None:
        """Write ``data``."""
        self.stream.write(data)

    def bytes(self, data: bytes) -> None:
        """Write ``data`` unchanged (decoded as UTF-8 if the stream has no buffer)."""
        if self._buffer is None:
            self.stream.write(data.decode("utf-8", "replace"))
            return
        self.stream.flush()
        self._buffer.write(data)

    def flush(self) -> None:
        """Flush the stream (and its buffer)."""
        self.stream.flush()
        if self._buffer is not None:
            self._buffer.flush()


def _paint(text: str, code: str, style: Style) -> str:
    return f"{code}{text}{_RESET}" if style.colors else text


def _fields(pairs: Iterable[tuple[str, str]], style: Style) -> list[str]:
    return [f"{_paint(name, _NAME, style)}: {value}" for name, value in pairs]


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return list(headers.multi_items()) if hasattr(headers, "multi_items") else list(headers.items())


def format_response_head(response: Any, style: Style) -> str:
    """``HTTP/1.1 200 OK`` and the header lines of ``response``, then a blank line."""
    line = f"{response.http_version} {response.status_code} {response.reason}".rstrip()
    color = _STATUS_COLORS.get(response.status_code // 100, _STATUS_COLORS[4])
    lines = [_paint(line, color, style), *_fields(_header_pairs(response.headers), style)]
    return "\n".join(lines) + "\n\n"


def format_request_head(request: Any, style: Style) -> str:
    """The request line and header lines of ``request`` as sent, then a blank line."""
    url = request.url
    pairs = _header_pairs(request.headers)
    lowered = {name.lower() for name, _ in pairs}
    if "host" not in lowered:
        pairs.insert(0, ("Host", url.netloc))
    stream = getattr(request, "stream", None)
    length = getattr(stream, "length", 0)
    if not {"content-length", "transfer-encoding"} & lowered:
        if length is None:
            pairs.append(("Transfer-Encoding", "chunked"))
        elif length or request.method not in ("GET", "HEAD", "OPTIONS", "DELETE", "TRACE"):
            pairs.append(("Content-Length", str(length)))
    line = f"{_paint(request.method, _METHOD, style)} {url.target} HTTP/1.1"
    return "\n".join([line, *_fields(pairs, style)]) + "\n\n"


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    if not content_type:
        return "", None
    media, _, params = content_type.partition(";")
    charset = re.search(r"charset=\"?([\w.:-]+)", params, re.IGNORECASE)
    return media.strip().lower(), charset.group(1) if charset else None


def _is_json(media: str) -> bool:
    return media.endswith(("/json", "+json"))


_TOKENS = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
)
_TOKEN_COLORS = {"key": "\x1b[1;34m", "str": "\x1b[32m", "num": "\x1b[36m", "lit": "\x1b[1;33m"}


def _highlight_plain(text: str) -> str:
    def paint(match: re.Match[str]) -> str:
        kind = match.lastgroup or "str"
        return f"{_TOKEN_COLORS[kind]}{match.group()}{_RESET}"

    return _TOKENS.sub(paint, text)


def highlight_json(text: str) -> str:
    """``text`` (formatted JSON) with ANSI colours: rich's highlighter when installed."""
    try:
        from rich.console import Console
        from rich.highlighter import JSONHighlighter
    except ImportError:
        return _highlight_plain(text)
    console = Console(force_terminal=True, color_system="standard", width=10_000, soft_wrap=True)
    with console.capture() as capture:
        console.print(JSONHighlighter()(text), end="")
    return capture.get()


def _format_json(data: bytes, charset: str | None, style: Style) -> str | None:
    try:
        value = json.loads(data.decode(charset or "utf-8"))
    except (ValueError, LookupError):
        return None
    text = json.dumps(value, indent=4, ensure_ascii=False)
    return highlight_json(text) if style.colors else text


def _looks_binary(chunk: bytes) -> bool:
    return b"\x00" in chunk


def write_body(
    writer: Writer, chunks: Iterator[bytes], content_type: str | None, style: Style
) -> None:
    """Write a response (or request) body: as bytes when piped, as text on a terminal."""
    if not style.terminal and not style.format:
        for chunk in chunks:
            writer.bytes(chunk)
        writer.flush()
        return
    media, charset = _media_type(content_type)
    first = next(chunks, b"")
    if _looks_binary(first):
        for _ in chunks:  # drain: the connection can then be reused or closed cleanly
            pass
        writer.text(_BINARY_NOTE)
        return
    if style.format and (_is_json(media) or first.lstrip()[:1] in (b"{", b"[")):
        buffered = bytearray(first)
        for chunk in chunks:
            buffered += chunk
            if len(buffered) > _FORMAT_LIMIT:
                break
        else:
            formatted = _format_json(bytes(buffered), charset, style)
            if formatted is not None:
                writer.text(formatted + "\n")
                return
        first, chunks = bytes(buffered), chunks
    try:
        decoder = codecs.getincrementaldecoder(charset or "utf-8")("replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
    last = ""
    for chunk in itertools.chain((first,), chunks):
        text = decoder.decode(chunk)
        if text:
            writer.text(text)
            last = text
    tail = decoder.decode(b"", final=True)
    writer.text(tail)
    if (tail or last) and not (tail or last).endswith("\n"):
        writer.text("\n")
    writer.flush()
