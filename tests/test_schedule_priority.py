"""Priority of scheduled workflows (issue 16, D5) and runs that act on nobody twice.

Workflows due in the same slot run in the tenant's order; a customer an earlier one
acted on in the slot is skipped by a later one (the run record says by whom) unless
the later trigger says ``also_if_acted_on``. A key per workflow, customer and slot
keeps a crashed or repeated run from acting twice.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.schedule_runs import ScheduleAct, ScheduleRun, ScheduleRunSubject
from procedo.flow.model import ScheduleTrigger
from procedo.flow.problems import FlowError
from procedo.runtime import admin, bulk, schedules, setup
from procedo.runtime.schedules import run_due_schedules, run_schedule_now
from procedo.runtime.setup import next_run
from tests.conftest import EXAMPLES
from tests.receivables_helpers import overdue_debtor
from tests.runtime_helpers import World, make_world

UTC = dt.UTC
BASE = {"name": "X", "email": "x@example.nl", "problematic": False, "dunning_notices": 0}
JSON = {"Content-Type": "application/json"}
THURSDAY = dt.datetime(2026, 1, 8, 10, tzinfo=UTC)
SLOT = dt.datetime(2026, 1, 13, 15, tzinfo=UTC)  # Tuesday 16:00 in Amsterdam


@pytest.fixture
def world(db_url: str) -> World:
    made = make_world(db_url)
    made.runner.clock.set(THURSDAY)
    return made


def _document(key: str, name: str, **trigger: Any) -> bytes:
    flow = json.loads((EXAMPLES / "dunning-level-1.json").read_text())
    flow["key"], flow["name"] = key, name
    flow["trigger"].update(trigger)
    return json.dumps(flow).encode()


def _publish(world: World, key: str, name: str, **trigger: Any) -> m.FlowVersion:
    return setup.publish(world.rt, world.tenant, _document(key, name, **trigger), "consultant")


def _debtor(world: World, key: str) -> uuid.UUID:
    return overdue_debtor(world.rt, world.tenant, key, BASE, 9, dt.date(2026, 1, 13))


def _outcomes(world: World, flow_key: str) -> list[tuple[str, str, str | None]]:
    """The newest run of the flow: (subject key, outcome, by flow) per selected subject."""
    with world.rt.db.read() as session:
        run_id = session.scalar(
            sa.select(ScheduleRun.id)
            .join(m.Flow, m.Flow.id == ScheduleRun.flow_id)
            .where(m.Flow.key == flow_key)
            .order_by(ScheduleRun.ran_at.desc(), ScheduleRun.id.desc())
            .limit(1)
        )
        rows = session.execute(
            sa.select(m.Subject.key, ScheduleRunSubject.outcome, ScheduleRunSubject.by_flow)
            .join(m.Subject, m.Subject.id == ScheduleRunSubject.subject_id)
            .where(ScheduleRunSubject.run_id == run_id)
            .order_by(m.Subject.key)
        )
        return [(key, outcome, by) for key, outcome, by in rows]


def _instances(world: World, subject_id: uuid.UUID) -> list[m.Instance]:
    with world.rt.db.read() as session:
        return list(
            session.scalars(sa.select(m.Instance).where(m.Instance.subject_id == subject_id))
        )


def _set(world: World, version_id: uuid.UUID, **values: object) -> None:
    with world.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, version_id)
        assert schedule is not None
        for name, value in values.items():
            setattr(schedule, name, value)


def test_a_later_workflow_of_the_slot_skips_whom_an_earlier_one_acted_on(world: World) -> None:
    # Published in the other order: the position, not the publishing, decides.
    notice = _publish(world, "first-notice", "First notice")
    reminder = _publish(world, "reminder", "Reminder")
    both = _debtor(world, "both")
    _set(world, reminder.id, position=1)
    _set(world, notice.id, position=2)
    world.runner.clock.set(SLOT)
    assert run_due_schedules(world.rt) == 1
    assert _outcomes(world, "reminder") == [("both", "acted", None)]
    assert _outcomes(world, "first-notice") == [("both", "earlier", "Reminder")]
    (instance,) = _instances(world, both)
    with world.rt.db.read() as session:
        assert (
            session.scalar(
                sa.select(m.Flow.key)
                .join(m.FlowVersion)
                .where(m.FlowVersion.id == instance.flow_version_id)
            )
            == "reminder"
        )

    # The next slot, the other order: the first notice acts, the reminder skips.
    _set(world, reminder.id, position=2)
    _set(world, notice.id, position=1)
    with world.rt.db.read() as session:
        due = session.get(m.FlowSchedule, reminder.id)
        assert due is not None
        world.runner.clock.set(due.next_run_at)
    assert run_due_schedules(world.rt) == 1
    assert _outcomes(world, "first-notice") == [("both", "acted", None)]
    assert _outcomes(world, "reminder") == [("both", "earlier", "First notice")]


def test_a_workflow_that_says_so_acts_also_on_whom_an_earlier_one_acted_on(
    world: World,
) -> None:
    _publish(world, "reminder", "Reminder")
    _publish(world, "handover", "Hand over", also_if_acted_on=True)
    _debtor(world, "both")
    world.runner.clock.set(SLOT)
    assert run_due_schedules(world.rt) == 2
    assert _outcomes(world, "reminder") == [("both", "acted", None)]
    assert _outcomes(world, "handover") == [("both", "acted", None)]


def test_a_later_workflow_waits_while_an_earlier_one_of_its_slot_is_due(world: World) -> None:
    first = _publish(world, "reminder", "Reminder")
    second = _publish(world, "first-notice", "First notice")
    world.runner.clock.set(SLOT)
    with world.rt.transaction() as (session, _out):
        # Another scheduler holds the reminder (its row is skipped, not yet moved on).
        assert schedules._claim_next(world.rt, session, [first.id]) is None
    assert run_due_schedules(world.rt) == 0
    with world.rt.db.read() as session:
        ran = session.execute(
            sa.select(ScheduleRun.flow_id, ScheduleRun.slot_at).order_by(ScheduleRun.ran_at)
        ).all()
    assert [slot for _flow, slot in ran] == [SLOT, SLOT]
    assert [flow for flow, _slot in ran] == [first.flow_id, second.flow_id]


def test_a_repeated_run_of_a_slot_acts_on_nobody_twice(world: World) -> None:
    version = _publish(world, "reminder", "Reminder")
    debtor = _debtor(world, "due")
    world.runner.clock.set(SLOT)
    assert run_due_schedules(world.rt) == 1
    (instance,) = _instances(world, debtor)
    admin.cancel(world.rt, world.tenant, instance.id, "paid by phone", "tester")  # not busy
    # The same slot once more (a restored row, a scheduler that ran it twice): the key
    # per workflow, customer and slot stops it.
    _set(world, version.id, next_run_at=SLOT)
    assert run_due_schedules(world.rt) == 0
    assert len(_instances(world, debtor)) == 1
    assert _outcomes(world, "reminder") == [("due", "repeated", None)]


def test_a_run_that_crashes_acts_on_nobody_and_its_retry_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = _publish(world, "reminder", "Reminder")
    debtor = _debtor(world, "due")
    world.runner.clock.set(SLOT)
    real = schedules._record_run

    def crash(*args: Any) -> None:
        real(*args)  # instances and keys are in the session: the crash comes after
        raise RuntimeError("the database went away")

    monkeypatch.setattr(schedules, "_record_run", crash)
    assert run_due_schedules(world.rt) == 0
    assert _instances(world, debtor) == []
    with world.rt.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ScheduleAct)) == 0
        schedule = session.get(m.FlowSchedule, version.id)
        assert schedule is not None
        assert schedule.failures == 1
    monkeypatch.setattr(schedules, "_record_run", real)
    world.runner.clock.set(schedule.next_run_at)
    assert run_due_schedules(world.rt) == 1
    assert run_due_schedules(world.rt) == 0
    assert len(_instances(world, debtor)) == 1


def test_a_key_taken_meanwhile_rolls_the_whole_run_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of one slot at once: the key the other run committed after this one read
    makes this one's insert fail, and with it every instance it created (the primary
    key, not the read, is the guard)."""
    _publish(world, "reminder", "Reminder")
    debtor = _debtor(world, "due")
    world.runner.clock.set(SLOT)
    real = bulk.start_in_session

    def other_run_meanwhile(rt: Any, session: Any, out: Any, version: Any, *rest: Any) -> Any:
        report = real(rt, session, out, version, *rest)
        other = ScheduleRun(
            tenant_id=version.tenant_id,
            flow_id=version.flow_id,
            version=1,
            slot_at=SLOT,
            selected=1,
            acted=1,
            skipped=0,
        )
        session.add(other)
        session.flush()
        session.add(
            ScheduleAct(
                flow_id=version.flow_id,
                subject_id=debtor,
                slot_at=SLOT,
                tenant_id=version.tenant_id,
                run_id=other.id,
            )
        )
        session.flush()
        return report

    monkeypatch.setattr("procedo.runtime.schedules.start_in_session", other_run_meanwhile)
    assert run_due_schedules(world.rt) == 0
    assert _instances(world, debtor) == []


