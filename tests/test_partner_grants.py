"""E7: a grant names what a partner may set, from which states, and which fields it sees.

On the invoice-approval flow an approved invoice is `payable` and waits for
`paid`; the administration office may set `paid` from `payable` and nothing
else: not on a rejected or a paid (completed) invoice, not while the approval
task is open, not once the instance has ended, and it sees only granted fields.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.api import partners
from procedo.api.partners import StatusGrant
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.runtime import admin, setup
from procedo.runtime.context import NotFound, Refusal
from tests.api_helpers import office, ok
from tests.conftest import EXAMPLES, minimal_flow
from tests.runtime_helpers import GOOD_INVOICE, World, make_world

PAID_FROM_PAYABLE = [StatusGrant("paid", ("payable",))]
SHOWN = ["invoice_number", "payable_amount", "supplier.name"]
# The grant body the API takes for "the partner may set paid on payable invoices".
PAID_GRANT: dict[str, Any] = {
    "statuses": [{"status": "paid", "from": ["payable"]}],
    "fields": ["invoice_number"],
}


def payable_flow() -> dict[str, Any]:
    """start -> mark payable -> wait until paid -> end: what a partner may act on."""
    return minimal_flow(
        key="pay",
        name="Pay",
        nodes=[
            {"id": "start", "type": "start"},
            {"id": "payable", "type": "status_change", "params": {"status": "payable"}},
            {
                "id": "wait_paid",
                "type": "wait",
                "params": {
                    "until": {
                        "mode": "condition",
                        "when": {
                            "kind": "compare",
                            "field": "subject.status",
                            "op": "=",
                            "value": {"type": "string", "value": "paid"},
                        },
                    }
                },
            },
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "payable"},
            {"id": "e2", "source": "payable", "source_port": "next", "target": "wait_paid"},
            {"id": "e3", "source": "wait_paid", "source_port": "next", "target": "end"},
        ],
    )


@pytest.fixture
def world(db_url: str) -> World:
    made = make_world(db_url)
    made.publish("invoice-approval")
    setup.create_tenant(made.rt, "Administration Office", "office")
    return made


def office_id(world: World) -> uuid.UUID:
    with world.rt.db.read() as session:
        found: uuid.UUID | None = session.scalar(
            sa.select(m.Tenant.id).where(m.Tenant.slug == "office")
        )
    assert found is not None
    return found


def invoice(world: World, key: str, **changes: Any) -> uuid.UUID:
    """An invoice received: its approval flow runs to its first wait. Returns the instance."""
    fields = {**GOOD_INVOICE, "invoice_number": key, **changes}
    subject = world.subject("invoice", key, fields, status="received")  # as ingested
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    world.runner.drain()
    return instance.id


def approve(world: World, instance_id: uuid.UUID) -> None:
    (task,) = world.open_tasks(instance_id)
    admin.complete_task(world.rt, world.tenant, task.id, "approve", actor="carla")
    world.runner.drain()


def status_of(world: World, instance_id: uuid.UUID) -> str:
    return world.subject_row(world.instance(instance_id).subject_id).status


def test_paid_only_from_payable_and_shared_only_when_payable(world: World) -> None:
    partners.grant(
        world.rt, world.tenant, "office", ["invoice-approval"], PAID_FROM_PAYABLE, SHOWN, "admin"
    )
    partner = office_id(world)
    payable = invoice(world, "INV-PAYABLE")
    approve(world, payable)
    waiting = invoice(world, "INV-OPEN")  # its approval task is still open
    rejected = invoice(world, "INV-REJECTED", order_reference="")
    paid = invoice(world, "INV-PAID")
    approve(world, paid)
    partners.set_status(world.rt, partner, paid, "paid", "office@office.example")
    world.runner.drain()
    assert world.instance(paid).status == "completed"
    assert [status_of(world, i) for i in (payable, waiting, rejected)] == [
        "payable",
        "received",
        "rejected",
    ]

    # Only the payable invoice is listed, with only the granted fields.
    (shared,) = partners.shared_instances(world.rt, partner)
    assert shared.instance.id == payable
    assert shared.statuses == ["paid"]
    assert shared.fields == {
        "invoice_number": "INV-PAYABLE",
        "payable_amount": "1200.00",
        "supplier": {"name": "Acme"},
    }

    for not_payable in (waiting, rejected, paid):
        before = status_of(world, not_payable)
        with pytest.raises(Refusal, match="not in a state your grant applies to"):
            partners.set_status(world.rt, partner, not_payable, "paid", "office@office.example")
        assert status_of(world, not_payable) == before
    with pytest.raises(Refusal, match="'rejected' is not yours to set"):
        partners.set_status(world.rt, partner, payable, "rejected", "office@office.example")

    partners.set_status(world.rt, partner, payable, "paid", "office@office.example")
    world.runner.drain()
    assert status_of(world, payable) == "paid"
    assert world.instance(payable).status == "completed"
    assert partners.shared_instances(world.rt, partner) == []


def test_an_ended_instance_is_not_shared_even_if_its_subject_is_payable(world: World) -> None:
    partners.grant(
        world.rt, world.tenant, "office", ["invoice-approval"], PAID_FROM_PAYABLE, [], "admin"
    )
    partner = office_id(world)
    cancelled = invoice(world, "INV-CANCELLED")
    approve(world, cancelled)
    admin.cancel(world.rt, world.tenant, cancelled, "paid by hand", "admin")
    assert status_of(world, cancelled) == "payable"
    assert partners.shared_instances(world.rt, partner) == []
    with pytest.raises(Refusal, match="not in a state"):
        partners.set_status(world.rt, partner, cancelled, "paid", "office@office.example")


def test_a_payable_invoice_moved_back_to_approval_is_not_the_partners(world: World) -> None:
    partners.grant(
        world.rt, world.tenant, "office", ["invoice-approval"], PAID_FROM_PAYABLE, [], "admin"
    )
    partner = office_id(world)
    instance = invoice(world, "INV-AGAIN")
    approve(world, instance)
    admin.move(world.rt, world.tenant, instance, "approve_acc", "wrong amount", "admin")
    assert status_of(world, instance) == "payable"  # a move keeps the status; a task is open
    assert partners.shared_instances(world.rt, partner) == []
    with pytest.raises(Refusal, match="none of its tasks is open"):
        partners.set_status(world.rt, partner, instance, "paid", "office@office.example")


def test_a_grant_names_known_statuses_and_fields(world: World) -> None:
    with pytest.raises(Refusal, match=r"statuses\[0\]\.from: 'payed' is not a status of invoice"):
        partners.grant(
            world.rt,
            world.tenant,
            "office",
            ["invoice-approval"],
            [StatusGrant("paid", ("payed",))],
            [],
            "admin",
        )
    with pytest.raises(Refusal, match=r"fields\[1\]: invoice has no field 'supplier.iban'"):
        partners.grant(
            world.rt,
            world.tenant,
            "office",
            ["invoice-approval"],
            PAID_FROM_PAYABLE,
            ["invoice_number", "supplier.iban"],
            "admin",
        )
    with world.rt.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Partnership)) == 0


def test_another_tenants_instance_is_not_found(world: World) -> None:
    partners.grant(
        world.rt, world.tenant, "office", ["invoice-approval"], PAID_FROM_PAYABLE, [], "admin"
    )
    stranger = setup.create_tenant(world.rt, "Stranger", "stranger").id
    payable = invoice(world, "INV-1")
    approve(world, payable)
    with pytest.raises(NotFound):
        partners.set_status(world.rt, stranger, payable, "paid", "someone@stranger.example")
    assert partners.shared_instances(world.rt, stranger) == []


def test_the_api_takes_states_and_fields_and_shows_only_those(
    backend: Backend, base_url: str
) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    admin_office = office(rt, base_url, "Admin Office")
    flow = (EXAMPLES / "invoice-approval.json").read_bytes()
    json_type = {"Content-Type": "application/json"}
    ok(acme.http.post("/flows/import", content=flow, headers=json_type), 201)
    ok(acme.http.post("/flows/invoice-approval/publish"), 201)
    subject = setup.upsert_subject(rt, acme.tenant_id, "invoice", "INV-9", GOOD_INVOICE)
    instance = admin.start(rt, acme.tenant_id, "invoice-approval", subject.id, "tester")
    (task,) = ok(acme.http.get(f"/instances/{instance.id}"))["tasks"]
    admin.complete_task(rt, acme.tenant_id, uuid.UUID(task["id"]), "approve", actor="carla")

    old_style = {"partner": admin_office.slug, "flows": ["invoice-approval"], "statuses": ["paid"]}
    refused = acme.http.post("/partnerships", json=old_style)
    assert refused.status_code == 400
    assert "statuses" in refused.text
    body = {
        "partner": admin_office.slug,
        "flows": ["invoice-approval"],
        "statuses": [{"status": "paid", "from": ["payable"]}],
        "fields": ["invoice_number", "supplier.name"],
    }
    grant = ok(acme.http.post("/partnerships", json=body), 201)
    assert (grant["statuses"], grant["fields"]) == (body["statuses"], body["fields"])
    assert [g["id"] for g in ok(acme.http.get("/partnerships"))] == [grant["id"]]

    (shared,) = ok(admin_office.http.get("/shared"))
    assert shared["id"] == str(instance.id)
    assert shared["may_set"] == ["paid"]
    assert shared["subject"] == {
        "id": str(subject.id),
        "type": "invoice",
        "status": "payable",
        "fields": {"invoice_number": "INV-1", "supplier": {"name": "Acme"}},
    }
    done = ok(admin_office.http.post(f"/shared/{instance.id}/status", json={"status": "paid"}))
    assert done["subject"]["status"] == "paid"
    assert done["may_set"] == []
    again = admin_office.http.post(f"/shared/{instance.id}/status", json={"status": "paid"})
    assert again.status_code == 409
    assert "GET /shared" in again.json()["detail"]
