"""subject.portal_url in every message a flow writes: inline emails, SMS and letters.

The link is made as the message leaves (the outbox, or the letter's drawing), the copy
kept holds none (only a placeholder where it was), a letter and an SMS carry a short
link (/p/{code}), a letter also its QR code, and every link opens the debtor's page.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.portal import PortalLink
from procedo.messaging.sink import MailSink
from procedo.nodes import email as email_node
from procedo.nodetypes import Context, QueueEmail
from procedo.portal import links
from procedo.portal.placeholders import message_values, sent_length
from procedo.runtime import setup
from tests.api_helpers import Office, ok
from tests.conftest import dumps, minimal_flow
from tests.test_letters import LETTERHEAD, letters_ready, qr_codes, text_of
from tests.test_sms import World, sms_flow, world
from tests.test_template_library import (
    _debtor,
    _server_key,
    acme,
    mail_flow,
    outbox_row_when_sent,
    sqlite_backend,
)

__all__ = ["_server_key", "acme", "sqlite_backend", "world"]  # shared fixtures

JSON = {"Content-Type": "application/json"}
LINK = "{% if subject.portal_url %}{{ subject.portal_url }}{% endif %}"
SHORT = re.compile(r"https?://[^\s<>\"]+/p/([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})")


def public(acme: Office) -> httpx.Client:
    """The live server beside the API, as a debtor's browser reaches it (no staff token)."""
    base = str(acme.http.base_url).rstrip("/").removesuffix("/api/v1")
    return httpx.Client(base_url=base, follow_redirects=False)


def live_links(backend: Backend) -> int:
    with backend.runtime.db.read() as session:
        return len(session.scalars(sa.select(PortalLink.id)).all())


def test_an_inline_email_carries_a_working_link_and_the_outbox_keeps_none(
    acme: Office, sqlite_backend: Backend, tmp_path: Path
) -> None:
    sink = MailSink.start(tmp_path / "sink")
    try:
        settings = {"host": "127.0.0.1", "port": sink.port, "security": "none"}
        ok(acme.http.put("/settings/email", json={**settings, "sender_address": "d@acme.example"}))
        body = f'<p>Dear {{{{ subject.name }}}}, pay here: <a href="{LINK}">{LINK}</a></p>'
        flow = mail_flow({"subject": "Reminder", "body": body})
        ok(acme.http.post("/flows", content=dumps(flow), headers=JSON), 201)
        ok(acme.http.post("/flows/remind/publish"), 201)
        subject_id = _debtor(acme, language="en")
        assert live_links(sqlite_backend) == 0
        ok(acme.http.post("/instances", json={"flow": "remind", "subject_id": subject_id}), 201)

        deadline = time.monotonic() + 20
        while not sink.messages():
            assert time.monotonic() < deadline, "the email did not arrive"
            time.sleep(0.05)
        (eml,) = sink.messages()
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        html = message.get_body(("html",))
        assert html is not None
        tokens = set(re.findall(r"/portal/([A-Za-z0-9_-]{32})", html.get_content()))
        assert len(tokens) == 1, "one link, in the href and the text"
        (token,) = tokens
        assert live_links(sqlite_backend) == 1, "minted as the message left, once"
        with public(acme) as browser:
            page = browser.get(f"/portal/{token}")
        assert page.status_code == 200, "the link in the email opens the debtor's page"

        row = outbox_row_when_sent(sqlite_backend.runtime, acme.tenant_id)
        assert token not in row.body
        assert "/portal/[link]" in row.body
        listed = ok(acme.http.get(f"/outbox/{row.id}"))
        assert token not in str(listed)
        assert "/portal/[link]" in listed["body"]
    finally:
        sink.stop()


def letter_flow() -> dict[str, Any]:
    return minimal_flow(
        key="letter-with-link",
        name="Letter with link",
        subject_type="debtor",
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "letter",
                "type": "letter",
                "params": {
                    "subject": "Herinnering",
                    "body": "Geachte {{ subject.name }},\n\nBekijk uw facturen: " + LINK,
                },
            },
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "letter"},
            {"id": "e2", "source": "letter", "source_port": "next", "target": "end"},
        ],
    )


