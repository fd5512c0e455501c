"""Durations and date arithmetic: calendar months, business days.

Business days are the office's working days (workdays.py: no weekends, public
holidays of its country or closing days of its own); months use dateutil's
relativedelta, so 31 January plus one month is 28 or 29 February.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from dateutil.relativedelta import relativedelta

from procedo.nodeforms import form
from procedo.subjects import Labels
from procedo.workdays import WorkingDays

Unit = Literal["seconds", "minutes", "hours", "days", "business_days", "weeks", "months"]
UNIT_LABELS: tuple[tuple[str, Labels], ...] = (
    ("seconds", Labels("seconds", "seconden", "Sekunden")),
    ("minutes", Labels("minutes", "minuten", "Minuten")),
    ("hours", Labels("hours", "uren", "Stunden")),
    ("days", Labels("days", "dagen", "Tage")),
    ("business_days", Labels("business days", "werkdagen", "Werktage")),
    ("weeks", Labels("weeks", "weken", "Wochen")),
    ("months", Labels("months", "maanden", "Monate")),
)


class Duration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An amount of time; negative amounts count backwards (``due date - 3 days``)."""

    amount: Annotated[
        int,
        msgspec.Meta(ge=-100_000, le=100_000),
        form(
            Labels("Amount", "Aantal", "Anzahl"),
            Labels(
                "Negative counts backwards (due date - 3 days).",
                "Negatief telt terug (vervaldatum - 3 dagen).",
                "Negativ zählt rückwärts (Fälligkeit - 3 Tage).",
            ),
        ),
    ]
    unit: Annotated[Unit, form(Labels("Unit", "Eenheid", "Einheit"), options=UNIT_LABELS)]

    def describe(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if abs(self.amount) == 1 else unit}"


def add_business_days(moment: dt.datetime, count: int, days: WorkingDays) -> dt.datetime:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = moment
    while remaining:
        current += dt.timedelta(days=step)
        if days.is_working(current.date()):
            remaining -= 1
    return current


def add(moment: dt.datetime, duration: Duration, timezone: str, days: WorkingDays) -> dt.datetime:
    """``moment + duration``; days and months follow the tenant's wall clock (DST-safe)."""
    if duration.unit in ("seconds", "minutes", "hours"):
        return moment + dt.timedelta(**{duration.unit: duration.amount})
    local = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if duration.unit == "business_days":
        local = add_business_days(local, duration.amount, days)
    elif duration.unit == "months":
        local += relativedelta(months=duration.amount)
    else:
        local += dt.timedelta(**{duration.unit: duration.amount})
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(moment.tzinfo or dt.UTC)
