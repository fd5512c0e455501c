"""Client requests (K3) and returns for approval (K4) over HTTP, as the client and staff see them.

The client gets an email with a link to the client page, uploads the requested bank
statement there and approves the return; staff read what arrived and who approved
when. Then what must not work: guessed, expired and revoked tokens, another
tenant's request, oversized and wrong-type uploads, hostile XML, script in text
fields, staff credentials on the client page and client tokens on the API.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.db.client_requests import ClientRequest, ClientRequestFile
from procedo.db.portal import PortalLink
from procedo.messaging.sink import MailSink
from tests.api_helpers import Office, office, ok
from tests.test_bulk_start import publish, wait_for

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINK = re.compile(r"/client/([A-Za-z0-9_-]{32})")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def request_flow(mode: str = "approval") -> dict[str, Any]:
    """Ask for a bank statement (and an optional note), then put the return to the client."""
    return {
        "format": "procedo.flow/1",
        "key": "vat-client",
        "name": "VAT return with the client",
        "subject_type": "client",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "ask",
                "type": "client_request",
                "params": {
                    "title": "Stukken btw {{ subject.name }}",
                    "items": [
                        {"id": "bank_statement", "kind": "document", "label": "Bankafschrift"},
                        {"id": "note", "kind": "field", "label": "Opmerking", "mandatory": False},
                    ],
                    "subject": "Stukken nodig voor uw btw-aangifte",
                    "body": "Beste {{ subject.name }}, wilt u ons het bankafschrift sturen?",
                    "reminder_days": 5,
                },
            },
            {
                "id": "file",
                "type": "file_return",
                "params": {
                    "title": "Btw-aangifte {{ subject.name }}",
                    "mode": mode,
                    "to": {"kind": "function", "function": "Directeur"},
                    "subject": "Uw btw-aangifte ter goedkeuring",
                    "body": "Beste {{ subject.name }}, wilt u de aangifte goedkeuren?",
                },
            },
            {"id": "done", "type": "end", "params": {"status": "filed"}},
            *([{"id": "refused", "type": "end"}] if mode in ("approval", "signature") else []),
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "ask"},
            {"id": "e2", "source": "ask", "source_port": "complete", "target": "file"},
            *(
                [
                    {"id": "e3", "source": "file", "source_port": "approved", "target": "done"},
                    {"id": "e4", "source": "file", "source_port": "declined", "target": "refused"},
                ]
                if mode in ("approval", "signature")
                else [{"id": "e3", "source": "file", "source_port": "filed", "target": "done"}]
            ),
        ],
    }


CLIENT_FIELDS = {
    "name": "Bakkerij Brood",
    "email": "eigenaar@brood.example",
    "contact": {"name": "Els Brood", "function": "Eigenaar"},
    "contacts": [{"name": "Dirk Deeg", "email": "dirk@brood.example", "function": "Directeur"}],
    "language": "nl",
}


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    running = MailSink.start(tmp_path / "sink")
    yield running
    running.stop()


def make_client(acme: Office, key: str = "C1", **fields: Any) -> str:
    body = {"type": "client", "key": key, "fields": {**CLIENT_FIELDS, **fields}}
    return str(ok(acme.http.post("/subjects", json=body), 201)["id"])


def start(acme: Office, client_id: str, mode: str = "approval") -> str:
    publish(acme, request_flow(mode))
    made = ok(
        acme.http.post("/instances", json={"flow": "vat-client", "subject_id": client_id}), 201
    )
    return str(made["id"])


def page_client(base_url: str) -> httpx.Client:
    """What the client's browser has: no staff credential."""
    return httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)


def mails_to(sink: MailSink, address: str, count: int) -> list[email.message.EmailMessage]:
    def arrived() -> list[email.message.EmailMessage] | None:
        found = []
        for path in sink.messages():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                found.append(message)
        return found if len(found) >= count else None

    result: list[email.message.EmailMessage] = wait_for(arrived, f"{count} mail(s) to {address}")
    return result


def token_in(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("html", "plain"))
    assert part is not None
    found = LINK.search(part.get_content())
    assert found, part.get_content()
    return found.group(1)


def staff_link(acme: Office, client_id: str) -> str:
    url: str = ok(acme.http.post(f"/clients/{client_id}/links"), 201)["url"]
    return url.rsplit("/", 1)[1]


