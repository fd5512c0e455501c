"""Issue 6's acceptance: UBL invoices over HTTP through the shipped flows, E1-E8, end to end.

Against a running server: the embedded mode (SQLite, in-process workers and
scheduler), and PostgreSQL + Redis with `procedo serve` as the API process and
separate worker and scheduler processes. The shipped flows run with seconds in
place of days; emails go to an SMTP sink.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from procedo.api import accounts
from procedo.db import models as m
from procedo.messaging.secretbox import new_key
from procedo.runtime.context import Runtime
from procedo.runtime.standard_roles import STANDARD_ROLES
from procedo.settings import Settings
from procedo.worker.process import build_runtime
from tests.api_helpers import embedded_backend, live_server, ok, serving
from tests.cluster import Cluster, SinkHandler, smtp_sink, wait_until
from tests.conftest import EXAMPLES

UBL = Path(__file__).resolve().parent / "ubl"
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}
PEOPLE = {
    "Management A": "anna@client.example",
    "Management B": "bram@client.example",
    "Accountant": "carla@client.example",
    "Deputy": "dirk@client.example",
    "Conversion": "conny@client.example",
}


def in_seconds(value: Any) -> Any:
    """The flow with every duration in seconds instead of days: the same numbers."""
    if isinstance(value, dict):
        if set(value) == {"amount", "unit"}:
            return {"amount": value["amount"], "unit": "seconds"}
        return {key: in_seconds(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_seconds(item) for item in value]
    return value


def shipped_flow(name: str) -> bytes:
    flow = in_seconds(json.loads((EXAMPLES / f"{name}.json").read_bytes()))
    return json.dumps(flow).encode()


@dataclass
class Setup:
    """One way of running Procedo: its runtime (for accounts) and its API's URL."""

    rt: Runtime
    url: str


@contextmanager
def embedded(db_url: str, data_dir: Path) -> Iterator[Setup]:
    with embedded_backend(db_url, data_dir) as backend, live_server(backend.runtime) as url:
        yield Setup(backend.runtime, url)


@contextmanager
def distributed(postgres_url: str, redis_url: str) -> Iterator[Setup]:
    env = {
        "PROCEDO_DATABASE_URL": postgres_url,
        "PROCEDO_BROKER_URL": redis_url,
        # One key for every process, as docs/operations.md asks of a deployment.
        "PROCEDO_SECRET_KEY": new_key(),
    }
    settings = Settings(data_dir=Path("."), database_url=postgres_url, broker_url=redis_url)
    rt, _actors = build_runtime(settings)
    rt.db.create_all()
    cluster = Cluster(env)
    cluster.start_worker(threads=4)
    cluster.start_scheduler()
    try:
        with serving({**os.environ, **env}) as (url, _lines):
            yield Setup(rt, url)
    finally:
        cluster.stop()
        rt.db.dispose()


