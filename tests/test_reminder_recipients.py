"""E5: the reminder sent at the moment of reassignment reaches the new holders, in the
office's language.

The invoice-approval flow reminds the Accountant every business day and hands
the task to the Deputy after three. The fifth day's reminder and the
reassignment fall due at the same moment; a worker fires timers due together in
one transaction, where the Deputy's candidate rows are still in the write
buffer, not yet in the table.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import admin, work
from tests.runtime_helpers import GOOD_INVOICE, PEOPLE, World, make_world


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def test_a_reminder_due_with_the_reassignment_goes_to_the_new_holders(world: World) -> None:
    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    assert world.runner.skip_to_next_timer()  # overdue: the first reminder, the later timers
    with world.rt.db.read() as session:
        reassign_at = session.scalar(sa.select(m.Timer.due_at).where(m.Timer.purpose == "reassign"))
    assert reassign_at is not None
    world.runner.advance(reassign_at - world.runner.clock.now() - dt.timedelta(minutes=1))
    world.runner.clock.set(reassign_at)

    due_together = work.claim_due_timers(world.rt)
    assert len(due_together) == 2  # the repeat reminder and the reassignment
    work.fire_timers(world.rt, due_together)  # one transaction, as a worker does
    world.runner.drain()

    history = world.history(instance.id)
    kinds = [h.kind for h in history if h.kind in ("task_reassigned", "task_reminded")]
    assert kinds[-2:] == ["task_reassigned", "task_reminded"]
    deputy = [PEOPLE["Deputy"]]
    last_reminder = [h for h in history if h.kind == "task_reminded"][-1]
    assert last_reminder.data["to"] == deputy
    with world.rt.db.read() as session:
        (reminder,) = session.scalars(
            sa.select(m.Outbox)
            .where(m.Outbox.subject.like("Herinnering%"))  # a Dutch office
            .order_by(m.Outbox.created_at.desc())
            .limit(1)
        )
        assert reminder.recipients == deputy
    assert list(world.runner.sender.sent[-1].recipients) == deputy


@pytest.mark.parametrize(
    ("country", "subject", "line"),
    [
        ("NL", "Herinnering: Approve invoice INV-1", "Deze taak wacht op u"),
        ("DE", "Erinnerung: Approve invoice INV-1", "Diese Aufgabe wartet auf Sie"),
        ("GB", "Reminder: Approve invoice INV-1", "This task is waiting for you"),
    ],
)
def test_a_task_reminder_is_written_in_the_offices_language(
    world: World, country: str, subject: str, line: str
) -> None:
    with world.rt.db.transaction() as session:
        session.execute(sa.update(m.Tenant).values(country=country))
    world.publish("invoice-approval")
    invoice = world.subject("invoice", "INV-1", GOOD_INVOICE)
    admin.start(world.rt, world.tenant, "invoice-approval", invoice.id, "tester")
    assert world.runner.skip_to_next_timer()  # overdue: the first reminder
    world.runner.drain()
    with world.rt.db.read() as session:
        (reminder,) = session.scalars(sa.select(m.Outbox).where(m.Outbox.subject == subject))
    assert line in reminder.body