def requests_of(acme: Office, client_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(acme.http.get(f"/clients/{client_id}/requests"))
    return found


def open_request(acme: Office, client_id: str, kind: str) -> dict[str, Any]:
    def opened() -> dict[str, Any] | None:
        return next(
            (
                r
                for r in requests_of(acme, client_id)
                if r["kind"] == kind and r["status"] == "open"
            ),
            None,
        )

    found: dict[str, Any] = wait_for(opened, f"an open {kind} request")
    return found


def csrf_of(page: httpx.Client, token: str) -> str:
    html = page.get(f"/client/{token}").text
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def upload(
    page: httpx.Client,
    token: str,
    request_id: str,
    files: dict[str, tuple[str, bytes]],
    fields: dict[str, str] | None = None,
    csrf: str | None = None,
) -> httpx.Response:
    data = {"csrf": csrf if csrf is not None else csrf_of(page, token), **(fields or {})}
    return page.post(
        f"/client/{token}/requests/{request_id}/send",
        data=data,
        files={f"file_{key}": value for key, value in files.items()} or {"x": ("", b"")},
    )


def decide(
    page: httpx.Client, token: str, request_id: str, decision: str, name: str, reason: str = ""
) -> httpx.Response:
    data = {"csrf": csrf_of(page, token), "decision": decision, "name": name, "reason": reason}
    return page.post(f"/client/{token}/requests/{request_id}/decide", data=data)


def stored_files(backend: Backend) -> int:
    with backend.runtime.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(ClientRequestFile)) or 0)


def instance(acme: Office, instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(acme.http.get(f"/instances/{instance_id}"))
    return found


# --- The journey -----------------------------------------------------------------------------


def test_the_client_uploads_the_bank_statement_and_approves_the_return(
    backend: Backend, base_url: str, sink: MailSink
) -> None:
    acme = office(backend.runtime, base_url, "Acme Kantoor")
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
    client_id = make_client(acme)
    instance_id = start(acme, client_id)

    # The primary contact gets the request with a link; only its hash is kept.
    (asked,) = mails_to(sink, "eigenaar@brood.example", 1)
    assert asked["Subject"] == "Stukken nodig voor uw btw-aangifte"
    token = token_in(asked)
    request = open_request(acme, client_id, "documents")
    assert request["contact_email"] == "eigenaar@brood.example"
    assert instance(acme, instance_id)["positions"] == ["ask"]

    page = page_client(base_url)
    html = page.get(f"/client/{token}").text
    assert 'lang="nl"' in html
    assert "Acme Kantoor" in html
    assert "Bankafschrift (verplicht)" in html
    assert "Opmerking (optioneel)" in html
    # Labelled for screen readers, sized for phones.
    assert 'name="viewport"' in html
    for ident in re.findall(r'<(?:input|textarea) id="([^"]+)"', html):
        assert f'<label for="{ident}">' in html, ident

    # The optional note alone does not complete it; the bank statement does.
    sent = upload(page, token, request["id"], {}, {"field_note": "Rekening 2 volgt"})
    assert sent.status_code == 303, sent.text
    assert instance(acme, instance_id)["positions"] == ["ask"]
    sent = upload(page, token, request["id"], {"bank_statement": ("nov.pdf", PDF)})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].startswith(f"/client/{token}?done=upload")
    assert "Dank u wel" in page.get(sent.headers["location"]).text

    # The return goes to the contact whose function the node names, for approval.
    (put,) = mails_to(sink, "dirk@brood.example", 1)
    assert put["Subject"] == "Uw btw-aangifte ter goedkeuring"
    second = token_in(put)
    filing = open_request(acme, client_id, "filing")
    assert filing["on_behalf_of"] == "Relatiebeheerder"
    assert "Btw-aangifte Bakkerij Brood" in page.get(f"/client/{second}").text
    # A decline needs a reason; an approval records who and when.
    refused = decide(page, second, filing["id"], "decline", "Dirk Deeg")
    assert refused.status_code == 422
    assert "Geef aan waarom" in refused.text
    approved = decide(page, second, filing["id"], "approve", "Dirk Deeg")
    assert approved.status_code == 303, approved.text

    def finished() -> dict[str, Any] | None:
        got = instance(acme, instance_id)
        return got if got["status"] == "completed" else None

    wait_for(finished, "the instance to complete")
    documents, ret = sorted(requests_of(acme, client_id), key=lambda r: r["kind"])
    assert documents["status"] == "complete"
    assert documents["answers"]["note"]["value"] == "Rekening 2 volgt"
    (kept,) = documents["files"]
    assert (kept["item_id"], kept["filename"], kept["content_type"]) == (
        "bank_statement",
        "nov.pdf",
        "application/pdf",
    )
    download = acme.http.get(f"/clients/{client_id}/files/{kept['id']}")
    assert download.content == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="nov.pdf"'
    assert ret["status"] == "approved"
    assert ret["decided_by"] == "Dirk Deeg <dirk@brood.example>"
    assert ret["decided_at"] is not None
    # The submission went to the filing provider: the stub, which sends nothing.
    assert ret["submission"]["provider"] == "stub"
    assert ret["submission"]["reference"].startswith("STUB-")
    kinds = [row["kind"] for row in ok(acme.http.get(f"/instances/{instance_id}/history"))]
    for kind in ("client_request_opened", "client_request_received", "return_approved"):
        assert kind in kinds, kinds
    assert "return_submitted" in kinds
    # Nothing open: the page says so, and the gate for phases counts none.
    assert "Er wordt op dit moment niets van u gevraagd" in page.get(f"/client/{second}").text
    from procedo.runtime.client_requests_gate import open_client_requests

    with backend.runtime.db.read() as session:
        assert open_client_requests(session, uuid.UUID(instance_id)) == 0


