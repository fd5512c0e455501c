"""Property: a computed fact is the same value in Python and in SQL, on both databases.

Generated debtors (stored fields, open items, history rows) at generated moments
around midnight and the daylight-saving switches in Europe/Amsterdam: the facts
``facts.python`` computes for each debtor equal those ``facts.sql`` computes for
all of them at once, and a rule over the facts selects in SQL exactly the debtors
``evaluate`` accepts with the facts merged over the stored fields, also when it
compares dates with ``today`` (``subject.oldest_due_date < today - 14``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from procedo.db.receivables import ITEM_STATUSES
from procedo.facts.calendar import Calendar
from procedo.facts.declared import Computed
from procedo.facts.model import Age, ItemStatus
from procedo.facts.sql import select_matching
from procedo.flow.codec import decode_flow
from procedo.flow.model import ScheduleTrigger
from procedo.rules.evaluate import evaluate
from procedo.rules.model import (
    All,
    BoolValue,
    Compare,
    DateTimeValue,
    DateValue,
    DecimalValue,
    ListValue,
    Not,
    Rule,
    StringValue,
    TodayValue,
)
from procedo.rules.today import today_is
from procedo.workdays import WorkingDays
from tests.facts_store import DEBTOR, CallTask, Debtor, FactStore, Item, Note, facts_store

__all__ = ["facts_store"]
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

# Moments whose local date in Amsterdam is about to change, or whose offset is.
EDGES = [
    dt.datetime(2026, 3, 28, 22, 0, tzinfo=dt.UTC),  # the night into summer time
    dt.datetime(2026, 3, 29, 21, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 24, 21, 0, tzinfo=dt.UTC),  # the night back to winter time
    dt.datetime(2026, 10, 25, 22, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.UTC),  # a new year (and its holidays)
]
moments = st.builds(
    lambda edge, minutes: edge + dt.timedelta(minutes=minutes),
    st.sampled_from(EDGES),
    st.integers(0, 180),
)
# Dates near the moments, so "due today", "due yesterday" and "ahead" all come up.
dates = st.builds(
    lambda edge, days: edge.date() + dt.timedelta(days=days),
    st.sampled_from(EDGES),
    st.one_of(st.integers(-3, 3), st.integers(-45, 10)),
)
cents = st.integers(-50_000, 5_000_000).map(lambda c: Decimal(c).scaleb(-2))
items = st.builds(
    Item,
    due=dates,
    open_amount=cents,
    status=st.sampled_from(ITEM_STATUSES),
    kind=st.sampled_from(["invoice", "credit_note"]),
)
notes = st.builds(
    Note,
    kind=st.sampled_from(["email_queued", "letter_queued", "email_sent", "task_completed"]),
    at=st.builds(
        lambda edge, minutes: edge - dt.timedelta(minutes=minutes),
        st.sampled_from(EDGES),
        st.integers(-180, 60 * 24 * 40),
    ),
    by_workflow=st.booleans(),
    mark=st.sampled_from(["dunning_notice", "call", None, 5, ["dunning_notice"]]),
)
date_texts = st.one_of(
    dates.map(dt.date.isoformat),
    st.sampled_from(["2026-02-30", "soon", "", "2026-03-01T23:30:00+02:00"]),
)
stored_fields = st.fixed_dictionaries(
    {},
    optional={
        "problematic": st.booleans(),
        "credit_limit": st.one_of(cents, st.integers(0, 50_000), st.just("1000.00"), st.just("x")),
        "promised_payment_date": st.one_of(date_texts, st.integers(0, 5)),
        "last_successful_call_date": date_texts,
    },
).map(lambda fields: {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()})
tasks = st.builds(
    CallTask,
    status=st.sampled_from(["open", "completed", "cancelled"]),
    mark=st.sampled_from(["call", "lawyer", None, 7]),
    node=st.sampled_from(["call", "approve", "call_again"]),
)
debtors = st.lists(
    st.builds(
        Debtor,
        fields=stored_fields,
        items=st.lists(items, max_size=5),
        history=st.lists(notes, max_size=4),
        tasks=st.lists(tasks, max_size=3),
    ),
    max_size=4,
)

LITERALS: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.integers(-40, 400).map(lambda n: DecimalValue(Decimal(n))),
    "decimal": cents.map(DecimalValue),
    "date": st.one_of(dates.map(DateValue), st.integers(-20, 20).map(TodayValue)),
    "bool": st.booleans().map(BoolValue),
}
BY_NAME = {f.name: f for f in DEBTOR}
# Stored date fields, compared with today as the facts' dates are.
STORED_DATES = ["promised_payment_date", "last_successful_call_date"]


@st.composite
def comparisons(draw: st.DrawFn) -> Compare:
    fact = draw(st.sampled_from(DEBTOR))
    name, field_type = fact.name, fact.type
    if draw(st.integers(0, 5)) == 0:
        name, field_type = draw(st.sampled_from(STORED_DATES)), "date"
    op = draw(st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "is_set", "is_empty", "in"]))
    field = f"subject.{name}"
    if op in ("is_set", "is_empty"):
        return Compare(field=field, op=op)
    # Now and then a literal of another type, which never matches (as in evaluate).
    literal = draw(
        st.one_of(
            LITERALS[field_type],
            st.sampled_from(
                [
                    StringValue("7"),
                    DateTimeValue(dt.datetime(2026, 3, 29, tzinfo=dt.UTC)),
                    DecimalValue(Decimal(0)),
                ]
            ),
        )
    )
    if op == "in":
        return Compare(field=field, op=op, value=ListValue([literal, draw(LITERALS[field_type])]))
    return Compare(field=field, op=op, value=literal)


rules = st.lists(comparisons(), min_size=1, max_size=3).map(lambda parts: All(list(parts)))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(debtors=debtors, now=moments, rule=rules)
def test_python_and_sql_compute_the_same_facts(
    facts_store: FactStore, debtors: list[Debtor], now: dt.datetime, rule: Rule
) -> None:
    calendar = Calendar(now, "Europe/Amsterdam", WorkingDays("NL"))
    facts_store.fill(debtors)
    python = facts_store.python_facts(calendar)
    assert python == facts_store.sql_facts(calendar)
    with today_is(calendar.today):  # as a step of a flow evaluates it (engine.run)
        accepted = {
            subject_id
            for subject_id, (status, fields) in facts_store.fields().items()
            if evaluate(rule, {**fields, **python[subject_id], "status": status}, {})
        }
    assert facts_store.select(rule, calendar) == accepted


# The debtor's facts plus ages in business days, from a minimum and from a maximum date.
WITH_BUSINESS_DAYS = [
    *DEBTOR,
    Computed("overdue_working_days", "integer", Age(since="procedure_due_date", days="business")),
    Computed(
        "working_days_since_notice", "integer", Age(since="last_dunning_date", days="business")
    ),
]
# Literals around what the (NOT) EXISTS shortcuts turn on: 0 and 1, halves, negatives.
near_thresholds = st.one_of(
    st.integers(-3, 3), st.integers(-45, 50), st.sampled_from([0.5, -0.5, 6.5, 1.5])
).map(lambda n: DecimalValue(Decimal(str(n))))
SHORTCUT_FIELDS = [
    "dunning_notices",
    "calls",
    "open_call_tasks",
    "oldest_overdue_days",
    "days_since_last_dunning",
    "overdue_working_days",
    "working_days_since_notice",
]
shortcut_compares = st.one_of(
    st.builds(
        lambda name, op, literal: Compare(field=f"subject.{name}", op=op, value=literal),
        st.sampled_from(SHORTCUT_FIELDS),
        st.sampled_from(["=", "!=", "<", ">", "<=", ">="]),
        near_thresholds,
    ),
    st.builds(
        lambda op, value: Compare(field="subject.paid", op=op, value=BoolValue(value)),
        st.sampled_from(["=", "!="]),
        st.booleans(),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    debtors=debtors,
    now=moments,
    parts=st.lists(shortcut_compares, min_size=1, max_size=3),
    negated=st.booleans(),
)
def test_comparisons_answered_by_exists_select_as_python_does(
    facts_store: FactStore,
    debtors: list[Debtor],
    now: dt.datetime,
    parts: list[Compare],
    negated: bool,
) -> None:
    """facts/shortcuts.py: counts against 0 and 1, ages against day thresholds (calendar and
    business days, from the oldest item and from the last notice) select what Python does."""
    calendar = Calendar(now, "Europe/Amsterdam", WorkingDays("NL"))
    facts_store.fill(debtors)
    python = facts_store.python_facts(calendar, WITH_BUSINESS_DAYS)
    rule: Rule = All(list(parts))
    if negated:
        rule = Not(rule)
    accepted = {
        subject_id
        for subject_id, (status, fields) in facts_store.fields().items()
        if evaluate(rule, {**fields, **python[subject_id], "status": status}, {})
    }
    assert facts_store.select(rule, calendar, WITH_BUSINESS_DAYS) == accepted


def test_d6_reads_no_fact_as_a_column() -> None:
    """The shipped D6 filter compiles to (NOT) EXISTS: no count or minimum per debtor."""
    trigger = decode_flow((EXAMPLES / "dunning-level-1.json").read_bytes()).trigger
    assert isinstance(trigger, ScheduleTrigger)
    assert trigger.filter is not None
    calendar = Calendar(EDGES[0], "Europe/Amsterdam", WorkingDays("NL"))
    query = select_matching(trigger.filter, DEBTOR, calendar, uuid.uuid4(), "debtor")
    text = str(query.compile(dialect=postgresql.dialect()))
    assert "count(" not in text
    assert "min(" not in text
    assert "EXISTS" in text


def test_the_item_statuses_are_the_tables() -> None:
    assert set(ItemStatus.__args__) == set(ITEM_STATUSES)  # type: ignore[attr-defined]


def test_exists_shortcuts_hold_on_the_exact_day_boundaries(facts_store: FactStore) -> None:
    """Every age and count at, just below and just above each threshold: debtors whose oldest
    overdue item is 1-12 days old (across the Christmas holidays in business days) and whose
    last notice was sent a minute before or after local midnight, days ago."""
    now = dt.datetime(2026, 12, 29, 9, 0, tzinfo=dt.UTC)  # Tuesday after Christmas
    calendar = Calendar(now, "Europe/Amsterdam", WorkingDays("NL"))
    midnight = dt.datetime.combine(calendar.today, dt.time(), tzinfo=calendar.zone)
    debtors = [
        Debtor(
            items=[Item(due=calendar.today - dt.timedelta(days=age), open_amount=Decimal(10))],
            history=[Note("email_queued", midnight - dt.timedelta(days=age % 5, minutes=side))]
            if age % 3
            else [],
        )
        for age in range(1, 13)
        for side in (-1, 1)
    ]
    facts_store.fill(debtors)
    python = facts_store.python_facts(calendar, WITH_BUSINESS_DAYS)
    fields = facts_store.fields()
    for name in SHORTCUT_FIELDS:
        for op in ("=", "!=", "<", ">", "<=", ">="):
            for value in ("-1", "0", "0.5", "1", "2", "4", "6", "6.5", "7"):
                rule = Compare(field=f"subject.{name}", op=op, value=DecimalValue(Decimal(value)))
                accepted = {
                    subject_id
                    for subject_id, (status, stored) in fields.items()
                    if evaluate(rule, {**stored, **python[subject_id], "status": status}, {})
                }
                assert facts_store.select(rule, calendar, WITH_BUSINESS_DAYS) == accepted, (
                    name,
                    op,
                    value,
                )