def test_a_letter_prints_a_short_link_and_its_qr_code_that_open_the_portal(
    acme: Office, sqlite_backend: Backend
) -> None:
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    subject_id = _debtor(acme, key="D-7", language="nl", address="Dorpsstraat 5\n1234 AB Ergens")
    ok(acme.http.post("/flows", content=dumps(letter_flow()), headers=JSON), 201)
    ok(acme.http.post("/flows/letter-with-link/publish"), 201)
    start = {"flow": "letter-with-link", "subject_id": subject_id}
    ok(acme.http.post("/instances", json=start), 201)
    (letter,) = letters_ready(acme, 1)
    assert live_links(sqlite_backend) == 0, "queued, not yet drawn: no link"

    pdf = acme.http.get(f"/letters/{letter['id']}/pdf").content
    printed = SHORT.search(text_of(pdf))
    assert printed is not None, "the short link is printed"
    url, code = printed[0], printed[1]
    assert url in qr_codes(pdf), "the QR code beside it is the same address"
    assert len(code.replace("-", "")) * 5 >= 64, "at least 64 random bits"
    assert live_links(sqlite_backend) == 1

    with public(acme) as browser:
        typed = browser.get(f"/p/{code.lower()}")  # as typed from paper, in lower case
        assert typed.status_code == 303
        assert typed.headers["referrer-policy"] == "no-referrer"
        assert browser.get(typed.headers["location"]).status_code == 200
        assert browser.get("/p/not-a-code").status_code == 404

    # Kept as drawn (a reprint is the same letter) and sealed: the stored bytes hold no code.
    assert acme.http.get(f"/letters/{letter['id']}/pdf").content == pdf
    with sqlite_backend.runtime.db.read() as session:
        row = session.get_one(m.Outbox, uuid.UUID(letter["id"]))
        document, body = row.document, row.body
    assert document is not None
    assert not document.startswith(b"%PDF")
    assert code.encode() not in document
    assert code not in body
    assert "/p/[link]" in body


def test_an_sms_carries_a_short_link_within_its_length(world: World) -> None:
    text = "Acme: please pay. " + LINK
    flow = sms_flow({"kind": "field", "field": "subject.phone"}, text)
    setup.publish(world.rt, world.tenant, flow, "t")
    world.run(world.debtor("06 1234 5678"))
    [row] = world.rows()
    assert row.status == "sent", row.last_error
    [kept] = world.sent()
    found = SHORT.search(kept["text"])
    assert found is not None
    assert len(kept["text"]) <= 160
    with world.rt.db.read() as session:
        assert links.find(session, found[1]) is not None, "the code names a live link"
    assert found[1] not in row.body
    assert "/p/[link]" in row.body


def test_the_sms_length_check_counts_the_link_as_sent() -> None:
    values = message_values({"name": "X"}, {}, "p")
    placeholder = values["subject"]["portal_url"]
    filled = links.short_url_of("K7QM2X9FHRTA3B5N")
    assert sent_length(f"Pay: {placeholder}") == len(f"Pay: {filled}")


def test_data_cannot_ask_for_a_link() -> None:
    sneaky = "see http://localhost:8000/portal/[link] and /p/[link]"
    values = message_values({"name": sneaky}, {"event": {"note": sneaky}})
    assert "[link]" not in values["subject"]["name"]
    assert "[link]" not in values["vars"]["event"]["note"]
    assert values["subject"]["portal_url"].endswith("/portal/[link]")


def test_short_codes_are_read_as_typed_and_redacted_when_kept() -> None:
    assert links.read_short("k7qm-2x9f-hrta-3b5n") == "K7QM2X9FHRTA3B5N"
    assert links.read_short("K7QM 2X9F HRTA 3B5O") == "K7QM2X9FHRTA3B50"  # O read as 0
    assert links.read_short("K7QM-2X9F") is None
    kept = links.redact("Go to https://pay.example/p/K7QM-2X9F-HRTA-3B5N today")
    assert kept == "Go to https://pay.example/p/[link] today"


