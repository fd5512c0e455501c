"""Bulk start (K6) over HTTP: for picked or filtered clients, for a period, with a report.

Repeating a bulk start for the same period starts nothing again; every run knows
its period as vars.period; the whole start is a handful of statements, not one
transaction per subject.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.runtime import bulk
from procedo.runtime.periods import Period
from tests.api_helpers import Office, office, ok
from tests.conftest import EXAMPLES, dumps

JSON = {"Content-Type": "application/json"}


def period_flow(key: str = "vat-period") -> dict[str, Any]:
    """A client flow whose route and task title depend on the run's period."""
    return {
        "format": "procedo.flow/1",
        "key": key,
        "name": "VAT for a period",
        "subject_type": "client",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "which",
                "type": "condition",
                "params": {
                    "branches": [
                        {
                            "port": "q4",
                            "when": {
                                "kind": "compare",
                                "field": "vars.period_end",
                                "op": ">=",
                                "value": {"type": "string", "value": "2026-10-01"},
                            },
                        }
                    ]
                },
            },
            {
                "id": "prepare",
                "type": "assign_role",
                "params": {
                    "title": "VAT {{ vars.period }} for {{ subject.name }}",
                    "assignee": {"role": "Administratie"},
                    "outcomes": [{"port": "done", "label": "Done"}],
                },
            },
            {
                "id": "early",
                "type": "assign_role",
                "params": {
                    "title": "Early period {{ vars.period }}",
                    "assignee": {"role": "Administratie"},
                    "outcomes": [{"port": "done", "label": "Done"}],
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "which"},
            {"id": "e2", "source": "which", "source_port": "q4", "target": "prepare"},
            {"id": "e3", "source": "which", "source_port": "else", "target": "early"},
            {"id": "e4", "source": "prepare", "source_port": "done", "target": "end"},
            {"id": "e5", "source": "early", "source_port": "done", "target": "end"},
        ],
    }


def client(acme: Office, key: str, products: list[str], name: str = "") -> dict[str, Any]:
    fields = {"name": name or f"Client {key}", "products": products, "vat_period": "monthly"}
    created: dict[str, Any] = ok(
        acme.http.post("/subjects", json={"type": "client", "key": key, "fields": fields}), 201
    )
    return created


def publish(acme: Office, flow: dict[str, Any]) -> None:
    ok(acme.http.post("/flows/import", content=dumps(flow), headers=JSON), 201)
    ok(acme.http.post(f"/flows/{flow['key']}/publish"), 201)


def wait_for(check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def running(acme: Office, instance_id: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        got: dict[str, Any] = ok(acme.http.get(f"/instances/{instance_id}"))
        return got if got["status"] == "running" and got["tasks"] else None

    found: dict[str, Any] = wait_for(ready, f"instance {instance_id} at its first task")
    return found


def test_bulk_start_for_a_period_reports_and_is_idempotent(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    clients = [client(acme, f"C-{n}", ["Aangifte BTW"]) for n in range(3)]
    ids = [c["id"] for c in clients]

    report = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk", json={"subject_ids": ids, "period": "2026-11"}
        )
    )
    assert (report["flow"], report["version"], report["period"]) == ("vat-period", 1, "2026-11")
    assert [s["subject_id"] for s in report["started"]] == ids
    assert [s["key"] for s in report["started"]] == ["C-0", "C-1", "C-2"]
    assert report["refused"] == []
    first = running(acme, report["started"][0]["instance_id"])
    assert first["variables"] == {
        "period": "2026-11",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
    }
    # The rule read vars.period_end; the title printed vars.period.
    assert first["positions"] == ["prepare"]
    assert first["tasks"][0]["title"] == "VAT 2026-11 for Client C-0"

    again = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [*ids, ids[0]], "period": "2026-11"},
        )
    )
    assert again["started"] == []
    assert [r["key"] for r in again["refused"]] == ["C-0", "C-1", "C-2"]
    assert all(r["reason"].startswith("already started for 2026-11") for r in again["refused"])
    listed = ok(acme.http.get("/instances", params={"flow": "vat-period"}))
    assert len(listed) == 3

    # Another period is other work: it starts, and an early one takes the other branch.
    september = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk", json={"subject_ids": ids[:1], "period": "2026-09"}
        )
    )
    early = running(acme, september["started"][0]["instance_id"])
    assert early["positions"] == ["early"]
    assert early["tasks"][0]["title"] == "Early period 2026-09"