def test_run_now_is_its_own_slot_and_says_whom_it_skipped(world: World) -> None:
    _publish(world, "reminder", "Reminder")
    version = _publish(world, "first-notice", "First notice")
    _debtor(world, "due")
    world.runner.clock.set(SLOT)
    assert run_due_schedules(world.rt) == 1
    assert _outcomes(world, "first-notice") == [("due", "earlier", "Reminder")]
    # Run now is a slot of its own: an administrator asked for this workflow.
    world.runner.clock.set(SLOT + dt.timedelta(minutes=5))
    result = run_schedule_now(world.rt, version.id)
    assert (result.selected, result.started, result.error) == (1, 1, None)
    assert _outcomes(world, "first-notice") == [("due", "acted", None)]
    world.runner.clock.set(SLOT + dt.timedelta(minutes=6))
    again = run_schedule_now(world.rt, version.id)
    assert (again.selected, again.started) == (1, 0)
    assert _outcomes(world, "first-notice") == [("due", "open", None)]


def test_new_workflows_come_last_and_republishing_keeps_the_place(world: World) -> None:
    a = _publish(world, "reminder", "Reminder")
    b = _publish(world, "first-notice", "First notice")
    _set(world, a.id, position=5)
    again = _publish(world, "reminder", "Reminder")
    with world.rt.db.read() as session:
        positions = {
            row.flow_version_id: row.position for row in session.scalars(sa.select(m.FlowSchedule))
        }
    assert positions[b.id] == 2
    assert positions[again.id] == 5
    c = _publish(world, "call", "Call")
    with world.rt.db.read() as session:
        schedule = session.get(m.FlowSchedule, c.id)
        assert schedule is not None
        assert schedule.position == 6


