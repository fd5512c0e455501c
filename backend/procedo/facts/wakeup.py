"""When a rule over a subject's computed facts can next become true by the clock alone.

Between two changes of its rows, a subject's facts still move at the tenant's midnight:
an age (``oldest_overdue_days``, the D.I.P.) grows by one each calendar or business day,
and an aggregate filtered on due dates (``procedure_due_date``) changes the day an item
falls due or overdue. Nothing else moves with time: history and task counts change only
when rows do, and those changes raise subject events.

``next_true_day`` finds the first day on which a rule holds, assuming no row changes,
without stepping through every day: it jumps between the days on which something can
flip (an item's due date and the day after it; the days an age reaches one of the
numbers the rule compares it with) and evaluates the rule there on the facts
``facts.python.compute`` gives for that day. So a wait wakes once, at the right
midnight, instead of polling.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from procedo.facts.calendar import Calendar, business_days_between
from procedo.facts.declared import Computed
from procedo.facts.model import Activity, Age, Aggregate, Tasks
from procedo.facts.moving import clock_fields
from procedo.facts.python import ItemRow, compute
from procedo.rules.evaluate import _FAIL, _to_date, evaluate
from procedo.rules.model import ListValue, Rule, TodayValue, compares, has_today, literal_python
from procedo.rules.today import today_is
from procedo.workdays import WorkingDays

# Farther ahead than this a wake-up is not planned (a rule that holds in 10 years).
HORIZON_DAYS: Final = 3660
# At most this many days are tried (each costs one evaluation of the facts).
MAX_HOPS: Final = 2000


def _thresholds(rule: Rule, name: str) -> set[int]:
    """The whole numbers around which a comparison of ``name`` with a literal can flip."""
    found: set[int] = set()
    for compare in compares(rule):
        if compare.field != f"subject.{name}" or compare.value is None:
            continue
        raw = literal_python(compare.value)
        for value in raw if isinstance(raw, list) else [raw]:
            if isinstance(value, Decimal | int) and not isinstance(value, bool):
                low = math.floor(value)
                found.update((low - 1, low, low + 1, math.ceil(value) + 1))
    return found


class Projection:
    """A subject's facts on days to come, if none of its rows changes meanwhile."""

    def __init__(
        self,
        computed: Sequence[Computed],
        stored: Mapping[str, Any],
        today: Mapping[str, Any],
        items: Sequence[ItemRow],
        timezone: str,
        days: WorkingDays,
    ) -> None:
        # History and task counts do not move with time: today's values stand in for them.
        self.computed = [c for c in computed if not isinstance(c.fact, Activity | Tasks)]
        projected = {c.name for c in self.computed}
        fixed = {c.name: today.get(c.name) for c in computed if c.name not in projected}
        self.base = {**stored, **fixed}
        self.items = items
        self.zone = ZoneInfo(timezone)
        self.timezone, self.working_days = timezone, days
        self.moving = clock_fields(computed)
        self.ages = {c.name: c.fact for c in computed if isinstance(c.fact, Age)}
        self.due_filters = any(
            isinstance(c.fact, Aggregate) and c.fact.due != "any" for c in computed
        )

    def on(self, day: dt.date) -> dict[str, Any]:
        """Every field as a rule reads it on ``day`` (noon, safely inside the local day)."""
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=self.zone)
        calendar = Calendar(noon, self.timezone, self.working_days)
        return {**self.base, **compute(self.computed, self.base, self.items, (), calendar)}

    def _age_reaches(self, name: str, values: Mapping[str, Any], day: dt.date, k: int) -> dt.date:
        """The first day after ``day`` on which the age ``name`` (``values`` on ``day``) is k."""
        fact = self.ages[name]
        ahead = day + dt.timedelta(days=k - int(values[name]))
        if fact.days == "calendar":
            return ahead
        since = _to_date(values.get(fact.since))
        if since is _FAIL:
            return ahead
        # Business days are never more than calendar days: start there and walk on.
        while business_days_between(since, ahead, self.working_days.days_off(ahead.year)) < k:
            ahead += dt.timedelta(days=1)
        return ahead

    def flips_after(self, rule: Rule, day: dt.date, values: Mapping[str, Any]) -> set[dt.date]:
        """The days after ``day`` on which a comparison of the rule can change its answer."""
        found: set[dt.date] = set()
        if self.due_filters:
            for item in self.items:
                found.update((item.due_date, item.due_date + dt.timedelta(days=1)))
        found.update(_today_flips(rule, values))
        for name in self.ages:
            value = values.get(name)
            if isinstance(value, int):
                found.update(
                    self._age_reaches(name, values, day, k)
                    for k in _thresholds(rule, name)
                    if k > value
                )
        return {d for d in found if d > day}


def _today_flips(rule: Rule, values: Mapping[str, Any]) -> set[dt.date]:
    """The days around which ``field < today - n`` and the like change their answer."""
    found: set[dt.date] = set()
    for compare in compares(rule):
        value = compare.value
        items = value.items if isinstance(value, ListValue) else [value]
        moved = [item.days for item in items if isinstance(item, TodayValue)]
        if not moved or not compare.field.startswith("subject."):
            continue
        day = _to_date(values.get(compare.field.removeprefix("subject.")))
        if day is _FAIL or day is None:
            continue
        for days in moved:
            flip = day - dt.timedelta(days=days)  # the day on which today + days == day
            found.update(flip + dt.timedelta(days=k) for k in (-1, 0, 1))
    return found


def next_true_day(
    rule: Rule,
    variables: Mapping[str, Any],
    status: str,
    projection: Projection,
    today: dt.date,
) -> dt.date | None:
    """The first day after today on which ``rule`` holds, or None (not by the clock alone)."""
    named = {c.field.removeprefix("subject.") for c in compares(rule)}
    if not named & projection.moving and not has_today(rule):
        return None  # only a change of the subject's rows can make it true
    day, values = today, projection.on(today)
    last = today + dt.timedelta(days=HORIZON_DAYS)
    for _ in range(MAX_HOPS):
        upcoming = projection.flips_after(rule, day, values)
        if not upcoming:
            return None
        day = min(upcoming)
        if day > last:
            return None
        values = projection.on(day)
        with today_is(day):
            if evaluate(rule, {**values, "status": status}, variables):
                return day
    return None
