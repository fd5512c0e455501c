"""Computed facts: the debtor's D3 fields and P2's Days In Procedure, with the seeds' semantics.

Every case is computed both ways (Python for one subject, SQL for all) on SQLite
and PostgreSQL and compared with values worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from procedo.facts.calendar import Calendar, business_days_between
from procedo.facts.declared import computed_fields
from procedo.rules.evaluate import evaluate
from procedo.rules.text import parse_rule
from procedo.subjects import load_subject_type
from procedo.workdays import WorkingDays
from tests.facts_store import CallTask, Debtor, FactStore, Item, Note, facts_store

__all__ = ["facts_store"]

# Tuesday 10 March 2026, 11:00 in Amsterdam.
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
CALENDAR = Calendar(NOW, "Europe/Amsterdam", WorkingDays("NL"))
TODAY = dt.date(2026, 3, 10)


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def both_ways(store: FactStore, debtors: list[Debtor], calendar: Calendar = CALENDAR) -> list[Any]:
    """Each debtor's facts, after checking that Python and SQL agree on them."""
    ids = store.fill(debtors)
    python, sql = store.python_facts(calendar), store.sql_facts(calendar)
    assert python == sql
    return [python[subject_id] for subject_id in ids]


def test_no_items(facts_store: FactStore) -> None:
    [facts] = both_ways(facts_store, [Debtor()])
    assert facts["debt_amount"] == 0
    assert facts["paid"] is True
    assert facts["oldest_due_date"] is None
    assert facts["oldest_overdue_days"] is None
    assert facts["dunning_notices"] == 0
    assert facts["days_since_last_dunning"] is None
    assert facts["credit_limit_exceeded"] is False


def test_disputed_items_do_not_follow_the_procedure(facts_store: FactStore) -> None:
    disputed = Debtor(items=[Item(day(-30), Decimal("120.00"), "dispute")])
    [facts] = both_ways(facts_store, [disputed])
    assert facts["oldest_overdue_days"] is None  # P2: dispute has its own procedure
    assert facts["oldest_due_date"] == day(-30)  # still the oldest unpaid invoice
    assert facts["debt_amount"] == Decimal("120.00")
    assert facts["paid"] is False


def test_the_dip_follows_the_oldest_open_overdue_item(facts_store: FactStore) -> None:
    debtor = Debtor(
        items=[
            Item(day(-40), Decimal("0.00"), "paid", amount=Decimal("80.00")),
            Item(day(-35), Decimal("50.00"), "dispute"),
            Item(day(-18), Decimal("40.00"), "open", amount=Decimal("100.00")),  # partly paid
            Item(day(-5), Decimal("10.00"), "promise"),
            Item(day(3), Decimal("25.50"), "open"),
            Item(day(2), Decimal("-15.50"), "open", kind="credit_note"),
        ]
    )
    [facts] = both_ways(facts_store, [debtor])
    assert facts["procedure_due_date"] == day(-18)
    assert facts["oldest_overdue_days"] == 18
    assert facts["oldest_due_date"] == day(-35)
    assert facts["debt_amount"] == Decimal("110.00")  # 50 + 40 + 10 + 25.50 - 15.50


def test_once_the_oldest_is_paid_the_next_one_leads(facts_store: FactStore) -> None:
    before = Debtor(items=[Item(day(-30), Decimal("10.00")), Item(day(-9), Decimal("10.00"))])
    after = Debtor(
        items=[
            Item(day(-30), Decimal("0.00"), "paid", amount=Decimal("10.00")),
            Item(day(-9), Decimal("10.00")),
        ]
    )
    first, second = both_ways(facts_store, [before, after])
    assert (first["oldest_overdue_days"], second["oldest_overdue_days"]) == (30, 9)


def test_due_today_is_not_overdue(facts_store: FactStore) -> None:
    today, yesterday = both_ways(
        facts_store,
        [
            Debtor(items=[Item(day(0), Decimal("1.00"))]),
            Debtor(items=[Item(day(-1), Decimal("1"))]),
        ],
    )
    assert today["oldest_overdue_days"] is None
    assert yesterday["oldest_overdue_days"] == 1