def test_a_resent_sms_gets_a_new_working_link(
    acme: Office, sqlite_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path))
    flow = sms_flow({"kind": "field", "field": "subject.phone"}, "Pay: " + LINK)
    ok(acme.http.post("/flows", content=flow, headers=JSON), 201)
    ok(acme.http.post("/flows/texter/publish"), 201)
    body = {"type": "debtor", "key": "D-1", "fields": {"name": "Jansen", "phone": "0612345678"}}
    subject = ok(acme.http.post("/subjects", json=body), 201)
    ok(acme.http.post("/instances", json={"flow": "texter", "subject_id": subject["id"]}), 201)

    def listed(status: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = ok(acme.http.get("/outbox", params={"kind": "sms", "status": status}))
            if rows:
                return dict(rows[0])
            time.sleep(0.05)
        raise AssertionError(f"no {status} SMS in 10 s")

    failed = listed("failed")  # no SMS settings yet: nothing left, no link made
    assert live_links(sqlite_backend) == 0
    ok(acme.http.put("/settings/sms", json={"provider": "sink"}))
    ok(acme.http.post(f"/outbox/{failed['id']}/resend"))
    listed("sent")
    [kept] = (tmp_path / "sent-sms").glob("*.json")
    found = SHORT.search(json.loads(kept.read_text())["text"])
    assert found is not None
    with public(acme) as browser:
        follow = browser.get(f"/p/{found[1]}")
        assert browser.get(follow.headers["location"]).status_code == 200
    shown = ok(acme.http.get(f"/outbox/{failed['id']}"))
    assert found[1] not in str(shown)
    assert "/p/[link]" in shown["body"]


def test_a_step_writes_the_placeholder_and_a_dry_run_shows_it() -> None:
    params = msgspec.convert(
        {"to": {"kind": "address", "address": "a@b.example"}, "subject": "Hi", "body": LINK},
        email_node.EmailParams,
    )
    context = Context(node_id="mail", subject={"name": "X"}, now=dt.datetime.now(dt.UTC))
    (queued,) = email_node.enter(params, context).effects
    assert isinstance(queued, QueueEmail)
    assert queued.body == "http://localhost:8000/portal/[link]"  # no I/O, no link


def test_a_letter_with_a_link_without_the_shared_key_is_refused_with_the_reason(
    acme: Office, sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Distributed without PROCEDO_SECRET_KEY the PDF cannot be kept sealed: a 422 that
    # says which key to set, not a 500, and the letter stays undrawn for a later try.
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    subject_id = _debtor(acme, key="D-8", language="nl", address="Dorpsstraat 5\n1234 AB Ergens")
    ok(acme.http.post("/flows", content=dumps(letter_flow()), headers=JSON), 201)
    ok(acme.http.post("/flows/letter-with-link/publish"), 201)
    ok(
        acme.http.post("/instances", json={"flow": "letter-with-link", "subject_id": subject_id}),
        201,
    )
    (letter,) = letters_ready(acme, 1)
    monkeypatch.delenv("PROCEDO_SECRET_KEY", raising=False)
    monkeypatch.setenv("PROCEDO_BROKER_URL", "redis://127.0.0.1:6379/0")
    refused = acme.http.get(f"/letters/{letter['id']}/pdf")
    assert refused.status_code == 422, refused.text
    assert "PROCEDO_SECRET_KEY" in refused.text
    with sqlite_backend.runtime.db.read() as session:
        assert session.get_one(m.Outbox, uuid.UUID(letter["id"])).document is None


def test_a_letters_link_lives_from_the_runtimes_clock(
    acme: Office, sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a simulated calendar (PROCEDO_CLOCK_FILE) the link a letter prints starts its
    # life at the calendar's moment, not the wall clock's: else it could be born expired.
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    subject_id = _debtor(acme, key="D-9", language="nl", address="Dorpsstraat 5\n1234 AB Ergens")
    ok(acme.http.post("/flows", content=dumps(letter_flow()), headers=JSON), 201)
    ok(acme.http.post("/flows/letter-with-link/publish"), 201)
    start = {"flow": "letter-with-link", "subject_id": subject_id}
    ok(acme.http.post("/instances", json=start), 201)
    (letter,) = letters_ready(acme, 1)
    # 60 days on: past a link's 30 days, within the admin token's 90.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    monkeypatch.setattr(sqlite_backend.runtime, "clock", FakeClock(later))
    assert acme.http.get(f"/letters/{letter['id']}/pdf").status_code == 200
    with sqlite_backend.runtime.db.read() as session:
        (expires,) = session.scalars(sa.select(PortalLink.expires_at)).all()
    assert expires.replace(tzinfo=dt.UTC) > later
