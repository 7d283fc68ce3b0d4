"""The ``reqivo_mock`` pytest fixture: a ``ReqivoMock`` active for one test.

Registered as the ``pytest11`` entry point ``reqivo`` of reqivo-async (install
``reqivo-async[testing]``, which brings pytest): every session the test builds without
``transport=``, ``AsyncSession`` or ``reqivo_sync.Session``, sends through it::

    def test_users(reqivo_mock):
        reqivo_mock.add_response(method="GET", url="https://api.test/users", json=[])
        assert fetch_users() == []

At teardown, a request that matched no route, or a route never called, fails the test
(``ReqivoMock.check``). The marker ``@pytest.mark.reqivo_mock(assert_all_called=False,
assert_all_mocked=False)`` sets the options of the ``ReqivoMock``, on a test, a class
or a module (``pytestmark``).

Importing this module loads nothing of reqivo-async: pytest loads it in every run of a
project that has reqivo-async installed, and only a test asking for the fixture pays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from reqivo_async.testing import ReqivoMock

__all__ = ["reqivo_mock"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reqivo_mock(assert_all_called=True, assert_all_mocked=True): "
        "options of the reqivo_mock fixture",
    )


@pytest.fixture
def reqivo_mock(request: pytest.FixtureRequest) -> Iterator[ReqivoMock]:
    """Route the requests of every session built during the test (see ``ReqivoMock``)."""
    from reqivo_async.testing import ReqivoMock

    marker = request.node.get_closest_marker("reqivo_mock")
    if marker is not None and marker.args:
        raise TypeError("the reqivo_mock marker takes keyword arguments only")
    mock = ReqivoMock(**(marker.kwargs if marker is not None else {}))
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()
    try:
        mock.check()
    except AssertionError as failure:
        message = str(failure)
    else:
        return
    pytest.fail(message, pytrace=False)  # outside ``except``: no chained traceback