def test_only_notices_a_workflow_sent_count(facts_store: FactStore) -> None:
    evening = dt.datetime(2026, 3, 5, 23, 30, tzinfo=dt.UTC)  # 6 March in Amsterdam
    debtor = Debtor(
        history=[
            Note("email_queued", evening - dt.timedelta(days=10)),
            Note("letter_queued", evening),
            Note("email_queued", NOW, by_workflow=False),  # sent by hand: not a notice
            Note("email_queued", NOW, mark=None),  # a workflow's other email
            Note("email_sent", NOW),
        ]
    )
    [facts] = both_ways(facts_store, [debtor])
    assert facts["dunning_notices"] == 2
    assert facts["last_dunning_date"] == dt.date(2026, 3, 6)
    assert facts["days_since_last_dunning"] == 4


def test_open_call_tasks_are_the_open_tasks_a_call_node_opened(facts_store: FactStore) -> None:
    debtor = Debtor(
        tasks=[
            CallTask(),
            CallTask(node="call_again"),
            CallTask(status="completed"),
            CallTask(mark=None, node="approve"),  # an approval task: no mark
            CallTask(mark="lawyer", node="handover"),
        ]
    )
    first, second = both_ways(facts_store, [debtor, Debtor()])
    assert (first["open_call_tasks"], second["open_call_tasks"]) == (2, 0)


def test_credit_limit_and_promised_payment_date(facts_store: FactStore) -> None:
    over = Debtor(
        fields={"credit_limit": "100", "promised_payment_date": day(-3).isoformat()},
        items=[Item(day(5), Decimal("100.01"))],
    )
    within = Debtor(
        fields={"credit_limit": 500, "promised_payment_date": "2026-02-30"},  # no such day
        items=[Item(day(5), Decimal("100.01"))],
    )
    first, second = both_ways(facts_store, [over, within])
    assert (first["credit_limit_exceeded"], second["credit_limit_exceeded"]) == (True, False)
    assert (first["payment_date_overdue_days"], second["payment_date_overdue_days"]) == (3, None)


BUSINESS_AGE = {
    "name": "promise",
    "label": {"en": "P", "nl": "P", "de": "P"},
    "fields": [
        {"name": "promised", "type": "date", "label": {"en": "P", "nl": "P", "de": "P"}},
        {
            "name": "business_days",
            "type": "integer",
            "label": {"en": "B", "nl": "B", "de": "B"},
            "compute": {"kind": "age", "since": "promised", "days": "business"},
        },
        {
            "name": "calendar_days",
            "type": "integer",
            "label": {"en": "C", "nl": "C", "de": "C"},
            "compute": {"kind": "age", "since": "promised"},
        },
    ],
}


@pytest.mark.parametrize(
    ("since", "today", "business", "calendar"),
    [
        # Friday to the Tuesday after King's Day (Monday 27 April 2026): only Tuesday counts.
        ("2026-04-24", dt.date(2026, 4, 28), 1, 4),
        # Thursday before Good Friday to the Wednesday after Easter Monday: Tuesday, Wednesday.
        ("2026-04-02", dt.date(2026, 4, 8), 2, 6),
        # A date ahead counts backwards (King's Day again skipped).
        ("2026-04-30", dt.date(2026, 4, 24), -3, -6),
        ("2026-04-24", dt.date(2026, 4, 24), 0, 0),
    ],
)
def test_business_days_skip_weekends_and_the_tenants_holidays(
    facts_store: FactStore, since: str, today: dt.date, business: int, calendar: int
) -> None:
    computed = computed_fields(load_subject_type(json.dumps(BUSINESS_AGE).encode()))
    moment = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    clock = Calendar(moment, "Europe/Amsterdam", WorkingDays("NL"))
    [subject_id] = facts_store.fill([Debtor(fields={"promised": since})])
    python = facts_store.python_facts(clock, computed)[subject_id]
    assert python == facts_store.sql_facts(clock, computed)[subject_id]
    assert python == {"business_days": business, "calendar_days": calendar}


def test_business_days_agree_with_a_day_by_day_count() -> None:
    holidays = WorkingDays("DE").days_off(2026)
    start = dt.date(2025, 12, 1)
    for offset in range(0, 80):
        end = start + dt.timedelta(days=offset)
        counted = sum(
            1
            for n in range(1, offset + 1)
            if (d := start + dt.timedelta(days=n)).weekday() < 5 and d not in holidays
        )
        assert business_days_between(start, end, holidays) == counted
        assert business_days_between(end, start, holidays) == -counted


