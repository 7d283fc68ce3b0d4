"""The ``--loop`` option reaches the dual suite's async mode (the ``runner`` fixture)."""

from __future__ import annotations

import asyncio

import pytest


def test_async_mode_runs_on_the_chosen_loop(
    runner: asyncio.Runner | None, mode: str, pytestconfig: pytest.Config
) -> None:
    if mode == "sync":
        assert runner is None
    else:
        assert runner is not None
        loop_module = type(runner.get_loop()).__module__.partition(".")[0]
        assert loop_module == pytestconfig.getoption("--loop")
