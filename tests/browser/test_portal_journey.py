"""Issue 18's journey in Chromium: a debtor opens the portal link of a reminder caught by the
demo's SMTP sink, sees three open invoices, proposes an arrangement within the bounds
(confirmed at once, the plan on the staff's subject page) and one outside (a review task),
then promises to pay (D6 no longer selects the debtor; five simulated days later, unpaid,
the task appears). The demo publishes docs/examples/payment-arrangement.json and
promise-to-pay.json; the five days are simulated by bringing the flow's timer forward in
the server's database (its clock is the system's)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from procedo.db import models as m
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.sql import select_matching
from procedo.rules.model import Rule
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays
from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in

ROOT = Path(__file__).resolve().parents[2]
REMINDER = "Your invoices and your portal"
DEBTOR_FACTS = computed_fields(builtin_subject_types()["debtor"])


def _eventually(what: str, check: Callable[[], Any], seconds: float = 40) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return found


def _mail(server: Server, subject: str, to: str) -> Any:
    """The demo sink's message (in the data directory) with that subject and recipient."""
    for path in sorted((server.log.parent / "sent-mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["Subject"] == subject and to in str(message["To"]):
            return message
    return None


def _text(message: Any) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content())


def _server_db(server: Server) -> sa.Engine:
    return sa.create_engine(
        f"sqlite:///{server.log.parent / 'procedo.db'}", connect_args={"timeout": 30}
    )


def _a_debtor_with_three_invoices(page: Any, key: str, name: str, mailbox: str) -> str:
    fields = {"name": name, "email": mailbox, "language": "en", "problematic": False}
    made = api(page, "POST", "/subjects", {"type": "debtor", "key": key, "fields": fields})
    today = dt.date.today()
    rows = [
        "debtor_number,number,issue_date,due_date,amount,open_amount",
        *(
            f"{key},{key}-{n},{today - dt.timedelta(days=40)},{today - dt.timedelta(days=20)},"
            f"{amount},{amount}"
            for n, amount in ((1, "120.00"), (2, "80.00"), (3, "100.00"))
        ),
    ]
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    answer = page.request.post(
        "/api/v1/imports/open-items",
        headers={"X-CSRF-Token": csrf},
        multipart={
            "file": {
                "name": "items.csv",
                "mimeType": "text/csv",
                "buffer": "\n".join(rows).encode(),
            }
        },
    )
    assert answer.ok, answer.text()
    return str(made["id"])


def _send_reminder_with_link(page: Any, subject_id: str) -> None:
    """A library template printing subject.portal_url (a link is minted as it leaves)."""
    text = (
        "Dear {{ subject.name }},\n\nyou can see your open invoices and answer us here: "
        "{% if subject.portal_url %}{{ subject.portal_url }}{% endif %}\n"
    )
    template = {
        "name": "portal-journey",
        "subject_type": "debtor",
        "texts": {"en": {"subject": REMINDER, "html": f"<p>{text}</p>", "text": text}},
    }
    api(page, "POST", "/templates", template)
    flow = {
        "format": "procedo.flow/1",
        "key": "portal-journey-reminder",
        "name": "Reminder with the portal link",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "mail",
                "type": "email",
                "params": {
                    "to": {"kind": "field", "field": "subject.email"},
                    "template": "portal-journey",
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "mail"},
            {"id": "e2", "source": "mail", "source_port": "sent", "target": "end"},
            {"id": "e3", "source": "mail", "source_port": "no_address", "target": "end"},
        ],
    }
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    imported = page.request.post(
        "/api/v1/flows/import",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(flow),
    )
    assert imported.ok, imported.text()
    api(page, "POST", "/flows/portal-journey-reminder/publish")
    api(page, "POST", "/instances", {"flow": "portal-journey-reminder", "subject_id": subject_id})


def _d6_selects(server: Server, subject_id: str) -> bool:
    """Whether D6's filter, as the demo published it, selects the debtor now: the query the
    scheduler runs (facts computed in SQL), on the server's database."""
    d6 = json.loads((ROOT / "docs" / "examples" / "dunning-level-1.json").read_text())
    rule = msgspec.convert(d6["trigger"]["filter"], Rule)
    engine = _server_db(server)
    try:
        with engine.connect() as connection:
            tenant = connection.scalar(
                sa.select(m.Subject.tenant_id).where(m.Subject.id == uuid.UUID(subject_id))
            )
            calendar = Calendar(dt.datetime.now(dt.UTC), "Europe/Amsterdam", WorkingDays("NL"))
            query = select_matching(rule, DEBTOR_FACTS, calendar, tenant, "debtor")
            selected = set(connection.scalars(query))
    finally:
        engine.dispose()
    return uuid.UUID(subject_id) in selected


