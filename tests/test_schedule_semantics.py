"""Schedules as users read them (issue 16, D1): one open instance per debtor and flow,
the first run is the next matching slot after publishing (in the tenant's zone, across
DST), run now leaves the rhythm alone, and a pause outlives republishing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.flow.model import ScheduleTrigger
from procedo.runtime import admin, setup
from procedo.runtime.schedules import run_due_schedules, run_schedule_now
from procedo.runtime.setup import next_run
from tests.conftest import EXAMPLES
from tests.receivables_helpers import overdue_debtor
from tests.runtime_helpers import World, make_world

UTC = dt.UTC
BASE = {"name": "X", "email": "x@example.nl", "problematic": False, "dunning_notices": 0}
BIWEEKLY_TUESDAY = ScheduleTrigger(every="week", interval=2, weekday="tuesday", at="16:00")


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _overdue(world: World, key: str, days: int) -> m.Subject:
    """A debtor the filter selects: its invoice is ``days`` overdue on Monday 5 January."""
    subject_id = overdue_debtor(world.rt, world.tenant, key, BASE, days, dt.date(2026, 1, 5))
    return world.subject_row(subject_id)


def _schedule(world: World, version_id: uuid.UUID) -> m.FlowSchedule:
    with world.rt.db.read() as session:
        schedule = session.get(m.FlowSchedule, version_id)
        assert schedule is not None
        return schedule


def _instances(world: World, subject_id: uuid.UUID) -> list[m.Instance]:
    with world.rt.db.read() as session:
        return list(
            session.scalars(sa.select(m.Instance).where(m.Instance.subject_id == subject_id))
        )


def test_a_run_starts_no_second_instance_for_a_debtor_whose_first_is_open(world: World) -> None:
    version = world.publish("dunning-level-1")
    due = _overdue(world, "due", 9)
    first = _schedule(world, version.id).next_run_at
    world.runner.clock.set(first)
    assert run_due_schedules(world.rt) == 1
    world.runner.drain()
    (open_one,) = _instances(world, due.id)
    assert open_one.status in ("pending", "running")  # waits for approval

    later = _overdue(world, "later", 12)
    # Republished meanwhile: an open instance of an earlier version counts as well.
    version = world.publish("dunning-level-1")
    world.runner.clock.set(_schedule(world, version.id).next_run_at)
    assert run_due_schedules(world.rt) == 1  # only the new debtor
    world.runner.drain()
    assert len(_instances(world, due.id)) == 1
    assert len(_instances(world, later.id)) == 1
    schedule = _schedule(world, version.id)
    assert (schedule.last_selected, schedule.last_started) == (2, 1)

    # Once the first instance has ended, the debtor is started again.
    admin.cancel(world.rt, world.tenant, open_one.id, "paid by phone", "tester")
    world.runner.clock.set(schedule.next_run_at)
    assert run_due_schedules(world.rt) == 1
    assert len(_instances(world, due.id)) == 2
    schedule = _schedule(world, version.id)
    assert (schedule.last_selected, schedule.last_started) == (2, 1)


def test_the_selection_is_one_query_whatever_the_number_of_debtors(world: World) -> None:
    version = world.publish("dunning-level-1")
    for n in range(6):
        _overdue(world, f"d{n}", 9)
    world.runner.clock.set(_schedule(world, version.id).next_run_at)
    assert run_due_schedules(world.rt) == 6
    world.runner.clock.set(_schedule(world, version.id).next_run_at)
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM instances" in statement or "FROM subjects" in statement:
            reads.append(statement)

    engine = world.rt.db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        assert run_due_schedules(world.rt) == 0  # all six still open
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert len(reads) == 1
    schedule = _schedule(world, version.id)
    assert (schedule.last_selected, schedule.last_started) == (6, 0)


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "first", "second"),
    [
        # Thursday 8 January: the coming Tuesday, then two weeks on (CET, UTC+1).
        (_at(2026, 1, 8, 10), _at(2026, 1, 13, 15), _at(2026, 1, 27, 15)),
        # Tuesday before 16:00: the same day.
        (_at(2026, 1, 6, 9), _at(2026, 1, 6, 15), _at(2026, 1, 20, 15)),
        # Tuesday after 16:00 Amsterdam: the next Tuesday.
        (_at(2026, 1, 6, 15, 30), _at(2026, 1, 13, 15), _at(2026, 1, 27, 15)),
        # Across the change to summer time (29 March): 16:00 stays 16:00 (UTC+2).
        (_at(2026, 3, 19, 12), _at(2026, 3, 24, 15), _at(2026, 4, 7, 14)),
        # And back to winter time (25 October).
        (_at(2026, 10, 15, 12), _at(2026, 10, 20, 14), _at(2026, 11, 3, 15)),
    ],
)
def test_the_first_run_is_the_next_matching_slot_after_publishing(
    published: dt.datetime, first: dt.datetime, second: dt.datetime
) -> None:
    zone = "Europe/Amsterdam"
    assert next_run(BIWEEKLY_TUESDAY, published, zone, anchor=published) == first
    # Later runs keep the rhythm counted from the first slot.
    assert next_run(BIWEEKLY_TUESDAY, first, zone, anchor=published) == second
    assert next_run(BIWEEKLY_TUESDAY, first + dt.timedelta(days=3), zone, anchor=published) == (
        second
    )


def test_a_flow_published_on_a_thursday_first_runs_the_coming_tuesday(world: World) -> None:
    world.runner.clock.set(_at(2026, 1, 8, 10))  # Thursday
    version = world.publish("dunning-level-1")
    _overdue(world, "due", 9)
    assert _schedule(world, version.id).next_run_at == _at(2026, 1, 13, 15)
    world.runner.clock.set(_at(2026, 1, 13, 15))
    assert run_due_schedules(world.rt) == 1
    assert _schedule(world, version.id).next_run_at == _at(2026, 1, 27, 15)
    # Run now on a Thursday leaves the rhythm alone.
    world.runner.clock.set(_at(2026, 1, 15, 10))
    run_schedule_now(world.rt, version.id)
    assert _schedule(world, version.id).next_run_at == _at(2026, 1, 27, 15)


def test_a_monthly_flow_starts_in_the_month_of_publishing_when_its_day_is_still_to_come() -> None:
    trigger = ScheduleTrigger(every="month", interval=2, day_of_month=20, at="08:00")
    published = _at(2026, 1, 8, 10)
    first = next_run(trigger, published, "Europe/Berlin", anchor=published)
    assert first == _at(2026, 1, 20, 7)
    assert next_run(trigger, first, "Europe/Berlin", anchor=published) == _at(2026, 3, 20, 7)


def test_deactivating_outlives_republishing_and_new_flows_are_active(world: World) -> None:
    version = world.publish("dunning-level-1")
    assert _schedule(world, version.id).active is True  # new: active at once
    with world.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, version.id)
        assert schedule is not None
        schedule.active = False
    again = world.publish("dunning-level-1")
    assert again.id != version.id
    assert _schedule(world, again.id).active is False
    with world.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, again.id)
        assert schedule is not None
        schedule.active = True
    third = world.publish("dunning-level-1")
    assert _schedule(world, third.id).active is True

    other = json.loads((EXAMPLES / "dunning-level-1.json").read_text())
    other["key"] = "dunning-other"
    fresh = setup.publish(world.rt, world.tenant, json.dumps(other).encode(), "consultant")
    assert _schedule(world, fresh.id).active is True


def test_run_now_runs_a_deactivated_schedule_once(world: World) -> None:
    version = world.publish("dunning-level-1")
    due = _overdue(world, "due", 9)
    with world.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, version.id)
        assert schedule is not None
        schedule.active = False
    result = run_schedule_now(world.rt, version.id)
    assert (result.selected, result.started, result.error) == (1, 1, None)
    assert len(_instances(world, due.id)) == 1
    after = _schedule(world, version.id)
    assert after.active is False
    world.runner.clock.set(after.next_run_at)
    assert run_due_schedules(world.rt) == 0  # still paused


def test_a_quarterly_flow_runs_in_the_calendar_quarters() -> None:
    # VAT quarters: published on 3 December, the next run is 1 January, then 1 April.
    trigger = ScheduleTrigger(every="quarter", day_of_month=1, at="08:00")
    published = _at(2026, 12, 3, 10)
    first = next_run(trigger, published, "Europe/Amsterdam", anchor=published)
    assert first == _at(2027, 1, 1, 7)
    second = next_run(trigger, first, "Europe/Amsterdam", anchor=published)
    assert second == _at(2027, 4, 1, 6)  # summer time
    in_february = _at(2027, 2, 10, 10)
    assert next_run(trigger, in_february, "Europe/Amsterdam", anchor=in_february) == second


def test_a_yearly_flow_on_a_day_of_the_month_runs_once_a_year() -> None:
    trigger = ScheduleTrigger(every="year", day_of_month=15, at="09:00")
    published = _at(2026, 12, 3, 10)
    first = next_run(trigger, published, "Europe/Berlin", anchor=published)
    assert first == _at(2026, 12, 15, 8)
    assert next_run(trigger, first, "Europe/Berlin", anchor=published) == _at(2027, 12, 15, 8)
