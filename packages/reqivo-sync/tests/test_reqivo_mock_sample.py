"""The ``reqivo_mock`` fixture on a sample project that uses both APIs, run by ``pytester``.

The sample module builds its own ``Session`` and ``AsyncSession`` (no ``transport=``):
the fixture reaches them through ``reqivo_async.transport.override_default_transport``.
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

SAMPLE = '''
"""A tiny client library: what a user's code under test looks like."""
from reqivo_async import AsyncSession
from reqivo_sync import Session

API = "https://weather.test/v1"


def forecast(city: str, days: int = 1) -> dict:
    with Session(base_url=API) as session:
        response = session.get("/forecast", params={"city": city, "days": days})
        response.raise_for_status()
        return response.json()


async def aforecast(city: str, days: int = 1) -> dict:
    async with AsyncSession(base_url=API) as session:
        response = await session.get("/forecast", params={"city": city, "days": days})
        response.raise_for_status()
        return response.json()


def report(city: str, text: str) -> int:
    with Session(base_url=API) as session:
        return session.post(f"/reports/{city}", json={"text": text}).status_code


async def areport(city: str, text: str) -> int:
    async with AsyncSession(base_url=API) as session:
        return (await session.post(f"/reports/{city}", json={"text": text})).status_code
'''

TESTS = r"""
import re

import pytest
from reqivo_async import HTTPStatusError, Response, TransportError

import weather

FORECAST = "https://weather.test/v1/forecast"


def test_sync_method_and_url(reqivo_mock):
    route = reqivo_mock.add_response(
        method="GET", url=FORECAST + "?city=Oslo&days=1", json={"t": -3}
    )
    assert weather.forecast("Oslo") == {"t": -3}
    assert route.call_count == 1


async def test_async_method_and_url(reqivo_mock):
    route = reqivo_mock.add_response(
        method="GET", url=FORECAST + "?days=1&city=Oslo", json={"t": -3}
    )
    assert await weather.aforecast("Oslo") == {"t": -3}
    assert route.call_count == 1


@pytest.mark.parametrize("api", ["sync", "async"])
async def test_query_and_regex(reqivo_mock, api):
    reqivo_mock.add_response(url=re.compile(".*/forecast"), params={"days": "3"}, json="3d")
    reqivo_mock.add_response(url=re.compile(r".*/forecast\?city=\w+&days=1$"), json="1d")
    for city, days, expected in [("Rome", 3, "3d"), ("Rome", 1, "1d"), ("Pisa", 3, "3d")]:
        if api == "sync":
            assert weather.forecast(city, days) == expected
        else:
            assert await weather.aforecast(city, days) == expected
    assert len(reqivo_mock.get_requests(params={"city": "Rome"})) == 2


@pytest.mark.parametrize("api", ["sync", "async"])
async def test_callback_and_call_counts(reqivo_mock, api):
    def created(request):
        city = request.url.path.rsplit("/", 1)[1]
        return Response(201 if request.content == b'{"text":"sunny"}' else 422,
                        content=city.encode())

    route = reqivo_mock.add_callback(created, method="POST", url=re.compile(".*/reports/"))
    call = weather.report if api == "sync" else weather.areport
    codes = [call("Oslo", "sunny"), call("Lima", "rain")]
    if api == "async":
        codes = [await code for code in codes]
    assert codes == [201, 422]
    assert route.call_count == 2
    assert [r.url.path for r in route.calls] == ["/v1/reports/Oslo", "/v1/reports/Lima"]


@pytest.mark.parametrize("api", ["sync", "async"])
async def test_status_errors_reach_the_code(reqivo_mock, api):
    reqivo_mock.add_response(url=re.compile(".*"), status_code=503)
    with pytest.raises(HTTPStatusError):
        if api == "sync":
            weather.forecast("Oslo")
        else:
            await weather.aforecast("Oslo")


def test_sync_unmatched_request_fails(reqivo_mock):
    reqivo_mock.add_response(url=FORECAST + "?city=Oslo&days=1", json={})
    with pytest.raises(TransportError, match="no route matches GET"):
        weather.forecast("Bergen")
    weather.forecast("Oslo")


async def test_async_unmatched_request_fails(reqivo_mock):
    with pytest.raises(TransportError, match=r"\(none registered\)"):
        await weather.aforecast("Bergen")


def test_sync_unused_route(reqivo_mock):
    reqivo_mock.add_response(method="POST", url="https://weather.test/v1/reports/Oslo")


async def test_async_unused_route(reqivo_mock):
    reqivo_mock.add_response(method="POST", url="https://weather.test/v1/reports/Lima")


@pytest.mark.reqivo_mock(assert_all_called=False)
def test_unused_route_allowed(reqivo_mock):
    reqivo_mock.add_response(method="POST", url="https://weather.test/v1/reports/Oslo")


def test_optional_route(reqivo_mock):
    reqivo_mock.add_response(url=re.compile(".*"), optional=True)
"""


def test_sample_project(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(weather=SAMPLE, test_weather=TESTS)
    pytester.syspathinsert()
    result = pytester.runpytest()
    # Every test passes; four fail at teardown: two unmatched requests (each raised a
    # TransportError the test expected) and two routes never called.
    result.assert_outcomes(passed=14, errors=4)
    result.stdout.fnmatch_lines_random(
        [
            "*ERROR at teardown of test_sync_unmatched_request_fails*",
            "*- GET https://weather.test/v1/forecast?city=Bergen&days=1",
            "*ERROR at teardown of test_async_unmatched_request_fails*",
            "*ERROR at teardown of test_sync_unused_route*",
            "*- <Route POST https://weather.test/v1/reports/Oslo (called 0 times)>",
            "*ERROR at teardown of test_async_unused_route*",
            "*- <Route POST https://weather.test/v1/reports/Lima (called 0 times)>",
        ]
    )
