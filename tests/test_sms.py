"""SMS: the node through the outbox to the sink, E.164, retries and ids; settings and the token."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from procedo import mail
from procedo.api.server import Backend
from procedo.cli import main
from procedo.db import models as m
from procedo.db import sms as dbs
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.messaging import secretbox, sms
from procedo.nodetypes import CheckContext
from procedo.registry import default_registry
from procedo.runtime import admin, outbox, setup
from procedo.runtime.local import LocalRunner
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays
from tests.api_helpers import Office, ok
from tests.conftest import dumps, minimal_flow
from tests.test_template_library import _server_key, acme, sqlite_backend

__all__ = ["_server_key", "acme", "sqlite_backend"]  # fixtures shared with the library tests


def sms_flow(to: dict[str, Any], text: str = "Hello {{ subject.name }}, please pay.") -> bytes:
    """start -> sms -> end (no_number -> end too, unless the number is fixed)."""
    edges = [
        {"id": "e1", "source": "start", "source_port": "next", "target": "text"},
        {"id": "e2", "source": "text", "source_port": "sent", "target": "end"},
    ]
    if to["kind"] == "field":
        edges.append({"id": "e3", "source": "text", "source_port": "no_number", "target": "end"})
    flow = minimal_flow(
        key="texter",
        name="Texter",
        subject_type="debtor",
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "text",
                "type": "sms",
                "params": {"to": to, "text": text, "mark": "dunning_notice"},
            },
            {"id": "end", "type": "end"},
        ],
        edges=edges,
    )
    return dumps(flow)


def row_subject(world: World, row: m.Outbox) -> uuid.UUID:
    with world.rt.db.read() as session:
        instance = session.get(m.Instance, row.instance_id)
        assert instance is not None
        return instance.subject_id


class World:
    def __init__(self, folder: Path) -> None:
        self.runner = LocalRunner("sqlite://")
        self.rt = self.runner.rt
        self.tenant = setup.create_tenant(self.rt, "Acme", "acme").id
        self.folder = folder

    def debtor(self, phone: str | None, key: str = "D-1") -> uuid.UUID:
        fields: dict[str, Any] = {"name": "Jansen BV", "email": "j@jansen.example"}
        if phone is not None:
            fields["phone"] = phone
        return setup.upsert_subject(self.rt, self.tenant, "debtor", key, fields, "").id

    def run(self, subject_id: uuid.UUID) -> uuid.UUID:
        instance = admin.start(self.rt, self.tenant, "texter", subject_id, "tester")
        self.runner.drain()
        return instance.id

    def rows(self) -> list[m.Outbox]:
        with self.rt.db.read() as session:
            return list(session.scalars(sa.select(m.Outbox).where(m.Outbox.kind == "sms")))

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(secretbox.KEY_ENV, secretbox.new_key())
    made = World(tmp_path / sms.SINK_FOLDER)
    sms.save_settings(made.rt, made.tenant, sms.SmsSettingsIn(provider="sink"), "tester")
    return made


def test_an_sms_node_reaches_the_sink_once_in_e164(world: World) -> None:
    setup.publish(
        world.rt, world.tenant, sms_flow({"kind": "field", "field": "subject.phone"}), "t"
    )
    instance_id = world.run(world.debtor("06 1234 5678"))
    [row] = world.rows()
    assert row.status == "sent"
    assert row.recipients == ["+31612345678"]
    assert row.message_id == f"<{instance_id}.1.0@procedo>"  # deterministic: the step's own
    [kept] = world.sent()
    assert kept == {
        "id": row.message_id,
        "to": "+31612345678",
        "from": "",
        "text": "Hello Jansen BV, please pay.",
        "kept_at": kept["kept_at"],
    }
    with world.rt.db.read() as session:
        kinds = {
            h.kind: h.data
            for h in session.scalars(
                sa.select(m.History).where(m.History.instance_id == instance_id)
            )
        }
    # Queued with the node's mark, so a workflow-sent SMS counts as a dunning notice.
    assert kinds["sms_queued"]["mark"] == "dunning_notice"
    assert kinds["sms_sent"]["to"] == ["+31612345678"]
    # The debtor's computed facts count it as a notice a workflow sent.
    debtor = builtin_subject_types()["debtor"]
    calendar = Calendar(world.runner.clock.now(), "Europe/Amsterdam", WorkingDays("NL"))
    subject_id = row_subject(world, row)
    with world.rt.db.read() as session:
        facts = load_facts(session.connection(), computed_fields(debtor), subject_id, {}, calendar)
    assert facts["dunning_notices"] == 1
    # Sent again with the same id (a worker died after sending): the sink keeps it once.
    sms.SinkProvider(world.folder).send(
        sms.SmsMessage(message_id=row.message_id, to=row.recipients[0], text=row.body)
    )
    assert len(world.sent()) == 1


def test_a_bad_number_fails_the_step_naming_the_node(world: World) -> None:
    setup.publish(
        world.rt, world.tenant, sms_flow({"kind": "field", "field": "subject.phone"}), "t"
    )
    instance_id = world.run(world.debtor("12"))
    with world.rt.db.read() as session:
        instance = session.get(m.Instance, instance_id)
        assert instance is not None
        assert instance.status == "failed"
        assert "node 'text'" in (instance.error or "")
        assert "'12'" in (instance.error or "")
    assert world.rows() == []
    assert world.sent() == []


def test_no_number_leaves_on_no_number(world: World) -> None:
    setup.publish(
        world.rt, world.tenant, sms_flow({"kind": "field", "field": "subject.phone"}), "t"
    )
    instance_id = world.run(world.debtor(None))
    with world.rt.db.read() as session:
        instance = session.get(m.Instance, instance_id)
        assert instance is not None
        assert instance.status == "completed"
    assert world.rows() == []


def test_a_german_tenant_reads_local_numbers_as_german(world: World) -> None:
    with world.rt.db.transaction() as session:
        tenant = session.get(m.Tenant, world.tenant)
        assert tenant is not None
        tenant.country = "DE"
    setup.publish(
        world.rt, world.tenant, sms_flow({"kind": "field", "field": "subject.phone"}), "t"
    )
    world.run(world.debtor("0151 23456789"))
    assert world.rows()[0].recipients == ["+4915123456789"]


def test_a_text_over_the_length_fails_the_step(world: World) -> None:
    flow = sms_flow({"kind": "number", "number": "+31612345678"}, "Dear {{ subject.name }}")
    setup.publish(world.rt, world.tenant, flow, "t")
    long_name = setup.upsert_subject(
        world.rt, world.tenant, "debtor", "D-9", {"name": "Jansen " * 30}, ""
    )
    instance_id = world.run(long_name.id)
    with world.rt.db.read() as session:
        instance = session.get(m.Instance, instance_id)
        assert instance is not None
        assert instance.status == "failed"
        assert "node 'text': the text is 214 characters, the node allows 160" in (
            instance.error or ""
        )
    assert world.rows() == []


def test_design_time_checks_the_fixed_text_length_and_number() -> None:
    node = default_registry()["sms"]
    assert node.check is not None
    debtor = builtin_subject_types()["debtor"]
    params = node.parse_params(
        {"to": {"kind": "number", "number": "+3112"}, "text": "x" * 50, "max_length": 40}
    )
    codes = {p.code: p.path for p in node.check(params, CheckContext(debtor))}
    assert codes == {"sms.too_long": "$.text", "sms.number.invalid": "$.to.number"}


def test_a_refused_send_is_retried_with_backoff_and_the_same_id(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider down: the row waits 1, 2 ... minutes, each try with the step's own id."""
    seen: list[str] = []
    answers = iter(["retry", "retry", "sent"])

    class Flaky:
        def send(self, message: sms.SmsMessage) -> mail.Delivery:
            seen.append(message.message_id)
            return mail.Delivery(next(answers), "gateway says so")  # type: ignore[arg-type]

        def describe(self) -> str:
            return "flaky"

    monkeypatch.setattr(sms, "provider_for", lambda session, tenant_id, box=None: Flaky())
    flow = sms_flow({"kind": "number", "number": "+31612345678"}, "Pay now")
    setup.publish(world.rt, world.tenant, flow, "t")
    world.run(world.debtor(None))
    [row] = world.rows()
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error == "gateway says so"
    assert row.next_attempt_at - world.runner.clock.now() == dt.timedelta(minutes=1)
    for wait in (1, 2):
        world.runner.clock.set(world.runner.clock.now() + dt.timedelta(minutes=wait))
        for ident in outbox.claim_due(world.rt):
            outbox.deliver(world.rt, ident)
    [row] = world.rows()
    assert row.status == "sent"
    assert row.attempts == 3
    assert seen == [row.message_id] * 3