@pytest.fixture(params=["embedded", "distributed"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    start: Callable[[], AbstractContextManager[Setup]]
    if request.param == "embedded":
        url = f"sqlite:///{tmp_path / 'procedo.db'}"
        start = lambda: embedded(url, tmp_path)  # noqa: E731
    else:
        postgres = request.getfixturevalue("postgres_db")
        broker = request.getfixturevalue("redis_url")
        start = lambda: distributed(postgres, broker)  # noqa: E731
    with start() as setup:
        yield setup


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    controller, handler, port = smtp_sink()
    yield handler, port
    controller.stop()


def client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_invoices_over_http_end_in_the_right_status(
    running: Setup, sink: tuple[SinkHandler, int]
) -> None:
    rt, mails = running.rt, sink[0]
    made = accounts.create_tenant(rt, "Client", "admin@client.example")
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, made.tenant.id)
        assert tenant is not None
        tenant.smtp = {"host": "127.0.0.1", "port": sink[1], "sender": "ap@client.example"}
    admin = client(running.url, made.token)
    people: dict[str, httpx.Client] = {}
    for role, email in PEOPLE.items():
        user, _password = accounts.add_user(rt, made.tenant.id, email)
        _row, token = accounts.create_token(rt, made.tenant.id, user.id, "acceptance")
        people[role] = client(running.url, token)
        if role not in STANDARD_ROLES:  # those every tenant starts with (K1)
            ok(admin.post("/roles", json={"name": role}), 201)
        ok(admin.post(f"/roles/{role}/members", json={"email": email}), 201)
    for name in ("invoice-approval", "conversion-check"):
        ok(admin.post("/flows/import", content=shipped_flow(name), headers=JSON), 201)
        ok(admin.post(f"/flows/{name}/publish"), 201)
    supplier = {"name": "Energie Noord B.V.", "kvk": "11223344", "trusted": True}
    ok(
        admin.post("/subjects", json={"type": "supplier", "key": "11223344", "fields": supplier}),
        201,
    )

    def ingest(name: str, content: bytes | None = None) -> dict[str, Any]:
        body = content if content is not None else (UBL / name).read_bytes()
        stored: dict[str, Any] = ok(
            admin.post("/subjects/invoices", content=body, headers=XML), 201
        )
        return stored

    def status_of(subject: dict[str, Any]) -> str:
        return str(ok(admin.get(f"/subjects/{subject['id']}"))["status"])

    def becomes(subject: dict[str, Any], status: str) -> None:
        wait_until(lambda: status_of(subject) == status, 30, f"{subject['key']} {status}")

    def task_for(role: str, subject: dict[str, Any]) -> dict[str, Any]:
        def mine() -> list[dict[str, Any]]:
            inbox = ok(people[role].get("/tasks", params={"scope": "roles"}))
            return [t for t in inbox if t["subject"]["id"] == subject["id"]]

        wait_until(lambda: bool(mine()), 30, f"a task for {role} on {subject['key']}")
        (task,) = mine()
        return task

    def mailed(to: str, subject_line: str) -> bool:
        # Long subjects arrive folded over lines, as mail clients unfold them.
        return any(
            to in rcpt and subject_line == " ".join(line.split())
            for _id, rcpt, line in mails.received
        )

    # E3 + E1: KvK X goes to Management A, who approves; the history says who and when.
    x = ingest("invoice-kvk-x.xml")
    task = task_for("Management A", x)
    assert task["candidates"] == [PEOPLE["Management A"]]
    ok(people["Management A"].post(f"/tasks/{task['id']}/complete", json={"outcome": "approve"}))
    becomes(x, "payable")
    history = ok(admin.get(f"/instances/{task['instance_id']}/history"))
    (approval,) = [row for row in history if row["kind"] == "task_completed"]
    assert (approval["actor"], approval["node"], approval["port"]) == (
        PEOPLE["Management A"],
        "approve_a",
        "approve",
    )
    assert approval["at"]

    # E7: the administration office may set 'paid' on it, and nothing else.
    office = accounts.create_tenant(rt, "Administration Office", "admin@office.example")
    partner = client(running.url, office.token)
    grant = {
        "partner": office.tenant.slug,
        "flows": ["invoice-approval"],
        "statuses": [{"status": "paid", "from": ["payable"]}],
        "fields": ["invoice_number", "payable_amount", "supplier.name"],
    }
    ok(admin.post("/partnerships", json=grant), 201)
    (shared,) = [s for s in ok(partner.get("/shared")) if s["subject"]["id"] == x["id"]]
    refused = partner.post(f"/shared/{shared['id']}/status", json={"status": "rejected"})
    assert refused.status_code == 409
    ok(partner.post(f"/shared/{shared['id']}/status", json={"status": "paid"}))
    wait_until(
        lambda: ok(admin.get(f"/instances/{shared['id']}"))["status"] == "completed",
        30,
        "the paid invoice's instance to complete",
    )

    # E3 + E4: KvK Y goes to Management B, who rejects; the supplier is told.
    y = ingest("invoice-kvk-y.xml")
    task = task_for("Management B", y)
    ok(people["Management B"].post(f"/tasks/{task['id']}/complete", json={"outcome": "reject"}))
    becomes(y, "rejected")
    y_fields = ok(admin.get(f"/subjects/{y['id']}"))["fields"]
    rejected_line = f"Invoice {y_fields['invoice_number']} rejected"
    wait_until(lambda: mailed(y_fields["supplier"]["email"], rejected_line), 30, "rejection mail")

    # E2: a trusted supplier's small bill is payable without anyone; no order: rejected.
    energy = ingest("invoice-energy-trusted.xml")
    becomes(energy, "payable")
    no_order = ingest("invoice-no-order.xml")
    becomes(no_order, "rejected")
    wait_until(
        lambda: mailed("factuur@devries.example", "Invoice INV-2026-0043 rejected"),
        30,
        "the no-order rejection mail",
    )

    # E2 + E6: wrong tax is rejected, and the conversion group gets a mail and a check task.
    wrong_tax = ingest("invoice-wrong-tax.xml")
    becomes(wrong_tax, "rejected")
    check = task_for("Conversion", wrong_tax)
    assert [c["mandatory"] for c in check["checkpoints"]] == [True]
    wrong_fields = ok(admin.get(f"/subjects/{wrong_tax['id']}"))["fields"]
    conversion_line = (
        f"Conversion problem in invoice {wrong_fields['invoice_number']} "
        f"from {wrong_fields['supplier']['name']}"
    )
    wait_until(lambda: mailed(PEOPLE["Conversion"], conversion_line), 30, "conversion mail")

    # E5: nobody acts: a reminder to Management A, then the task goes to the Deputy.
    late = ingest("", (UBL / "invoice-kvk-x.xml").read_bytes().replace(b"INV-2026-0042", b"L-1"))
    task = task_for("Management A", late)
    wait_until(
        lambda: mailed(PEOPLE["Management A"], f"Herinnering: {task['title']}"), 30, "a reminder"
    )
    wait_until(
        lambda: ok(admin.get(f"/tasks/{task['id']}"))["candidates"] == [PEOPLE["Deputy"]],
        30,
        "the task reassigned to the Deputy",
    )

    # E8: the admin moves it back to the first check, with a reason the history keeps.
    reason = "supplier sent a corrected order number"
    ok(
        admin.post(
            f"/instances/{task['instance_id']}/move", json={"to_node": "checks", "reason": reason}
        )
    )
    moved = [
        row
        for row in ok(admin.get(f"/instances/{task['instance_id']}/history"))
        if row["reason"] == reason
    ]
    assert moved
    assert moved[0]["actor"] == "admin@client.example"
    assert ok(admin.get(f"/tasks/{task['id']}"))["status"] == "cancelled"
    again = task_for("Management A", late)  # the checks ran again and routed it the same way
    assert again["id"] != task["id"]


def test_a_logo_sent_instead_of_an_invoice_goes_to_the_conversion_group(
    tmp_path: Path, sink: tuple[SinkHandler, int]
) -> None:
    """Issue 12 (E6): a supplier's logo is a conversion problem; hostile input stays refused."""
    with embedded(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        rt, mails = running.rt, sink[0]
        made = accounts.create_tenant(rt, "Client", "admin@client.example")
        with rt.transaction() as (session, _out):
            tenant = session.get(m.Tenant, made.tenant.id)
            assert tenant is not None
            tenant.smtp = {"host": "127.0.0.1", "port": sink[1], "sender": "ap@client.example"}
        admin = client(running.url, made.token)
        user, _password = accounts.add_user(rt, made.tenant.id, PEOPLE["Conversion"])
        _row, token = accounts.create_token(rt, made.tenant.id, user.id, "acceptance")
        conversion = client(running.url, token)
        ok(admin.post("/roles", json={"name": "Conversion"}), 201)
        ok(admin.post("/roles/Conversion/members", json={"email": PEOPLE["Conversion"]}), 201)
        for name in ("invoice-approval", "conversion-check"):
            ok(admin.post("/flows/import", content=shipped_flow(name), headers=JSON), 201)
            ok(admin.post(f"/flows/{name}/publish"), 201)

        # Hostile input is refused with nothing stored, whatever media type it claims.
        for name, media_type in (
            ("billion-laughs.xml", "application/xml"),
            ("xxe-file.xml", "image/png"),
        ):
            refused = admin.post(
                "/subjects/invoices",
                content=(UBL / name).read_bytes(),
                headers={"Content-Type": media_type},
            )
            assert refused.status_code == 400, refused.text
        assert ok(admin.get("/subjects", params={"type": "invoice"})) == []

        logo = (UBL / "logo.png").read_bytes()
        record: dict[str, Any] = ok(
            admin.post("/subjects/invoices", content=logo, headers={"Content-Type": "image/png"}),
            201,
        )
        fields = record["fields"]
        assert fields["document_type"] == "not_an_invoice"
        assert fields["conversion_problem"] == "this is a PNG image, not a UBL invoice"

        def checks() -> list[dict[str, Any]]:
            inbox = ok(conversion.get("/tasks", params={"scope": "roles"}))
            return [t for t in inbox if t["subject"]["id"] == record["id"]]

        wait_until(lambda: bool(checks()), 30, "a check task for the Conversion role")
        (task,) = checks()
        assert task["title"] == "Check the conversion of a document received instead of an invoice"
        wait_until(
            lambda: any(
                PEOPLE["Conversion"] in rcpt
                and " ".join(line.split())
                == "Conversion problem in a document received instead of an invoice"
                for _id, rcpt, line in mails.received
            ),
            30,
            "the conversion mail",
        )
        # Sent again (as application/xml this time): the same record, no second task.
        again = ok(admin.post("/subjects/invoices", content=logo, headers=XML), 201)
        assert again["id"] == record["id"]
        assert len(ok(conversion.get("/tasks", params={"scope": "roles"}))) == 1
