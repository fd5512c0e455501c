"""A reminder carries the debtor's portal link; the outbox keeps the message without it.

Links are stored only as hashes (docs/portal.md), so the copy of a sent message
kept in the outbox must not hold the token either.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

from procedo.api.server import Backend
from procedo.messaging.sink import MailSink
from procedo.portal import links
from tests.api_helpers import Office, ok
from tests.conftest import dumps
from tests.test_template_library import (
    _debtor,
    _server_key,
    acme,
    mail_flow,
    outbox_row_when_sent,
    sqlite_backend,
)

__all__ = ["_server_key", "acme", "sqlite_backend"]  # fixtures shared with the library tests

REMINDER = {
    "name": "reminder-with-link",
    "subject_type": "debtor",
    "texts": {
        "en": {
            "subject": "Reminder for {{ subject.name }}",
            "html": "<p>Open: {{ subject.debt_amount }}.</p>"
            '{% if subject.portal_url is defined %}<a href="{{ subject.portal_url }}">Pay</a>'
            "{% endif %}",
        }
    },
}


def test_the_sent_reminder_has_the_link_and_the_outbox_does_not(
    acme: Office, sqlite_backend: Backend, tmp_path: Path
) -> None:
    rt = sqlite_backend.runtime
    sink = MailSink.start(tmp_path / "sink")
    try:
        settings = {"host": "127.0.0.1", "port": sink.port, "security": "none"}
        ok(acme.http.put("/settings/email", json={**settings, "sender_address": "d@acme.example"}))
        ok(acme.http.post("/templates", json=REMINDER), 201)
        flow = mail_flow({"template": "reminder-with-link"})
        headers = {"Content-Type": "application/json"}
        ok(acme.http.post("/flows", content=dumps(flow), headers=headers), 201)
        ok(acme.http.post("/flows/remind/publish"), 201)
        subject_id = _debtor(acme, language="en")
        ok(acme.http.post("/instances", json={"flow": "remind", "subject_id": subject_id}), 201)

        deadline = time.monotonic() + 20
        while not sink.messages():
            assert time.monotonic() < deadline, "the email did not arrive"
            time.sleep(0.05)
        (eml,) = sink.messages()
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        html = message.get_body(("html",))
        assert html is not None
        sent = re.search(r"/portal/([A-Za-z0-9_-]+)", html.get_content())
        assert sent is not None, "the reminder carries the portal link"
        token = sent.group(1)
        with rt.db.read() as session:
            assert links.find(session, token) is not None, "a real link of this debtor"

        row = outbox_row_when_sent(rt, acme.tenant_id)
        assert token not in row.body
        assert "/portal/[link]" in row.body
    finally:
        sink.stop()
