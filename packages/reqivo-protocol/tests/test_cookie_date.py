from __future__ import annotations

import calendar

import pytest

from reqivo_protocol._cookiedate import parse_cookie_date


def ts(*args: int) -> float:
    return float(calendar.timegm((*args, 0, 0, 0)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 09 Jun 2021 10:18:14 GMT", ts(2021, 6, 9, 10, 18, 14)),
        ("Wednesday, 09-Jun-21 10:18:14 GMT", ts(2021, 6, 9, 10, 18, 14)),
        ("Wed Jun  9 10:18:14 2021", ts(2021, 6, 9, 10, 18, 14)),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Thu, 01-Jan-70 00:00:01 GMT", 1.0),
        ("Sat, 01 Jan 2000 00:00:00 GMT", ts(2000, 1, 1, 0, 0, 0)),
        ("1 jAnUaRy 69 1:2:3", ts(2069, 1, 1, 1, 2, 3)),
        ("Tue, 29 Feb 2000 23:59:59 GMT", ts(2000, 2, 29, 23, 59, 59)),
        ("29 Feb 2024 00:00:00", ts(2024, 2, 29, 0, 0, 0)),
        ("Mon, 01 Jan 1601 00:00:00 GMT", ts(1601, 1, 1, 0, 0, 0)),
        ("31 Dec 9999 23:59:59", ts(9999, 12, 31, 23, 59, 59)),
        ("12:00:00xyz 5th Mar 2010", ts(2010, 3, 5, 12, 0, 0)),
        ("2010 Mar 05 12:00:00", ts(2010, 3, 5, 12, 0, 0)),
        ("Wed, 09 Jun 2021 10:18:14 GMT; garbage 99", ts(2021, 6, 9, 10, 18, 14)),
    ],
)
def test_valid_dates(text: str, expected: float) -> None:
    assert parse_cookie_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Wed, 09 Jun 2021 GMT",  # no time
        "Wed, Jun 2021 10:18:14 GMT",  # no day: 2021 is no day-of-month
        "Wed, 09 2021 10:18:14 GMT",  # no month
        "Wed, 09 Jun 10:18:14 GMT",  # no year
        "Wed, 32 Jun 2021 10:18:14 GMT",
        "Wed, 00 Jun 2021 10:18:14 GMT",
        "Wed, 31 Jun 2021 10:18:14 GMT",
        "29 Feb 2100 00:00:00",  # not a leap year
        "29 Feb 2023 00:00:00",
        "Wed, 09 Jun 2021 24:00:00 GMT",
        "Wed, 09 Jun 2021 10:60:00 GMT",
        "Wed, 09 Jun 2021 10:00:60 GMT",
        "Wed, 09 Jun 1600 10:00:00 GMT",
        "Wed, 09 Jun 12345 10:00:00 GMT",  # five-digit year is no year
    ],
)
def test_invalid_dates(text: str) -> None:
    assert parse_cookie_date(text) is None
