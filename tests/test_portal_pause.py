"""A promise to pay or a payment plan from the portal pauses the shipped dunning (D6, D7,
D8): their filters skip a debtor whose promise_check_date is today or later, or who has
invoices in status payment_plan; the pause lapses by itself the day after the check date."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.runtime.schedules import run_due_schedules
from tests.receivables_helpers import overdue_debtor
from tests.runtime_helpers import World, make_world

BASE = {"name": "X", "email": "x@example.nl", "problematic": False}


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _started(world: World, version: m.FlowVersion) -> list[str]:
    with world.rt.db.read() as session:
        query = (
            sa.select(m.Subject.key)
            .join(m.Instance, m.Instance.subject_id == m.Subject.id)
            .where(m.Instance.flow_version_id == version.id)
        )
        return sorted(session.scalars(query))


def _run_at(world: World, moment: dt.datetime) -> int:
    world.runner.clock.set(moment)
    started = run_due_schedules(world.rt)
    world.runner.drain()
    return started


def test_a_running_promise_or_a_payment_plan_keeps_the_debtor_out_of_dunning(
    world: World,
) -> None:
    level_1 = world.publish("dunning-level-1")
    tuesday = dt.date(2026, 1, 6)
    overdue_debtor(world.rt, world.tenant, "plain", BASE, 9, tuesday)
    # Promised to pay on 4 January, 2 grace days: checked after the 6th, so paused today.
    promised = {**BASE, "promised_payment_date": "2026-01-04", "promise_check_date": "2026-01-06"}
    overdue_debtor(world.rt, world.tenant, "promised", promised, 9, tuesday)
    # A promise checked after yesterday has lapsed: dunning takes the debtor up again.
    lapsed = {**BASE, "promised_payment_date": "2026-01-03", "promise_check_date": "2026-01-05"}
    overdue_debtor(world.rt, world.tenant, "lapsed", lapsed, 9, tuesday)
    planned = overdue_debtor(world.rt, world.tenant, "planned", BASE, 9, tuesday)
    with world.rt.db.transaction() as session:
        session.execute(
            sa.update(OpenItem).where(OpenItem.debtor_id == planned).values(status="payment_plan")
        )

    assert _run_at(world, dt.datetime(2026, 1, 6, 15, tzinfo=dt.UTC)) == 2  # Tue 16:00 Amsterdam
    assert _started(world, level_1) == ["lapsed", "plain"]
