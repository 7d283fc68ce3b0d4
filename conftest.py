"""The event loop as a test-matrix axis, for every suite of the workspace.

``--loop=asyncio|uvloop`` (default asyncio) chooses the loop that runs the async tests:
pytest-asyncio's tests and async fixtures (through its ``pytest_asyncio_loop_factories``
hook, registered only for uvloop so that the default run is untouched) and the dual
suites' own ``asyncio.Runner`` in async mode (through the ``loop_factory`` fixture).
Servers that fixtures start in threads or subprocesses keep their own loops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the event loop the async tests run on (default: asyncio's own)",
    )


def _factory(config: pytest.Config) -> LoopFactory | None:
    if config.getoption("--loop") != "uvloop":
        return None
    import uvloop

    return uvloop.new_event_loop


class _UvloopTests:
    """pytest-asyncio's hook: every async test and fixture gets a uvloop loop."""

    def __init__(self, factory: LoopFactory) -> None:
        self._factory = factory

    def pytest_asyncio_loop_factories(
        self, config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, LoopFactory]:
        return {"uvloop": self._factory}


def pytest_configure(config: pytest.Config) -> None:
    factory = _factory(config)
    if factory is not None:
        config.pluginmanager.register(_UvloopTests(factory), "reqivo-uvloop")


def pytest_report_header(config: pytest.Config) -> str:
    return f"event loop: {config.getoption('--loop')}"


@pytest.fixture(scope="session")
def loop_factory(pytestconfig: pytest.Config) -> LoopFactory | None:
    """What a test's own ``asyncio.Runner(loop_factory=...)`` uses: ``None`` is asyncio's."""
    return _factory(pytestconfig)
