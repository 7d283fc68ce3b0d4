"""The ``reqivo_mock`` fixture, run by pytest itself (``pytester``) on small test files.

reqivo-sync's tests run it on a sample project that uses both APIs
(``packages/reqivo-sync/tests/test_reqivo_mock_sample.py``); these cover the fixture's own
paths with ``AsyncSession``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_the_plugin_is_registered_by_its_entry_point(project: pytest.Pytester) -> None:
    project.makepyfile("def test_nothing(reqivo_mock):\n    assert not reqivo_mock.routes\n")
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["*reqivo_mock(assert_all_called=True, assert_all_mocked=True)*"])
    project.runpytest().assert_outcomes(passed=1)


def test_routes_calls_and_teardown_checks(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from reqivo_async import AsyncSession, TransportError

        async def test_routed(reqivo_mock):
            route = reqivo_mock.add_response(method="GET", url="https://api.test/a", json=1)
            async with AsyncSession() as session:
                assert (await session.get("https://api.test/a")).json() == 1
            assert route.call_count == 1

        async def test_unmatched_swallowed(reqivo_mock):
            async with AsyncSession() as session:
                try:
                    await session.get("https://api.test/nowhere")
                except TransportError:
                    pass

        def test_unused(reqivo_mock):
            reqivo_mock.add_response(method="DELETE", url="https://api.test/gone")

        @pytest.mark.reqivo_mock(assert_all_called=False)
        def test_unused_allowed(reqivo_mock):
            reqivo_mock.add_response(url="https://api.test/gone")

        @pytest.mark.reqivo_mock(assert_all_mocked=False)
        async def test_unmatched_allowed(reqivo_mock):
            async with AsyncSession() as session:
                assert (await session.get("https://api.test/x")).status_code == 200
        """
    )
    result = project.runpytest("-rA")
    result.assert_outcomes(passed=5, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unmatched_swallowed*",
            "*1 request(s) matched no route:",
            "*- GET https://api.test/nowhere",
            "*ERROR at teardown of test_unused*",
            "*1 route(s) never called*",
            "*- <Route DELETE https://api.test/gone (called 0 times)>",
        ]
    )
    assert "During handling" not in result.stdout.str()  # one message, no chained traceback


def test_marker_on_a_module_and_a_bad_marker(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_module="""
        import pytest
        pytestmark = pytest.mark.reqivo_mock(assert_all_called=False)

        def test_unused(reqivo_mock):
            reqivo_mock.add_response(url="https://api.test/gone")
        """,
        test_bad="""
        import pytest

        @pytest.mark.reqivo_mock(False)
        def test_positional(reqivo_mock):
            pass

        @pytest.mark.reqivo_mock(no_such_option=True)
        def test_unknown(reqivo_mock):
            pass
        """,
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*TypeError: the reqivo_mock marker takes keyword arguments only*",
            "*TypeError: *unexpected keyword argument 'no_such_option'*",
        ]
    )


def test_sessions_outside_the_fixture_are_not_routed(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        from reqivo_async import AsyncSession, MockTransport

        def test_without_fixture():
            session = AsyncSession()
            assert type(session.transport).__name__ == "AsyncConnectionPool"

        def test_explicit_transport_wins(reqivo_mock):
            mock = MockTransport(lambda request: None)
            assert AsyncSession(transport=mock).transport is mock
        """
    )
    project.runpytest().assert_outcomes(passed=2)
