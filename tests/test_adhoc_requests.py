"""Ad hoc client requests (K3) over HTTP: staff ask a client for documents outside any flow.

The client's contact gets an email with a link to the same client page, uploads there,
and staff see the file with the client; reminders go out every N days until it is all
in, and past its due date the request is overdue. Then what is refused: another
tenant's client, a subject that is no client, a client without email, empty or
multi-line texts, a due date in the past.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.clientpage import adhoc
from procedo.db import models as m
from procedo.db.client_requests import ClientRequest
from procedo.messaging.sink import MailSink
from tests.api_helpers import Office, office, ok
from tests.test_client_requests import (
    LINK as CLIENT_LINK,
)
from tests.test_client_requests import (  # noqa: F401  (the sink fixture)
    PDF,
    mails_to,
    make_client,
    page_client,
    requests_of,
    sink,
    token_in,
    upload,
)

ASK: dict[str, Any] = {
    "title": "Huurcontract bedrijfspand",
    "items": [
        {"label": "Huurcontract"},
        {"label": "Maandhuur (EUR)", "kind": "field", "mandatory": False},
    ],
    "message": "Beste Els,\n\nwilt u ons het huurcontract sturen?",
    "reminder_days": 3,
}


def _mail_settings(acme: Office, sink: MailSink) -> None:  # noqa: F811
    ok(
        acme.http.put(
            "/settings/email",
            json={
                "host": sink.host,
                "port": sink.port,
                "security": "none",
                "sender_address": "kantoor@acme.example",
            },
        )
    )


def test_staff_ask_the_client_who_uploads_through_the_link(
    backend: Backend,
    base_url: str,
    sink: MailSink,  # noqa: F811
) -> None:
    acme = office(backend.runtime, base_url, "Acme Adhoc")
    _mail_settings(acme, sink)
    client_id = make_client(acme)
    asked = ok(acme.http.post(f"/clients/{client_id}/requests", json=ASK), 201)
    assert (asked["status"], asked["instance_id"], asked["kind"]) == ("open", None, "documents")
    assert [i["label"] for i in asked["items"]] == ["Huurcontract", "Maandhuur (EUR)"]
    assert asked["contact_email"] == "eigenaar@brood.example"

    (mail,) = mails_to(sink, "eigenaar@brood.example", 1)
    assert mail["Subject"] == "Huurcontract bedrijfspand"
    assert "wilt u ons het huurcontract sturen?" in mail.get_body(("html",)).get_content()
    token = token_in(mail)
    page = page_client(base_url)
    html = page.get(f"/client/{token}").text
    assert "Huurcontract bedrijfspand" in html
    item = asked["items"][0]["id"]
    sent = upload(page, token, asked["id"], {item: ("huur.pdf", PDF)})
    assert sent.status_code == 303, sent.text

    (done,) = requests_of(acme, client_id)
    assert done["status"] == "complete"
    (kept,) = done["files"]
    assert kept["filename"] == "huur.pdf"
    assert acme.http.get(f"/clients/{client_id}/files/{kept['id']}").content == PDF
    # Kept with the client, as flow requests are: in its history too.
    with backend.runtime.db.read() as session:
        kinds = session.scalars(
            sa.select(m.History.kind).where(m.History.subject_id == uuid.UUID(client_id))
        ).all()
    assert "client_request_opened" in kinds
    assert "client_request_received" in kinds


def test_a_waiting_message_holds_no_link_to_the_client_page(
    backend: Backend, base_url: str
) -> None:
    """The link is made as the message leaves: while it waits (here for a mail server that
    does not answer) its row, which staff read on the outbox page, has a placeholder."""
    acme = office(backend.runtime, base_url, "Acme Waits")
    closed = {"host": "127.0.0.1", "port": 9, "security": "none"}
    ok(acme.http.put("/settings/email", json={**closed, "sender_address": "k@acme.example"}))
    client_id = make_client(acme)
    ok(acme.http.post(f"/clients/{client_id}/requests", json=ASK), 201)
    with backend.runtime.db.read() as session:
        (row,) = session.scalars(sa.select(m.Outbox).where(m.Outbox.tenant_id == acme.tenant_id))
    assert row.subject_id == uuid.UUID(client_id)
    assert "/client/[link]" in row.body
    assert not CLIENT_LINK.search(row.body)


def test_reminders_go_out_every_n_days_until_the_due_date(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Reminds")
    client_id = make_client(acme)
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    asked = ok(acme.http.post(f"/clients/{client_id}/requests", json={**ASK, "due_on": due}), 201)
    rt = backend.runtime
    request_id = uuid.UUID(asked["id"])

    def shift(**values: Any) -> None:
        with rt.db.transaction() as session:
            session.execute(
                sa.update(ClientRequest).where(ClientRequest.id == request_id).values(**values)
            )

    assert adhoc.sweep(rt) == 0  # asked just now: nothing due
    shift(created_at=rt.clock.now() - dt.timedelta(days=3, minutes=1))
    assert adhoc.sweep(rt) == 1
    assert adhoc.sweep(rt) == 0  # the next one after 6 days
    (reminded,) = requests_of(acme, client_id)
    assert reminded["reminders"] == 1
    with rt.db.read() as session:
        subjects = session.scalars(
            sa.select(m.Outbox.subject).where(m.Outbox.recipients.is_not(None))
        ).all()
    assert "Herinnering: Huurcontract bedrijfspand" in subjects
    shift(deadline_at=rt.clock.now() - dt.timedelta(minutes=1))
    assert adhoc.sweep(rt) == 1
    (overdue,) = requests_of(acme, client_id)
    assert overdue["status"] == "overdue"


def test_what_cannot_be_asked(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Refuses")
    other = office(backend.runtime, base_url, "Other Office")
    client_id = make_client(acme)

    def ask(who: Office, subject_id: str, **changes: Any) -> int:
        body = {**ASK, **changes}
        return who.http.post(f"/clients/{subject_id}/requests", json=body).status_code

    assert ask(other, client_id) == 404  # another tenant's client
    assert ask(acme, str(uuid.uuid4())) == 404
    debtor = ok(
        acme.http.post("/subjects", json={"type": "debtor", "key": "D1", "fields": {"name": "D"}}),
        201,
    )
    assert ask(acme, debtor["id"]) == 404  # no client
    no_email = make_client(acme, "C2", email="")
    assert ask(acme, no_email) == 422
    assert ask(acme, client_id, items=[]) == 400
    assert ask(acme, client_id, title="Stukken\r\nBcc: x@evil.example") == 422
    assert ask(acme, client_id, items=[{"label": "  "}]) == 422
    assert ask(acme, client_id, items=[{"label": "A", "kind": "photo"}]) == 400
    yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    assert ask(acme, client_id, due_on=yesterday) == 422
    assert ask(acme, client_id, reminder_days=99) == 400
    assert requests_of(acme, client_id) == []  # nothing was opened
