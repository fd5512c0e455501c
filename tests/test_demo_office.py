"""The demo tenant as an office (K1, K6): its clients have role members of their own, so
the shipped VAT return, started in bulk on the demo out of the box, goes to the client's
own Administratie member; each demo person's printed login says what they hold."""

from __future__ import annotations

from typing import Any

import httpx

from procedo.api import demo
from procedo.api.server import Backend
from tests.api_helpers import ok
from tests.test_bulk_start import wait_for
from tests.test_recurrence import _demo_admin

VAT = "vat-return-monthly"
PRODUCT = {
    "kind": "compare",
    "field": "subject.products",
    "op": "contains",
    "value": {"type": "string", "value": "Aangifte BTW"},
}


def _open_tasks(http: httpx.Client, instance_id: str) -> list[dict[str, Any]]:
    found: dict[str, Any] = ok(http.get(f"/instances/{instance_id}"))
    return [t for t in found["tasks"] if t["status"] == "open"]


def test_the_demo_vat_return_goes_to_the_clients_own_administratie_member(
    backend: Backend, base_url: str
) -> None:
    http = _demo_admin(backend, base_url)  # makes the demo tenant
    members = {
        (m["email"], (m["subject"] or {}).get("key"))
        for m in ok(http.get("/roles/Administratie/members"))
    }
    # The office's Administratie is Carla; Studio Noord's (C-2001) own is Dirk.
    assert {("carla@demo.example", None), ("dirk@demo.example", "C-2001")} <= members

    # K6 on the demo: the clients with the product, for November; no other setup.
    body = {"filter": PRODUCT, "period": "2026-11"}
    report = ok(http.post(f"/flows/{VAT}/start-bulk", json=body))
    assert [s["key"] for s in report["started"]] == ["C-2001"], report
    instance_id = report["started"][0]["instance_id"]
    (prepare,) = wait_for(lambda: _open_tasks(http, instance_id), "the preparation phase")
    assert prepare["candidates"] == ["dirk@demo.example"]
    assert prepare["title"] == "Prepare VAT return 2026-11 Studio Noord B.V."


def test_the_demo_prints_the_clients_a_person_holds_a_role_for(backend: Backend) -> None:
    made = demo.ensure_demo(backend.runtime)
    (dirk,) = [line for line in made.lines() if "dirk@demo.example" in line]
    assert "roles Salaris; Administratie for Studio Noord B.V." in dirk
