"""The D.I.P. in working days (``oldest_overdue_working_days``): weekends and the tenant's
public holidays do not count, the same in Python and in SQL (SQLite and PostgreSQL), and a
wait on it is woken on the working day its threshold is reached.

The dates are Dutch (the tenant's country NL): Good Friday 3 April and Easter Monday
6 April 2026, Christmas on Friday 25 December 2026, New Year on Friday 1 January 2027.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procedo.facts.calendar import Calendar
from procedo.facts.python import ItemRow, compute
from procedo.facts.wakeup import Projection, next_true_day
from procedo.rules.evaluate import evaluate
from procedo.rules.model import Compare, DecimalValue, Rule
from procedo.rules.today import today_is
from procedo.workdays import WorkingDays
from tests.conftest import EXAMPLES
from tests.facts_store import DEBTOR, Debtor, FactStore, Item, facts_store

__all__ = ["facts_store"]

FACT = "oldest_overdue_working_days"
ZONE = "Europe/Amsterdam"
DAY = dt.timedelta(days=1)


DUTCH = WorkingDays("NL")
# An office that also closes between Christmas and New Year.
CLOSED_AT_YEAR_END = WorkingDays("NL", frozenset(dt.date(2026, 12, d) for d in range(28, 32)))


def at_nine(day: dt.date, working: WorkingDays = DUTCH) -> Calendar:
    """The tenant's calendar at 09:00 local time on ``day``."""
    moment = dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo(ZONE))
    return Calendar(moment.astimezone(dt.UTC), ZONE, working)


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + n * DAY for n in range((end - start).days + 1)]


# (oldest invoice due, today, working days); calendar days in the comment.
CASES = [
    (dt.date(2026, 3, 18), dt.date(2026, 4, 10), 15),  # 23: Good Friday, Easter Monday off
    (dt.date(2026, 3, 18), dt.date(2026, 4, 9), 14),
    (dt.date(2026, 3, 18), dt.date(2026, 4, 6), 11),  # Easter Monday counts no more than Thu
    (dt.date(2026, 3, 18), dt.date(2026, 4, 2), 11),
    (dt.date(2026, 12, 18), dt.date(2026, 12, 26), 4),  # Christmas Friday, Saturday
    (dt.date(2026, 12, 18), dt.date(2026, 12, 28), 5),  # 10
    (dt.date(2026, 12, 31), dt.date(2027, 1, 4), 1),  # New Year Friday, the weekend
    (dt.date(2026, 3, 14), dt.date(2026, 3, 16), 1),  # due Saturday, Monday is the first
    (dt.date(2026, 3, 13), dt.date(2026, 3, 15), 0),  # due Friday, overdue over the weekend
]


@pytest.mark.parametrize(("due", "today", "expected"), CASES)
def test_working_days_skip_weekends_and_holidays(
    facts_store: FactStore, due: dt.date, today: dt.date, expected: int
) -> None:
    facts_store.fill([Debtor(items=[Item(due=due, open_amount=Decimal("100.00"))])])
    calendar = at_nine(today)
    ((python,),) = [list(facts_store.python_facts(calendar).values())]
    ((sql,),) = [list(facts_store.sql_facts(calendar).values())]
    assert (python[FACT], sql[FACT]) == (expected, expected)
    assert python["oldest_overdue_days"] == (today - due).days  # the calendar D.I.P. stays


@pytest.mark.parametrize(("working", "expected"), [(DUTCH, 9), (CLOSED_AT_YEAR_END, 5)])
def test_the_offices_closing_days_are_days_off_in_python_and_sql(
    facts_store: FactStore, working: WorkingDays, expected: int
) -> None:
    # Due Friday 18 December; on Monday 4 January nine Dutch working days have passed
    # (Christmas and New Year are Fridays), five when the office closed 28-31 December.
    facts_store.fill([Debtor(items=[Item(due=dt.date(2026, 12, 18), open_amount=Decimal(1))])])
    calendar = at_nine(dt.date(2027, 1, 4), working)
    ((python,),) = [list(facts_store.python_facts(calendar).values())]
    ((sql,),) = [list(facts_store.sql_facts(calendar).values())]
    assert (python[FACT], sql[FACT]) == (expected, expected)


def test_not_overdue_has_no_working_days_dip(facts_store: FactStore) -> None:
    today = dt.date(2026, 4, 10)
    facts_store.fill([Debtor(items=[Item(due=today, open_amount=Decimal("100.00"))])])
    ((python,),) = [list(facts_store.python_facts(at_nine(today)).values())]
    ((sql,),) = [list(facts_store.sql_facts(at_nine(today)).values())]
    assert python[FACT] is None
    assert sql[FACT] is None


