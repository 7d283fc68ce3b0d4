"""The download progress bar of ``reqivo -o FILE``: size, rate and ETA on stderr.

On a terminal, with ``rich`` installed (the ``reqivo-sync[cli]`` extra), it is rich's
progress bar; without rich a one-line text bar redrawn with ``\\r`` at most ten times a
second. Not on a terminal (``--progress`` into a log), the final bar is written once. Either
way the last line is the same summary, e.g.
``Downloaded 1.0 MB to out.bin in 0.21 s (4.9 MB/s)``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Protocol, TextIO

__all__ = ["Progress", "format_size", "start_progress", "summary"]

_REDRAW_EVERY = 0.1  # seconds between two redraws of the plain bar
_BAR_WIDTH = 24


def format_size(size: float) -> str:
    """``size`` bytes in decimal units: ``"512 B"``, ``"1.5 kB"``, ``"3.0 MB"``."""
    if size < 1000:
        return f"{int(size)} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            break
    return f"{size:.1f} {unit}"


def _format_eta(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def summary(received: int, target: str, elapsed: float) -> str:
    """The closing line of a download."""
    rate = received / elapsed if elapsed > 0 else 0.0
    return (
        f"Downloaded {format_size(received)} to {target} in {elapsed:.2f} s ({format_size(rate)}/s)"
    )


class Progress(Protocol):
    """A progress display: ``advance`` per chunk, ``finish`` once (prints the summary)."""

    def advance(self, size: int) -> None: ...

    def finish(self) -> None: ...


class _PlainProgress:
    """``\\r 42% [##########--------------]  4.2 MB / 10.0 MB  8.1 MB/s  ETA 0:01``."""

    def __init__(self, total: int | None, target: str, stream: TextIO, live: bool) -> None:
        self.live = live
        self.total = total
        self.target = target
        self.stream = stream
        self.received = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.received / elapsed
        total = self.total
        if total:
            done = min(self.received / total, 1.0)
            filled = int(done * _BAR_WIDTH)
            eta = _format_eta((total - self.received) / rate) if rate else "-:--"
            line = (
                f"{done * 100:3.0f}% [{'#' * filled}{'-' * (_BAR_WIDTH - filled)}]"
                f"  {format_size(self.received)} / {format_size(total)}"
                f"  {format_size(rate)}/s  ETA {eta}"
            )
        else:
            line = f"{format_size(self.received)}  {format_size(rate)}/s"
        self.stream.write(("\r" if self.live else "") + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()
        self._drawn = now

    def advance(self, size: int) -> None:
        self.received += size
        if self.live:
            now = time.monotonic()
            if now - self._drawn >= _REDRAW_EVERY:
                self._draw(now)

    def finish(self) -> None:
        now = time.monotonic()
        self._draw(now)
        self.stream.write("\n" + summary(self.received, self.target, now - self.started) + "\n")
        self.stream.flush()


class _RichProgress:
    """rich's bar with the downloaded size, the transfer rate and the time remaining."""

    def __init__(self, total: int | None, target: str, stream: TextIO, colors: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichBar

        self.console = Console(file=stream, force_terminal=True, no_color=not colors)
        self.bar: Any = RichBar(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            "[progress.percentage]{task.percentage:>3.0f}%",
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=10,
        )
        self.target = target
        self.received = 0
        self.started = time.monotonic()
        self.task = self.bar.add_task(os.path.basename(target) or target, total=total)
        self.bar.start()

    def advance(self, size: int) -> None:
        self.received += size
        self.bar.update(self.task, advance=size)

    def finish(self) -> None:
        self.bar.update(self.task, total=self.received)
        self.bar.stop()
        elapsed = time.monotonic() - self.started
        self.console.file.write(summary(self.received, self.target, elapsed) + "\n")
        self.console.file.flush()


def start_progress(
    total: int | None, target: str, stream: TextIO, *, live: bool, colors: bool
) -> Progress:
    """A started progress display for a download of ``total`` bytes (None: unknown).

    ``live``: redraw while the download runs (a terminal); else only the final bar and
    the summary are written, once, as plain text (a log file, a pipe).
    """
    if live:
        try:
            import rich.progress  # noqa: F401
        except ImportError:
            pass
        else:
            return _RichProgress(total, target, stream, colors)
    return _PlainProgress(total, target, stream, live)
