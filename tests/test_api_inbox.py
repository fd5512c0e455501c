"""The inbox over HTTP, on SQLite and PostgreSQL: what is offered to whom, and when it leaves.

"My roles' inbox" is read from the task candidates' offers (migration 0005); these
tests pin down that every way a task stops being on offer (taken, completed,
cancelled, given to someone else) takes it out, and only for the people it concerns.
"""

from __future__ import annotations

from typing import Any

import httpx

from procedo.api import accounts
from procedo.api.server import Backend
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps, minimal_flow


def _member(backend: Backend, base_url: str, of: Office, name: str) -> httpx.Client:
    email = f"{name}@{of.slug}.example"
    user, _password = accounts.add_user(backend.runtime, of.tenant_id, email)
    _row, token = accounts.create_token(backend.runtime, of.tenant_id, user.id, name)
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _offered(client: httpx.Client) -> list[str]:
    return [task["subject"]["key"] for task in ok(client.get("/tasks", params={"scope": "roles"}))]


def _tasks(client: httpx.Client, scope: str) -> list[dict[str, Any]]:
    return list(ok(client.get("/tasks", params={"scope": scope})))


def test_offers_leave_the_roles_inbox_when_taken_done_cancelled_or_given_away(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Inbox")
    bob = _member(backend, base_url, acme, "bob")
    carol = _member(backend, base_url, acme, "carol")
    # Accountant is one of the standard roles every tenant starts with (K1).
    ok(acme.http.post("/roles", json={"name": "Deputy"}), 201)
    for email in (acme.email, f"bob@{acme.slug}.example"):
        ok(acme.http.post("/roles/Accountant/members", json={"email": email}), 201)
    ok(acme.http.post("/roles/Deputy/members", json={"email": f"carol@{acme.slug}.example"}), 201)
    ok(
        acme.http.post(
            "/flows/import",
            content=dumps(minimal_flow()),
            headers={"Content-Type": "application/json"},
        ),
        201,
    )
    ok(acme.http.post("/flows/minimal/publish"), 201)
    instances = {}
    for key in ("INV-1", "INV-2", "INV-3", "INV-4"):
        subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": key}), 201)
        started = {"flow": "minimal", "subject_id": subject["id"]}
        instances[key] = ok(acme.http.post("/instances", json=started), 201)["id"]

    # Offered to both Accountants, the oldest first (no due dates), with who may take them.
    assert _offered(acme.http) == ["INV-1", "INV-2", "INV-3", "INV-4"]
    assert _offered(bob) == ["INV-1", "INV-2", "INV-3", "INV-4"]
    assert _offered(carol) == []
    first = _tasks(bob, "roles")[0]
    assert first["candidates"] == sorted([acme.email, f"bob@{acme.slug}.example"])
    # Each outcome with its button text, as the flow's designer wrote it.
    assert first["outcomes"] == [
        {"port": "approve", "label": "Approve"},
        {"port": "reject", "label": "Reject"},
    ]
    by_key = {task["subject"]["key"]: task["id"] for task in _tasks(bob, "roles")}

    # Bob takes INV-1: it leaves both roles' inboxes and is in bob's own.
    ok(bob.post(f"/tasks/{by_key['INV-1']}/claim"))
    assert _offered(acme.http) == _offered(bob) == ["INV-2", "INV-3", "INV-4"]
    assert [task["subject"]["key"] for task in _tasks(bob, "mine")] == ["INV-1"]

    # The admin completes INV-2; INV-3's instance is cancelled.
    ok(acme.http.post(f"/tasks/{by_key['INV-2']}/complete", json={"outcome": "approve"}))
    ok(acme.http.post(f"/instances/{instances['INV-3']}/cancel", json={"reason": "duplicate"}))
    assert _offered(bob) == ["INV-4"]

    # INV-4 goes to the Deputies: carol's now, no longer the Accountants'.
    ok(acme.http.post(f"/tasks/{by_key['INV-4']}/reassign", json={"role": "Deputy"}))
    assert _offered(bob) == _offered(acme.http) == []
    assert _offered(carol) == ["INV-4"]

    # Given to a user by name, it is theirs, offered to nobody.
    ok(
        acme.http.post(
            f"/tasks/{by_key['INV-4']}/reassign", json={"user": f"bob@{acme.slug}.example"}
        )
    )
    assert _offered(carol) == []
    assert [task["subject"]["key"] for task in _tasks(bob, "mine")] == ["INV-1", "INV-4"]

    # Closed tasks are still listed by status, with who could have taken them.
    completed = ok(acme.http.get("/tasks", params={"scope": "all", "status": "completed"}))
    assert [task["subject"]["key"] for task in completed] == ["INV-2"]
    assert acme.email in completed[0]["candidates"]
