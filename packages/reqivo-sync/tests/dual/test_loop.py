"""The ``--loop`` option reaches the dual suite's async mode (the facade's own runner)."""

from __future__ import annotations

import pytest

from .conftest import MakeClient


def test_async_mode_runs_on_the_chosen_loop(
    make_client: MakeClient, pytestconfig: pytest.Config
) -> None:
    client = make_client()
    runner = client._runner
    if client.mode == "sync":
        assert runner is None
    else:
        assert runner is not None
        loop_module = type(runner.get_loop()).__module__.partition(".")[0]
        assert loop_module == pytestconfig.getoption("--loop")
