"""The outbox over HTTP: what was sent or will be, paged and filtered, per tenant, for staff.

A real message comes from the invoice approval flow (E2: no order number, so the
rejection mail of E4); more rows are queued directly to page through. Resending a
failed email goes through the tenant's settings as they are now, and is in the history.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.messaging.sink import MailSink
from procedo.runtime import admin, setup
from procedo.runtime.trial import read_subject
from tests.api_helpers import Office, office, ok
from tests.conftest import EXAMPLES

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    running = MailSink.start(tmp_path / "sink")
    yield running
    running.stop()


def _client(base_url: str, backend: Backend, of: Office, name: str, access: str) -> httpx.Client:
    email = f"{name}@{of.slug}.example"
    user, _password = accounts.add_user(backend.runtime, of.tenant_id, email, name, access)  # type: ignore[arg-type]
    _row, token = accounts.create_token(backend.runtime, of.tenant_id, user.id, name)
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _rejected_invoice(backend: Backend, of: Office) -> uuid.UUID:
    """An invoice without an order number, received: the flow rejects it and emails the supplier."""
    flow = (EXAMPLES / "invoice-approval.json").read_bytes()
    ok(of.http.post("/flows/import", content=flow, headers=JSON), 201)
    ok(of.http.post("/flows/invoice-approval/publish"), 201)
    invoice = read_subject((EXAMPLES / "subjects" / "invoice-no-order.json").read_bytes())
    rt = backend.runtime
    subject = setup.upsert_subject(rt, of.tenant_id, "invoice", invoice.key, invoice.fields)
    admin.post_event(rt, of.tenant_id, subject.id, "invoice.received")
    return subject.id


def _settled(backend: Backend, tenant_id: Any, state: str) -> m.Outbox:
    """The tenant's message from a flow once it is `state` (at most 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        with backend.runtime.db.read() as session:
            row = session.scalar(
                sa.select(m.Outbox).where(
                    m.Outbox.tenant_id == tenant_id, m.Outbox.instance_id.is_not(None)
                )
            )
        if (row is not None and row.status == state) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert row is not None
    assert row.status == state, (row.status, row.last_error)
    return row


