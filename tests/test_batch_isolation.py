"""A worker's batch mixes tenants: one item that cannot be handled holds up no other.

Timers due together and a bulk start's instances are handled in one commit; when
that fails, each item is handled alone, and the failure is raised afterwards so
the broker retries the message (the handled items change nothing a second time).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import admin, outbox, setup, work
from tests.runtime_helpers import GOOD_INVOICE, PEOPLE, World, make_world


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _second_tenant(world: World) -> World:
    other = setup.create_tenant(world.rt, "Beta Books", "beta")
    for role, email in PEOPLE.items():
        setup.add_user(world.rt, other.id, email.replace("acme", "beta"), role)
        setup.add_member(world.rt, other.id, role, email.replace("acme", "beta"))
    return World(world.runner, other.id)


def _fail_for(monkeypatch: pytest.MonkeyPatch, bad_instance: Any) -> None:
    real = work.step_instance

    def failing(rt: Any, session: Any, out: Any, instance: Any, signal: Any) -> Any:
        if instance.id == bad_instance:
            raise RuntimeError("this timer cannot be handled")
        return real(rt, session, out, instance, signal)

    monkeypatch.setattr(work, "step_instance", failing)


def test_a_timer_that_fails_holds_up_no_other_tenants_timers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    beta = _second_tenant(world)
    world.publish("invoice-approval")
    beta.publish("invoice-approval")
    instances = []
    for place, tenant in enumerate((world, beta, world, beta)):
        subject = tenant.subject("invoice", f"INV-{place}", GOOD_INVOICE)
        instances.append(
            admin.start(world.rt, tenant.tenant, "invoice-approval", subject.id, "tester")
        )
    world.runner.drain()
    with world.rt.db.read() as session:
        first_due = session.scalar(sa.select(sa.func.min(m.Timer.due_at)))
    assert first_due is not None
    world.runner.clock.set(first_due)
    due = work.claim_due_timers(world.rt)
    assert len(due) == 4  # every instance's first reminder, in one batch

    bad = instances[1].id  # a timer of the second tenant
    _fail_for(monkeypatch, bad)
    with pytest.raises(RuntimeError, match="cannot be handled"):
        work.fire_timers(world.rt, due)
    with world.rt.db.read() as session:
        fired = dict(
            session.execute(
                sa.select(m.Timer.instance_id, m.Timer.status).where(m.Timer.id.in_(due))
            ).all()
        )
    assert fired[bad] == "enqueued"  # left for the retry
    assert {fired[i.id] for i in instances if i.id != bad} == {"fired"}


def test_a_start_that_fails_holds_up_no_other_start(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.publish("invoice-approval")
    subjects = [world.subject("invoice", f"INV-{n}", GOOD_INVOICE) for n in range(3)]
    pending = admin.start_many(
        world.rt, world.tenant, "invoice-approval", [s.id for s in subjects], "tester"
    )
    world.runner.dispatcher.queue.clear()  # stepped below, as a worker would
    real = work.run_start

    def failing(rt: Any, session: Any, out: Any, instance: Any, actor: str) -> None:
        if instance.id == pending[0]:
            raise RuntimeError("this start cannot be handled")
        real(rt, session, out, instance, actor)

    monkeypatch.setattr(work, "run_start", failing)
    with pytest.raises(RuntimeError, match="cannot be handled"):
        work.advance(world.rt, pending)
    with world.rt.db.read() as session:
        status = dict(
            session.execute(
                sa.select(m.Instance.id, m.Instance.status).where(m.Instance.id.in_(pending))
            ).all()
        )
    assert status[pending[0]] == "pending"
    assert {status[i] for i in pending[1:]} == {"running"}


def test_an_email_that_cannot_be_handled_holds_up_no_other(world: World) -> None:
    beta = _second_tenant(world)
    world.publish("invoice-approval")
    beta.publish("invoice-approval")
    for place, tenant in enumerate((world, beta, world)):
        subject = tenant.subject("invoice", f"INV-{place}", GOOD_INVOICE)
        admin.start(world.rt, tenant.tenant, "invoice-approval", subject.id, "tester")
    world.runner.dispatcher.queue.clear()
    world.runner.skip_to_next_timer()  # the first reminders: one email per instance
    with world.rt.transaction() as (session, _out):  # queued again, as a sweep finds them
        session.execute(sa.update(m.Outbox).values(status="pending", sent_at=None))
        queued = list(session.scalars(sa.select(m.Outbox.id).order_by(m.Outbox.id)))
    assert len(queued) >= 3
    poison = queued[0]
    sent: list[Any] = []

    def sender(tenant: Any, email: Any) -> Any:
        if email.message_id == _message_id(world, poison):
            raise RuntimeError("this email cannot be handled")
        sent.append(email)
        return world.runner.sender(tenant, email)

    with pytest.raises(RuntimeError, match="cannot be handled"):
        outbox.deliver_all(world.rt, queued, sender)
    assert len(sent) == len(queued) - 1


def _message_id(world: World, outbox_id: Any) -> str:
    with world.rt.db.read() as session:
        row = session.get(m.Outbox, outbox_id)
        assert row is not None
        return row.message_id
