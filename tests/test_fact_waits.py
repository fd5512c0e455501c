"""Waits that follow a fact (issue 17 item 1): a wait until a rule over the subject's facts.

The instance wakes at the moment the clock makes the rule true (one timer, not polling),
looks again when a payment changes the facts, and the timer moves with the D.I.P.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.facts.declared import Computed, computed_fields
from procedo.facts.model import Age, Aggregate
from procedo.facts.moving import rule_clock_fields
from procedo.facts.python import ItemRow
from procedo.facts.wakeup import Projection, next_true_day
from procedo.flow.codec import decode_flow
from procedo.flow.validate import check_flow
from procedo.registry import default_registry
from procedo.rules.text import parse_rule as parse
from procedo.runtime import admin, buffer, fact_waits, setup
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays
from tests import receivables_helpers
from tests.receivables_helpers import Invoice, add_open_items
from tests.runtime_helpers import World, make_world

AMSTERDAM = "Europe/Amsterdam"


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def rule(text: str) -> Any:
    return msgspec.to_builtins(parse(text))


def flow(when: str, at: str = "09:00", key: str = "follow") -> dict[str, Any]:
    return {
        "format": "procedo.flow/1",
        "key": key,
        "name": "Follows the D.I.P.",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "wait",
                "type": "wait",
                "params": {"until": {"mode": "rule", "when": rule(when), "at": at}},
            },
            {"id": "mark", "type": "status_change", "params": {"status": "active"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "wait"},
            {"id": "e2", "source": "wait", "source_port": "next", "target": "mark"},
            {"id": "e3", "source": "mark", "source_port": "next", "target": "end"},
        ],
    }


def debtor(world: World, items: list[Invoice], key: str = "D-1") -> uuid.UUID:
    subject = world.subject("debtor", key, {"name": f"Debtor {key}"})
    add_open_items(world.rt, world.tenant, subject.id, items)
    return subject.id


def start(world: World, document: dict[str, Any], subject_id: uuid.UUID) -> uuid.UUID:
    setup.publish(world.rt, world.tenant, json.dumps(document), "consultant")
    instance = admin.start(world.rt, world.tenant, document["key"], subject_id, "tester")
    world.runner.drain()
    return instance.id


def left_wait_at(world: World, instance_id: uuid.UUID) -> dt.datetime:
    (row,) = [h for h in world.history(instance_id) if h.kind == "left" and h.node_id == "wait"]
    return row.at.astimezone(dt.UTC)


def timers(world: World, instance_id: uuid.UUID) -> list[tuple[str, dt.datetime, str]]:
    with world.rt.db.read() as session:
        rows = session.execute(
            sa.select(m.Timer.purpose, m.Timer.due_at, m.Timer.status)
            .where(m.Timer.instance_id == instance_id)
            .order_by(m.Timer.id)
        ).all()
    return [(purpose, due.astimezone(dt.UTC), status) for purpose, due, status in rows]


def utc(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


# The runner's clock starts on Monday 2026-01-05 08:00 UTC; the tenant is in Amsterdam.


def test_wakes_the_day_the_dip_crosses_with_one_timer(world: World) -> None:
    subject_id = debtor(world, [("A-1", dt.date(2026, 1, 1), "100.00")])
    instance_id = start(world, flow("subject.oldest_overdue_days >= 15"), subject_id)
    # D.I.P. 4 today; 15 on 16 January, woken at 09:00 in Amsterdam (08:00 UTC).
    assert timers(world, instance_id) == [("recheck", utc(2026, 1, 16, 8), "pending")]
    world.runner.advance(dt.timedelta(days=30))
    assert left_wait_at(world, instance_id) == utc(2026, 1, 16, 8)
    assert world.instance(instance_id).status == "completed"
    assert timers(world, instance_id) == [("recheck", utc(2026, 1, 16, 8), "fired")]
    # The facts the step saw are not written into the stored fields.
    stored = world.subject_row(subject_id)
    assert stored.status == "active"
    assert "oldest_overdue_days" not in stored.fields


def test_wakes_at_the_tenants_midnight(world: World) -> None:
    subject_id = debtor(world, [("A-1", dt.date(2026, 1, 1), "100.00")])
    instance_id = start(world, flow("subject.oldest_overdue_days > 6", at="00:00"), subject_id)
    # 7 days overdue on 8 January, from midnight in Amsterdam: 23:00 UTC the day before.
    world.runner.advance(dt.timedelta(days=10))
    assert left_wait_at(world, instance_id) == utc(2026, 1, 7, 23)


def test_true_on_entry_passes_at_once(world: World) -> None:
    subject_id = debtor(world, [("A-1", dt.date(2025, 12, 1), "100.00")])
    instance_id = start(world, flow("subject.oldest_overdue_days >= 30"), subject_id)
    assert world.instance(instance_id).status == "completed"
    assert timers(world, instance_id) == []


def pay(world: World, number: str, amount: str) -> None:
    receivables_helpers.pay(world.rt, world.tenant, number, amount)
    world.runner.drain()


def test_paying_the_oldest_invoice_moves_the_timer(world: World) -> None:
    subject_id = debtor(
        world,
        [("A-1", dt.date(2026, 1, 1), "100.00"), ("A-2", dt.date(2026, 1, 10), "50.00")],
    )
    instance_id = start(world, flow("subject.oldest_overdue_days >= 15"), subject_id)
    world.runner.advance(dt.timedelta(days=3))
    pay(world, "A-1", "100.00")
    # A-2 leads now: overdue from 11 January, D.I.P. 15 on 25 January.
    assert timers(world, instance_id) == [
        ("recheck", utc(2026, 1, 16, 8), "cancelled"),
        ("recheck", utc(2026, 1, 25, 8), "pending"),
    ]
    world.runner.advance(dt.timedelta(days=30))
    assert left_wait_at(world, instance_id) == utc(2026, 1, 25, 8)


def test_a_payment_that_makes_the_rule_true_wakes_at_once(world: World) -> None:
    subject_id = debtor(
        world,
        [("A-1", dt.date(2026, 1, 1), "100.00"), ("A-2", dt.date(2026, 2, 1), "50.00")],
    )
    instance_id = start(
        world, flow("subject.debt_amount < 60 || subject.oldest_overdue_days >= 30"), subject_id
    )
    assert world.instance(instance_id).status == "running"
    world.runner.advance(dt.timedelta(days=1))
    pay(world, "A-1", "100.00")
    # Not by the clock (the debt never falls by itself), by the payment's subject.changed.
    assert world.instance(instance_id).status == "completed"
    assert left_wait_at(world, instance_id) == utc(2026, 1, 6, 8)


def test_a_wait_with_nothing_ahead_has_no_timer(world: World) -> None:
    subject_id = debtor(world, [("A-1", dt.date(2026, 1, 1), "100.00")])
    # The D.I.P. only grows: "below 3" never becomes true by the clock.
    instance_id = start(world, flow("subject.oldest_overdue_days < 3"), subject_id)
    assert world.instance(instance_id).status == "running"
    assert timers(world, instance_id) == []


def test_the_set_based_pass_wakes_only_those_whose_rule_holds(world: World) -> None:
    late = debtor(world, [("A-1", dt.date(2026, 1, 1), "100.00")], "D-1")
    on_time = debtor(world, [("B-1", dt.date(2026, 1, 2), "100.00")], "D-2")
    document = flow("subject.oldest_overdue_days >= 15")
    setup.publish(world.rt, world.tenant, json.dumps(document), "consultant")
    started = [
        admin.start(world.rt, world.tenant, "follow", subject, "tester").id
        for subject in (late, on_time)
    ]
    world.runner.drain()
    # An import moves A-1's due date back a month: no subject event, no step.
    with world.rt.db.transaction() as session:
        session.execute(
            sa.update(OpenItem)
            .where(OpenItem.number == "A-1")
            .values(due_date=dt.date(2025, 12, 1))
        )
    world.runner.drain()
    assert [world.instance(i).status for i in started] == ["running", "running"]
    assert fact_waits.wake_matching(world.rt, world.tenant) == 1
    world.runner.drain()
    assert [world.instance(i).status for i in started] == ["completed", "running"]
    assert left_wait_at(world, started[0]) == utc(2026, 1, 5, 8)
    assert fact_waits.wake_matching(world.rt, world.tenant) == 0


ENDING_LISTS = re.compile(
    # psycopg's placeholders hold parentheses: %(tokens_1)s
    r"(tokens\.id|tasks\.token_id|timers\.token_id) IN \(((?:[^()]|\([^()]*\))*)\)"
)


def test_a_pass_larger_than_an_in_list_moves_everyone_in_chunks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At 1,000,000 debtors one pass leaves 80,000 positions in one transaction: one IN
    # list of their ids bound more parameters than PostgreSQL takes (65,535).
    monkeypatch.setattr(buffer, "ID_CHUNK", 2)
    subjects = [
        debtor(world, [(f"A-{n}", dt.date(2026, 1, 1), "10.00")], f"D-{n}") for n in range(5)
    ]
    setup.publish(
        world.rt, world.tenant, json.dumps(flow("subject.oldest_overdue_days >= 15")), "c"
    )
    started = [admin.start(world.rt, world.tenant, "follow", s, "tester").id for s in subjects]
    world.runner.drain()
    with world.rt.db.transaction() as session:  # an import makes every debtor late at once
        session.execute(sa.update(OpenItem).values(due_date=dt.date(2025, 12, 1)))
    widest: dict[str, int] = {}  # the longest id list per statement that ends positions

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        for column, ids in ENDING_LISTS.findall(statement):
            widest[column] = max(widest.get(column, 0), ids.count(",") + 1)

    sa.event.listen(world.rt.db.engine, "before_cursor_execute", record)
    try:
        assert fact_waits.wake_matching(world.rt, world.tenant) == 5
    finally:
        sa.event.remove(world.rt.db.engine, "before_cursor_execute", record)
    world.runner.drain()
    assert [world.instance(i).status for i in started] == ["completed"] * 5
    # Every wake-up timer ended with its position, though no statement named more than two.
    assert all(status == "cancelled" for i in started for _, _, status in timers(world, i))
    assert widest == {"tokens.id": 2, "tasks.token_id": 2, "timers.token_id": 2}


def test_the_timeout_port_leaves_before_the_rule_holds(world: World) -> None:
    subject_id = debtor(world, [("A-1", dt.date(2026, 1, 1), "100.00")])
    document = flow("subject.oldest_overdue_days >= 15")
    document["nodes"][1]["params"]["until"]["timeout"] = {"amount": 3, "unit": "days"}
    document["nodes"].append({"id": "gave_up", "type": "end"})
    document["edges"].append(
        {"id": "e4", "source": "wait", "source_port": "timeout", "target": "gave_up"}
    )
    instance_id = start(world, document, subject_id)
    world.runner.advance(dt.timedelta(days=30))
    (left,) = [h for h in world.history(instance_id) if h.kind == "left" and h.node_id == "wait"]
    assert (left.port, left.at.astimezone(dt.UTC)) == ("timeout", utc(2026, 1, 8, 8))
    # The wake-up timer ended with the position.
    assert ("recheck", utc(2026, 1, 16, 8), "cancelled") in timers(world, instance_id)


# --- validation ----------------------------------------------------------------------------


def problems(when: str) -> list[tuple[str, str | None]]:
    checked = check_flow(
        decode_flow(json.dumps(flow(when))), default_registry(), builtin_subject_types()
    )
    return [(p.code, p.path) for p in checked.problems]


def test_validation_names_unknown_fields_and_rules_the_clock_cannot_wake() -> None:
    assert problems("subject.oldest_overdue_days >= 15") == []
    assert problems("subject.oldest_overdue_days >= 15 && subject.problematic == false") == []
    codes = [code for code, _ in problems("subject.problematic == true")]
    assert codes == ["wait.rule.no_clock"]
    assert problems("subject.oldest_overdays >= 15")[0][0].startswith("rule.field")


def test_clock_fields_of_the_debtor() -> None:
    debtor_type = builtin_subject_types()["debtor"]
    named = rule_clock_fields(
        parse("subject.debt_amount > 5 && subject.oldest_overdue_days >= 7"), debtor_type
    )
    assert named == ["oldest_overdue_days"]


# --- the projection alone ---------------------------------------------------------------------

BUSINESS: list[Computed] = [
    Computed(
        "procedure_due_date",
        "date",
        Aggregate(function="min", value="due_date", statuses=["open"], due="overdue"),
    ),
    Computed("dip", "integer", Age(since="procedure_due_date", days="business")),
]


def item(due: dt.date) -> ItemRow:
    return ItemRow("open", due - dt.timedelta(days=30), due, Decimal(10), Decimal(10))


def projected_day(computed: list[Computed], items: list[ItemRow], text: str, today: dt.date) -> Any:
    projection = Projection(computed, {}, {}, items, AMSTERDAM, WorkingDays("NL"))
    return next_true_day(parse(text), {}, "", projection, today)


def test_business_days_skip_weekends_and_holidays() -> None:
    # Due Friday 18 December 2026: business days after it are 21, 22, 23, 24, (25 and 26
    # December are Christmas), 28, 29, 30, 31, (1 January), 4 January ...
    items = [item(dt.date(2026, 12, 18))]
    today = dt.date(2026, 12, 19)
    assert projected_day(BUSINESS, items, "subject.dip >= 4", today) == dt.date(2026, 12, 24)
    assert projected_day(BUSINESS, items, "subject.dip >= 5", today) == dt.date(2026, 12, 28)
    assert projected_day(BUSINESS, items, "subject.dip >= 9", today) == dt.date(2027, 1, 4)


def test_business_days_since_a_stored_date() -> None:
    since_promise = [Computed("late", "integer", Age(since="promised", days="business"))]
    projection = Projection(
        since_promise, {"promised": "2026-12-18"}, {}, [], AMSTERDAM, WorkingDays("NL")
    )
    found = next_true_day(parse("subject.late >= 5"), {}, "", projection, dt.date(2026, 12, 19))
    assert found == dt.date(2026, 12, 28)


def test_an_item_not_yet_overdue_starts_the_count() -> None:
    # Nothing overdue today: the D.I.P. is absent until the item falls overdue.
    debtor_facts = computed_fields(builtin_subject_types()["debtor"])
    items = [item(dt.date(2026, 3, 10))]
    found = projected_day(
        debtor_facts, items, "subject.oldest_overdue_days >= 7", dt.date(2026, 3, 1)
    )
    assert found == dt.date(2026, 3, 17)


def test_a_window_that_has_passed_is_never_woken_for() -> None:
    debtor_facts = computed_fields(builtin_subject_types()["debtor"])
    items = [item(dt.date(2026, 3, 1))]
    text = "subject.oldest_overdue_days >= 3 && subject.oldest_overdue_days <= 5"
    assert projected_day(debtor_facts, items, text, dt.date(2026, 3, 2)) == dt.date(2026, 3, 4)
    assert projected_day(debtor_facts, items, text, dt.date(2026, 3, 7)) is None
