"""Scheduled dunning on real data (D3, D6-D8): schedules select on computed facts, only
notices a workflow sent count, and the scheduler wakes waits whose facts changed silently.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.runtime import admin, setup
from procedo.runtime.schedules import run_due_schedules
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays
from procedo.worker.scheduler import Scheduler
from tests.receivables_helpers import add_open_items, overdue_debtor
from tests.runtime_helpers import World, make_world

BASE = {"name": "X", "email": "x@example.nl", "problematic": False}
DEBTOR_FACTS = computed_fields(builtin_subject_types()["debtor"])


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _started(world: World, version: m.FlowVersion) -> list[str]:
    """The keys of the debtors the version has instances for, sorted."""
    with world.rt.db.read() as session:
        query = (
            sa.select(m.Subject.key)
            .join(m.Instance, m.Instance.subject_id == m.Subject.id)
            .where(m.Instance.flow_version_id == version.id)
        )
        return sorted(session.scalars(query))


def _facts(world: World, subject_id: uuid.UUID) -> dict[str, object]:
    calendar = Calendar(world.rt.clock.now(), "Europe/Amsterdam", WorkingDays("NL"))
    with world.rt.db.read() as session:
        subject = session.get(m.Subject, subject_id)
        assert subject is not None
        return load_facts(session.connection(), DEBTOR_FACTS, subject_id, subject.fields, calendar)


def _run_at(world: World, moment: dt.datetime) -> int:
    world.runner.clock.set(moment)
    started = run_due_schedules(world.rt)
    world.runner.drain()
    return started


def test_level_1_then_level_2_select_on_the_notices_the_workflows_sent(world: World) -> None:
    """D6 (Tue 16:00, no notices, oldest overdue > 6 days) then D7 (Fri 12:00, one notice,
    8 days since it): a notice sent by D6 moves the debtor from the one to the other."""
    level_1 = world.publish("dunning-level-1")
    level_2 = world.publish("dunning-level-2")
    tuesday = dt.date(2026, 1, 6)
    late = overdue_debtor(world.rt, world.tenant, "late", BASE, 9, tuesday)
    overdue_debtor(world.rt, world.tenant, "recent", BASE, 3, tuesday)
    problem = {**BASE, "problematic": True}
    overdue_debtor(world.rt, world.tenant, "problem", problem, 30, tuesday)
    # A stored count is not a notice: only what a workflow sent counts (D3).
    stored = {**BASE, "dunning_notices": 5}
    overdue_debtor(world.rt, world.tenant, "typed", stored, 9, tuesday)

    assert _run_at(world, _utc(2026, 1, 6, 15)) == 2  # D6's first slot, 16:00 Amsterdam
    assert _started(world, level_1) == ["late", "typed"]
    assert _facts(world, late)["dunning_notices"] == 0  # not sent before approval
    for task in world.open_tasks():
        admin.complete_task(world.rt, world.tenant, task.id, "approve", [], "reviewer")
    world.runner.drain()
    facts = _facts(world, late)
    assert (facts["dunning_notices"], facts["last_dunning_date"]) == (1, tuesday)

    # Friday 9 January: one notice, but only 3 days ago.
    assert _run_at(world, _utc(2026, 1, 9, 11)) == 0
    # Friday 16 January: 10 days since it; level 2 goes out without approval.
    assert _run_at(world, _utc(2026, 1, 16, 11)) == 2
    assert _started(world, level_2) == ["late", "typed"]
    assert _facts(world, late)["dunning_notices"] == 2
    # Tuesday 20 January, D6 again: 'recent' is 17 days overdue now; the others had notices.
    assert _run_at(world, _utc(2026, 1, 20, 15)) == 1
    assert _started(world, level_1) == ["late", "recent", "typed"]


def test_paying_moves_a_debtor_out_of_the_selection(world: World) -> None:
    level_1 = world.publish("dunning-level-1")
    paid = overdue_debtor(world.rt, world.tenant, "paid", BASE, 9, dt.date(2026, 1, 6))
    overdue_debtor(world.rt, world.tenant, "unpaid", BASE, 9, dt.date(2026, 1, 6))
    with world.rt.db.transaction() as session:
        session.execute(
            sa.update(OpenItem)
            .where(OpenItem.debtor_id == paid)
            .values(open_amount=0, status="paid")
        )
    assert _run_at(world, _utc(2026, 1, 6, 15)) == 1
    assert _started(world, level_1) == ["unpaid"]


def test_the_phone_call_selects_on_debt_between_300_and_4000(world: World) -> None:
    """D8: two notices, debt between 300 and 4000, 14 days since the last notice."""
    calls = world.publish("dunning-phone-call")
    notices = world.publish("dunning-level-1")
    subjects = {}
    for key, amount in (("small", "120.00"), ("middle", "1500.00"), ("large", "9000.00")):
        subject = world.subject("debtor", key, BASE)
        add_open_items(
            world.rt, world.tenant, subject.id, [(f"{key}-1", dt.date(2025, 12, 1), amount)]
        )
        subjects[key] = subject.id
    # Two notices each, sent by a workflow on Monday 5 January (history rows as it writes).
    with world.rt.db.transaction() as session:
        for key, subject_id in subjects.items():
            instance = m.Instance(
                tenant_id=world.tenant,
                flow_version_id=notices.id,
                subject_id=subject_id,
                status="completed",
                variables={},
                started_at=world.rt.clock.now(),
                updated_at=world.rt.clock.now(),
            )
            session.add(instance)
            session.flush()
            for _ in range(2):
                session.add(
                    m.History(
                        tenant_id=world.tenant,
                        instance_id=instance.id,
                        subject_id=subject_id,
                        at=world.rt.clock.now(),
                        actor="system",
                        kind="email_queued",
                        data={"mark": "dunning_notice", "subject": key},
                    )
                )
    # Monday 12 January, its first slot: 7 days since the notices.
    assert _run_at(world, _utc(2026, 1, 12, 8)) == 0
    # Monday 26 January: 21 days; only the middle debt is between 300 and 4000.
    assert _run_at(world, _utc(2026, 1, 26, 8)) == 1
    assert _started(world, calls) == ["middle"]
    (task,) = world.open_tasks()
    assert task.title == "Call X about 1500.00"
    admin.complete_task(world.rt, world.tenant, task.id, "reached", [], "caller")
    world.runner.drain()
    assert _facts(world, subjects["middle"])["calls"] == 1


def test_the_scheduler_wakes_a_wait_whose_facts_changed_without_an_event(world: World) -> None:
    """An invoice moved by hand (no subject event): the scheduler's fact pass finds it."""
    subject = world.subject("debtor", "D-1", BASE)
    add_open_items(world.rt, world.tenant, subject.id, [("A-1", dt.date(2026, 1, 2), "100.00")])
    document = {
        "format": "procedo.flow/1",
        "key": "follow",
        "name": "Follows the D.I.P.",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "wait",
                "type": "wait",
                "params": {
                    "until": {
                        "mode": "rule",
                        "at": "09:00",
                        "when": {
                            "kind": "compare",
                            "field": "subject.oldest_overdue_days",
                            "op": ">=",
                            "value": {"type": "decimal", "value": "15"},
                        },
                    }
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "a", "source": "start", "source_port": "next", "target": "wait"},
            {"id": "b", "source": "wait", "source_port": "next", "target": "end"},
        ],
    }
    setup.publish(world.rt, world.tenant, json.dumps(document), "consultant")
    instance = admin.start(world.rt, world.tenant, "follow", subject.id, "tester")
    world.runner.drain()
    with world.rt.db.transaction() as session:
        session.execute(
            sa.update(OpenItem)
            .where(OpenItem.number == "A-1")
            .values(due_date=dt.date(2025, 12, 1))
        )
    assert world.instance(instance.id).status == "running"
    Scheduler(world.rt).tick()
    world.runner.drain()
    assert world.instance(instance.id).status == "completed"


def test_a_debtor_imported_without_the_problematic_field_is_dunned(world: World) -> None:
    """D6's "not problematic" holds for a debtor whose import had no problematic column."""
    level_1 = world.publish("dunning-level-1")
    tuesday = dt.date(2026, 1, 6)
    unstated = {key: value for key, value in BASE.items() if key != "problematic"}
    overdue_debtor(world.rt, world.tenant, "unstated", unstated, 9, tuesday)
    overdue_debtor(world.rt, world.tenant, "problem", {**BASE, "problematic": True}, 9, tuesday)
    assert _run_at(world, _utc(2026, 1, 6, 15)) == 1
    assert _started(world, level_1) == ["unstated"]
