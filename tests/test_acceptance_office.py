"""Issue 19's acceptance for the office's side: the monthly VAT return over HTTP (K1-K7).

Against a running server, embedded (SQLite) and distributed (PostgreSQL + Redis,
separate API, worker and scheduler processes), with the shipped template
docs/examples/vat-return.json: a bulk start for the clients with the product in
November; the client's own Administratie member gets the preparation phase; a
mandatory checkpoint blocks completing it until ticked; the next month's run is
planned; a test run on two clients mails the consultant only. (The client's
upload and approval through its link are the client requests' part.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from procedo.api import accounts
from procedo.db import models as m
from tests.api_helpers import ok
from tests.cluster import SinkHandler, wait_until
from tests.test_acceptance_invoices import (  # noqa: F401  (fixtures)
    JSON,
    Setup,
    client,
    running,
    shipped_flow,
    sink,
)

VAT = "vat-return-monthly"
PRODUCT = {"kind": "compare", "field": "subject.products", "op": "contains"}


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
    sink: tuple[SinkHandler, int],  # noqa: F811
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
    ok(admin.post("/roles/Administratie/members", json={"email": "eva@kantoor.example"}), 201)
    ok(admin.post("/flows/import", content=shipped_flow("vat-return"), headers=JSON), 201)
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
    # Ticking the last one: preparation moves on by itself (no client request is open).
    ticked = ok(finn.post(f"/tasks/{prepare['id']}/tick", json={"checkpoint": "sales"}))
    assert ticked["ticks"]["sales"]["by"] == "finn@kantoor.example"
    wait_until(
        lambda: ok(admin.get(f"/tasks/{prepare['id']}"))["status"] == "completed",
        60,
        "the preparation to complete",
    )
    instance = ok(admin.get(f"/instances/{prepare['instance_id']}"))
    assert instance["positions"] == ["review"]
    history = ok(admin.get(f"/instances/{prepare['instance_id']}/history"))
    assert [
        (row["data"]["checkpoint"], row["actor"])
        for row in history
        if row["kind"] == "checkpoint_ticked"
    ] == [
        ("bank", "finn@kantoor.example"),
        ("purchases", "finn@kantoor.example"),
        ("sales", "finn@kantoor.example"),
    ]

    # The clients were asked for their documents on entering the phase.
    def mailed(to: str, subject_line: str) -> bool:
        return any(
            to in rcpt and subject_line == " ".join(line.split())
            for _id, rcpt, line in mails.received
        )

    wait_until(
        lambda: mailed("c-1@client.example", "Documents for your VAT return 2026-11"),
        60,
        "the request for documents",
    )

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