def test_bulk_start_by_filter_refuses_what_cannot_start(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    vat = [client(acme, f"V-{n}", ["Aangifte BTW", "Jaarrekening"]) for n in range(2)]
    client(acme, "J-1", ["Jaarrekening"])
    products = {
        "kind": "compare",
        "field": "subject.products",
        "op": "contains",
        "value": {"type": "string", "value": "Aangifte BTW"},
    }
    report = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk", json={"filter": products, "period": "2026-Q4"}
        )
    )
    assert sorted(s["key"] for s in report["started"]) == ["V-0", "V-1"]
    started = running(acme, report["started"][0]["instance_id"])
    assert started["variables"]["period_start"] == "2026-10-01"
    assert started["variables"]["period_end"] == "2026-12-31"

    invoice = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "INV-1"}), 201)
    stranger = str(uuid.uuid4())
    mixed = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [invoice["id"], stranger, vat[0]["id"]], "period": "2026-Q4"},
        )
    )
    assert mixed["started"] == []
    reasons = {r["subject_id"]: r["reason"] for r in mixed["refused"]}
    assert "runs on 'client' subjects" in reasons[invoice["id"]]
    assert reasons[stranger] == "no such subject in this tenant"
    assert reasons[vat[0]["id"]].startswith("already started for 2026-Q4")