def test_without_settings_the_sms_fails_saying_so(world: World) -> None:
    sms.delete_settings(world.rt, world.tenant, "tester")
    setup.publish(
        world.rt, world.tenant, sms_flow({"kind": "number", "number": "+31612345678"}), "t"
    )
    world.run(world.debtor(None))
    [row] = world.rows()
    assert row.status == "failed"
    assert "SMS settings are missing" in (row.last_error or "")


# -- The HTTP provider -------------------------------------------------------------------------


def test_the_http_provider_posts_json_with_the_bearer_token() -> None:
    got: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        got.append(request)
        return httpx.Response(202 if len(got) == 1 else 503, json={"queued": True})

    provider = sms.HttpProvider(
        url="https://sms.example/send",
        token="s3cret-token",  # noqa: S106  # a test value
        sender="Acme",
        transport=httpx.MockTransport(gateway),
    )
    message = sms.SmsMessage(message_id="<a.1.0@procedo>", to="+31612345678", text="Hi")
    assert provider.send(message).outcome == "sent"
    assert provider.send(message).outcome == "retry"  # 503: the gateway is down for now
    request = got[0]
    assert request.headers["Authorization"] == "Bearer s3cret-token"
    assert request.headers["Idempotency-Key"] == "<a.1.0@procedo>"
    assert json.loads(request.content) == {
        "id": "<a.1.0@procedo>",
        "to": "+31612345678",
        "text": "Hi",
        "from": "Acme",
    }
    assert "s3cret-token" not in repr(provider)
    refused = sms.HttpProvider(
        url="https://sms.example/send",
        token="t",  # noqa: S106  # a test value
        transport=httpx.MockTransport(lambda r: httpx.Response(400, text="bad number")),
    )
    assert refused.send(message).outcome == "failed"


