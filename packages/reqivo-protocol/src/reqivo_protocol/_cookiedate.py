"""The cookie date algorithm of RFC 6265 section 5.1.1.

Servers write ``Expires`` in many shapes ("Wed, 09 Jun 2021 10:18:14 GMT",
"Wednesday, 09-Jun-21 10:18:14 GMT", "Wed Jun  9 10:18:14 2021"); the algorithm reads
all of them by looking for a time, a day of month, a month and a year among the tokens,
in that order of preference, whatever their order in the text.
"""

from __future__ import annotations

import re

__all__ = ["parse_cookie_date"]

# Delimiters: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E; a date-token is a run of
# anything else.
_tokens = re.compile(r"[^\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+").findall
_time = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9]|$)", re.DOTALL).match
_day = re.compile(r"([0-9]{1,2})(?:[^0-9]|$)", re.DOTALL).match
_year = re.compile(r"([0-9]{2,4})(?:[^0-9]|$)", re.DOTALL).match
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's method)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_cookie_date(text: str) -> float | None:
    """Seconds since the epoch for a cookie date, or ``None`` when it is not one."""
    time: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _tokens(text):
        if time is None:
            match = _time(token)
            if match is not None:
                time = (int(match[1]), int(match[2]), int(match[3]))
                continue
        if day is None:
            match = _day(token)
            if match is not None:
                day = int(match[1])
                continue
        if month is None:
            number = _MONTHS.get(token[:3].lower())
            if number is not None:
                month = number
                continue
        if year is None:
            match = _year(token)
            if match is not None:
                year = int(match[1])
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif year <= 69:
        year += 2000
    hour, minute, second = time
    if year < 1601 or hour > 23 or minute > 59 or second > 59 or day < 1:
        return None
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _DAYS_IN_MONTH[month - 1] + leap:
        return None
    return float(_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second)