def _open_task_titles(page: Any, subject_id: str) -> list[str]:
    titles = []
    for instance in api(page, "GET", f"/instances?subject_id={subject_id}"):
        detail = api(page, "GET", f"/instances/{instance['id']}")
        titles += [t["title"] for t in detail["tasks"] if t.get("status", "open") == "open"]
    return titles


def _react(portal: Any, reaction: str, fields: dict[str, str]) -> None:
    form = portal.locator(f"form[action*='/{reaction}?']")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    portal.wait_for_load_state()
    assert "done=" in portal.url, portal.content()


def test_a_debtor_reacts_on_the_portal_and_staff_see_it(
    page: Any, browser: Any, server: Server
) -> None:
    log_in(page, server)
    suffix = uuid.uuid4().hex[:6].upper()
    key, name, mailbox = f"D-PJ-{suffix}", f"Portal Journey {suffix}", f"pj-{suffix}@debtor.example"
    subject_id = _a_debtor_with_three_invoices(page, key, name, mailbox)
    assert _d6_selects(server, subject_id)  # 20 days overdue, no notice yet
    _send_reminder_with_link(page, subject_id)

    reminder = _eventually("no reminder in the sink", lambda: _mail(server, REMINDER, mailbox))
    link = re.search(r"https?://\S+/portal/[A-Za-z0-9_-]{20,}", _text(reminder))
    assert link, _text(reminder)
    token_path = "/portal/" + link.group(0).rsplit("/portal/", 1)[1]

    # The debtor's own browser: no staff cookie.
    debtor = browser.new_context(base_url=server.url, viewport={"width": 420, "height": 900})
    try:
        portal = debtor.new_page()
        portal.goto(token_path)
        rows = portal.locator("table tbody tr")
        assert rows.count() == 3
        assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == [
            f"{key}-1",
            f"{key}-2",
            f"{key}-3",
        ]
        assert "300.00" in portal.locator("table tfoot").inner_text()

        first = (dt.date.today() + dt.timedelta(days=7)).isoformat()
        # Within the demo's bounds (3 instalments, at least 50.00, 90 days): 3 x 100.00.
        _react(portal, "arrangement", {"instalments": "3", "first_date": first})
        confirmed = _eventually(
            "the arrangement was not confirmed at once",
            lambda: _mail(server, "Your payment arrangement is confirmed", mailbox),
        )
        assert f"1. {first}: 100.00 EUR" in _text(confirmed)

        # Staff see the plan on the debtor's page.
        page.goto(f"/subjects/{subject_id}")
        card = page.locator("[data-testid=portal-activity]")
        arrangement = card.locator("[data-testid=portal-arrangement][data-status=active]")
        arrangement.wait_for()
        assert arrangement.locator("[data-testid=portal-instalments] tbody tr").count() == 3
        assert "running" in arrangement.inner_text()

        # Outside the bounds: 6 instalments. The debtor hears it is being handled; staff review.
        _react(portal, "arrangement", {"instalments": "6", "first_date": first})
        _eventually(
            "no 'being handled' message",
            lambda: _mail(server, "We are handling your request", mailbox),
        )
        _eventually(
            "no review task",
            lambda: (
                f"Review the payment arrangement of {name}" in _open_task_titles(page, subject_id)
            ),
        )

        # A promise to pay in three days: D6 no longer selects the debtor.
        pay_on = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        _react(portal, "promise", {"pay_on": pay_on})
        _eventually(
            "the promise was not confirmed",
            lambda: _mail(server, "We have noted your promise to pay", mailbox),
        )
    finally:
        debtor.close()
    assert not _d6_selects(server, subject_id)
    page.goto(f"/subjects/{subject_id}")
    promise = page.locator("[data-testid=portal-promise][data-status=active]")
    promise.wait_for()

    # Five days pass without a payment: the promise flow's wait ends, the task appears.
    broken = f"{name} did not keep the promise to pay"
    assert broken not in _open_task_titles(page, subject_id)
    engine = _server_db(server)
    try:
        with engine.begin() as connection:
            instances = sa.select(m.Instance.id).where(
                m.Instance.subject_id == uuid.UUID(subject_id)
            )
            moved = connection.execute(
                sa.update(m.Timer)
                .where(m.Timer.instance_id.in_(instances), m.Timer.status == "pending")
                .where(m.Timer.due_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
                .values(due_at=dt.datetime.now(dt.UTC))
            )
            assert moved.rowcount == 1  # the promise's check (the plan's reminder is sooner)
    finally:
        engine.dispose()
    _eventually(
        "no task for the broken promise", lambda: broken in _open_task_titles(page, subject_id)
    )
