"""The journey distributed: an API process, workers and a scheduler on PostgreSQL + Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from procedo.api import accounts
from procedo.settings import Settings
from procedo.worker.process import build_runtime
from tests.api_helpers import serving
from tests.cluster import Cluster, wait_until
from tests.conftest import dumps
from tests.test_api_journey import review_flow
from tests.test_partner_grants import PAID_GRANT, payable_flow

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def cluster(postgres_db: str, redis_url: str) -> Iterator[Cluster]:
    running = Cluster({"PROCEDO_DATABASE_URL": postgres_db, "PROCEDO_BROKER_URL": redis_url})
    yield running
    running.stop()


def _api(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def test_the_journey_with_separate_processes(cluster: Cluster) -> None:
    settings = Settings(
        data_dir=".",  # type: ignore[arg-type]
        database_url=cluster.env["PROCEDO_DATABASE_URL"],
        broker_url=cluster.env["PROCEDO_BROKER_URL"],
    )
    rt, _actors = build_runtime(settings)
    rt.db.create_all()
    acme = accounts.create_tenant(rt, "Acme Office", "admin@acme.example")
    partner = accounts.create_tenant(rt, "Admin Office", "admin@admin.example")
    other = accounts.create_tenant(rt, "Beta Office", "admin@beta.example")
    cluster.start_worker(threads=2)
    cluster.start_scheduler()
    # Two API processes on one port: any request may reach either.
    with serving({**os.environ, **cluster.env}, "--workers", "2") as (url, lines):
        assert any("distributed" in line for line in lines)
        a, p, b = _api(url, acme.token), _api(url, partner.token), _api(url, other.token)
        flow = review_flow()
        flow["trigger"] = {"kind": "event", "event": "invoice.received"}
        _ok(a.post("/flows/import", content=dumps(flow), headers=JSON), 201)
        _ok(a.post("/flows/review/publish"), 201)
        # Accountant is one of the standard roles every tenant starts with (K1).
        _ok(a.post("/roles/Accountant/members", json={"email": "admin@acme.example"}), 201)
        subject = _ok(a.post("/subjects", json={"type": "invoice", "key": "INV-9"}), 201)

        # The event goes through Redis to a worker process, which starts the flow.
        _ok(a.post(f"/subjects/{subject['id']}/events", json={"name": "invoice.received"}), 202)
        wait_until(
            lambda: bool(a.get("/tasks", params={"scope": "roles"}).json()), 30, "the review task"
        )
        (task,) = a.get("/tasks", params={"scope": "roles"}).json()
        _ok(a.post(f"/tasks/{task['id']}/complete", json={"outcome": "approve"}))
        instance = _ok(a.get(f"/instances/{task['instance_id']}"))
        assert instance["positions"] == ["pay"]
        moved = a.post(
            f"/instances/{instance['id']}/move",
            json={"to_node": "review", "reason": "wrong amount"},
        )
        assert _ok(moved)["positions"] == ["review"]
        history = _ok(a.get(f"/instances/{instance['id']}/history"))
        assert any(row["reason"] == "wrong amount" for row in history)

        exported = a.get("/flows/review/export", params={"version": 1}).content
        _ok(b.post("/flows/import", content=exported, headers=JSON), 201)
        assert b.get("/flows/review/export").content == exported

        # A payable invoice, shared with the administration office, which sets it paid.
        _ok(a.post("/flows/import", content=dumps(payable_flow()), headers=JSON), 201)
        _ok(a.post("/flows/pay/publish"), 201)
        payable = _ok(a.post("/subjects", json={"type": "invoice", "key": "INV-10"}), 201)
        shared = _ok(a.post("/instances", json={"flow": "pay", "subject_id": payable["id"]}), 201)
        grant = {"partner": "admin-office", "flows": ["pay"], **PAID_GRANT}
        _ok(a.post("/partnerships", json=grant), 201)
        _ok(p.post(f"/shared/{shared['id']}/status", json={"status": "paid"}))
        assert _ok(a.get(f"/subjects/{payable['id']}"))["status"] == "paid"
        # The status change is an event for the waiting instance: the workers handle it.
        wait_until(
            lambda: (
                _ok(a.get(f"/instances/{shared['id']}"))["status"] == "completed"
                and any(
                    row["kind"] == "partner_status_set"
                    for row in _ok(a.get(f"/instances/{shared['id']}/history"))
                )
            ),
            30,
            "the partner's change in the history",
        )
    rt.db.dispose()