@pytest.mark.parametrize(
    ("moment", "today"),
    [
        ("2026-03-28T22:59:00+00:00", dt.date(2026, 3, 28)),  # 23:59 in winter time
        ("2026-03-28T23:00:00+00:00", dt.date(2026, 3, 29)),  # midnight; 02:00 jumps to 03:00
        ("2026-03-29T21:59:00+00:00", dt.date(2026, 3, 29)),  # 23:59 in summer time
        ("2026-03-29T22:00:00+00:00", dt.date(2026, 3, 30)),
        ("2026-10-24T22:00:00+00:00", dt.date(2026, 10, 25)),  # midnight in summer time
        ("2026-10-25T22:59:00+00:00", dt.date(2026, 10, 25)),  # back in winter time: 23:59
    ],
)
def test_today_is_the_tenants_date(moment: str, today: dt.date) -> None:
    assert (
        Calendar(dt.datetime.fromisoformat(moment), "Europe/Amsterdam", WorkingDays("NL")).today
        == today
    )


D6 = parse_rule(
    "subject.problematic == false && subject.dunning_notices == 0 "
    "&& subject.oldest_overdue_days > 6"
)


def test_the_d6_filter_selects_on_computed_facts(facts_store: FactStore) -> None:
    notice = Note("email_queued", NOW - dt.timedelta(days=20))
    debtors = [
        Debtor({"problematic": False}, [Item(day(-7), Decimal("5"))]),  # selected
        Debtor({"problematic": False}, [Item(day(-6), Decimal("5"))]),  # 6 days: not yet
        Debtor({"problematic": True}, [Item(day(-30), Decimal("5"))]),
        Debtor({"problematic": False}, [Item(day(-30), Decimal("5"))], [notice]),
        Debtor({"problematic": False}, [Item(day(-30), Decimal("5"), "dispute")]),
        Debtor(  # a notice sent by hand does not count
            {"problematic": False},
            [Item(day(-30), Decimal("5"))],
            [Note("email_queued", NOW, by_workflow=False)],
        ),
    ]
    ids = facts_store.fill(debtors)
    assert facts_store.select(D6, CALENDAR) == {ids[0], ids[5]}
    facts = facts_store.python_facts(CALENDAR)
    accepted = {
        subject_id
        for subject_id, (status, fields) in facts_store.fields().items()
        if evaluate(D6, {**fields, **facts[subject_id], "status": status}, {})
    }
    assert accepted == {ids[0], ids[5]}


def _type_with(*fields: dict[str, Any]) -> bytes:
    labels = {"en": "X", "nl": "X", "de": "X"}
    return json.dumps(
        {"name": "t", "label": labels, "fields": [{"label": labels, **f} for f in fields]}
    ).encode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            [
                {
                    "name": "n",
                    "type": "decimal",
                    "compute": {"kind": "aggregate", "function": "count"},
                }
            ],
            "field n: its computed value is a integer; declare type 'integer'",
        ),
        (
            [{"name": "n", "type": "integer", "compute": {"kind": "age", "since": "nope"}}],
            "field n: reads field 'nope', which the type does not declare",
        ),
        (
            [
                {"name": "s", "type": "string"},
                {"name": "n", "type": "integer", "compute": {"kind": "age", "since": "s"}},
            ],
            "field n: reads 's' of type string; it needs date",
        ),
        (
            [
                {
                    "name": "d",
                    "type": "decimal",
                    "compute": {"kind": "aggregate", "function": "sum", "value": "due_date"},
                }
            ],
            "field d: dates cannot be summed",
        ),
        (
            [
                {
                    "name": "a",
                    "type": "bool",
                    "compute": {"kind": "exceeds", "value": "b", "limit": "b"},
                },
                {
                    "name": "b",
                    "type": "bool",
                    "compute": {"kind": "exceeds", "value": "a", "limit": "a"},
                },
            ],
            "reads 'b' of type bool",
        ),
    ],
)
def test_bad_declarations_are_refused_with_the_field_and_the_fix(
    fields: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match="t.json: .*" + message.replace("(", r"\(")):
        load_subject_type(_type_with(*fields), "t.json")


def test_computed_fields_come_after_the_fields_they_read() -> None:
    chained = _type_with(
        {"name": "a", "type": "bool", "compute": {"kind": "exceeds", "value": "b", "limit": "c"}},
        {"name": "b", "type": "integer", "compute": {"kind": "age", "since": "d"}},
        {"name": "c", "type": "decimal"},
        {
            "name": "d",
            "type": "date",
            "compute": {"kind": "aggregate", "function": "min", "value": "due_date"},
        },
    )
    assert [c.name for c in computed_fields(load_subject_type(chained))] == ["d", "b", "a"]
