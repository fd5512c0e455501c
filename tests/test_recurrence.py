"""Runs that know their period (K5) over HTTP: the demo's VAT return, and start plans.

The bug this began with: "run now" of the monthly VAT return on the demo client
failed with "no attribute 'period'" (its texts named subject.period, which no
client has). A monthly run is for the month just ended and says so in
vars.period; a client's start plan starts its run on a date and plans the next.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from procedo.api import accounts, demo
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.runtime.periods import Period
from tests.api_helpers import Office, office, ok
from tests.conftest import minimal_flow
from tests.test_bulk_start import client, period_flow, publish, running, wait_for

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _today() -> dt.date:
    return dt.datetime.now(AMSTERDAM).date()


def _demo_admin(backend: Backend, base_url: str) -> httpx.Client:
    rt = backend.runtime
    demo.ensure_demo(rt)
    with rt.db.read() as session:
        admin = session.scalar(sa.select(m.User).where(m.User.email == demo.ADMIN))
        assert admin is not None
        tenant_id, user_id = admin.tenant_id, admin.id
    _row, token = accounts.create_token(rt, tenant_id, user_id, "test")
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_run_now_of_the_demo_vat_return_runs_for_last_month(
    backend: Backend, base_url: str
) -> None:
    http = _demo_admin(backend, base_url)
    ok(http.post("/schedules/vat-return-monthly/run"))

    def started() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = ok(
            http.get("/instances", params={"flow": "vat-return-monthly"})
        )
        return found

    (summary,) = wait_for(started, "the VAT return to start on the monthly client")
    instance = running(_office_of(http), summary["id"])
    last_month = Period.before(_today(), "month")
    assert instance["variables"]["period"] == str(last_month)
    assert instance["variables"]["period_end"] == last_month.end.isoformat()
    # Preparing, and the documents were asked for on the client page.
    assert sorted(instance["positions"]) == ["ask", "prepare"]
    # Studio Noord's own Administratie member (api/demo.py CLIENT_MEMBERS).
    assert instance["tasks"][0]["candidates"] == ["dirk@demo.example"]
    with backend.runtime.db.read() as session:
        subjects = session.scalars(
            sa.select(m.Outbox.subject).where(m.Outbox.instance_id == uuid.UUID(instance["id"]))
        ).all()
    assert subjects == [f"Documents for your VAT return {last_month}"]


def _office_of(http: httpx.Client) -> Office:
    """Enough of an Office for the helpers that only read with its client."""
    return Office("demo", None, "", "", "", http)


def test_a_plan_starts_its_run_and_plans_the_next(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    due = client(acme, "C-1", ["Aangifte BTW"])
    starts_on = _today() - dt.timedelta(days=1)  # 08:00 yesterday: due now
    plan = ok(
        acme.http.put(
            f"/flows/vat-period/plans/{due['id']}",
            json={"starts_on": starts_on.isoformat(), "every": "month", "period": "2026-10"},
        )
    )
    assert (plan["every"], plan["next_period"]) == ("month", "2026-10")

    def moved() -> dict[str, Any] | None:
        (listed,) = ok(acme.http.get("/flows/vat-period/plans"))
        return listed if listed["next_period"] == "2026-11" else None

    after = wait_for(moved, "the plan to start its run and move on")
    assert after["next_on"] == (starts_on + relativedelta(months=1)).isoformat()
    instance = running(acme, after["last_instance_id"])
    assert instance["variables"]["period"] == "2026-10"
    assert instance["started_by"] == "plan"
    assert after["last_error"] is None
    # The next run is planned for 08:00 on its date, Amsterdam time.
    next_at = dt.datetime.fromisoformat(after["next_run_at"]).astimezone(AMSTERDAM)
    assert (next_at.date().isoformat(), next_at.hour) == (after["next_on"], 8)


def test_a_bulk_start_moves_the_plan_past_its_period(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", ["Aangifte BTW"])
    plan = ok(
        acme.http.put(
            f"/flows/vat-period/plans/{one['id']}",
            json={"starts_on": "2099-01-01", "every": "quarter"},
        )
    )
    # Without a period: the last whole quarter before the start date.
    assert (plan["next_on"], plan["next_period"]) == ("2099-01-01", "2098-Q4")
    report = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [one["id"]], "period": "2098-Q4"},
        )
    )
    (moved,) = ok(acme.http.get("/flows/vat-period/plans"))
    assert (moved["next_on"], moved["next_period"]) == ("2099-04-01", "2099-Q1")
    assert moved["last_instance_id"] == report["started"][0]["instance_id"]
    # A month's run is other work than the quarter's: the plan stands.
    ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [one["id"]], "period": "2099-01"},
        )
    )
    assert ok(acme.http.get("/flows/vat-period/plans"))[0]["next_period"] == "2099-Q1"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"starts_on": "2099-01-01", "every": "quarter", "period": "2098-12"}, 422, "a month"),
        ({"starts_on": "2099-01-01", "period": "Q4"}, 422, "is not a period"),
        ({"starts_on": "2099-13-01"}, 400, ""),
        ({"starts_on": "2099-01-01", "every": "week"}, 400, ""),
    ],
)
def test_a_plan_refuses_what_cannot_be_planned(
    backend: Backend, base_url: str, body: dict[str, Any], status: int, words: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", [])
    refused = acme.http.put(f"/flows/vat-period/plans/{one['id']}", json=body)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["detail"]
    assert ok(acme.http.get("/flows/vat-period/plans")) == []


def test_a_plan_once_runs_once_and_can_be_removed(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    publish(acme, period_flow())
    one = client(acme, "C-1", [])
    yesterday = (_today() - dt.timedelta(days=1)).isoformat()
    ok(
        acme.http.put(
            f"/flows/vat-period/plans/{one['id']}",
            json={"starts_on": yesterday, "period": "2026-12"},
        )
    )

    def done() -> dict[str, Any] | None:
        (listed,) = ok(acme.http.get("/flows/vat-period/plans"))
        return listed if listed["next_run_at"] is None else None

    ran = wait_for(done, "the plan's one run")
    assert (ran["every"], ran["next_on"], ran["next_period"]) == (None, None, None)
    assert running(acme, ran["last_instance_id"])["variables"]["period"] == "2026-12"
    assert acme.http.delete(f"/flows/vat-period/plans/{one['id']}").status_code == 204
    assert acme.http.delete(f"/flows/vat-period/plans/{one['id']}").status_code == 404


def test_a_flow_starts_when_a_client_with_the_product_is_created(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    has_vat = {
        "kind": "compare",
        "field": "subject.products",
        "op": "contains",
        "value": {"type": "string", "value": "Aangifte BTW"},
    }
    flow = minimal_flow(
        key="vat-intake",
        subject_type="client",
        trigger={"kind": "event", "event": "subject.created", "when": has_vat},
    )
    publish(acme, flow)
    with_vat = client(acme, "C-1", ["Aangifte BTW"])
    without = client(acme, "C-2", ["Jaarrekening"])

    def started() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = ok(acme.http.get("/instances", params={"flow": "vat-intake"}))
        return found

    (instance,) = wait_for(started, "the intake flow to start for the new VAT client")
    assert instance["subject_id"] == with_vat["id"]
    assert running(acme, instance["id"])["started_by"] == "event subject.created"
    # The other client was created too, and a change later is no creation.
    ok(
        acme.http.patch(
            f"/subjects/{without['id']}", json={"fields": {"products": ["Aangifte BTW"]}}
        )
    )
    time.sleep(1)
    assert [i["id"] for i in started()] == [instance["id"]]
