"""Hand over to the account manager (D2): one email per manager and run, listing the
customers handed over to them, sent a few minutes after the run's last hand-over."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.messaging import handovers
from procedo.runtime import admin, outbox, setup
from procedo.runtime.schedules import run_due_schedules, run_schedule_now
from tests.runtime_helpers import World, make_world

UTC = dt.UTC
SLOT = dt.datetime(2026, 1, 13, 15, tzinfo=UTC)  # Tuesday 16:00 in Amsterdam
ANNA, BRAM = "anna@office.example", "bram@office.example"


def _flow(trigger: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "format": "procedo.flow/1",
            "key": "hand-over",
            "name": "Hand over",
            "subject_type": "debtor",
            "trigger": trigger,
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "hand",
                    "type": "hand_over",
                    "params": {
                        "subject": "Handed over: {{ subject.name }}",
                        "body": "{{ subject.name }} is yours now.",
                    },
                },
                {"id": "done", "type": "end"},
                {"id": "nobody", "type": "end"},
            ],
            "edges": [
                {"id": "e0", "source": "start", "source_port": "next", "target": "hand"},
                {"id": "e1", "source": "hand", "source_port": "sent", "target": "done"},
                {"id": "e2", "source": "hand", "source_port": "no_address", "target": "nobody"},
            ],
        }
    ).encode()


SCHEDULE = {"kind": "schedule", "every": "week", "weekday": "tuesday", "at": "16:00"}


@pytest.fixture
def world(db_url: str) -> World:
    made = make_world(db_url)
    made.runner.clock.set(dt.datetime(2026, 1, 8, 10, tzinfo=UTC))
    return made


def _customers(world: World) -> dict[str, uuid.UUID]:
    managers = {"Albers": ANNA, "Bauer": ANNA, "Claes": ANNA, "Dekker": BRAM}
    return {
        name: world.subject("debtor", name, {"name": name, "account_manager_email": to}).id
        for name, to in managers.items()
    }


def _send_due(world: World) -> list[Any]:
    """What the scheduler's outbox sweep sends now."""
    before = len(world.runner.sender.sent)
    for ident in outbox.claim_due(world.rt):
        outbox.deliver(world.rt, ident, world.runner.sender)
    return world.runner.sender.sent[before:]


def _digests(world: World) -> list[m.Outbox]:
    with world.rt.db.read() as session:
        query = sa.select(m.Outbox).where(m.Outbox.template == handovers.TEMPLATE)
        return list(session.scalars(query.order_by(m.Outbox.created_at)))


def test_a_run_mails_each_manager_once_listing_their_customers(world: World) -> None:
    setup.publish(world.rt, world.tenant, _flow(SCHEDULE), "consultant")
    _customers(world)
    world.runner.clock.set(SLOT)
    assert run_due_schedules(world.rt) == 4  # instances started
    world.runner.drain()
    assert world.runner.sender.sent == []  # collected, not yet due
    world.runner.clock.set(SLOT + handovers.DELAY - dt.timedelta(seconds=1))
    assert _send_due(world) == []
    world.runner.clock.set(SLOT + handovers.DELAY)
    sent = {email.recipients: email for email in _send_due(world)}
    assert sorted(sent) == [(ANNA,), (BRAM,)]
    anna = sent[(ANNA,)]
    assert anna.subject == "Aan u overgedragen: 3 klanten"  # the tenant's language (NL)
    for name in ("Albers", "Bauer", "Claes"):
        assert f"{name} is yours now." in anna.body_html
    assert "Dekker" not in anna.body_html
    # Alone in a digest, a customer reads as the node's own texts.
    assert sent[(BRAM,)].subject == "Handed over: Dekker"
    assert "Dekker is yours now." in sent[(BRAM,)].body_html
    assert [row.status for row in _digests(world)] == ["sent", "sent"]
    assert "Claes" in _digests(world)[0].body + _digests(world)[1].body  # kept as it left

    # The run repeated ("run now" minutes later): nobody is listed, or mailed, twice.
    world.runner.clock.set(SLOT + dt.timedelta(minutes=7))
    with world.rt.db.read() as session:
        version = session.scalar(sa.select(m.FlowVersion.id))
    assert version is not None
    assert run_schedule_now(world.rt, version).started == 4
    world.runner.drain()
    world.runner.clock.set(SLOT + dt.timedelta(hours=1))
    assert _send_due(world) == []
    assert len(_digests(world)) == 2
    with world.rt.db.read() as session:
        kinds = session.scalars(
            sa.select(m.History.kind).where(m.History.kind == "hand_over_listed_already")
        )
        assert len(list(kinds)) == 4


def test_a_hand_over_after_the_digest_left_goes_in_the_next_one(world: World) -> None:
    setup.publish(world.rt, world.tenant, _flow({"kind": "manual"}), "consultant")
    customers = _customers(world)
    admin.start(world.rt, world.tenant, "hand-over", customers["Albers"], "tester")
    world.runner.drain()
    world.runner.clock.set(world.runner.clock.now() + handovers.DELAY)
    (first,) = _send_due(world)
    assert first.subject == "Handed over: Albers"
    # Started by hand in the same window: a new digest of the same key, not a lost one.
    world.runner.clock.set(world.runner.clock.now() + dt.timedelta(minutes=1))
    admin.start(world.rt, world.tenant, "hand-over", customers["Bauer"], "tester")
    admin.start(world.rt, world.tenant, "hand-over", customers["Claes"], "tester")
    world.runner.drain()
    world.runner.clock.set(world.runner.clock.now() + handovers.DELAY)
    (second,) = _send_due(world)
    assert second.recipients == (ANNA,)
    assert "Bauer" in second.body_html
    assert "Claes" in second.body_html
    assert "Albers" not in second.body_html
    assert second.message_id != first.message_id


def test_hand_overs_at_the_same_moment_on_several_workers_share_one_email(
    world: World, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL (SQLite has one writer at a time)")
    setup.publish(world.rt, world.tenant, _flow({"kind": "manual"}), "consultant")
    names = [f"Klant {n}" for n in range(8)]
    ids = [
        world.subject("debtor", name, {"name": name, "account_manager_email": ANNA}).id
        for name in names
    ]
    gate = threading.Barrier(len(ids))

    def hand_over(subject_id: uuid.UUID) -> None:
        gate.wait()
        admin.start(world.rt, world.tenant, "hand-over", subject_id, "worker")

    with ThreadPoolExecutor(len(ids)) as pool:
        list(pool.map(hand_over, ids))
    world.runner.clock.set(world.runner.clock.now() + handovers.DELAY)
    (sent,) = _send_due(world)
    for name in names:
        assert f"{name} is yours now." in sent.body_html
    assert sent.subject == "Aan u overgedragen: 8 klanten"
