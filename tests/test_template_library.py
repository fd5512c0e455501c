"""The template library (issue 15 item 2): CRUD, checks against the subject type, preview on a
real subject in the right language, email nodes that name a template, and the CLI's files."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from procedo.api.server import Backend
from procedo.cli import main
from procedo.db import models as m
from procedo.flow.codec import decode_flow
from procedo.messaging import library, secretbox
from procedo.messaging.sink import MailSink
from tests.api_helpers import Office, embedded_backend, live_server, office, ok
from tests.conftest import dumps, minimal_flow

DUNNING: dict[str, Any] = {
    "name": "dunning-1",
    "subject_type": "debtor",
    "description": "First reminder",
    "texts": {
        "nl": {
            "subject": "Herinnering voor {{ subject.name }}",
            "html": "<p>Beste {{ subject.name }}, u heeft nog {{ subject.debt_amount }} open.</p>",
        },
        "de": {
            "subject": "Zahlungserinnerung für {{ subject.name }}",
            "html": "<p>Sehr geehrte {{ subject.name }}, offen: {{ subject.debt_amount }}.</p>",
            "text": "Sehr geehrte {{ subject.name }},\noffen: {{ subject.debt_amount }}.",
        },
    },
}
DEBTOR = {"name": "Bäckerei <Süß>", "email": "info@suess.example"}
# What every tenant starts with (procedo/messaging/standard_templates.json).
STANDARD = sorted(template.name for template in library.standard_templates())


@pytest.fixture(autouse=True)
def _server_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secretbox.KEY_ENV, secretbox.new_key())


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        yield running


@pytest.fixture
def acme(sqlite_backend: Backend) -> Iterator[Office]:
    with live_server(sqlite_backend.runtime) as base_url:
        yield office(sqlite_backend.runtime, base_url, "Acme Office")


def _debtor(acme: Office, key: str = "D-1", **fields: Any) -> str:
    made = ok(
        acme.http.post(
            "/subjects", json={"type": "debtor", "key": key, "fields": {**DEBTOR, **fields}}
        ),
        201,
    )
    # The debt the texts print is a computed fact: an open invoice of 845.50.
    items = f"debtor_number,number,issue_date,due_date,amount,open_amount\n{key},F-{key},"
    items += "2026-01-01,2026-01-31,845.50,845.50\n"
    ok(acme.http.post("/imports/open-items", files={"file": ("items.csv", items.encode())}))
    return str(made["id"])


def mail_flow(params: dict[str, Any], subject_type: str = "debtor") -> dict[str, Any]:
    """start -> email (template or inline) -> end."""
    return minimal_flow(
        key="remind",
        name="Remind",
        subject_type=subject_type,
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "mail",
                "type": "email",
                "params": {"to": {"kind": "field", "field": "subject.email"}, **params},
            },
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "mail"},
            {"id": "e2", "source": "mail", "source_port": "sent", "target": "end"},
            {"id": "e3", "source": "mail", "source_port": "no_address", "target": "end"},
        ],
    )


def outbox_row_when_sent(rt: Any, tenant_id: Any) -> m.Outbox:
    """The tenant's one outbox row, once the worker has sent it (at most 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        with rt.db.read() as session:
            row = session.scalar(sa.select(m.Outbox).where(m.Outbox.tenant_id == tenant_id))
        assert row is not None
        if row.status == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert row.status == "sent", row.last_error
    return row


def _problems(acme: Office, flow: dict[str, Any]) -> list[dict[str, Any]]:
    answer = acme.http.post(
        "/flows/validate", content=dumps(flow), headers={"Content-Type": "application/json"}
    )
    return list(ok(answer)["problems"])


# -- CRUD and checks -------------------------------------------------------------------------


def test_templates_are_created_read_replaced_and_deleted(acme: Office) -> None:
    made = ok(acme.http.post("/templates", json=DUNNING), 201)
    assert made["languages"] == ["nl", "de"]
    assert made["updated_by"] == acme.email
    assert ok(acme.http.get("/templates/dunning-1"))["texts"]["de"]["text"].startswith("Sehr")
    (summary,) = [t for t in ok(acme.http.get("/templates")) if t["name"] not in STANDARD]
    assert (summary["name"], summary["languages"]) == ("dunning-1", ["nl", "de"])
    taken = acme.http.post("/templates", json=DUNNING)
    assert taken.status_code == 409
    english = {"subject": "Reminder", "html": "<p>Please pay {{ subject.debt_amount }}.</p>"}
    body = {"subject_type": "debtor", "texts": {"en": english}}
    replaced = ok(acme.http.put("/templates/dunning-1", json=body))
    assert replaced["languages"] == ["en"]  # languages left out are gone
    assert acme.http.put("/templates/nope", json=body).status_code == 404
    assert acme.http.delete("/templates/dunning-1").status_code == 204
    assert acme.http.get("/templates/dunning-1").status_code == 404