@pytest.mark.parametrize(
    ("dues", "todays"),
    [
        (
            (dt.date(2026, 2, 20), dt.date(2026, 4, 12)),
            (dt.date(2026, 3, 30), dt.date(2026, 4, 14)),
        ),
        (
            (dt.date(2026, 11, 20), dt.date(2026, 12, 31)),
            (dt.date(2026, 12, 21), dt.date(2027, 1, 6)),
        ),
    ],
    ids=["easter", "christmas"],
)
def test_sql_selects_on_working_days_as_python_does(
    facts_store: FactStore,
    dues: tuple[dt.date, dt.date],
    todays: tuple[dt.date, dt.date],
) -> None:
    """Debtors due on every day of a stretch, looked at on every day around the holidays:
    each comparison with 15 (the EXISTS shortcut for the orderings, a column for = and !=)
    selects exactly the debtors whose working-days D.I.P. Python says satisfies it."""
    facts_store.fill(
        [Debtor(items=[Item(due=due, open_amount=Decimal("10.00"))]) for due in days(*dues)]
    )
    fields = facts_store.fields()
    before: dict[Any, int | None] = {}
    for today in days(*todays):
        calendar = at_nine(today)
        python = facts_store.python_facts(calendar)
        assert facts_store.sql_facts(calendar) == python, today
        for op in (">=", ">", "=", "!=", "<", "<="):
            rule = Compare(field=f"subject.{FACT}", op=op, value=DecimalValue(Decimal(15)))
            with today_is(today):
                accepted = {
                    subject_id
                    for subject_id, (status, stored) in fields.items()
                    if evaluate(rule, {**stored, **python[subject_id], "status": status}, {})
                }
            assert facts_store.select(rule, calendar) == accepted, (today, op)
        # A working day adds one to every overdue debtor's count; a weekend or holiday none.
        counts = {subject_id: facts[FACT] for subject_id, facts in python.items()}
        if today != todays[0]:
            step = 0 if today.weekday() >= 5 or today in calendar.holidays else 1
            overdue = {s: n for s, n in before.items() if n is not None}
            assert {s: counts[s] - n for s, n in overdue.items()} == dict.fromkeys(overdue, step)
        before = counts


def _decoded(params: Any) -> Rule:
    import msgspec

    from procedo.nodes.wait import WaitParams

    wait = msgspec.convert(params, WaitParams)
    return wait.until.when  # type: ignore[union-attr]


def wakes_on(
    due: dt.date, today: dt.date, rule: Rule, working: WorkingDays = DUTCH
) -> dt.date | None:
    """The day a wait on ``rule`` is woken, for a debtor with one invoice due on ``due``."""
    items = [ItemRow("open", due - 30 * DAY, due, Decimal(100), Decimal(100))]
    values = compute(DEBTOR, {}, items, (), at_nine(today, working))
    projection = Projection(DEBTOR, {}, values, items, ZONE, working)
    return next_true_day(rule, {}, "", projection, today)


@pytest.mark.parametrize(
    ("node", "due", "today", "woken"),
    [
        ("dip7", dt.date(2026, 3, 18), dt.date(2026, 3, 19), dt.date(2026, 3, 27)),
        ("dip15", dt.date(2026, 3, 18), dt.date(2026, 3, 27), dt.date(2026, 4, 10)),
        ("dip21", dt.date(2026, 3, 18), dt.date(2026, 4, 10), dt.date(2026, 4, 20)),
        # King's Day (Monday 27 April) and Ascension (Thursday 14 May) on the way.
        ("dip40", dt.date(2026, 3, 18), dt.date(2026, 4, 20), dt.date(2026, 5, 19)),
        # Seven calendar days would be Christmas; seven working days skip it and the weekend.
        ("dip7", dt.date(2026, 12, 18), dt.date(2026, 12, 21), dt.date(2026, 12, 30)),
    ],
)
def test_a_wait_on_working_days_wakes_on_the_working_day_it_holds(
    node: str, due: dt.date, today: dt.date, woken: dt.date
) -> None:
    rule = _decoded_rule(node)
    assert wakes_on(due, today, rule) == woken
    assert woken.weekday() < 5
    assert woken not in at_nine(woken).holidays


def _decoded_rule(node_id: str) -> Rule:
    from procedo.flow.codec import decode_flow

    flow = decode_flow((EXAMPLES / "collection-procedure-working-days.json").read_bytes())
    (node,) = [n for n in flow.nodes if n.id == node_id]
    return _decoded(node.params)


def test_a_wait_on_working_days_wakes_after_the_offices_closing_days() -> None:
    # Seven working days from 18 December: Wednesday 30 December, or with the office
    # closed 28-31 December (and New Year a holiday) Wednesday 6 January.
    rule = _decoded_rule("dip7")
    due, today = dt.date(2026, 12, 18), dt.date(2026, 12, 21)
    assert wakes_on(due, today, rule) == dt.date(2026, 12, 30)
    assert wakes_on(due, today, rule, CLOSED_AT_YEAR_END) == dt.date(2027, 1, 6)
