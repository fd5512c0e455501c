"""Working days: weekdays that are neither a public holiday of the office's country nor
one of the office's own closing days.

Public holidays come from the ``holidays`` package; closing days (the week between
Christmas and New Year, a company outing) are the tenant's own list, set on the
Settings page. Business-day waits and deadlines (durations.py) and ages counted in
working days (facts/calendar.py, in Python and in SQL) all ask this one value, so a
closing day moves them alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from holidays import HolidayBase

# Fact ages count holidays this many years back (the SQL side takes the list as data).
HOLIDAY_YEARS: Final = 12


@dataclass(frozen=True)
class WorkingDays:
    country: str = "NL"
    closed: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working(self, day: dt.date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.closed
            and day not in public_holidays(self.country, day.year)
        )

    def days_off(self, this_year: int) -> tuple[dt.date, ...]:
        """Holidays and closing days on weekdays, HOLIDAY_YEARS back to next year, sorted."""
        return _days_off(self.country, this_year, self.closed)


@cache
def public_holidays(country: str, year: int) -> HolidayBase:
    import holidays  # a large package: loaded only when working days are counted

    return holidays.country_holidays(country, years=year)


@cache
def _weekday_holidays(country: str, this_year: int) -> tuple[dt.date, ...]:
    import holidays

    years = range(this_year - HOLIDAY_YEARS + 1, this_year + 2)
    found = holidays.country_holidays(country, years=years)
    return tuple(sorted(day for day in found if day.weekday() < 5))


@lru_cache(maxsize=1024)  # per tenant: the country and its closing days
def _days_off(country: str, this_year: int, closed: frozenset[dt.date]) -> tuple[dt.date, ...]:
    public = _weekday_holidays(country, this_year)
    if not closed:
        return public
    first, last = dt.date(this_year - HOLIDAY_YEARS + 1, 1, 1), dt.date(this_year + 1, 12, 31)
    own = {day for day in closed if day.weekday() < 5 and first <= day <= last}
    return tuple(sorted(own.union(public)))