def test_a_bad_template_lists_every_problem_and_stores_nothing(acme: Office) -> None:
    bad = {
        **DUNNING,
        "texts": {
            "nl": {"subject": "Hallo\n{{ subject.name }}", "html": "{{ subject.nope }}"},
            "en": {"subject": "x", "html": "{{ subject.__class__ }}", "text": "{% set a = 1 %}"},
        },
    }
    answer = acme.http.post("/templates", json=bad)
    assert answer.status_code == 422, answer.text
    found = {(p["path"], p["code"]) for p in answer.json()["problems"]}
    assert ("$.texts.nl.subject", "template.header.line_break") in found
    assert ("$.texts.nl.html", "template.field.unknown") in found
    assert any(path == "$.texts.en.html" for path, _code in found)
    assert any(path == "$.texts.en.text" for path, _code in found)
    unknown_type = acme.http.post("/templates", json={**DUNNING, "subject_type": "boat"})
    assert unknown_type.status_code == 422
    assert unknown_type.json()["problems"][0]["path"] == "$.subject_type"
    empty = acme.http.post("/templates", json={**DUNNING, "texts": {}})
    assert empty.status_code == 422
    assert acme.http.post("/templates", json={**DUNNING, "texts": {"fr": {}}}).status_code == 400
    assert acme.http.post("/templates", json={**DUNNING, "name": "Bad Name"}).status_code == 400
    assert [t["name"] for t in ok(acme.http.get("/templates"))] == STANDARD


# -- Preview ---------------------------------------------------------------------------------


def test_preview_renders_a_real_subject_in_its_language_escaped(acme: Office) -> None:
    ok(acme.http.post("/templates", json=DUNNING), 201)
    dutch = _debtor(acme, "D-1")
    german = _debtor(acme, "D-2", language="de")
    english = _debtor(acme, "D-3", language="en")  # no English text: the tenant's default, nl

    shown = ok(acme.http.post("/templates/dunning-1/preview", json={"subject_id": dutch}))
    assert shown["language"] == "nl"
    assert shown["subject"] == "Herinnering voor Bäckerei <Süß>"  # a subject line is plain text
    assert "Bäckerei &lt;Süß&gt;" in shown["html"]
    assert "845.50" in shown["html"]
    assert shown["text"] == "Beste Bäckerei <Süß>, u heeft nog 845.50 open."

    shown = ok(acme.http.post("/templates/dunning-1/preview", json={"subject_id": german}))
    assert shown["language"] == "de"
    assert shown["text"] == "Sehr geehrte Bäckerei <Süß>,\noffen: 845.50."
    assert (
        ok(acme.http.post("/templates/dunning-1/preview", json={"subject_id": english}))["language"]
        == "nl"
    )
    asked = {"subject_id": german, "language": "nl"}
    assert ok(acme.http.post("/templates/dunning-1/preview", json=asked))["language"] == "nl"

    # A subject of another type, or of another tenant: refused.
    invoice = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-1"}), 201)
    wrong = acme.http.post("/templates/dunning-1/preview", json={"subject_id": invoice["id"]})
    assert wrong.status_code == 409
    assert "is for 'debtor' subjects" in wrong.text


def test_the_tenants_default_language_picks_when_the_subject_names_none(acme: Office) -> None:
    ok(acme.http.post("/templates", json=DUNNING), 201)
    subject_id = _debtor(acme)
    settings = {"host": "127.0.0.1", "port": 25, "security": "none"}
    settings |= {"sender_address": "x@acme.example", "default_language": "de"}
    ok(acme.http.put("/settings/email", json=settings))
    shown = ok(acme.http.post("/templates/dunning-1/preview", json={"subject_id": subject_id}))
    assert shown["language"] == "de"