# -- Settings over HTTP and the CLI; the token never comes out ---------------------------------

TOKEN = "tok-Zq8!never-shown-9f2"  # noqa: S105  # a test value


def test_the_token_never_appears_in_an_answer_the_history_a_log_or_the_cli(
    acme: Office, sqlite_backend: Backend, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    rt = sqlite_backend.runtime
    caplog.set_level(logging.DEBUG)
    body = {"provider": "http", "url": "https://sms.example/send", "token": TOKEN, "sender": "Acme"}
    answers = [acme.http.put("/settings/sms", json=body)]
    answers.append(acme.http.get("/settings/sms"))
    shown = ok(answers[-1])
    assert shown["token_set"] is True
    assert shown["provider"] == "http"
    # The sender and URL changed, the token kept (left out).
    answers.append(acme.http.put("/settings/sms", json={**body, "token": None, "sender": "Acme2"}))
    assert ok(answers[-1])["token_set"] is True
    # A test send through an unreachable gateway: the answer says so, without the token.
    unreachable = {**body, "url": "http://127.0.0.1:9/send", "token": None}
    answers.append(acme.http.put("/settings/sms", json=unreachable))
    answers.append(acme.http.post("/settings/sms/test", json={"to": "+31612345678"}))
    tested = ok(answers[-1])
    assert tested["ok"] is False
    assert tested["outcome"] == "retry"
    assert "127.0.0.1:9" in tested["detail"]
    answers.append(acme.http.put("/settings/sms", json={**body, "token": "", "url": "x"}))
    assert answers[-1].status_code == 422  # refused; nothing stored
    for answer in answers:
        assert TOKEN not in answer.text
    with rt.db.read() as session:
        row = session.get(dbs.SmsSettings, acme.tenant_id)
        assert row is not None
        assert row.token_encrypted is not None
        assert TOKEN not in row.token_encrypted
        assert row.url == "http://127.0.0.1:9/send"
        history = list(
            session.scalars(
                sa.select(m.History).where(
                    m.History.tenant_id == acme.tenant_id, m.History.kind == "sms_settings_changed"
                )
            )
        )
    assert history
    assert all(TOKEN not in json.dumps(h.data) for h in history)
    assert history[0].data["fields"] == ["provider", "url", "sender", "token"]
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_the_cli_asks_for_the_token_and_never_prints_it(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    made = runner.invoke(
        main, ["tenant", "create", "Acme Office", "--admin", "a@acme.example", *data]
    )
    assert made.exit_code == 0, made.output
    common = ["--tenant", "acme-office", *data]
    set_args = ["settings", "sms", "set", "--provider", "http", "--url", "https://sms.example/s"]
    result = runner.invoke(main, [*set_args, *common], input=f"{TOKEN}\n")
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["settings", "sms", "show", *common])
    assert "token_set: yes" in shown.output
    for output in (result.output.replace("Bearer token", ""), shown.output):
        assert TOKEN not in output
    bad = runner.invoke(main, ["settings", "sms", "set", "--provider", "http", *common], input="\n")
    assert bad.exit_code != 0
    assert "$.url" in bad.output


def test_bad_settings_are_refused_naming_the_field(acme: Office) -> None:
    cases = [
        ({"provider": "http", "url": "ftp://x.example", "token": "t"}, "$.url"),
        ({"provider": "http", "url": "http://sms.example/send", "token": "t"}, "$.url"),
        ({"provider": "http", "url": "https://u:p@sms.example/", "token": "t"}, "$.url"),
        ({"provider": "http", "url": "https://sms.example/"}, "$.token"),
        ({"provider": "sink", "sender": "far too long a sender"}, "$.sender"),
    ]
    for body, path in cases:
        answer = acme.http.put("/settings/sms", json=body)
        assert answer.status_code in (400, 422), body
        if answer.status_code == 422:
            assert answer.json()["problems"][0]["path"] == path, (body, answer.text)
    huge = {"provider": "sink", "sender": "x" * 20_000}
    assert acme.http.put("/settings/sms", json=huge).status_code == 413
    assert ok(acme.http.get("/settings/sms"))["configured"] is False


def test_the_test_send_reaches_the_sink_and_checks_the_number(
    acme: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path))
    assert ok(acme.http.put("/settings/sms", json={"provider": "sink"}))["sink_folder"] == str(
        (tmp_path / "sent-sms").resolve()
    )
    result = ok(acme.http.post("/settings/sms/test", json={"to": "06-12345678"}))
    assert result["ok"] is True
    assert result["to"] == "+31612345678"
    assert len(list((tmp_path / "sent-sms").glob("*.json"))) == 1
    bad = acme.http.post("/settings/sms/test", json={"to": "0612"})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["path"] == "$.to"
    with pytest.raises(sms.PhoneError):
        sms.normalise("+999 123", "NL")