def test_a_tenant_time_zone_with_another_dst_date_keeps_the_hour() -> None:
    """New York leaves summer time on 1 November 2026, a week after Europe."""
    weekly = ScheduleTrigger(every="week", weekday="monday", at="09:00")
    published = dt.datetime(2026, 10, 27, 12, tzinfo=UTC)
    first = next_run(weekly, published, "America/New_York", anchor=published)
    assert first == dt.datetime(2026, 11, 2, 14, tzinfo=UTC)  # EST, UTC-5
    before = next_run(weekly, published - dt.timedelta(days=7), "America/New_York")
    assert before == dt.datetime(2026, 10, 26, 13, tzinfo=UTC)  # EDT, UTC-4


@pytest.mark.parametrize(
    ("trigger", "code", "path"),
    [
        ({"every": "day", "weekday": "tuesday"}, "trigger.day.daily", "$.trigger.weekday"),
        ({"every": "day", "day_of_month": 3}, "trigger.day.daily", "$.trigger.day_of_month"),
        ({"every": "week", "day_of_month": 3}, "trigger.day.conflict", "$.trigger.day_of_month"),
        (
            {"every": "month", "weekday": "friday", "day_of_month": 13},
            "trigger.day.conflict",
            "$.trigger.day_of_month",
        ),
    ],
)
def test_a_day_that_does_not_fit_the_interval_is_refused_on_publish(
    world: World, trigger: dict[str, Any], code: str, path: str
) -> None:
    document = json.loads(_document("odd", "Odd"))
    document["trigger"] = {"kind": "schedule", "at": "16:00", **trigger}
    with pytest.raises(FlowError) as refused:
        setup.publish(world.rt, world.tenant, json.dumps(document).encode(), "consultant")
    assert [(p.code, p.path) for p in refused.value.problems] == [(code, path)]