def test_choose_language_order() -> None:
    assert library.choose_language(["nl", "de"], {"language": "DE"}, "nl") == "de"
    assert library.choose_language(["nl", "de"], {"language": "fr"}, "de") == "de"
    assert library.choose_language(["en"], {}, "nl") == "en"
    assert library.choose_language(["nl", "en"], {"language": "en"}, "nl", "nl") == "nl"


# -- Validation of flows that name a template ------------------------------------------------


def test_validation_knows_the_library(acme: Office, sqlite_backend: Backend) -> None:
    named = mail_flow({"template": "dunning-1"})
    (problem,) = _problems(acme, named)
    assert (problem["code"], problem["node"], problem["path"]) == (
        "template.unknown",
        "mail",
        "$.template",
    )
    assert (
        acme.http.post(
            "/flows/import", content=dumps(named), headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )

    ok(acme.http.post("/templates", json=DUNNING), 201)
    assert _problems(acme, named) == []
    (problem,) = _problems(acme, mail_flow({"template": "dunning-1"}, subject_type="invoice"))
    assert problem["code"] == "template.subject_type"
    assert problem["node"] == "mail"

    # Both inline texts and a template, or neither: the node says which.
    both = _problems(acme, mail_flow({"template": "dunning-1", "subject": "x", "body": "y"}))
    assert [p["code"] for p in both] == ["email.template_and_text"]
    neither = _problems(acme, mail_flow({}))
    assert [p["code"] for p in neither] == ["email.text.missing"]
    # Inline texts stay as they were.
    assert _problems(acme, mail_flow({"subject": "Hi {{ subject.name }}", "body": "Pay."})) == []


def test_a_template_using_a_field_its_subject_type_lost_is_a_problem_naming_the_node(
    acme: Office, sqlite_backend: Backend
) -> None:
    rt = sqlite_backend.runtime
    fields: list[dict[str, Any]] = [
        {"name": "email", "type": "email", "label": {"en": "E", "nl": "E", "de": "E"}},
        {"name": "amount", "type": "decimal", "label": {"en": "A", "nl": "B", "de": "B"}},
    ]
    definition: dict[str, Any] = {
        "name": "retainer",
        "label": {"en": "Retainer", "nl": "Voorschot", "de": "Vorschuss"},
        "fields": fields,
    }
    with rt.db.transaction() as session:
        session.add(
            m.SubjectTypeRow(tenant_id=acme.tenant_id, name="retainer", definition=definition)
        )
    texts = {"en": {"subject": "Retainer", "html": "<p>{{ subject.amount }}</p>"}}
    template = {"name": "retainer-due", "subject_type": "retainer", "texts": texts}
    ok(acme.http.post("/templates", json=template), 201)
    flow = mail_flow({"template": "retainer-due"}, subject_type="retainer")
    assert _problems(acme, flow) == []
    with rt.db.transaction() as session:
        row = session.scalar(sa.select(m.SubjectTypeRow).where(m.SubjectTypeRow.name == "retainer"))
        assert row is not None
        row.definition = {**definition, "fields": fields[:1]}
    (problem,) = _problems(acme, flow)
    assert problem["code"] == "template.field.unknown"
    assert problem["node"] == "mail"
    assert "template 'retainer-due'.en.html" in problem["message"]


# -- Sending ---------------------------------------------------------------------------------


def test_a_flow_sends_the_library_template_in_the_debtors_language(
    acme: Office, sqlite_backend: Backend, tmp_path: Path
) -> None:
    rt = sqlite_backend.runtime
    sink = MailSink.start(tmp_path / "sink")
    try:
        settings = {"host": "127.0.0.1", "port": sink.port, "security": "none"}
        ok(acme.http.put("/settings/email", json={**settings, "sender_address": "d@acme.example"}))
        ok(acme.http.post("/templates", json=DUNNING), 201)
        flow = mail_flow({"template": "dunning-1"})
        ok(
            acme.http.post(
                "/flows", content=dumps(flow), headers={"Content-Type": "application/json"}
            ),
            201,
        )
        ok(acme.http.post("/flows/remind/publish"), 201)
        subject_id = _debtor(acme, language="de")
        instance = ok(
            acme.http.post("/instances", json={"flow": "remind", "subject_id": subject_id}), 201
        )

        deadline = time.monotonic() + 20
        while not sink.messages():
            assert time.monotonic() < deadline, "the email did not arrive"
            time.sleep(0.05)
        (eml,) = sink.messages()
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["Subject"] == "Zahlungserinnerung für Bäckerei <Süß>"
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert plain is not None
        assert html is not None
        assert (
            plain.get_content().replace("\r\n", "\n").strip()
            == "Sehr geehrte Bäckerei <Süß>,\noffen: 845.50."
        )
        assert "Bäckerei &lt;Süß&gt;" in html.get_content()

        # The template is in use: it may not go, nor change its subject type.
        refused = acme.http.delete("/templates/dunning-1")
        assert refused.status_code == 409
        assert "remind" in refused.text
        moved = {
            **DUNNING,
            "subject_type": "client",
            "texts": {"en": {"subject": "x", "html": "y"}},
        }
        del moved["name"]
        assert acme.http.put("/templates/dunning-1", json=moved).status_code == 409

        history = ok(acme.http.get(f"/instances/{instance['id']}/history"))
        kinds = [row["kind"] for row in history]
        assert "email_queued" in kinds
        row = outbox_row_when_sent(rt, acme.tenant_id)
        assert row.subject == "Zahlungserinnerung für Bäckerei <Süß>"  # what was sent is kept
    finally:
        sink.stop()


def test_a_template_deleted_from_under_a_queued_message_fails_it_saying_why(
    acme: Office, sqlite_backend: Backend
) -> None:
    from procedo.ids import new_id
    from procedo.runtime import outbox

    rt = sqlite_backend.runtime
    row_id = new_id()
    with rt.db.transaction() as session:
        session.add(
            m.Outbox(
                id=row_id,
                tenant_id=acme.tenant_id,
                kind="email",
                message_id=f"<{row_id}@procedo>",
                recipients=["a@example.com"],
                subject="(template gone)",
                body="",
                template="gone",
                status="enqueued",
            )
        )
    outbox.deliver(rt, row_id)
    with rt.db.read() as session:
        row = session.get(m.Outbox, row_id)
        assert row is not None
        assert row.status == "failed"
        assert "no template 'gone'" in (row.last_error or "")


# -- CLI files -------------------------------------------------------------------------------


def test_cli_exports_and_imports_a_library_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PROCEDO_DATABASE_URL", raising=False)
    runner = CliRunner()
    for name in ("Acme Office", "Beta Office"):
        made = runner.invoke(main, ["tenant", "create", name, "--admin", "a@x.example"])
        assert made.exit_code == 0, made.output
    source = tmp_path / "library.json"
    source.write_text(msgspec.json.encode([DUNNING]).decode())
    imported = runner.invoke(main, ["templates", "import", str(source), "--tenant", "acme-office"])
    assert imported.exit_code == 0, imported.output
    assert "1 template(s) added" in imported.output
    exported = tmp_path / "out.json"
    result = runner.invoke(main, ["templates", "export", str(exported), "--tenant", "acme-office"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["templates", "import", str(exported), "--tenant", "beta-office"])
    assert again.exit_code == 0, again.output
    listed = runner.invoke(main, ["templates", "list", "--tenant", "beta-office"])
    (line,) = [row for row in listed.output.splitlines() if row.startswith("dunning-1\t")]
    assert line.split("\t")[:3] == ["dunning-1", "debtor", "nl,de"]
    round_trip = runner.invoke(main, ["templates", "export", "--tenant", "beta-office"])
    assert round_trip.output == exported.read_text()

    broken = [
        DUNNING,
        {
            **DUNNING,
            "name": "dunning-2",
            "texts": {"nl": {"subject": "x", "html": "{{ subject.nope }}"}},
        },
    ]
    source.write_text(msgspec.json.encode(broken).decode())
    refused = runner.invoke(main, ["templates", "import", str(source), "--tenant", "beta-office"])
    assert refused.exit_code != 0
    assert "$[1].texts.nl.html" in refused.output
    listed = runner.invoke(main, ["templates", "list", "--tenant", "beta-office"])
    # dunning-2 was not stored; dunning-1 and the standard ones are unchanged
    assert listed.output.count("\n") == 1 + len(STANDARD)


def test_the_exported_file_is_what_the_importer_reads() -> None:
    decoded = msgspec.json.decode(msgspec.json.encode([DUNNING]), type=list[library.TemplateIn])
    assert decoded[0].texts.items()[1][0] == "de"
    assert decode_flow(dumps(mail_flow({"template": "dunning-1"}))).nodes[1].params == {
        "to": {"kind": "field", "field": "subject.email"},
        "template": "dunning-1",
    }
