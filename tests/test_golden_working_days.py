"""Golden traces of the collection procedure counted in working days, and its timeline.

The shipped ``collection-procedure-working-days`` waits for 7, 15, 21 and 40 working days
past the oldest invoice's due date (``oldest_overdue_working_days``). The traces start
on a chosen day (test_golden.py's all start on 5 January 2026), so each step's day can
be read against the Dutch holidays it skips: Good Friday 3 and Easter Monday 6 April,
King's Day 27 April and Ascension 14 May 2026; Christmas 25 December 2026 and New Year
1 January 2027. Reviewed by reading; UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from procedo.db.procedures import Procedure
from procedo.procedures import timeline as tl
from procedo.runtime import admin, setup
from procedo.runtime.local import LocalRunner
from tests.receivables_helpers import add_open_items
from tests.runtime_helpers import PEOPLE, World, counter_ids
from tests.test_golden import DEBTOR, GOLDEN, play

DAY = dt.timedelta(days=1)
FLOW = "collection-procedure-working-days"

# scenario: (first moment, actions as test_golden.play takes them)
SCENARIOS: dict[str, tuple[dt.datetime, list[tuple[Any, ...]]]] = {
    # Due Wed 18 March, started the next morning. 7 working days: Fri 27 March (calendar
    # D.I.P. 9). 15: Fri 10 April, as Good Friday and Easter Monday do not count (by
    # calendar days 2 April; by weekdays alone 8 April). 21: Mon 20 April, after the
    # weekend. 40: Tue 19 May, King's Day and Ascension skipped (calendar D.I.P. 62).
    "collection-procedure.working-days-easter": (
        dt.datetime(2026, 3, 19, 8, 0, tzinfo=dt.UTC),
        [
            ("open_items", [("W-1", dt.date(2026, 3, 18), "100.00")]),
            ("advance", 22 * DAY),
            ("complete", "done"),
            ("advance", 10 * DAY),
            ("complete", "done"),
            ("advance", 29 * DAY),
            ("complete", "done"),
        ],
    ),
    # Due Fri 18 December, started Mon 21 December (1 working day). 7 working days: Wed 30
    # December (by calendar days it would be Christmas Day). 15: Tue 12 January 2027, as
    # New Year's Day (a Friday) does not count either. The trace ends waiting for 21.
    "collection-procedure.working-days-christmas": (
        dt.datetime(2026, 12, 21, 8, 0, tzinfo=dt.UTC),
        [
            ("open_items", [("W-2", dt.date(2026, 12, 18), "250.00")]),
            ("advance", 23 * DAY),
            ("complete", "done"),
        ],
    ),
}


def world_from(url: str, start: dt.datetime) -> World:
    """tests.runtime_helpers.make_world with the clock at ``start``."""
    runner = LocalRunner(url, start=start, new_id=counter_ids())
    tenant = setup.create_tenant(runner.rt, "Acme Finance", "acme")
    for role, email in PEOPLE.items():
        setup.add_user(runner.rt, tenant.id, email, role)
        setup.add_member(runner.rt, tenant.id, role, email)
    return World(runner, tenant.id)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_trace(name: str, db_url: str) -> None:
    start, actions = SCENARIOS[name]
    trace = "\n".join(play(world_from(db_url, start), FLOW, "debtor", DEBTOR, actions)) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(trace)
    assert path.exists(), f"no golden trace yet: run with UPDATE_GOLDEN=1 and review {path}"
    assert trace == path.read_text()


def test_the_timeline_says_why_in_working_days(db_url: str) -> None:
    """Waiting for the first call on Wed 8 April: the wait's rule reads the working-days
    D.I.P. (13, the calendar one is 21), does not hold yet, and is looked at again by its
    timer on Fri 10 April at 09:00, not by polling; each step shows both D.I.P.s."""
    world = world_from(db_url, dt.datetime(2026, 3, 19, 8, 0, tzinfo=dt.UTC))
    world.publish(FLOW)
    with world.rt.transaction() as (session, _):  # as PUT /procedures/{flow_key} registers it
        session.add(
            Procedure(
                tenant_id=world.tenant,
                flow_key=FLOW,
                kind="primary",
                is_default=True,
                updated_by="tester",
            )
        )
    subject = world.subject("debtor", "S-1", DEBTOR)
    add_open_items(world.rt, world.tenant, subject.id, [("W-1", dt.date(2026, 3, 18), "100.00")])
    admin.start(world.rt, world.tenant, FLOW, subject.id, "tester")
    world.runner.drain()
    world.runner.advance(20 * DAY)  # Wed 8 April, 10:00 in Amsterdam

    line = tl.timeline(world.rt, world.tenant, subject.id)
    assert (line.today, line.dip, line.dip_working) == (dt.date(2026, 4, 8), 21, 13)
    (run,) = line.procedures
    assert run.counts == "working"  # the designer shows dip_working beside its steps
    (position,) = run.current
    assert position.node_id == "dip15"
    wait = next(r for r in position.reasons if r.what == "wait")
    assert "oldest_overdue_working_days >= 15" in wait.text
    assert not wait.holds
    assert tl.Fact("oldest_overdue_working_days", 13) in wait.facts
    assert position.next_look == dt.datetime(2026, 4, 10, 7, 0, tzinfo=dt.UTC)  # 09:00 CEST
    reminder = next(s for s in run.steps if s.kind == "email_queued")
    assert (reminder.day, reminder.dip, reminder.dip_working) == (dt.date(2026, 3, 27), 9, 7)


def test_a_procedure_on_calendar_days_shows_the_calendar_dip(db_url: str) -> None:
    world = world_from(db_url, dt.datetime(2026, 3, 19, 8, 0, tzinfo=dt.UTC))
    world.publish("collection-worksheet")
    subject = world.subject("debtor", "S-1", DEBTOR)
    add_open_items(world.rt, world.tenant, subject.id, [("C-1", dt.date(2026, 3, 18), "100.00")])
    admin.start(world.rt, world.tenant, "collection-worksheet", subject.id, "tester")
    world.runner.drain()
    (run,) = tl.timeline(world.rt, world.tenant, subject.id).procedures
    assert run.counts == "calendar"
