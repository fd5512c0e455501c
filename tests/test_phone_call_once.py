"""D8 calls a debtor once: the phone-call workflow selects only debtors nobody called yet
(``calls = 0``, the computed count of their completed call tasks, reached or not)."""

from __future__ import annotations

import datetime as dt

import pytest

from procedo.db import models as m
from procedo.runtime import admin
from tests.receivables_helpers import add_open_items
from tests.runtime_helpers import World, make_world
from tests.test_dunning_selection import BASE, _facts, _run_at, _started


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _two_notices(world: World, notices: m.FlowVersion, subject_id: object) -> None:
    """Two notices a workflow sent on Monday 5 January (history rows as it writes them)."""
    with world.rt.db.transaction() as session:
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
                    data={"mark": "dunning_notice"},
                )
            )


@pytest.mark.parametrize("outcome", ["reached", "not_reached"])
def test_a_debtor_called_is_not_called_again_at_the_next_slot(world: World, outcome: str) -> None:
    calls = world.publish("dunning-phone-call")
    notices = world.publish("dunning-level-1")
    subject = world.subject("debtor", "called", BASE)
    add_open_items(world.rt, world.tenant, subject.id, [("C-1", dt.date(2025, 12, 1), "1500")])
    _two_notices(world, notices, subject.id)
    # Monday 26 January: 21 days since the notices, never called: a call task.
    assert _run_at(world, dt.datetime(2026, 1, 26, 8, tzinfo=dt.UTC)) == 1
    (task,) = world.open_tasks()
    admin.complete_task(world.rt, world.tenant, task.id, outcome, [], "caller")
    world.runner.drain()
    assert _facts(world, subject.id)["calls"] == 1
    # Monday 9 February, the next slot: still two notices and the same debt, but called.
    assert _run_at(world, dt.datetime(2026, 2, 9, 8, tzinfo=dt.UTC)) == 0
    assert _started(world, calls) == ["called"]
