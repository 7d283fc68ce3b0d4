"""``IteratorStream``: a response body from a blocking iterable, as the async client reads one.

A blocking transport (``BaseTransport``, a WSGI app) produces a body as an iterable of
bytes, and may produce it slowly (a generator). reqivo-async reads bodies as an
``AsyncByteStream`` (``__aiter__`` and ``aclose``); this is one over such an iterable:

* on an event loop, each chunk is pulled in a worker thread (``_blocking.run_blocking``),
  so a slow producer does not stall the loop; the pulls of one body all run in the one
  ``contextvars`` context captured when the stream was made (a WSGI app's context
  variables live as long as its body);
* without a running loop (a ``Response`` built and read directly by blocking code), the
  chunks are pulled in place: nothing suspends, so the blocking ``read()`` just works;
* a list or tuple (a body already in memory) is never handed to a thread.

``aclose()`` calls the iterable's ``close()`` if it has one (PEP 3333 asks it of WSGI
servers), at most once; if a pull is still running in a worker thread (the read was
cancelled), after that pull returns.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from reqivo_sync._blocking import run_blocking

__all__ = ["IteratorStream"]

_END: Any = object()


class IteratorStream:
    """An ``AsyncByteStream`` over a blocking iterable of bytes chunks (see the module)."""

    __slots__ = ("_closed", "_context", "_iterable", "_lock")

    def __init__(self, iterable: Iterable[bytes]) -> None:
        if isinstance(iterable, bytes | bytearray | memoryview):
            iterable = (bytes(iterable),)  # one chunk, not a sequence of ints
        self._iterable = iterable
        self._context = contextvars.copy_context()
        # Held while a chunk is pulled or the iterable closed: a generator cannot be
        # closed while it runs (its pull may outlive a cancelled read).
        self._lock = threading.Lock()
        self._closed = False

    # The lock is taken outside the context: one context cannot be entered by two threads.
    def _pull(self, iterator: Iterator[bytes]) -> bytes:
        with self._lock:
            return self._context.run(next, iterator, _END)

    def _close(self, close: Callable[[], object]) -> None:
        with self._lock:
            self._context.run(close)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        iterable = self._iterable
        if isinstance(iterable, list | tuple):
            for chunk in iterable:
                if chunk:
                    yield bytes(chunk)
            return
        iterator = self._context.run(iter, iterable)
        pull = self._pull
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # read by blocking code, without a loop: pull in place
            while (chunk := pull(iterator)) is not _END:
                if chunk:
                    yield bytes(chunk)
            return
        while (chunk := await run_blocking(pull, iterator)) is not _END:
            if chunk:
                yield bytes(chunk)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._iterable, "close", None)
        if close is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._close(close)
            return
        if self._lock.locked():
            # A pull still runs (the read was cancelled): close once it is over, without
            # waiting for it here (the caller may be giving up on a slow producer).
            loop.run_in_executor(None, self._close_quietly, close)
            return
        await run_blocking(self._close, close)

    def _close_quietly(self, close: Callable[[], object]) -> None:
        try:
            self._close(close)
        except Exception:  # nobody waits for this close to report its failure
            return
