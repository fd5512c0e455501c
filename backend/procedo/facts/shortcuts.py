"""Comparisons on computed facts that SQL answers with (NOT) EXISTS instead of computing them.

A schedule's filter such as "no dunning notices yet and the oldest overdue item
more than 6 days old" reads, per debtor, a count over its history and a minimum
over its open items. Computed as columns they cost one index probe per debtor
and fact: 1,000,000 debtors take half a minute. Most such comparisons need no
value at all, only whether a row exists:

* ``count = 0`` is NOT EXISTS, ``count > 0`` (and ``>= 1``, ``!= 0``) is EXISTS;
* ``age > N`` where the age runs from a minimum date means "some item is older
  than the date N days before today": EXISTS with the threshold date bound,
  which the database answers for every debtor at once (a semi-join over an
  index of the items); from a maximum (the last notice) it is
  "there is one, and none after the threshold";
* ``none`` (no such item) compared with true or false is NOT EXISTS / EXISTS.

The threshold date comes from ``Calendar.age`` itself (business days with the
tenant's holidays included), so the answer is the one ``facts.python`` gives; a
property test compares both on SQLite and PostgreSQL. Anything else (sums,
``count = 3``, ages from stored dates) stays a computed column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeAlias

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from procedo.db.models import History
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import Calendar
from procedo.facts.declared import Computed
from procedo.facts.model import DATE_COLUMNS, Activity, Age, Aggregate, Fact, Tasks
from procedo.rules.model import BoolValue, Compare, DecimalValue, Value

__all__ = ["Rows", "Shortcut", "shortcut"]

Predicate: TypeAlias = ColumnElement[bool]
# Built against the subject row of the query it ends up in.
Shortcut: TypeAlias = Callable[["Rows"], Predicate]

# How far from today a threshold is searched: further than any age a rule compares.
_SEARCH_DAYS = 200_000


class Rows(Protocol):
    """The rows a fact is made of, correlated to one subject (facts/sql.py ``_Context``)."""

    def item_rows(self, fact: Aggregate) -> list[Predicate]: ...
    def history_rows(self, fact: Activity) -> list[Predicate]: ...
    def task_rows(self, fact: Tasks) -> list[Predicate]: ...


def shortcut(
    field: Computed,
    op: str,
    literal: Value | None,
    by_name: Mapping[str, Computed],
    calendar: Calendar,
) -> Shortcut | None:
    """The comparison ``field op literal`` as (NOT) EXISTS, or None when it needs the value."""
    fact = field.fact
    if isinstance(literal, BoolValue) and isinstance(fact, Aggregate) and fact.function == "none":
        wanted = {"=": literal.value, "!=": not literal.value}.get(op)
        if wanted is None:
            return None
        return lambda rows: _exists(rows, fact, present=not wanted)
    if not isinstance(literal, DecimalValue) or not literal.value.is_finite():
        return None
    if _is_count(fact):
        return _count_shortcut(fact, op, literal.value)
    if isinstance(fact, Age):
        since = by_name.get(fact.since)
        if since is not None:
            return _age_shortcut(fact, since.fact, op, literal.value, calendar)
    return None


# --------------------------------------------------------------------------- counts


def _is_count(fact: Fact) -> bool:
    if isinstance(fact, Aggregate | Activity):
        return fact.function == "count"
    return isinstance(fact, Tasks)


def _count_shortcut(fact: Fact, op: str, value: Decimal) -> Shortcut | None:
    """A count compared with a number, when the answer depends only on count > 0."""
    at_least_one = {0: _compare(op, 0, value), 1: _compare(op, 1, value)}
    # Every count from 1 up must answer as 1 does, or the count itself is needed: the
    # answer only changes around the value, so these counts stand for all of them.
    around = {2, math.floor(value), math.ceil(value), math.ceil(value) + 1}
    if any(_compare(op, n, value) != at_least_one[1] for n in around if n >= 1):
        return None
    if at_least_one[0] == at_least_one[1]:
        constant = at_least_one[0]
        return lambda _rows: sa.true() if constant else sa.false()
    return lambda rows: _exists(rows, fact, present=at_least_one[1])


def _compare(op: str, count: int, value: Decimal) -> bool:
    return {
        "=": count == value,
        "!=": count != value,
        "<": count < value,
        "<=": count <= value,
        ">": count > value,
        ">=": count >= value,
    }.get(op, False)


def _exists(rows: Rows, fact: Fact, present: bool) -> Predicate:
    found = sa.exists().where(*_rows_of(rows, fact))
    return found if present else sa.not_(found)


def _rows_of(rows: Rows, fact: Fact) -> list[Predicate]:
    if isinstance(fact, Aggregate):
        return rows.item_rows(fact)
    if isinstance(fact, Activity):
        return rows.history_rows(fact)
    assert isinstance(fact, Tasks)
    return rows.task_rows(fact)


# --------------------------------------------------------------------------- ages


def _age_shortcut(
    age: Age, since: Fact, op: str, value: Decimal, calendar: Calendar
) -> Shortcut | None:
    """An age from a minimum or maximum date, compared with a number of days."""
    bound = _whole_days(op, value)
    if bound is None:
        return None
    at_least, days = bound
    business = age.days == "business"
    threshold = _threshold(calendar, days, business, at_least)
    if threshold is None:
        return None
    if isinstance(since, Aggregate) and since.function in ("min", "max"):
        if since.value not in DATE_COLUMNS:
            return None
        return _date_shortcut(since, since.function == "min", at_least, threshold, calendar)
    if isinstance(since, Activity) and since.function == "last":
        return _date_shortcut(since, False, at_least, threshold, calendar)
    return None


def _whole_days(op: str, value: Decimal) -> tuple[bool, int] | None:
    """``age op value`` over whole days as (age >= n) or (age <= n): (at_least, n)."""
    if op == ">":
        return True, math.floor(value) + 1
    if op == ">=":
        return True, math.ceil(value)
    if op == "<":
        return False, math.ceil(value) - 1
    if op == "<=":
        return False, math.floor(value)
    return None


def _threshold(calendar: Calendar, days: int, business: bool, at_least: bool) -> dt.date | None:
    """The date ``since`` may be at most (age >= days) or must be at least (age <= days).

    The age falls as ``since`` moves later, so the boundary is found by bisection
    over ``Calendar.age``: the latest date with age >= days, or the earliest with
    age <= days. None when it lies beyond the search (the comparison stays a column).
    """
    today = calendar.today
    if abs(days) * 2 > _SEARCH_DAYS:
        return None
    low, high = -_SEARCH_DAYS, _SEARCH_DAYS  # offsets from today

    def age(offset: int) -> int:
        return calendar.age(today + dt.timedelta(days=offset), business)

    if at_least:  # the largest offset with age >= days
        if age(low) < days:
            return None
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if age(middle) >= days else (low, middle)
        return today + dt.timedelta(days=low)
    if age(high) > days:  # the smallest offset with age <= days
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if age(middle) <= days else (middle, high)
    return today + dt.timedelta(days=high)


def _date_shortcut(
    fact: Aggregate | Activity,
    is_min: bool,
    at_most_threshold: bool,
    threshold: dt.date,
    calendar: Calendar,
) -> Shortcut:
    """``since <= threshold`` (at_most_threshold) or ``since >= threshold`` for a min or max.

    The fact's date is absent when it has no rows, and an absent age compares
    false: "<=" of a min and ">=" of a max need one row past the threshold;
    the other two need a row, and none on the wrong side of it.
    """

    def rows_where(rows: Rows, before: bool, inclusive: bool) -> list[Predicate]:
        return [*_rows_of(rows, fact), _date_side(fact, threshold, before, inclusive, calendar)]

    if is_min == at_most_threshold:  # min <= t: some row <= t; max >= t: some row >= t
        return lambda rows: sa.exists().where(*rows_where(rows, at_most_threshold, True))

    def bounded(rows: Rows) -> Predicate:
        # min >= t: rows, none < t; max <= t: rows, none > t
        wrong_side = rows_where(rows, not at_most_threshold, False)
        return sa.and_(sa.exists().where(*_rows_of(rows, fact)), ~sa.exists().where(*wrong_side))

    return bounded


def _date_side(
    fact: Aggregate | Activity,
    threshold: dt.date,
    before: bool,
    inclusive: bool,
    calendar: Calendar,
) -> Predicate:
    """The row's date on one side of ``threshold``: before (or after), inclusive or not."""
    column = fact_column(fact)
    if isinstance(fact, Aggregate):
        bound: dt.date | dt.datetime = threshold
    else:
        # A history row's date is its moment's local date: compare moments at midnight.
        day = threshold + dt.timedelta(days=1) if before == inclusive else threshold
        bound = dt.datetime.combine(day, dt.time(), tzinfo=calendar.zone).astimezone(dt.UTC)
        return column < bound if before else column >= bound
    if before:
        return column <= bound if inclusive else column < bound
    return column >= bound if inclusive else column > bound


def fact_column(fact: Aggregate | Activity) -> ColumnElement[Any]:
    if isinstance(fact, Aggregate):
        assert fact.value is not None
        return OpenItem.__table__.c[fact.value]
    return History.__table__.c.at


def shortcut_names(
    compares: Sequence[Compare], by_name: Mapping[str, Computed], calendar: Calendar
) -> set[str]:
    """The computed fields every comparison of which is a shortcut: no column needed for them."""
    needed: set[str] = set()
    seen: set[str] = set()
    for compare in compares:
        name = compare.field.removeprefix("subject.")
        field = by_name.get(name)
        if field is None:
            continue
        seen.add(name)
        if shortcut(field, compare.op, compare.value, by_name, calendar) is None:
            needed.add(name)
    return seen - needed
