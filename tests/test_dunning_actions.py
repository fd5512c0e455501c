"""D2's actions and D4's approval list at their edges: mark problematic, hand over to the
account manager, typed tasks, and the approval endpoints' refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.flow.codec import decode_flow
from procedo.flow.validate import check_flow
from procedo.runtime import admin, setup
from tests.api_helpers import office, ok
from tests.conftest import dumps, minimal_flow
from tests.runtime_helpers import World, make_world


def _flow(node: dict[str, Any], ports: list[str], subject_type: str = "debtor") -> dict[str, Any]:
    """start -> the node -> end on each of its ports."""
    return {
        "format": "procedo.flow/1",
        "key": "action",
        "name": "One action",
        "subject_type": subject_type,
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "act", **node},
            *({"id": f"end_{port}", "type": "end"} for port in ports),
        ],
        "edges": [
            {"id": "e0", "source": "start", "source_port": "next", "target": "act"},
            *(
                {"id": f"e_{port}", "source": "act", "source_port": port, "target": f"end_{port}"}
                for port in ports
            ),
        ],
    }


def _codes(flow: dict[str, Any]) -> list[str]:
    return [problem.code for problem in check_flow(decode_flow(json.dumps(flow))).problems]


HAND_OVER = {
    "type": "hand_over",
    "params": {
        "subject": "Handed over: {{ subject.name }}",
        "body": "{{ subject.name }} owes {{ subject.debt_amount }}.",
    },
}


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def _run(world: World, flow: dict[str, Any], fields: dict[str, Any]) -> Any:
    setup.publish(world.rt, world.tenant, json.dumps(flow), "consultant")
    subject = world.subject("debtor", "D-1", fields)
    instance = admin.start(world.rt, world.tenant, flow["key"], subject.id, "tester")
    world.runner.drain()
    return world.instance(instance.id), world.subject_row(subject.id), world.history(instance.id)


def test_mark_problematic_sets_the_flag_and_the_history_says_so(world: World) -> None:
    flow = _flow({"type": "mark_problematic"}, ["next"])
    instance, subject, history = _run(world, flow, {"name": "Dorn", "problematic": False})
    assert instance.status == "completed"
    assert subject.fields["problematic"] is True
    (changed,) = [row for row in history if row.kind == "field_changed"]
    assert changed.data == {"field": "problematic", "value": True}


def test_mark_problematic_needs_the_field(world: World) -> None:
    assert _codes(_flow({"type": "mark_problematic"}, ["next"])) == []
    on_invoices = _flow({"type": "mark_problematic"}, ["next"], subject_type="invoice")
    assert _codes(on_invoices) == ["mark_problematic.no_field"]


def test_hand_over_mails_the_account_manager_or_leaves_without_one(world: World) -> None:
    flow = _flow(HAND_OVER, ["sent", "no_address"])
    fields = {"name": "Albers", "account_manager_email": "am@office.example"}
    instance, _subject, history = _run(world, flow, fields)
    (queued,) = [row for row in history if row.kind == "email_queued"]
    assert queued.data["to"] == ["am@office.example"]
    assert queued.data["subject"] == "Handed over: Albers"
    assert instance.status == "completed"
    assert [row.node_id for row in history if row.kind == "instance_completed"] == ["end_sent"]

    other = make_world_second(world)
    _instance, _subject, history = _run(other, flow, {"name": "Bauer"})
    assert not [row for row in history if row.kind == "email_queued"]
    assert [row.node_id for row in history if row.kind == "instance_completed"] == [
        "end_no_address"
    ]


def make_world_second(world: World) -> World:
    """A second tenant on the same database (its own flows and subjects)."""
    tenant = setup.create_tenant(world.rt, "Second Office", "second")
    return World(world.runner, tenant.id)


def test_an_approval_has_two_outcomes_and_task_types_are_known() -> None:
    flow = minimal_flow()
    flow["nodes"][1]["params"]["kind"] = "approval"
    assert _codes(flow) == []
    flow["nodes"][1]["params"]["outcomes"].append({"port": "later", "label": "Later"})
    flow["edges"].append({"id": "e4", "source": "task", "source_port": "later", "target": "end"})
    assert _codes(flow) == ["assign_role.approval.outcomes"]
    flow["nodes"][1]["params"]["kind"] = "lunch"
    assert _codes(flow) == ["node.params.invalid"]


def test_deciding_refuses_what_is_no_open_approval(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Approvals Edge")
    approval = minimal_flow(key="approve-it", name="Approve it")
    approval["nodes"][1]["params"]["kind"] = "approval"
    plain = minimal_flow()
    headers = {"Content-Type": "application/json"}
    for flow in (approval, plain):
        ok(acme.http.post("/flows/import", content=dumps(flow), headers=headers), 201)
        ok(acme.http.post(f"/flows/{flow['key']}/publish"), 201)
    for key, flow_key in (("INV-1", "approve-it"), ("INV-2", "minimal")):
        subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": key}), 201)
        started = {"flow": flow_key, "subject_id": subject["id"]}
        ok(acme.http.post("/instances", json=started), 201)
    tasks = {t["subject"]["key"]: t for t in ok(acme.http.get("/tasks", params={"scope": "all"}))}
    assert tasks["INV-1"]["kind"] == "approval"
    assert tasks["INV-2"]["kind"] == "general"

    def decide(*ids: str, decision: str = "approve") -> Any:
        return acme.http.post("/approvals/decide", json={"tasks": list(ids), "decision": decision})

    plain_task = decide(tasks["INV-2"]["id"])
    assert plain_task.status_code == 422
    assert "tasks[0]" in plain_task.json()["detail"]
    # All or none: a bad one in the batch leaves the good one open.
    mixed = decide(tasks["INV-1"]["id"], tasks["INV-2"]["id"])
    assert mixed.status_code == 422
    assert "tasks[1]" in mixed.json()["detail"]
    (pending,) = ok(acme.http.get("/approvals"))
    assert pending["task"]["id"] == tasks["INV-1"]["id"]
    assert pending["flow"] == {"key": "approve-it", "name": "Approve it"}
    assert pending["actions"] == []  # approving leads straight to the end

    # A member outside the Accountant role sees nothing and may decide nothing.
    user, _password = accounts.add_user(backend.runtime, acme.tenant_id, "mo@edge.example")
    _row, token = accounts.create_token(backend.runtime, acme.tenant_id, user.id, "mo")
    headers = {"Authorization": f"Bearer {token}"}
    assert ok(acme.http.get("/approvals", headers=headers)) == []
    refused = acme.http.post(
        "/approvals/decide",
        json={"tasks": [tasks["INV-1"]["id"]], "decision": "reject"},
        headers=headers,
    )
    assert refused.status_code == 403

    assert ok(decide(tasks["INV-1"]["id"], decision="reject")) == {
        "decided": 1,
        "decision": "reject",
    }
    again = decide(tasks["INV-1"]["id"])
    assert again.status_code == 409
    history = ok(acme.http.get(f"/instances/{tasks['INV-1']['instance_id']}/history"))
    (decided,) = [row for row in history if row["kind"] == "approval_decided"]
    assert decided["data"]["decision"] == "rejected"
    assert decided["port"] == "reject"
    assert decided["actor"] == acme.email


def test_email_or_letter_in_one_node_counts_as_one_notice(world: World) -> None:
    node = {
        "type": "email",
        "params": {
            "to": {"kind": "field", "field": "subject.email"},
            "subject": "Reminder for {{ subject.name }}",
            "body": "Please pay, {{ subject.name }}.",
            "mark": "dunning_notice",
            "letter_when_no_address": "standard",
        },
    }
    flow = _flow(node, ["sent"])
    _instance, _subject, history = _run(world, flow, {"name": "Bauer"})
    (letter,) = [row for row in history if row.kind.endswith("_queued")]
    assert letter.kind == "letter_queued"
    assert letter.data["subject"] == "Reminder for Bauer"
    assert letter.data["mark"] == "dunning_notice"

    other = make_world_second(world)
    _instance, _subject, history = _run(other, flow, {"name": "Albers", "email": "a@x.example"})
    (mail,) = [row for row in history if row.kind.endswith("_queued")]
    assert (mail.kind, mail.data["to"]) == ("email_queued", ["a@x.example"])

    node["params"] = {**node["params"], "template": "reminder", "subject": "", "body": ""}
    # A library template serves the letter too (tests/test_library_letters.py).
    assert _codes(_flow(node, ["sent"])) == []