def test_bulk_start_refuses_bad_requests_and_members(backend: Backend, base_url: str) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", ["Aangifte BTW"])
    url = "/flows/vat-period/start-bulk"
    both = acme.http.post(url, json={"subject_ids": [one["id"]], "filter": {}})
    assert both.status_code == 422
    assert "either subject_ids" in both.json()["detail"]
    assert acme.http.post(url, json={}).status_code == 422
    bad = acme.http.post(url, json={"subject_ids": [one["id"]], "period": "2026-13"})
    assert bad.status_code == 422
    assert "write a month as 2026-11 or a quarter as 2026-Q4" in bad.json()["detail"]
    assert acme.http.post("/flows/nothing/start-bulk", json={"subject_ids": []}).status_code == 404
    user, _password = accounts.add_user(rt, acme.tenant_id, "m@acme.example", access="member")
    _row, token = accounts.create_token(rt, acme.tenant_id, user.id, "member")
    member = acme.http.post(
        url, json={"subject_ids": [one["id"]]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert member.status_code == 403
    assert ok(acme.http.get("/instances", params={"flow": "vat-period"})) == []


def test_a_cancelled_run_may_be_started_again(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", ["Aangifte BTW"])
    body = {"subject_ids": [one["id"]], "period": "2026-11"}
    first = ok(acme.http.post("/flows/vat-period/start-bulk", json=body))["started"][0]
    running(acme, first["instance_id"])
    ok(acme.http.post(f"/instances/{first['instance_id']}/cancel", json={"reason": "wrong"}))
    second = ok(acme.http.post("/flows/vat-period/start-bulk", json=body))
    assert len(second["started"]) == 1
    assert second["refused"] == []
    third = ok(acme.http.post("/flows/vat-period/start-bulk", json=body))
    assert third["started"] == []
    assert len(third["refused"]) == 1


def test_without_a_period_a_subject_the_flow_runs_on_is_refused(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", ["Aangifte BTW"])
    body = {"subject_ids": [one["id"]]}
    assert len(ok(acme.http.post("/flows/vat-period/start-bulk", json=body))["started"]) == 1
    (refused,) = ok(acme.http.post("/flows/vat-period/start-bulk", json=body))["refused"]
    assert refused["reason"].startswith("the flow already runs on it")


@pytest.mark.parametrize("count", [300])
def test_a_bulk_start_is_a_few_statements_not_one_per_subject(
    backend: Backend, base_url: str, count: int
) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    publish(acme, period_flow())
    ids = [client(acme, f"C-{n:04d}", [])["id"] for n in range(count)]
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        statements.append(str(args[2]).split(None, 1)[0].upper())

    sa.event.listen(rt.db.engine, "before_cursor_execute", count_statement)
    try:
        report = bulk.start_bulk(
            rt,
            acme.tenant_id,
            "vat-period",
            [uuid.UUID(i) for i in ids],
            Period.parse("2026-11"),
            "t",
        )
    finally:
        sa.event.remove(rt.db.engine, "before_cursor_execute", count_statement)
    assert len(report.started) == count
    # One transaction for 300 subjects: its reads and writes, each once (plus BEGIN/SET).
    assert len(statements) < 25, statements


def test_a_test_run_mails_the_consultant_and_the_rollout_follows(
    backend: Backend, base_url: str
) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    vat = (EXAMPLES / "vat-return.json").read_bytes()
    ok(acme.http.post("/flows/import", content=vat, headers=JSON), 201)
    ok(acme.http.post("/flows/vat-return-monthly/publish"), 201)
    fields = {"products": ["Aangifte BTW"], "vat_period": "monthly", "contact": {"name": "Sanne"}}
    clients = [
        ok(
            acme.http.post(
                "/subjects",
                json={
                    "type": "client",
                    "key": f"C-{n}",
                    "fields": {**fields, "name": f"Client {n}", "email": f"c{n}@client.example"},
                },
            ),
            201,
        )
        for n in range(6)
    ]
    ids = [c["id"] for c in clients]
    url = "/flows/vat-return-monthly/start-bulk"
    too_many = acme.http.post(url, json={"subject_ids": ids, "period": "2026-11", "test": True})
    assert too_many.status_code == 422
    assert "one to 5 clients" in too_many.json()["detail"]
    by_filter = acme.http.post(url, json={"filter": {"kind": "all", "rules": []}, "test": True})
    assert by_filter.status_code == 422

    trial = ok(
        acme.http.post(url, json={"subject_ids": ids[:2], "period": "2026-11", "test": True})
    )
    assert len(trial["started"]) == 2
    tried = [running(acme, s["instance_id"]) for s in trial["started"]]
    assert all(i["variables"]["test_run"] is True for i in tried)
    assert all(i["variables"]["test_recipient"] == acme.email for i in tried)
    with rt.db.read() as session:
        mails = session.execute(
            sa.select(m.Outbox.recipients, m.Outbox.subject, m.Outbox.body).where(
                m.Outbox.instance_id.in_([uuid.UUID(i["id"]) for i in tried])
            )
        ).all()
    assert len(mails) == 2
    for recipients, subject, body in mails:
        assert recipients == [acme.email]  # the consultant, never the client
        assert subject == "[TEST] Documents for your VAT return 2026-11"
        assert "meant for c0@client.example" in body or "meant for c1@client.example" in body

    # The rollout to all: the test runs hold no period, so the tried clients start too.
    rollout = ok(acme.http.post(url, json={"subject_ids": ids, "period": "2026-11"}))
    assert len(rollout["started"]) == 6
    real = running(acme, rollout["started"][0]["instance_id"])
    assert "test_run" not in real["variables"]
    with rt.db.read() as session:
        (recipients,) = session.scalars(
            sa.select(m.Outbox.recipients).where(m.Outbox.instance_id == uuid.UUID(real["id"]))
        ).all()
    assert recipients == ["c0@client.example"]
