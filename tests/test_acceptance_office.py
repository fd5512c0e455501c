"""Issue 19's acceptance for the office's side: the monthly VAT return over HTTP (K1-K7).

Against a running server, embedded (SQLite) and distributed (PostgreSQL + Redis,
separate API, worker and scheduler processes), with the shipped template
docs/examples/vat-return.json: a bulk start for the clients with the product in
November; the client's own Administratie member gets the preparation phase; a
mandatory checkpoint blocks completing it until ticked; the client opens the link
from the email the mail server received, uploads the bank statement as its browser
would (a multipart form) and, after the review, approves the return on the same
page; the next month's run is planned; a test run on two clients mails the
consultant only.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from procedo.api import accounts
from procedo.db import models as m
from tests.api_helpers import ok
from tests.cluster import SinkHandler, free_port, wait_until
from tests.test_acceptance_invoices import (  # noqa: F401  (fixtures)
    EXAMPLES,
    JSON,
    Setup,
    client,
    running,
)

VAT = "vat-return-monthly"
PRODUCT = {"kind": "compare", "field": "subject.products", "op": "contains"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINK = re.compile(r"/client/([A-Za-z0-9_-]{32})")
FORM = re.compile(r'action="(/client/[^"?]+/requests/[0-9a-f-]+/(?:send|decide))\?[^"]*"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class MailServer(SinkHandler):
    """The SMTP sink, keeping each message whole too: the client reads its link in it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return await super().handle_DATA(server, session, envelope)

    def link_in(self, to: str, subject_line: str) -> str | None:
        """The client page's path in the newest such mail, or None while none arrived."""
        for message in reversed(self.messages):
            if to in str(message["To"]) and " ".join(str(message["Subject"]).split()) == (
                subject_line
            ):
                part = message.get_body(preferencelist=("html", "plain"))
                found = LINK.search(part.get_content()) if part is not None else None
                return found.group(0) if found else None
        return None


@pytest.fixture
def sink() -> Iterator[tuple[MailServer, int]]:
    handler, port = MailServer(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _browser(base_url: str) -> httpx.Client:
    """The client's browser: no staff credential, follows the page's redirect."""
    return httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)


def _form(page: str, ends: str) -> tuple[str, str]:
    """The action of the page's form ending in ``ends`` and its CSRF value."""
    action = next(a for a in FORM.findall(page) if a.endswith(ends))
    csrf = CSRF.search(page)
    assert csrf is not None, page
    return action, csrf.group(1)


def _person(setup: Setup, tenant_id: Any, email: str) -> httpx.Client:
    user, _password = accounts.add_user(setup.rt, tenant_id, email)
    _row, token = accounts.create_token(setup.rt, tenant_id, user.id, "acceptance")
    return client(setup.url, token)


def _client(admin: httpx.Client, key: str, products: list[str]) -> dict[str, Any]:
    fields = {
        "name": f"Client {key}",
        "email": f"{key.lower()}@client.example",
        "contact": {"name": f"Contact {key}"},
        "products": products,
        "vat_period": "monthly",
    }
    made: dict[str, Any] = ok(
        admin.post("/subjects", json={"type": "client", "key": key, "fields": fields}), 201
    )
    return made