def test_a_declined_return_continues_on_declined_with_the_reason(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Decline")
    client_id = make_client(acme, language="de")
    instance_id = start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)
    assert "Anfragen Ihrer Kanzlei" in page.get(f"/client/{token}").text  # the client's language
    assert (
        upload(
            page,
            token,
            request["id"],
            {"bank_statement": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)},
        ).status_code
        == 303
    )
    filing = open_request(acme, client_id, "filing")
    from procedo.runtime.client_requests_gate import open_client_requests

    with backend.runtime.db.read() as session:
        assert open_client_requests(session, uuid.UUID(instance_id)) == 1
    csrf = csrf_of(page, token)
    answer = decide(page, token, filing["id"], "decline", "Dirk", "Umsatz fehlt")
    assert answer.status_code == 303, answer.text

    def ended() -> dict[str, Any] | None:
        got = instance(acme, instance_id)
        return got if got["status"] == "completed" else None

    wait_for(ended, "the instance to end")
    history = ok(acme.http.get(f"/instances/{instance_id}/history"))
    assert any(row.get("port") == "declined" for row in history)
    (ret,) = [r for r in requests_of(acme, client_id) if r["kind"] == "filing"]
    assert (ret["status"], ret["reason"]) == ("declined", "Umsatz fehlt")
    assert ret["submission"] == {}  # a declined return is not filed
    # Answering again is refused: the request is closed.
    again = page.post(
        f"/client/{token}/requests/{filing['id']}/decide",
        data={"csrf": csrf, "decision": "approve", "name": "Dirk"},
    )
    assert again.status_code == 409


def test_a_return_for_information_is_filed_at_once(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Info")
    client_id = make_client(acme)
    instance_id = start(acme, client_id, mode="information")
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)
    upload(page, token, request["id"], {"bank_statement": ("b.pdf", PDF)})

    def ended() -> dict[str, Any] | None:
        got = instance(acme, instance_id)
        return got if got["status"] == "completed" else None

    wait_for(ended, "the instance to end")
    (ret,) = [r for r in requests_of(acme, client_id) if r["kind"] == "filing"]
    assert (ret["status"], ret["mode"]) == ("informed", "information")
    assert ret["submission"]["provider"] == "stub"


# --- What must not work ----------------------------------------------------------------------


