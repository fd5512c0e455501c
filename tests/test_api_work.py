"""The back office's work screens over HTTP: all tasks (admin), failed instances, cancel, move.

An administrator sees every open task of the tenant and narrows it by flow, role,
person and overdue; a failed instance is listed with its error and the node it
failed at, runs on when retried after its cause is fixed, or moves on by hand; a
cancel keeps its reason in the history.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.db import models as m
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps, minimal_flow


def _client(backend: Backend, base_url: str, of: Office, name: str, access: str) -> httpx.Client:
    email = f"{name}@{of.slug}.example"
    user, _password = accounts.add_user(backend.runtime, of.tenant_id, email, name, access)  # type: ignore[arg-type]
    _row, token = accounts.create_token(backend.runtime, of.tenant_id, user.id, name)
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _publish(of: Office, flow: dict[str, Any], new: bool = True) -> None:
    headers = {"Content-Type": "application/json"}
    ok(of.http.post("/flows/import", content=dumps(flow), headers=headers), 201 if new else 200)
    ok(of.http.post(f"/flows/{flow['key']}/publish"), 201)


def _start(of: Office, flow: str, key: str, subject_type: str = "invoice") -> dict[str, Any]:
    subject = ok(of.http.post("/subjects", json={"type": subject_type, "key": key}), 201)
    started: dict[str, Any] = ok(
        of.http.post("/instances", json={"flow": flow, "subject_id": subject["id"]}), 201
    )
    return started


def _keys(tasks: list[dict[str, Any]]) -> list[str]:
    return [task["subject"]["key"] for task in tasks]


def _all(of: Office, **filters: Any) -> list[dict[str, Any]]:
    return list(ok(of.http.get("/tasks", params={"scope": "all", **filters})))


def test_all_tasks_are_for_admins_and_filter_by_flow_role_person_and_overdue(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Work")
    designer = _client(backend, base_url, acme, "dina", "designer")
    member = _client(backend, base_url, acme, "mo", "member")
    mo = f"mo@{acme.slug}.example"
    ok(acme.http.post("/roles/Accountant/members", json={"email": mo}), 201)
    _publish(acme, minimal_flow())
    other = minimal_flow(key="second", name="Second")
    other["nodes"][1]["params"]["assignee"] = {"role": "Fiscaal"}
    _publish(acme, other)
    _start(acme, "minimal", "INV-1")
    _start(acme, "minimal", "INV-2")
    _start(acme, "second", "INV-3")

    # Only an administrator sees everyone's tasks; the others are told so.
    for client in (designer, member):
        refused = client.get("/tasks", params={"scope": "all"})
        assert refused.status_code == 403, refused.text
    assert sorted(_keys(_all(acme))) == ["INV-1", "INV-2", "INV-3"]

    assert sorted(_keys(_all(acme, flow="minimal"))) == ["INV-1", "INV-2"]
    assert _keys(_all(acme, flow="second")) == ["INV-3"]
    assert _keys(_all(acme, flow="no-such-flow")) == []
    assert _keys(_all(acme, role="Fiscaal")) == ["INV-3"]
    # A person's tasks: those open to their roles, and those given to them.
    assert sorted(_keys(_all(acme, user=mo))) == ["INV-1", "INV-2"]
    third = _all(acme, flow="second")[0]
    ok(acme.http.post(f"/tasks/{third['id']}/reassign", json={"user": mo, "reason": "ill"}))
    assert sorted(_keys(_all(acme, user=mo.upper()))) == ["INV-1", "INV-2", "INV-3"]
    assert _keys(_all(acme, user=mo, flow="second")) == ["INV-3"]

    # Overdue: a due time in the past.
    with backend.runtime.db.transaction() as session:
        session.execute(
            sa.update(m.Task)
            .where(m.Task.id == uuid.UUID(third["id"]))
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        )
    overdue = _all(acme, overdue="true")
    assert _keys(overdue) == ["INV-3"]
    assert overdue[0]["overdue"] is True
    assert len(_all(acme, overdue="false")) == 3

    too_long = acme.http.get("/tasks", params={"scope": "all", "role": "x" * 101})
    assert too_long.status_code == 400, too_long.text


def _mail_flow(key: str = "reminder") -> dict[str, Any]:
    """start -> task -> an email whose text prints the debtor's phone -> end."""
    flow = minimal_flow(key=key, name="Reminder", subject_type="debtor")
    flow["nodes"][1]["params"]["assignee"] = {"role": "Accountant"}
    flow["nodes"].insert(
        2,
        {
            "id": "mail",
            "type": "email",
            "label": "Send reminder",
            "params": {
                "to": {"kind": "address", "address": "desk@example.com"},
                "subject": "Reminder",
                "body": "Please call us on {{ subject.phone }}.",
            },
        },
    )
    flow["edges"][1] = {"id": "e2", "source": "task", "source_port": "approve", "target": "mail"}
    flow["edges"].append({"id": "e4", "source": "mail", "source_port": "sent", "target": "end"})
    return flow