def test_the_monthly_vat_return_for_an_office_over_http(
    running: Setup,  # noqa: F811
    sink: tuple[MailServer, int],
) -> None:
    rt, mails = running.rt, sink[0]
    made = accounts.create_tenant(rt, "Kantoor", "consultant@kantoor.example")
    tenant_id = made.tenant.id
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, tenant_id)
        assert tenant is not None
        tenant.smtp = {"host": "127.0.0.1", "port": sink[1], "sender": "btw@kantoor.example"}
    admin = client(running.url, made.token)
    eva = _person(running, tenant_id, "eva@kantoor.example")  # the office's Administratie
    finn = _person(running, tenant_id, "finn@kantoor.example")  # C-1's own
    gijs = _person(running, tenant_id, "gijs@kantoor.example")  # the office's Accountant
    ok(admin.post("/roles/Administratie/members", json={"email": "eva@kantoor.example"}), 201)
    ok(admin.post("/roles/Accountant/members", json={"email": "gijs@kantoor.example"}), 201)
    # As shipped: its approval's 5 business days stay days.
    vat = (EXAMPLES / "vat-return.json").read_bytes()
    ok(admin.post("/flows/import", content=vat, headers=JSON), 201)
    ok(admin.post(f"/flows/{VAT}/publish"), 201)

    c1, _c2 = (_client(admin, key, ["Aangifte BTW"]) for key in ("C-1", "C-2"))
    _client(admin, "C-3", ["Jaarrekening"])
    ok(
        admin.post(
            "/roles/Administratie/members",
            json={"email": "finn@kantoor.example", "subject_id": c1["id"]},
        ),
        201,
    )
    # C-1's monthly plan, for November, on a day still to come.
    starts_on = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    plan = {"starts_on": starts_on, "every": "month", "period": "2026-11"}
    ok(admin.put(f"/flows/{VAT}/plans/{c1['id']}", json=plan))

    # K6: the clients with the product, for November, at once.
    product = {**PRODUCT, "value": {"type": "string", "value": "Aangifte BTW"}}
    report = ok(
        admin.post(f"/flows/{VAT}/start-bulk", json={"filter": product, "period": "2026-11"})
    )
    assert sorted(s["key"] for s in report["started"]) == ["C-1", "C-2"]
    assert report["refused"] == []

    # The next month's run is planned as November's starts.
    (planned,) = [p for p in ok(admin.get(f"/flows/{VAT}/plans")) if p["subject_id"] == c1["id"]]
    assert planned["next_period"] == "2026-12"
    assert planned["next_on"] > starts_on

    # K1 + K2: C-1's own Administratie member gets its preparation; the office's, C-2's.
    def offered(person: httpx.Client) -> list[dict[str, Any]]:
        return list(ok(person.get("/tasks", params={"scope": "roles"})))

    wait_until(lambda: len(offered(finn)) == 1 and len(offered(eva)) == 1, 60, "the phases")
    (prepare,) = offered(finn)
    assert prepare["subject"]["key"] == "C-1"
    assert prepare["title"] == "Prepare VAT return 2026-11 Client C-1"
    assert [t["subject"]["key"] for t in offered(eva)] == ["C-2"]
    mandatory = [c["id"] for c in prepare["checkpoints"] if c.get("mandatory")]
    assert mandatory == ["bank", "purchases", "sales"]

    # A mandatory checkpoint open: completing is refused and says which.
    ok(finn.post(f"/tasks/{prepare['id']}/tick", json={"checkpoint": "bank"}))
    ok(finn.post(f"/tasks/{prepare['id']}/tick", json={"checkpoint": "purchases"}))
    refused = finn.post(f"/tasks/{prepare['id']}/complete", json={"outcome": "complete"})
    assert refused.status_code == 409
    assert "Sales invoices booked" in refused.json()["detail"]
    # Ticking the last one: the phase still waits, for the client's documents.
    ticked = ok(finn.post(f"/tasks/{prepare['id']}/tick", json={"checkpoint": "sales"}))
    assert ticked["ticks"]["sales"]["by"] == "finn@kantoor.example"
    instance_id = prepare["instance_id"]
    assert ok(admin.get(f"/tasks/{prepare['id']}"))["status"] == "open"
    history = ok(admin.get(f"/instances/{instance_id}/history"))
    assert [
        (row["data"]["checkpoint"], row["actor"])
        for row in history
        if row["kind"] == "checkpoint_ticked"
    ] == [
        ("bank", "finn@kantoor.example"),
        ("purchases", "finn@kantoor.example"),
        ("sales", "finn@kantoor.example"),
    ]

    # K3: the client got an email with a link to its page; it uploads the bank statement
    # there as its browser would. The phase then moves on by itself.
    asked = "Documents for your VAT return 2026-11"
    wait_until(lambda: bool(mails.link_in("c-1@client.example", asked)), 60, "the request")
    browser = _browser(running.url)
    page = browser.get(str(mails.link_in("c-1@client.example", asked)))
    assert page.status_code == 200
    assert "Bank statements" in page.text
    action, csrf = _form(page.text, "/send")
    sent = browser.post(
        action,
        data={"csrf": csrf, "field_remarks": "Two accounts"},
        files={"file_bank_statement": ("november.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 200, sent.text  # redirected back to the page
    assert "done=upload" in str(sent.url)
    wait_until(
        lambda: ok(admin.get(f"/tasks/{prepare['id']}"))["status"] == "completed",
        60,
        "the preparation to complete",
    )
    (documents,) = ok(admin.get(f"/clients/{c1['id']}/requests"))
    assert documents["status"] == "complete"
    (kept,) = documents["files"]
    assert (kept["item_id"], kept["filename"]) == ("bank_statement", "november.pdf")
    assert admin.get(f"/clients/{c1['id']}/files/{kept['id']}").content == PDF
    assert documents["answers"]["remarks"]["value"] == "Two accounts"

    # The review (Accountant), then K4: the return is put to the client for approval.
    wait_until(
        lambda: (
            [
                t["node"]
                for t in ok(admin.get(f"/instances/{instance_id}"))["tasks"]
                if t["status"] == "open"
            ]
            == ["review"]
        ),
        60,
        "the review",
    )
    (review,) = [
        t for t in ok(admin.get(f"/instances/{instance_id}"))["tasks"] if t["status"] == "open"
    ]
    ok(
        gijs.post(
            f"/tasks/{review['id']}/complete",
            json={"outcome": "complete", "checkpoints": ["reconciled"]},
        )
    )
    for_approval = "Your VAT return 2026-11 for approval"
    wait_until(lambda: bool(mails.link_in("c-1@client.example", for_approval)), 60, "the return")
    page = browser.get(str(mails.link_in("c-1@client.example", for_approval)))
    assert "VAT return 2026-11 Client C-1" in page.text
    action, csrf = _form(page.text, "/decide")
    decided = browser.post(
        action, data={"csrf": csrf, "decision": "approve", "name": "Contact C-1"}
    )
    assert decided.status_code == 200, decided.text
    wait_until(
        lambda: ok(admin.get(f"/instances/{instance_id}"))["positions"] == ["file"],
        60,
        "the filing phase",
    )
    returned = next(
        r for r in ok(admin.get(f"/clients/{c1['id']}/requests")) if r["kind"] == "filing"
    )
    assert returned["status"] == "approved"
    assert returned["decided_by"] == "Contact C-1 <c-1@client.example>"
    assert returned["submission"]["provider"] == "stub"

    # K7: a test run on two clients mails the consultant, never the clients.
    c4, c5 = (_client(admin, key, ["Aangifte BTW"]) for key in ("C-4", "C-5"))
    trial = ok(
        admin.post(
            f"/flows/{VAT}/start-bulk",
            json={"subject_ids": [c4["id"], c5["id"]], "period": "2026-11", "test": True},
        )
    )
    assert len(trial["started"]) == 2
    test_line = "[TEST] Documents for your VAT return 2026-11"

    def consultant_mails() -> int:
        return sum(
            1
            for _id, rcpt, line in mails.received
            if " ".join(line.split()) == test_line and rcpt == ("consultant@kantoor.example",)
        )

    wait_until(lambda: consultant_mails() == 2, 60, "the test run's mails")
    assert not any(
        rcpt[0] in ("c-4@client.example", "c-5@client.example") for _id, rcpt, _ in mails.received
    )