def test_guessed_expired_and_revoked_tokens_open_nothing(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Tokens")
    client_id = make_client(acme)
    start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    page = page_client(base_url)

    guessed = page.get(f"/client/{'A' * 32}")
    assert guessed.status_code == 404
    assert "Acme Tokens" not in guessed.text
    assert guessed.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in guessed.headers["content-security-policy"]
    assert page.get("/client/short").status_code == 404

    expired = staff_link(acme, client_id)
    with backend.runtime.db.transaction() as session:
        session.execute(
            sa.update(PortalLink)
            .where(PortalLink.scope == "client")
            .values(expires_at=sa.func.now() - sa.text("interval '1 day'"))
            if not backend.runtime.db.is_sqlite
            else sa.update(PortalLink)
            .where(PortalLink.scope == "client")
            .values(expires_at=PortalLink.created_at)
        )
    gone = page.get(f"/client/{expired}")
    assert gone.status_code == 410
    assert "Acme Tokens" in gone.text
    assert "Bankafschrift" not in gone.text

    revoked = staff_link(acme, client_id)
    assert page.get(f"/client/{revoked}").status_code == 200
    ok(acme.http.delete(f"/clients/{client_id}/links"), 204)
    assert page.get(f"/client/{revoked}").status_code == 410
    refused = page.post(
        f"/client/{revoked}/requests/{request['id']}/send",
        files={"file_bank_statement": ("x.pdf", PDF)},
        data={"csrf": "x"},
    )
    assert refused.status_code == 410
    assert stored_files(backend) == 0


def test_one_clients_link_cannot_answer_another_tenants_request(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Own")
    other = office(backend.runtime, base_url, "Other Own")
    mine = make_client(acme)
    theirs = make_client(other, name="Geheim BV")
    start(acme, mine)
    start(other, theirs)
    their_request = open_request(other, theirs, "documents")
    token = staff_link(acme, mine)
    page = page_client(base_url)
    assert "Geheim BV" not in page.get(f"/client/{token}").text
    answer = upload(page, token, their_request["id"], {"bank_statement": ("x.pdf", PDF)})
    assert answer.status_code == 404
    assert stored_files(backend) == 0
    # Nor does staff of one tenant read the other's.
    assert acme.http.get(f"/clients/{theirs}/requests").status_code == 404


def test_uploads_are_limited_and_checked_by_their_content(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Uploads")
    client_id = make_client(acme)
    start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)

    big = page.post(
        f"/client/{token}/requests/{request['id']}/send",
        data={"csrf": csrf_of(page, token)},
        files={"file_bank_statement": ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))},
    )
    assert big.status_code == 413
    for name, content in (
        ("statement.pdf", b"MZ\x90\x00 not a pdf but a program"),  # the name says PDF
        ("page.csv", b"\x00\x01binary"),
    ):
        wrong = upload(page, token, request["id"], {"bank_statement": (name, content)})
        assert wrong.status_code == 415, (name, wrong.status_code)
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    answer = upload(page, token, request["id"], {"bank_statement": ("x.xml", hostile)})
    assert answer.status_code == 415
    assert "DTD" in answer.text
    # A form without the page's CSRF value stores nothing either.
    forged = upload(page, token, request["id"], {"bank_statement": ("a.pdf", PDF)}, csrf="forged")
    assert forged.status_code == 403
    assert stored_files(backend) == 0
    # CSV and XLSX by their content are taken.
    fine = upload(
        page,
        token,
        request["id"],
        {"bank_statement": ("export.txt", b"date;amount\n2026-11-01;12,50\n")},
    )
    assert fine.status_code == 303, fine.text
    with backend.runtime.db.read() as session:
        kept = session.scalar(sa.select(ClientRequestFile.content_type))
    assert kept == "text/csv"


