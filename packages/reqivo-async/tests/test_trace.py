"""Trace steps on their own: the no-op step, and a step used as ``async with``."""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_async._trace import NO_TRACE, Step, trace


async def test_without_a_callback_every_step_is_the_inert_singleton() -> None:
    step = trace(None, "connection.connect", host="h", port=1)
    assert step is NO_TRACE
    async with step as entered:
        entered.done(version="TLSv1.3")
    assert step.then("next") is NO_TRACE
    await step.started()
    await step.complete(status_code=200)
    await step.failed(ValueError("x"))


async def test_a_step_reports_start_then_complete_or_failure() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    callback = lambda event, info: seen.append((event, info))  # noqa: E731
    async with trace(callback, "connection.tls", server_hostname="h") as step:
        step.done(version="TLSv1.3")
    with pytest.raises(OSError, match="down"):
        async with trace(callback, "connection.connect"):
            raise OSError("down")
    body = Step(callback, "http11.response_body")  # never started: no elapsed
    await body.complete()
    names = [event for event, _ in seen]
    assert names == [
        "connection.tls.started",
        "connection.tls.complete",
        "connection.connect.started",
        "connection.connect.failed",
        "http11.response_body.complete",
    ]
    assert seen[0][1]["server_hostname"] == "h"
    assert seen[1][1]["version"] == "TLSv1.3" and seen[1][1]["elapsed"] >= 0
    assert isinstance(seen[3][1]["error"], OSError)
    assert sorted(seen[4][1]) == ["time"]