def test_a_failed_sms_is_listed_and_resent_by_an_admin(
    acme: Office, sqlite_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path))
    rt = sqlite_backend.runtime
    headers = {"Content-Type": "application/json"}
    flow = sms_flow({"kind": "field", "field": "subject.phone"})
    ok(acme.http.post("/flows", content=flow, headers=headers), 201)
    ok(acme.http.post("/flows/texter/publish"), 201)
    body = {"type": "debtor", "key": "D-1", "fields": {"name": "Jansen", "phone": "0612345678"}}
    subject = ok(acme.http.post("/subjects", json=body), 201)
    ok(acme.http.post("/instances", json={"flow": "texter", "subject_id": subject["id"]}), 201)

    def listed(status: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            rows = ok(acme.http.get("/outbox", params={"kind": "sms", "status": status}))
            if rows:
                return list(rows)
            time.sleep(0.05)
        raise AssertionError(f"no {status} SMS in 10 s")

    [failed] = listed("failed")  # no SMS settings yet
    assert failed["recipients"] == ["+31612345678"]
    ok(acme.http.put("/settings/sms", json={"provider": "sink"}))
    ok(acme.http.post(f"/outbox/{failed['id']}/resend"))
    [sent] = listed("sent")
    assert sent["id"] == failed["id"]
    assert len(list((tmp_path / "sent-sms").glob("*.json"))) == 1
    with rt.db.read() as session:
        kinds = list(
            session.scalars(sa.select(m.History.kind).where(m.History.tenant_id == acme.tenant_id))
        )
    outcomes = sorted(k for k in kinds if k in ("sms_failed", "sms_resent", "sms_sent"))
    assert outcomes == ["sms_failed", "sms_resent", "sms_sent"]
