"""Reporting periods of recurring work (K5): a month "2026-11" or a quarter "2026-Q4".

A run started for a period carries it in its variables, so templates print
``{{ vars.period }}`` and rules test ``vars.period_end``:

    period        "2026-11" or "2026-Q4"
    period_start  the first day, ISO ("2026-10-01")
    period_end    the last day, ISO ("2026-12-31")
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from dateutil.relativedelta import relativedelta

Rhythm = Literal["month", "quarter"]
RHYTHMS: tuple[Rhythm, ...] = ("month", "quarter")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class BadPeriod(ValueError):
    """A period that is neither YYYY-MM nor YYYY-Qn."""


@dataclass(frozen=True, order=True)
class Period:
    year: int
    # The first month of the period (1-12); a quarter starts in 1, 4, 7 or 10.
    first_month: int
    rhythm: Rhythm

    @classmethod
    def parse(cls, text: str) -> Period:
        if found := _MONTH.match(text):
            return cls(int(found[1]), int(found[2]), "month")
        if found := _QUARTER.match(text):
            return cls(int(found[1]), (int(found[2]) - 1) * 3 + 1, "quarter")
        raise BadPeriod(
            f"'{text}' is not a period: write a month as 2026-11 or a quarter as 2026-Q4"
        )

    @classmethod
    def containing(cls, day: dt.date, rhythm: Rhythm) -> Period:
        if rhythm == "month":
            return cls(day.year, day.month, "month")
        return cls(day.year, (day.month - 1) // 3 * 3 + 1, "quarter")

    @classmethod
    def before(cls, day: dt.date, rhythm: Rhythm) -> Period:
        """The last whole period before ``day``: the one a VAT return filed then is for."""
        return cls.containing(day, rhythm).shift(-1)

    @property
    def months(self) -> int:
        return 1 if self.rhythm == "month" else 3

    def shift(self, steps: int) -> Period:
        index = self.year * 12 + self.first_month - 1 + steps * self.months
        return Period(index // 12, index % 12 + 1, self.rhythm)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        return self.shift(1).start - dt.timedelta(days=1)

    def __str__(self) -> str:
        if self.rhythm == "month":
            return f"{self.year}-{self.first_month:02d}"
        return f"{self.year}-Q{(self.first_month - 1) // 3 + 1}"

    def variables(self) -> dict[str, str]:
        """What a run for this period knows as ``vars``."""
        return {
            "period": str(self),
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
        }


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or that month's last day when it is shorter (31 Jan + 1)."""
    moved: dt.date = day + relativedelta(months=months)
    return moved


def of_schedule(every: str, at: dt.datetime, timezone: str) -> Period | None:
    """The period a scheduled run at ``at`` is for: the last whole month or quarter.

    A flow scheduled on the 1st of each month runs for the month just ended; other
    rhythms (daily, weekly, yearly) carry no period.
    """
    if every not in RHYTHMS:
        return None
    from zoneinfo import ZoneInfo

    rhythm: Rhythm = "month" if every == "month" else "quarter"
    return Period.before(at.astimezone(ZoneInfo(timezone)).date(), rhythm)
