"""The journeys of issue 4 against a real server on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from procedo.api.server import Backend
from tests.api_helpers import office, ok
from tests.conftest import dumps, minimal_flow
from tests.test_partner_grants import PAID_GRANT, payable_flow


def review_flow() -> dict[str, Any]:
    """start -> review (approve/reject) -> pay (done) -> end: two tasks, so a move back shows."""
    task = minimal_flow()["nodes"][1]
    pay = {
        "id": "pay",
        "type": "assign_role",
        "params": {
            "title": "Pay",
            "assignee": {"role": "Accountant"},
            "outcomes": [{"port": "done", "label": "Paid"}],
        },
    }
    return minimal_flow(
        key="review",
        name="Review and pay",
        nodes=[
            {"id": "start", "type": "start"},
            {**task, "id": "review"},
            pay,
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "review"},
            {"id": "e2", "source": "review", "source_port": "approve", "target": "pay"},
            {"id": "e3", "source": "review", "source_port": "reject", "target": "end"},
            {"id": "e4", "source": "pay", "source_port": "done", "target": "end"},
        ],
    )


def test_the_office_journey(backend: Backend, base_url: str) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    flow_file = dumps(review_flow())

    # Import, publish.
    imported = ok(
        acme.http.post(
            "/flows/import", content=flow_file, headers={"Content-Type": "application/json"}
        ),
        201,
    )
    assert imported["key"] == "review"
    assert imported["created"] is True
    version = ok(acme.http.post("/flows/review/publish"), 201)
    assert version["number"] == 1

    # Roles and a subject.
    # Accountant is one of the standard roles every tenant starts with (K1).
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    subject = ok(
        acme.http.post(
            "/subjects",
            json={"type": "invoice", "key": "INV-1", "fields": {"payable_amount": "1210.00"}},
        ),
        201,
    )

    # Start: the instance waits at the review task, which is in the Accountant's inbox.
    instance = ok(
        acme.http.post("/instances", json={"flow": "review", "subject_id": subject["id"]}), 201
    )
    assert instance["positions"] == ["review"]
    assert instance["status"] == "running"
    inbox = ok(acme.http.get("/tasks", params={"scope": "roles"}))
    assert [t["title"] for t in inbox] == ["Approve"]
    assert inbox[0]["subject"]["key"] == "INV-1"

    # Complete it: on to the pay task.
    ok(acme.http.post(f"/tasks/{inbox[0]['id']}/complete", json={"outcome": "approve"}))
    assert ok(acme.http.get(f"/instances/{instance['id']}"))["positions"] == ["pay"]

    # Move back with a reason (admin); the history keeps it.
    moved = ok(
        acme.http.post(
            f"/instances/{instance['id']}/move",
            json={"to_node": "review", "reason": "order number was wrong"},
        )
    )
    assert moved["positions"] == ["review"]
    history = ok(acme.http.get(f"/instances/{instance['id']}/history"))
    assert any(row["reason"] == "order number was wrong" for row in history)
    assert any(row["kind"] == "task_completed" and row["actor"] == acme.email for row in history)
    timeline = ok(acme.http.get(f"/subjects/{subject['id']}/timeline"))
    assert [entry["id"] for entry in timeline] == [instance["id"]]
    assert [row["seq"] for row in timeline[0]["history"]] == [row["seq"] for row in history]

    # Export, re-import into another tenant, export again: the same bytes.
    exported = acme.http.get("/flows/review/export", params={"version": 1})
    assert exported.status_code == 200
    beta = office(rt, base_url, "Beta Office")
    ok(
        beta.http.post(
            "/flows/import", content=exported.content, headers={"Content-Type": "application/json"}
        ),
        201,
    )
    again = beta.http.get("/flows/review/export")
    assert again.content == exported.content


def test_partner_sets_paid_and_nothing_else(backend: Backend, base_url: str) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    admin_office = office(rt, base_url, "Admin Office")
    ok(
        acme.http.post(
            "/flows/import",
            content=dumps(payable_flow()),
            headers={"Content-Type": "application/json"},
        ),
        201,
    )
    ok(acme.http.post("/flows/pay/publish"), 201)
    subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-7"}), 201)
    instance = ok(
        acme.http.post("/instances", json={"flow": "pay", "subject_id": subject["id"]}), 201
    )

    # Nothing is shared before the grant.
    assert ok(admin_office.http.get("/shared")) == []
    status_url = f"/shared/{instance['id']}/status"
    assert admin_office.http.post(status_url, json={"status": "paid"}).status_code == 404

    grant = ok(
        acme.http.post(
            "/partnerships",
            json={"partner": admin_office.slug, "flows": ["pay"], **PAID_GRANT},
        ),
        201,
    )
    shared = ok(admin_office.http.get("/shared"))
    assert [(s["id"], s["tenant"], s["may_set"]) for s in shared] == [
        (instance["id"], acme.slug, ["paid"])
    ]
    refused = admin_office.http.post(status_url, json={"status": "approved"})
    assert refused.status_code == 409
    assert "paid" in refused.json()["detail"]
    ok(admin_office.http.post(status_url, json={"status": "paid"}))
    assert ok(acme.http.get(f"/subjects/{subject['id']}"))["status"] == "paid"
    history = ok(acme.http.get(f"/instances/{instance['id']}/history"))
    partner_rows = [row for row in history if row["kind"] == "partner_status_set"]
    assert len(partner_rows) == 1
    assert admin_office.slug in partner_rows[0]["actor"]
    assert partner_rows[0]["data"] == {"from": "payable", "to": "paid"}

    # The partner's own endpoints are all it may use of the other tenant: its own API sees nothing.
    assert admin_office.http.get(f"/instances/{instance['id']}").status_code == 404

    # Revoked: gone at once.
    assert acme.http.delete(f"/partnerships/{grant['id']}").status_code == 204
    assert ok(admin_office.http.get("/shared")) == []
    assert admin_office.http.post(status_url, json={"status": "paid"}).status_code == 404


def test_login_session_and_csrf(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    with httpx.Client(base_url=f"{base_url}/api/v1") as browser:
        wrong = browser.post(
            "/auth/login", json={"tenant": acme.slug, "email": acme.email, "password": "nope"}
        )
        assert wrong.status_code == 401
        assert "procedo_session" not in browser.cookies
        me = ok(
            browser.post(
                "/auth/login",
                json={"tenant": acme.slug, "email": acme.email, "password": acme.password},
            )
        )
        assert me["user"] == {
            "email": acme.email,
            "name": "",
            "access": "admin",
            "tenant": acme.slug,
        }
        assert ok(browser.get("/auth/me"))["user"]["email"] == acme.email
        # Unsafe with the cookie but without the CSRF header: refused, and nothing changes.
        forged = browser.post("/roles", json={"name": "Forged"})
        assert forged.status_code == 403
        assert "X-CSRF-Token" in forged.json()["detail"]
        csrf = browser.cookies["procedo_csrf"]
        ok(browser.post("/roles", json={"name": "Real"}, headers={"X-CSRF-Token": csrf}), 201)
        names = [r["name"] for r in ok(browser.get("/roles"))]
        assert "Real" in names
        assert "Forged" not in names
        session = browser.cookies["procedo_session"]
        ok(browser.post("/auth/logout", headers={"X-CSRF-Token": csrf}), 204)
        browser.cookies.clear()
        assert browser.get("/auth/me").status_code == 401
        # The ended session is refused at once, even if the cookie is sent again.
        browser.cookies.set("procedo_session", session)
        assert browser.get("/auth/me").status_code == 401


def test_revoked_token_stops_at_once(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    made = ok(acme.http.post("/tokens", json={"name": "bank feed"}), 201)
    other = httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert other.get("/flows").status_code == 200
    assert acme.http.delete(f"/tokens/{made['id']}").status_code == 204
    assert other.get("/flows").status_code == 401
    listed = ok(acme.http.get("/tokens"))
    assert all(made["token"] not in str(row) for row in listed)  # only the hash is kept


def test_failed_logins_are_throttled_per_account(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    beta = office(backend.runtime, base_url, "Beta Office")
    with httpx.Client(base_url=f"{base_url}/api/v1") as browser:
        guess = {"tenant": acme.slug, "email": acme.email, "password": "guess"}
        for _ in range(10):
            assert browser.post("/auth/login", json=guess).status_code == 401
        right = {**guess, "password": acme.password}
        waiting = browser.post("/auth/login", json=right)
        assert waiting.status_code == 429
        assert int(waiting.headers["Retry-After"]) > 0
        assert "try again in" in waiting.json()["detail"]
        # Another account from the same address still logs in.
        other = {"tenant": beta.slug, "email": beta.email, "password": beta.password}
        assert browser.post("/auth/login", json=other).status_code == 200


def test_a_token_records_when_it_was_last_used(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    ok(acme.http.get("/auth/me"))
    (token,) = ok(acme.http.get("/tokens"))
    assert token["last_used_at"] is not None