def test_script_in_a_text_field_is_kept_as_text_and_shown_escaped(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Script")
    client_id = make_client(acme)
    start(acme, client_id)
    request = open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    page = page_client(base_url)
    script = '"><script>alert(1)</script>'
    assert upload(page, token, request["id"], {}, {"field_note": script}).status_code == 303
    html = page.get(f"/client/{token}").text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert requests_of(acme, client_id)[0]["answers"]["note"]["value"] == script
    controls = upload(page, token, request["id"], {}, {"field_note": "a\x00b"})
    assert controls.status_code == 422
    unasked = upload(page, token, request["id"], {}, {"field_iban": "NL00"})
    assert unasked.status_code == 422


def test_staff_credentials_open_no_client_page_and_client_tokens_no_api(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Separate")
    client_id = make_client(acme)
    start(acme, client_id)
    open_request(acme, client_id, "documents")
    token = staff_link(acme, client_id)
    # The staff's bearer token and session cookie are no client link.
    staff = httpx.Client(base_url=base_url, timeout=30)
    login = staff.post(
        "/api/v1/auth/login",
        json={"tenant": acme.slug, "email": acme.email, "password": acme.password},
    )
    assert login.status_code == 200, login.text
    assert staff.cookies.get("procedo_session")
    assert staff.get(f"/client/{acme.token}").status_code == 404
    with_bearer = page_client(base_url).get(
        f"/client/{'B' * 32}", headers={"Authorization": f"Bearer {acme.token}"}
    )
    assert with_bearer.status_code == 404
    # The client page sets no cookie.
    assert "set-cookie" not in page_client(base_url).get(f"/client/{token}").headers
    # A client token opens nothing on the API, as bearer or as cookie.
    api = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)
    assert (
        api.get(
            f"/clients/{client_id}/requests", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )
    api.cookies.set("procedo_session", token)
    assert api.get(f"/clients/{client_id}/requests").status_code == 401
    # A client link opens no debtor portal, and a debtor's link no client page.
    assert page_client(base_url).get(f"/portal/{token}").status_code == 404
    debtor = ok(acme.http.post("/subjects", json={"type": "debtor", "key": "D1"}), 201)
    portal = ok(acme.http.post(f"/portal/debtors/{debtor['id']}/links"), 201)["url"]
    assert page_client(base_url).get(f"/client/{portal.rsplit('/', 1)[1]}").status_code == 404


def test_a_flow_with_a_request_on_another_subject_type_is_refused(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Types")
    flow = request_flow()
    flow["subject_type"] = "debtor"
    answer = acme.http.post(
        "/flows/validate",
        content=json.dumps(flow),
        headers={"Content-Type": "application/json"},
    )
    codes = [p["code"] for p in ok(answer)["problems"]]
    assert "client_request.subject_type" in codes


# --- Reminders and the deadline, under a clock that skips ahead --------------------------------


def test_reminders_every_n_days_until_the_deadline_then_overdue(tmp_path: Path) -> None:
    from procedo.runtime import admin, setup
    from tests.runtime_helpers import make_world

    world = make_world(f"sqlite:///{tmp_path / 'reminders.db'}")
    flow = request_flow()
    ask = flow["nodes"][1]["params"]
    ask["reminder_days"] = 3
    ask["deadline"] = {"amount": 10, "unit": "days"}
    flow["nodes"].append({"id": "late", "type": "end"})
    flow["edges"].append({"id": "e9", "source": "ask", "source_port": "overdue", "target": "late"})
    setup.publish(world.rt, world.tenant, json.dumps(flow).encode(), "consultant")
    client = world.subject("client", "C1", CLIENT_FIELDS)
    started = admin.start(world.rt, world.tenant, "vat-client", client.id, "consultant")
    world.runner.drain()
    sent = world.runner.sender.sent
    assert [m.recipients for m in sent] == [("eigenaar@brood.example",)]

    world.runner.advance(dt.timedelta(days=7))  # two reminders: days 3 and 6
    reminders = [m for m in sent if m.subject.startswith("Herinnering: ")]
    assert len(reminders) == 2
    links = {LINK.search(m.body_html).group(1) for m in sent}  # type: ignore[union-attr]
    assert len(links) == 3  # each message its own link
    assert world.instance(started.id).status == "running"

    # A reminder on day 9, the deadline on day 10.
    world.runner.advance(dt.timedelta(days=4))
    assert world.instance(started.id).status == "completed"
    kinds = [row.kind for row in world.history(started.id)]
    assert "client_request_overdue" in kinds
    with world.rt.db.read() as session:
        request = session.scalar(sa.select(ClientRequest))
        assert request is not None
        assert (request.status, request.reminders) == ("overdue", 3)
    assert len([m for m in sent if m.subject.startswith("Herinnering: ")]) == 3
    world.runner.advance(dt.timedelta(days=10))  # closed: no more reminders
    assert len([m for m in sent if m.subject.startswith("Herinnering: ")]) == 3


def test_the_annual_accounts_example_chases_a_client_who_does_not_answer(tmp_path: Path) -> None:
    from procedo.runtime import admin, setup
    from tests.conftest import EXAMPLES
    from tests.runtime_helpers import make_world

    world = make_world(f"sqlite:///{tmp_path / 'annual.db'}")
    setup.publish(  # the example as shipped
        world.rt,
        world.tenant,
        (EXAMPLES / "annual-accounts-filing.json").read_bytes(),
        "consultant",
    )
    client = world.subject("client", "C9", CLIENT_FIELDS)
    started = admin.start(world.rt, world.tenant, "annual-accounts-filing", client.id, "x")
    world.runner.advance(dt.timedelta(days=31))
    (task,) = world.open_tasks(started.id)
    assert task.title == "Bel Bakkerij Brood over de stukken voor de jaarrekening"
    assert task.role == "Relatiebeheerder"
    reminders = [m for m in world.runner.sender.sent if m.subject.startswith("Herinnering: ")]
    assert len(reminders) == 4  # days 7, 14, 21 and 28; overdue on day 30
