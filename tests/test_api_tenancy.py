"""Tenancy matrix: every route of the app, with tenant B's admin token on tenant A's ids.

Generated from the app's route table, so a new route is walked as soon as it
exists (and fails here until it has a sample request). The answer is always
404 and never any of A's data; afterwards A's data is untouched.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from litestar.routes import HTTPRoute

from procedo.api.app import create_app
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.db.schedule_runs import ScheduleRun
from tests.api_helpers import Office, live_server, office, ok
from tests.conftest import dumps
from tests.test_api_journey import review_flow

# Routes with nothing of a tenant's in them.
# The debtor portal's public pages: their token is the credential, tested in
# tests/test_portal_security.py.
NOT_TENANT_DATA = {"/", "/{path:path}", "/portal/{token:str}", "/portal/{token:str}/{reaction:str}"}
# The client page, likewise (tests/test_client_requests.py).
NOT_TENANT_DATA |= {
    "/client/{token:str}",
    "/client/{token:str}/requests/{request_id:uuid}/send",
    "/client/{token:str}/requests/{request_id:uuid}/decide",
}
# Short portal links of letters and SMS: the code is the credential
# (tests/test_portal_messages.py).
NOT_TENANT_DATA |= {"/p/{code:str}"}
# A valid request body for each route that takes one, so that B's request fails on
# the tenancy check (404) and not on validation (400).
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/flows/{key:str}/draft"): "flow file",
    ("POST", "/flows/{key:str}/duplicate"): {"key": "copied", "name": "Copied"},
    ("POST", "/flows/{key:str}/publish"): None,
    ("PATCH", "/subjects/{subject_id:uuid}"): {"status": "stolen"},
    ("POST", "/subjects/{subject_id:uuid}/events"): {"name": "payment.received"},
    ("POST", "/instances/{instance_id:uuid}/move"): {"to_node": "end", "reason": "take it"},
    ("POST", "/instances/{instance_id:uuid}/cancel"): {"reason": "take it"},
    ("POST", "/instances/{instance_id:uuid}/retry"): None,
    ("POST", "/tasks/{task_id:uuid}/claim"): None,
    ("POST", "/tasks/{task_id:uuid}/complete"): {"outcome": "approve"},
    ("POST", "/tasks/{task_id:uuid}/tick"): {"checkpoint": "checked"},
    ("POST", "/tasks/{task_id:uuid}/reassign"): {"role": "Accountant"},
    ("POST", "/roles/{name:str}/members"): {"email": "admin@acme-office.example"},
    ("POST", "/roles/{name:str}/members/bulk"): {
        "members": [{"email": "admin@acme-office.example"}]
    },
    ("POST", "/shared/{instance_id:uuid}/status"): {"status": "paid"},
    ("POST", "/portal/debtors/{subject_id:uuid}/links"): None,
    ("POST", "/clients/{subject_id:uuid}/links"): None,
    ("POST", "/clients/{subject_id:uuid}/requests"): {
        "title": "Bank statements",
        "items": [{"kind": "document", "label": "Statement"}],
    },
    ("POST", "/portal/arrangements/{arrangement_id:uuid}/accept"): {},
    ("POST", "/portal/arrangements/{arrangement_id:uuid}/decline"): {"reason": "taken"},
    ("POST", "/payments/{payment_id:uuid}/match"): {"open_item": "F-A-1"},
    ("POST", "/schedules/{key:str}/run"): None,
    ("POST", "/schedules/{key:str}/deactivate"): None,
    ("POST", "/schedules/{key:str}/activate"): None,
    ("PATCH", "/roles/{name:str}"): {"name": "Taken"},
    ("PATCH", "/users/{user_id:uuid}"): {"active": False},
    ("POST", "/users/{user_id:uuid}/password-reset"): None,
    ("POST", "/flows/{key:str}/start-bulk"): {"subject_ids": []},
    ("PUT", "/flows/{key:str}/plans/{subject_id:uuid}"): {"starts_on": "2026-12-01"},
    ("PUT", "/templates/{template:str}"): {
        "subject_type": "invoice",
        "texts": {"en": {"subject": "Taken", "html": "<p>taken</p>"}},
    },
    ("POST", "/outbox/{message_id:uuid}/resend"): None,
    ("POST", "/letters/batches/{batch_id:uuid}/printed"): None,
    ("PUT", "/procedures/{key:str}"): {"kind": "primary", "default": True},
    ("PUT", "/open-items/{item_id:uuid}/status"): {"status": "dispute"},
    ("POST", "/worksheet/{task_id:uuid}/undo"): None,
    ("PUT", "/open-items/{item_id:uuid}/document"): None,
    ("POST", "/templates/{template:str}/preview"): {
        "subject_id": "00000000-0000-7000-8000-000000000000"
    },
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("DELETE", "/roles/{name:str}/members"): {"email": "admin@acme-office.example"},
}
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("PUT", "/flows/{key:str}/draft"): {"If-Match": '"1"', "Content-Type": "application/json"},
}


def _tenant_a(acme: Office, rt: Any, base_url: str) -> dict[str, str]:
    """Something of every kind in tenant A; returns the values for the path parameters."""
    ok(
        acme.http.post(
            "/flows/import",
            content=dumps(review_flow()),
            headers={"Content-Type": "application/json"},
        ),
        201,
    )
    ok(acme.http.post("/flows/review/publish"), 201)
    # A role of A's own: B has the standard roles (K1) under the same names as A.
    ok(acme.http.post("/roles", json={"name": "Acme Auditors"}), 201)
    ok(acme.http.post("/roles/Acme Auditors/members", json={"email": acme.email}), 201)
    ok(acme.http.post("/roles/Accountant/members", json={"email": acme.email}), 201)
    subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-A"}), 201)
    instance = ok(
        acme.http.post("/instances", json={"flow": "review", "subject_id": subject["id"]}), 201
    )
    token = ok(acme.http.post("/tokens", json={"name": "a's integration"}), 201)
    user = ok(acme.http.post("/users", json={"email": "eva@acme-office.example"}), 201)
    partner = office(rt, base_url, "Third Office")
    grant = ok(
        acme.http.post(
            "/partnerships",
            json={
                "partner": partner.slug,
                "flows": ["review"],
                "statuses": [{"status": "paid", "from": ["payable"]}],
                "fields": ["invoice_number"],
            },
        ),
        201,
    )
    # A subject type of A's own: the catalogue of B must not show it.
    with rt.db.transaction() as session:
        session.add(
            m.SubjectTypeRow(
                tenant_id=acme.tenant_id,
                name="retainer",
                definition={
                    "name": "retainer",
                    "label": {"en": "Retainer", "nl": "Voorschot", "de": "Vorschuss"},
                    "fields": [],
                },
            )
        )
    template = {
        "name": "rejected",
        "subject_type": "invoice",
        "texts": {"en": {"subject": "Rejected", "html": "<p>{{ subject.invoice_number }}</p>"}},
    }
    ok(acme.http.post("/templates", json=template), 201)
    payment = ok(
        acme.http.post(
            "/payments",
            json={"amount": "12.50", "paid_on": "2026-11-30", "remittance": "A's unmatched"},
        ),
        201,
    )
    # A letter waiting for print, then in a print batch of A's.
    letter_id = uuid.uuid4()
    with rt.db.transaction() as session:
        session.add(
            m.Outbox(
                id=letter_id,
                tenant_id=acme.tenant_id,
                instance_id=uuid.UUID(instance["id"]),
                kind="letter",
                message_id=f"<{letter_id}@tenancy>",
                subject="A's letter",
                body="Dear A",
                status="ready",
            )
        )
    batch = ok(acme.http.post("/letters/batches"), 201)
    # An open item of a debtor of A's, with its invoice document (M4's attachment).
    from procedo.messaging.attachments import invoice_pdf

    debtor = ok(acme.http.post("/subjects", json={"type": "debtor", "key": "D-A"}), 201)
    item_id = uuid.uuid4()
    with rt.db.transaction() as session:
        session.add(
            OpenItem(
                id=item_id,
                tenant_id=acme.tenant_id,
                debtor_id=uuid.UUID(debtor["id"]),
                number="F-A-DOC",
                issue_date=dt.date(2026, 11, 1),
                due_date=dt.date(2026, 12, 1),
                amount=Decimal("10.00"),
                open_amount=Decimal("10.00"),
            )
        )
    pdf = invoice_pdf("F-A-DOC", "A's debtor", "10.00", dt.date(2026, 12, 1))
    ok(acme.http.put(f"/open-items/{item_id}/document", content=pdf))
    # A scheduled run of A's, and whom it acted on (the run record, D5).
    run_id = uuid.uuid4()
    with rt.db.transaction() as session:
        flow_id = session.scalar(sa.select(m.Flow.id).where(m.Flow.tenant_id == acme.tenant_id))
        session.add(
            ScheduleRun(
                id=run_id,
                tenant_id=acme.tenant_id,
                flow_id=flow_id,
                version=1,
                slot_at=m.utcnow(),
                selected=1,
                acted=1,
                skipped=0,
            )
        )
    return {
        "run_id": str(run_id),
        "message_id": str(letter_id),
        "letter_id": str(letter_id),
        "batch_id": batch["id"],
        "payment_id": payment["id"],
        "key": "review",
        "template": "rejected",
        "item_id": str(item_id),
        "number": "1",
        "subject_id": subject["id"],
        # A client's uploaded file: none in A, and B is refused before it is looked for.
        "file_id": "00000000-0000-7000-8000-00000000f11e",
        # A reviewed arrangement: tenancy of a real one in tests/test_portal_review.py.
        "arrangement_id": "00000000-0000-7000-8000-0000000a4a11",
        "instance_id": instance["id"],
        "task_id": instance["tasks"][0]["id"],
        "token_id": token["id"],
        "user_id": user["user"]["id"],
        "partnership_id": grant["id"],
        "name": "Acme Auditors",
        "subject_type_name": "retainer",
    }


def _fill(path: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if path.startswith("/subject-types/") and name == "name":
            return values["subject_type_name"]
        return values[name]

    return re.sub(r"\{(\w+):\w+\}", value, path)


def api_routes() -> list[tuple[str, str]]:
    """(method, path below /api/v1) of every route, from the app itself."""
    app = create_app(rt=None)  # type: ignore[arg-type]  # the route table needs no runtime
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/v1/"):
            assert route.path in NOT_TENANT_DATA or route.path.startswith("/schema"), route.path
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            found.append((method, route.path.removeprefix("/api/v1")))
    return found


def test_the_route_table_is_walked_whole() -> None:
    routes = api_routes()
    with_ids = [r for r in routes if "{" in r[1]]
    assert len(with_ids) >= 25
    unsafe = [r for r in with_ids if r[0] in ("POST", "PUT", "PATCH")]
    missing = [r for r in unsafe if r not in BODIES]
    assert not missing, f"add a sample body for {missing} to BODIES"


def test_tenant_b_gets_404_on_every_route_with_a_ids(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        values = _tenant_a(acme, rt, base_url)
        secrets = {v for k, v in values.items() if k.endswith("_id")}
        intruder = office(rt, base_url, "Beta Office")
        draft = acme.http.get("/flows/review/export").content
        before = {
            "flow": ok(acme.http.get("/flows/review")),
            "subject": ok(acme.http.get(f"/subjects/{values['subject_id']}")),
            "instance": ok(acme.http.get(f"/instances/{values['instance_id']}")),
            "roles": ok(acme.http.get("/roles")),
            "grants": ok(acme.http.get("/partnerships")),
            "tokens": ok(acme.http.get("/tokens")),
            "users": ok(acme.http.get("/users")),
            "template": ok(acme.http.get("/templates/rejected")),
        }
        walked = 0
        for method, template in api_routes():
            key = (method, template)
            if "{" not in template:
                if method == "GET":  # lists: none of A's rows
                    answer = intruder.http.get(template)
                    assert answer.status_code == 200, (template, answer.text)
                    leaked = [s for s in secrets if s in answer.text]
                    assert not leaked, f"GET {template} shows tenant A's {leaked}"
                continue
            body = BODIES.get(key)
            content = draft if body == "flow file" else None
            url = _fill(template, values)
            answer = intruder.http.request(
                method,
                url,
                json=body if content is None and body is not None else None,
                content=content,
                params=QUERIES.get(key),
                headers=HEADERS.get(key),
            )
            assert answer.status_code == 404, (
                f"{method} {template}: {answer.status_code} {answer.text}"
            )
            # The id asked for may be named in the message; no other id of A may appear.
            leaked = [s for s in secrets if s in answer.text and s not in url]
            assert not leaked, f"{method} {template} shows tenant A's {leaked}"
            walked += 1
        assert walked >= 25
        # Nothing of A changed; A's token still works (B's DELETE did nothing).
        assert ok(acme.http.get("/flows/review")) == before["flow"]
        assert ok(acme.http.get(f"/subjects/{values['subject_id']}")) == before["subject"]
        assert ok(acme.http.get(f"/instances/{values['instance_id']}")) == before["instance"]
        assert ok(acme.http.get("/roles")) == before["roles"]
        assert ok(acme.http.get("/partnerships")) == before["grants"]
        assert ok(acme.http.get("/tokens")) == before["tokens"]
        assert ok(acme.http.get("/users")) == before["users"]
        assert ok(acme.http.get("/templates/rejected")) == before["template"]
