"""``today`` in rules: dates compared with the tenant's date when the rule is evaluated.

``subject.due_date < today - 14`` is data ({"type": "today", "days": -14}), written and
read as text, checked against the field's type, evaluated in Python with the date of the
step, compiled to SQL with the date of the selection, and woken by the clock in a wait.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.moving import rule_clock_fields
from procedo.facts.python import ItemRow
from procedo.facts.sql import select_matching
from procedo.facts.wakeup import Projection, next_true_day
from procedo.rules.check import check_rule
from procedo.rules.evaluate import evaluate
from procedo.rules.model import Compare, Rule, TodayValue
from procedo.rules.text import RuleSyntaxError, format_rule, parse_rule
from procedo.rules.today import today_is
from procedo.runtime import admin, setup
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays
from tests.runtime_helpers import World, make_world

DEBTOR = builtin_subject_types()["debtor"]
INVOICE = builtin_subject_types()["invoice"]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("subject.promised_payment_date < today - 14", -14),
        ("subject.promised_payment_date >= today", 0),
        ("subject.promised_payment_date <= today + 3", 3),
    ],
)
def test_today_is_written_and_read_as_text(text: str, days: int) -> None:
    rule = parse_rule(text)
    assert isinstance(rule, Compare)
    assert rule.value == TodayValue(days=days)
    assert format_rule(rule) == text
    stored = msgspec.json.encode(rule)
    assert msgspec.json.decode(stored, type=Rule) == rule
    assert json.loads(stored)["value"] == {"type": "today", "days": days}


def test_today_on_the_left_and_in_lists_reads_as_expected() -> None:
    assert format_rule(parse_rule("today - 7 > subject.promised_payment_date")) == (
        "subject.promised_payment_date < today - 7"
    )
    between = "subject.promised_payment_date.between(today - 30, today)"
    assert format_rule(parse_rule(between)) == between


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("subject.payable_amount - 3 > 1", "only today can be moved"),
        ("subject.due_date < today - 1.5", "whole number of days"),
        ("subject.due_date < today - 40000", "at most 36,600 days"),
        ("subject.due_date < today()", "today is a date"),
        ("subject.due_date < today.year", "today is a date"),
        ("subject.due_date < 3 + today", "arithmetic"),
    ],
)
def test_wrong_uses_of_today_are_refused_with_a_hint(text: str, says: str) -> None:
    with pytest.raises(RuleSyntaxError) as refused:
        parse_rule(text)
    assert says in refused.value.message


def test_today_fits_date_fields_only() -> None:
    assert check_rule(parse_rule("subject.due_date < today - 14"), INVOICE) == []
    (problem,) = check_rule(parse_rule("subject.payable_amount < today"), INVOICE)
    assert problem.code == "rule.type.mismatch"
    assert "date (today)" in problem.message
    too_far = {"kind": "compare", "field": "subject.due_date", "op": "<"}
    too_far["value"] = {"type": "today", "days": 40_000}  # type: ignore[assignment]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(too_far, Rule)


def test_python_evaluates_today_as_the_date_it_is_given() -> None:
    rule = parse_rule("subject.due_date < today - 14")
    subject = {"due_date": "2026-03-01"}
    with today_is(dt.date(2026, 3, 15)):
        assert not evaluate(rule, subject, {})  # 14 days: not before
    with today_is(dt.date(2026, 3, 16)):
        assert evaluate(rule, subject, {})  # the same compiled rule, a day later


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _select(world: World, text: str, now: dt.datetime) -> list[str]:
    calendar = Calendar(now, "Europe/Amsterdam", WorkingDays("NL"))
    computed = computed_fields(DEBTOR)
    query = select_matching(parse_rule(text), computed, calendar, world.tenant, "debtor")
    with world.rt.db.read() as session:
        ids = set(session.scalars(query))
        return sorted(world.subject_row(i).key for i in ids)


def test_sql_selects_with_the_tenants_today(world: World) -> None:
    for key, promised in (("a", "2026-03-10"), ("b", "2026-03-14"), ("c", "2026-03-20")):
        world.subject("debtor", key, {"name": key, "promised_payment_date": promised})
    world.subject("debtor", "none", {"name": "none"})
    text = "subject.promised_payment_date < today - 3"
    # 23:30 UTC on 17 March is already the 18th in Amsterdam: before the 15th.
    late_evening = dt.datetime(2026, 3, 17, 23, 30, tzinfo=dt.UTC)
    assert _select(world, text, late_evening) == ["a", "b"]
    assert _select(world, text, dt.datetime(2026, 3, 17, 12, 0, tzinfo=dt.UTC)) == ["a"]
    with world.rt.db.read() as session:
        rows = session.scalars(sa.select(m.Subject).where(m.Subject.tenant_id == world.tenant))
        subjects = {row.key: {**row.fields, "status": row.status} for row in rows}
    with today_is(dt.date(2026, 3, 18)):  # Python agrees on that day
        accepted = sorted(k for k, s in subjects.items() if evaluate(parse_rule(text), s, {}))
    assert accepted == ["a", "b"]


def test_a_condition_in_a_flow_compares_with_the_day_of_its_step(world: World) -> None:
    """A promise to pay is broken once its date has passed (M3), by the clock alone."""
    document: dict[str, Any] = {
        "format": "procedo.flow/1",
        "key": "promise",
        "name": "Promise kept?",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "check",
                "type": "condition",
                "params": {
                    "branches": [
                        {
                            "label": "Broken",
                            "port": "broken",
                            "when": msgspec.to_builtins(
                                parse_rule("subject.promised_payment_date < today")
                            ),
                        }
                    ]
                },
            },
            {"id": "broken", "type": "end"},
            {"id": "kept", "type": "end"},
        ],
        "edges": [
            {"id": "a", "source": "start", "source_port": "next", "target": "check"},
            {"id": "b", "source": "check", "source_port": "broken", "target": "broken"},
            {"id": "c", "source": "check", "source_port": "else", "target": "kept"},
        ],
    }
    setup.publish(world.rt, world.tenant, json.dumps(document), "consultant")
    # The clock starts on Monday 5 January 2026.
    on_time = world.subject(
        "debtor", "on-time", {"name": "A", "promised_payment_date": "2026-01-05"}
    )
    late = world.subject("debtor", "late", {"name": "B", "promised_payment_date": "2026-01-04"})
    ended_at = {}
    for subject in (on_time, late):
        instance = admin.start(world.rt, world.tenant, "promise", subject.id, "tester")
        world.runner.drain()
        ended_at[subject.key] = [
            row.node_id for row in world.history(instance.id) if row.kind == "instance_completed"
        ]
    assert ended_at == {"on-time": ["kept"], "late": ["broken"]}


def test_a_wait_on_today_wakes_the_day_the_rule_becomes_true() -> None:
    rule = parse_rule("subject.promised_payment_date < today - 2")
    assert rule_clock_fields(rule, DEBTOR) == ["promised_payment_date"]
    stored = {"promised_payment_date": "2026-01-10"}
    computed = computed_fields(DEBTOR)
    items: list[ItemRow] = []
    projection = Projection(computed, stored, {}, items, "Europe/Amsterdam", WorkingDays("NL"))
    # Before the 13th, 10 < 13 - 2 is false; on the 13th it holds.
    assert next_true_day(rule, {}, "", projection, dt.date(2026, 1, 5)) == dt.date(2026, 1, 13)


def test_an_event_trigger_compares_with_the_tenants_today(world: World) -> None:
    document: dict[str, Any] = {
        "format": "procedo.flow/1",
        "key": "broken-promise",
        "name": "Broken promise",
        "subject_type": "debtor",
        "trigger": {
            "kind": "event",
            "event": "promise.check",
            "when": msgspec.to_builtins(parse_rule("subject.promised_payment_date < today")),
        },
        "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
        "edges": [{"id": "a", "source": "start", "source_port": "next", "target": "end"}],
    }
    setup.publish(world.rt, world.tenant, json.dumps(document), "consultant")
    # The clock starts on Monday 5 January 2026.
    kept = world.subject("debtor", "kept", {"name": "A", "promised_payment_date": "2026-01-05"})
    broken = world.subject("debtor", "broken", {"name": "B", "promised_payment_date": "2026-01-04"})
    for subject in (kept, broken):
        admin.post_event(world.rt, world.tenant, subject.id, "promise.check")
    world.runner.drain()
    with world.rt.db.read() as session:
        started = set(
            session.scalars(
                sa.select(m.Subject.key).join(m.Instance, m.Instance.subject_id == m.Subject.id)
            )
        )
    assert started == {"broken"}