def _queue(backend: Backend, tenant_id: Any, count: int, to: str, status: str = "ready") -> None:
    """Letters (they wait for print, so no worker touches them), a minute apart."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with backend.runtime.db.transaction() as session:
        for index in range(count):
            at = start + dt.timedelta(minutes=index)
            session.add(
                m.Outbox(
                    tenant_id=tenant_id,
                    kind="letter",
                    message_id=f"<{uuid.uuid4()}@test>",
                    recipients=[to],
                    subject=f"Letter {index}",
                    body=f"<p>Letter {index} to /portal/{'x' * 40}</p>",
                    status=status,
                    created_at=at,
                    next_attempt_at=at,
                )
            )


def test_staff_page_filter_and_read_the_outbox_of_their_own_tenant(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Outbox")
    other = office(backend.runtime, base_url, "Other Outbox")
    invoice_id = _rejected_invoice(backend, acme)
    failed = _settled(backend, acme.tenant_id, "failed")  # no mail server set yet
    _queue(backend, acme.tenant_id, 5, "printer@acme.example")
    _queue(backend, other.tenant_id, 2, "secret@other.example")

    everything = ok(acme.http.get("/outbox"))
    assert len(everything) == 6
    # Newest first: the rejection (made now), then the letters from the newest.
    assert [item["subject"] for item in everything[1:]] == [f"Letter {i}" for i in range(4, -1, -1)]
    rejection = everything[0]
    assert rejection["id"] == str(failed.id)
    assert (rejection["kind"], rejection["status"]) == ("email", "failed")
    assert rejection["recipients"] == ["factuur@devries.example"]
    assert rejection["subject"] == "Invoice INV-2026-0043 rejected"
    assert "SMTP settings are missing" in rejection["last_error"]
    assert (rejection["flow"], rejection["flow_name"]) == (
        "invoice-approval",
        "Purchase invoice approval",
    )
    assert (rejection["subject_id"], rejection["subject_key"], rejection["subject_type"]) == (
        str(invoice_id),
        "INV-2026-0043",
        "invoice",
    )
    assert rejection["next_attempt_at"] is None  # failed: no next try

    # Pages: each row once, in order, across pages of 4.
    pages = [ok(acme.http.get("/outbox", params={"limit": 4, "offset": o})) for o in (0, 4)]
    assert [len(p) for p in pages] == [4, 2]
    assert [i["id"] for p in pages for i in p] == [i["id"] for i in everything]

    # Filters: status, kind, subject, free text.
    assert [i["id"] for i in ok(acme.http.get("/outbox", params={"status": "failed"}))] == [
        str(failed.id)
    ]
    assert len(ok(acme.http.get("/outbox", params={"status": "ready"}))) == 5
    assert ok(acme.http.get("/outbox", params={"status": "sent"})) == []
    assert len(ok(acme.http.get("/outbox", params={"kind": "letter"}))) == 5
    by_subject = ok(acme.http.get("/outbox", params={"subject_id": str(invoice_id)}))
    assert [i["id"] for i in by_subject] == [str(failed.id)]
    assert [i["subject"] for i in ok(acme.http.get("/outbox", params={"q": "DEVRIES"}))] == [
        "Invoice INV-2026-0043 rejected"
    ]
    assert len(ok(acme.http.get("/outbox", params={"q": "letter 3"}))) == 1
    assert ok(acme.http.get("/outbox", params={"q": "100%_"})) == []  # wildcards are text
    for bad in ({"status": "lost"}, {"kind": "fax"}, {"limit": 0}, {"q": "x" * 201}):
        refused = acme.http.get("/outbox", params=bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert next(iter(bad)) in refused.json()["detail"]

    # One message with its body, as HTML and as text; a portal link is never shown.
    message = ok(acme.http.get(f"/outbox/{failed.id}"))
    assert "INV-2026-0043" in message["body"]
    assert "was rejected" in message["text"]
    letter_id = everything[-1]["id"]
    letter = ok(acme.http.get(f"/outbox/{letter_id}"))
    assert "/portal/[link]" in letter["body"]
    assert "xxxxxxxx" not in letter["body"]

    # Tenant isolation: the other tenant sees only its own, and acme's ids are 404.
    theirs = ok(other.http.get("/outbox"))
    assert {tuple(i["recipients"]) for i in theirs} == {("secret@other.example",)}
    assert other.http.get(f"/outbox/{failed.id}").status_code == 404
    assert other.http.post(f"/outbox/{failed.id}/resend").status_code == 404
    assert ok(other.http.get("/outbox", params={"subject_id": str(invoice_id)})) == []

    # Staff only: a designer reads it, a member is refused and told why.
    anna = _client(base_url, backend, acme, "anna", "designer")
    assert len(ok(anna.get("/outbox"))) == 6
    mia = _client(base_url, backend, acme, "mia", "member")
    for path in ("/outbox", f"/outbox/{failed.id}"):
        refused = mia.get(path)
        assert refused.status_code == 403
        assert "designer" in refused.json()["detail"]
    assert anna.post(f"/outbox/{failed.id}/resend").status_code == 403  # resending: admin


def test_an_admin_resends_a_failed_email_through_the_settings_now(
    backend: Backend, base_url: str, sink: MailSink
) -> None:
    acme = office(backend.runtime, base_url, "Acme Resend")
    _rejected_invoice(backend, acme)
    failed = _settled(backend, acme.tenant_id, "failed")
    settings = {
        "host": sink.host,
        "port": sink.port,
        "security": "none",
        "sender_address": "office@acme.example",
    }
    ok(acme.http.put("/settings/email", json=settings))  # the fix

    again = ok(acme.http.post(f"/outbox/{failed.id}/resend"))
    assert (again["status"], again["last_error"]) in {("queued", None), ("sent", None)}
    sent = _settled(backend, acme.tenant_id, "sent")
    assert sent.id == failed.id
    (kept,) = sink.messages()
    assert "Invoice INV-2026-0043 rejected" in kept.read_text()
    assert ok(acme.http.get(f"/outbox/{failed.id}"))["status"] == "sent"

    instance_id = ok(acme.http.get(f"/outbox/{failed.id}"))["instance_id"]
    kinds = [
        (row["kind"], row["actor"])
        for row in ok(acme.http.get(f"/instances/{instance_id}/history"))
    ]
    assert ("email_resent", acme.email) in kinds
    assert kinds.index(("email_resent", acme.email)) < kinds.index(("email_sent", "system"))

    # Only a failed email is sent again.
    refused = acme.http.post(f"/outbox/{failed.id}/resend")
    assert refused.status_code == 409
    assert "sent" in refused.json()["detail"]
    assert acme.http.post(f"/outbox/{uuid.uuid4()}/resend").status_code == 404