def _approve(of: Office, instance: dict[str, Any]) -> dict[str, Any]:
    (task,) = ok(of.http.get(f"/instances/{instance['id']}"))["tasks"]
    return dict(ok(of.http.post(f"/tasks/{task['id']}/complete", json={"outcome": "approve"})))


def _history(of: Office, instance_id: str) -> list[dict[str, Any]]:
    return list(ok(of.http.get(f"/instances/{instance_id}/history")))


def test_a_failed_instance_shows_its_error_and_completes_when_retried_after_the_fix(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Failing")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    _publish(acme, _mail_flow())
    instance = _start(acme, "reminder", "D-1", "debtor")
    _approve(acme, instance)

    (failed,) = ok(acme.http.get("/instances", params={"status": "failed"}))
    assert failed["id"] == instance["id"]
    assert failed["subject_key"] == "D-1"
    assert failed["failed_node"] == "mail"
    assert "'phone'" in failed["error"]
    assert "$.body" in failed["error"]
    # Retrying before the cause is fixed fails again, with the same error.
    again = ok(acme.http.post(f"/instances/{instance['id']}/retry"))
    assert again["status"] == "failed"
    assert "'phone'" in again["error"]

    ok(acme.http.patch(f"/subjects/{instance['subject']['id']}", json={"fields": {"phone": "010"}}))
    done = ok(acme.http.post(f"/instances/{instance['id']}/retry"))
    assert done["status"] == "completed"
    assert done["error"] is None
    (listed,) = ok(acme.http.get("/instances", params={"status": "completed"}))
    assert listed["error"] is None
    assert listed["failed_node"] is None
    kinds = [row["kind"] for row in _history(acme, instance["id"])]
    assert kinds.count("failed") == 2
    assert "instance_completed" in kinds
    # A completed instance is not retried again.
    refused = acme.http.post(f"/instances/{instance['id']}/retry")
    assert refused.status_code == 409
    assert "only a failed instance" in refused.json()["detail"]


def test_a_failed_instance_is_retried_on_the_version_that_fixed_its_template(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Fixed Flow")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    broken = _mail_flow()
    _publish(acme, broken)
    instance = _start(acme, "reminder", "D-1", "debtor")
    _approve(acme, instance)
    assert ok(acme.http.get(f"/instances/{instance['id']}"))["status"] == "failed"

    fixed = _mail_flow()
    mail = next(n for n in fixed["nodes"] if n["id"] == "mail")
    mail["params"]["body"] = "Please call us back."
    _publish(acme, fixed, new=False)  # version 2, the template fixed
    nowhere = acme.http.post(f"/instances/{instance['id']}/retry", json={"version": 7})
    assert nowhere.status_code == 409
    assert "no published version 7" in nowhere.json()["detail"]
    # Retrying on its own version still fails: the text there still prints the phone.
    again = ok(acme.http.post(f"/instances/{instance['id']}/retry"))
    assert again["status"] == "failed"
    assert again["version"] == 1

    done = ok(acme.http.post(f"/instances/{instance['id']}/retry", json={"version": 2}))
    assert done["status"] == "completed"
    assert done["version"] == 2
    upgraded = [row for row in _history(acme, instance["id"]) if row["kind"] == "instance_upgraded"]
    assert [(row["data"], row["actor"]) for row in upgraded] == [({"from": 1, "to": 2}, acme.email)]


def test_a_failed_instance_is_not_put_on_a_version_without_its_node(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Other Shape")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    _publish(acme, _mail_flow())
    instance = _start(acme, "reminder", "D-1", "debtor")
    _approve(acme, instance)
    # Version 2 calls the task it stands at (after its completion failed) another name.
    reshaped = _mail_flow()
    for node in reshaped["nodes"]:
        if node["id"] == "task":
            node["id"] = "review"
    for edge in reshaped["edges"]:
        edge["source"] = "review" if edge["source"] == "task" else edge["source"]
        edge["target"] = "review" if edge["target"] == "task" else edge["target"]
    _publish(acme, reshaped, new=False)
    refused = acme.http.post(f"/instances/{instance['id']}/retry", json={"version": 2})
    assert refused.status_code == 409, refused.text
    assert "'task'" in refused.json()["detail"]
    assert "retry on its own version or move it first" in refused.json()["detail"]
    assert ok(acme.http.get(f"/instances/{instance['id']}"))["version"] == 1


def test_cancel_keeps_its_reason_in_the_history_for_running_and_failed_instances(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Cancel")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    _publish(acme, _mail_flow())
    running = _start(acme, "reminder", "D-1", "debtor")
    failed = _start(acme, "reminder", "D-2", "debtor")
    _approve(acme, failed)

    for instance, reason in ((running, "debtor paid at the desk"), (failed, "sent by hand")):
        cancelled = ok(
            acme.http.post(f"/instances/{instance['id']}/cancel", json={"reason": reason})
        )
        assert cancelled["status"] == "cancelled"
        last = _history(acme, instance["id"])[-1]
        assert (last["kind"], last["reason"], last["actor"]) == (
            "instance_cancelled",
            reason,
            acme.email,
        )
    # The open task of the running one went with it.
    assert _all(acme) == []
    blank = acme.http.post(f"/instances/{running['id']}/cancel", json={"reason": ""})
    assert blank.status_code == 400, blank.text


def test_a_failed_instance_moves_on_from_where_it_waited_or_is_told_why_not(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Move")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    _publish(acme, _mail_flow())
    instance = _start(acme, "reminder", "D-1", "debtor")
    _approve(acme, instance)
    assert ok(acme.http.get(f"/instances/{instance['id']}"))["status"] == "failed"

    # Back to the task, to decide again: the failed step is dropped, a new task opens.
    body = {"to_node": "task", "reason": "ask again once the phone is known"}
    moved = ok(acme.http.post(f"/instances/{instance['id']}/move", json=body))
    assert (moved["status"], moved["positions"], moved["error"]) == ("running", ["task"], None)
    assert len(moved["tasks"]) == 1
    row = next(r for r in _history(acme, instance["id"]) if r["kind"] == "moved")
    assert (row["node"], row["to_node"], row["reason"]) == ("task", "task", body["reason"])

    # A flow that fails on its first step has no position to move: said plainly.
    start_fails = _mail_flow("direct")
    start_fails["nodes"].pop(1)
    start_fails["edges"] = [
        {"id": "e1", "source": "start", "source_port": "next", "target": "mail"},
        {"id": "e4", "source": "mail", "source_port": "sent", "target": "end"},
    ]
    _publish(acme, start_fails)
    direct = _start(acme, "direct", "D-2", "debtor")
    assert direct["status"] == "failed"
    refused = acme.http.post(
        f"/instances/{direct['id']}/move", json={"to_node": "end", "reason": "skip the mail"}
    )
    assert refused.status_code == 409, refused.text
    assert "retry it, or cancel it" in refused.json()["detail"]


def test_every_filter_combines_with_every_scope(backend: Backend, base_url: str) -> None:
    """Found by schemathesis: the person filter on the roles inbox answered 500."""
    acme = office(backend.runtime, base_url, "Acme Filters")
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    _publish(acme, _mail_flow())
    _start(acme, "reminder", "D-1", "debtor")
    filters = {"flow": "reminder", "role": "Accountant", "user": acme.email, "overdue": "false"}
    for scope in ("mine", "roles", "all"):
        for status in ("open", "completed"):
            answer = acme.http.get("/tasks", params={"scope": scope, "status": status, **filters})
            assert answer.status_code == 200, (scope, status, answer.text)
    offered = ok(acme.http.get("/tasks", params={"scope": "roles", **filters}))
    assert [t["subject"]["key"] for t in offered] == ["D-1"]
