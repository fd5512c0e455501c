"""Imports tell waiting flows: a debtor the file changed gets ``subject.changed`` when a
flow runs on it (and only then), so a wait on its facts looks again (issue 14, item 2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.receivables.imports import import_debtors, import_open_items
from procedo.runtime import admin, setup
from tests.receivables_helpers import add_open_items
from tests.runtime_helpers import World, make_world

WAIT_PAID = {
    "format": "procedo.flow/1",
    "key": "until-paid",
    "name": "Until paid",
    "subject_type": "debtor",
    "trigger": {"kind": "manual"},
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "wait",
            "type": "wait",
            "params": {
                "until": {
                    "mode": "condition",
                    "when": {
                        "kind": "compare",
                        "field": "subject.paid",
                        "op": "=",
                        "value": {"type": "bool", "value": True},
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


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _events(world: World) -> list[tuple[str, str, str]]:
    with world.rt.db.read() as session:
        query = (
            sa.select(m.Subject.key, m.Event.name, m.Event.data["cause"].as_string())
            .join(m.Subject, m.Subject.id == m.Event.subject_id)
            .where(m.Event.name == "subject.changed")
            .order_by(m.Subject.key)
        )
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def test_an_import_that_pays_an_invoice_wakes_the_flow_waiting_for_it(
    world: World, tmp_path: Path
) -> None:
    setup.publish(world.rt, world.tenant, json.dumps(WAIT_PAID), "consultant")
    waiting = world.subject("debtor", "D-1", {"name": "Waiting"})
    idle = world.subject("debtor", "D-2", {"name": "No flow"})
    for subject, number in ((waiting, "F-1"), (idle, "F-2")):
        add_open_items(world.rt, world.tenant, subject.id, [(number, dt.date(2026, 1, 2), "80.00")])
    instance = admin.start(world.rt, world.tenant, "until-paid", waiting.id, "tester")
    world.runner.drain()
    assert world.instance(instance.id).status == "running"

    # The ERP's nightly export: both invoices paid.
    export = tmp_path / "open-items.csv"
    export.write_text(
        "debtor_number,number,issue_date,due_date,amount,open_amount\n"
        "D-1,F-1,2025-12-03,2026-01-02,80.00,0.00\n"
        "D-2,F-2,2025-12-03,2026-01-02,80.00,0.00\n"
    )
    report = import_open_items(world.rt.db.engine, world.tenant, export)
    assert (report.stored, report.refused) == (2, False)
    assert _events(world) == [("D-1", "subject.changed", "import")]  # D-2: no flow to tell

    with world.rt.db.read() as session:
        pending = list(session.scalars(sa.select(m.Event.id).where(m.Event.status == "pending")))
    world.rt.dispatcher.send("event", pending)  # what the sweeper does for a command's events
    world.runner.drain()
    assert world.instance(instance.id).status == "completed"


def test_a_refused_import_announces_nothing(world: World, tmp_path: Path) -> None:
    setup.publish(world.rt, world.tenant, json.dumps(WAIT_PAID), "consultant")
    waiting = world.subject("debtor", "D-1", {"name": "Waiting"})
    add_open_items(world.rt, world.tenant, waiting.id, [("F-1", dt.date(2026, 1, 2), "80.00")])
    admin.start(world.rt, world.tenant, "until-paid", waiting.id, "tester")
    world.runner.drain()
    bad = tmp_path / "debtors.csv"
    bad.write_text("number,name,credit_limit\nD-1,Waiting,1000\nD-3,Bad,lots\n")
    assert import_debtors(world.rt.db.engine, world.tenant, bad).refused
    assert _events(world) == []
    good = tmp_path / "good.csv"
    good.write_text("number,name,problematic\nD-1,Waiting,true\n")
    assert not import_debtors(world.rt.db.engine, world.tenant, good).refused
    assert _events(world) == [("D-1", "subject.changed", "import")]
