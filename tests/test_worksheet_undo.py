"""Undoing a worksheet action (P4): an unsent email is withdrawn and never leaves; a call that
was made stays made; a skipped action has nothing to undo. The history keeps both rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.db import models as m
from procedo.procedures import worksheet as ws
from procedo.runtime import admin, setup
from procedo.runtime.context import Refusal
from procedo.runtime.local import LocalRunner


def _flow() -> dict[str, Any]:
    def action(node_id: str, **params: Any) -> dict[str, Any]:
        base = {"mode": "manual", "assignee": {"role": "Collections"}, "title": node_id}
        return {"id": node_id, "type": "procedure_action", "params": {**base, **params}}

    return {
        "format": "procedo.flow/1",
        "key": "undo-walk",
        "name": "Undo walk",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            action(
                "mail",
                action="email",
                to={"kind": "field", "field": "subject.email"},
                subject="Reminder",
                body="Please pay.",
            ),
            action("call", action="call"),
            action("letter", action="letter", subject="Reminder", body="Please pay."),
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "mail"},
            {"id": "e2", "source": "mail", "source_port": "next", "target": "call"},
            {"id": "e3", "source": "call", "source_port": "next", "target": "letter"},
            {"id": "e4", "source": "letter", "source_port": "next", "target": "end"},
        ],
    }


@pytest.fixture
def runner() -> LocalRunner:
    return LocalRunner()


def test_undo_withdraws_an_unsent_email_and_keeps_a_call(runner: LocalRunner) -> None:
    rt = runner.rt
    tenant = accounts.create_tenant(rt, "Undo Office", "admin@undo.example").tenant.id
    accounts.add_user(rt, tenant, "carla@undo.example")
    setup.add_member(rt, tenant, "Collections", "carla@undo.example")
    setup.publish(rt, tenant, json.dumps(_flow()), "test")
    debtor = setup.upsert_subject(rt, tenant, "debtor", "D1", {"email": "ap@d1.example"})
    admin.start(rt, tenant, "undo-walk", debtor.id, "test")

    (mail,) = ws.items(rt, tenant, role="Collections")
    assert mail.action == "email"
    assert [r.outcome for r in ws.complete(rt, tenant, [mail.task_id], "carla@undo.example")] == [
        "performed"
    ]
    # Not sent yet (the outbox has not run): the email can be taken back.
    assert ws.undo(rt, tenant, mail.task_id, "carla@undo.example") == "email"
    runner.drain()
    assert runner.sender.sent == []
    with rt.db.read() as session:
        assert session.scalar(sa.select(m.Outbox.status)) == "withdrawn"
    with pytest.raises(Refusal, match="undone already"):
        ws.undo(rt, tenant, mail.task_id, "carla@undo.example")

    (call,) = ws.items(rt, tenant, role="Collections")
    ws.complete(rt, tenant, [call.task_id], "carla@undo.example")
    with pytest.raises(Refusal, match="call that was made"):
        ws.undo(rt, tenant, call.task_id, "carla@undo.example")

    (letter,) = ws.items(rt, tenant, role="Collections")
    skipped = ws.complete(rt, tenant, [letter.task_id], "carla@undo.example", skip_reason="paid")
    assert [r.outcome for r in skipped] == ["skipped"]
    with pytest.raises(Refusal, match="only a performed action"):
        ws.undo(rt, tenant, letter.task_id, "carla@undo.example")

    with rt.db.read() as session:
        rows = session.execute(
            sa.select(m.History.kind, m.History.node_id, m.History.reason)
            .where(m.History.kind.in_(("task_completed", "action_undone", "action_skipped")))
            .order_by(m.History.seq)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("task_completed", "mail", None),
        ("action_undone", "mail", None),
        ("task_completed", "call", None),
        ("task_completed", "letter", None),
        ("action_skipped", "letter", "paid"),
    ]
    done = ws.items(rt, tenant, state="done")
    assert {(i.node_id, i.can_undo) for i in done} == {
        ("mail", False),
        ("call", False),
        ("letter", False),
    }
