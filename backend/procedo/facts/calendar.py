"""Today, days between dates, business days: the calendar both fact compilers share.

"Today" is the tenant's date at a moment (its time zone, so 23:30 UTC on a summer
evening is already tomorrow in Amsterdam). Business days are the office's working
days (workdays.py): no weekends, public holidays of its country or closing days of
its own. The SQL side cannot call the ``holidays`` package, so both sides take the
same list of days off: those falling on a weekday in the ``HOLIDAY_YEARS`` years up
to next year. Business-day ages reaching further back than that count the older
holidays as business days.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Final
from zoneinfo import ZoneInfo

from procedo.workdays import WorkingDays

# Day numbers count from this Monday, so a weekday is the day number modulo 7.
DAY_ZERO: Final = dt.date(1900, 1, 1)


class Calendar:
    """The tenant's "today" and holidays for one evaluation."""

    def __init__(self, now: dt.datetime, timezone: str, days: WorkingDays) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.now = now
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.today = now.astimezone(self.zone).date()
        self.working_days = days
        self.holidays = days.days_off(self.today.year)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def age(self, since: dt.date, business: bool) -> int:
        """Days from ``since`` to today (negative when ``since`` lies ahead)."""
        if not business:
            return (self.today - since).days
        return business_days_between(since, self.today, self.holidays)


def day_number(day: dt.date) -> int:
    return (day - DAY_ZERO).days


def weekdays_before(number: int) -> int:
    """How many of the day numbers 0 .. number-1 fall on a weekday (day 0 is a Monday)."""
    weeks, rest = divmod(number, 7)
    return weeks * 5 + min(rest, 5)


def business_days_between(start: dt.date, end: dt.date, holidays: tuple[dt.date, ...]) -> int:
    """Business days after ``start`` up to and including ``end``; negative when end < start."""
    if end < start:
        return -business_days_between(end, start, holidays)
    weekdays = weekdays_before(day_number(end) + 1) - weekdays_before(day_number(start) + 1)
    off = bisect_right(holidays, end) - bisect_right(holidays, start)
    return weekdays - off
