"""A tenant with people and roles, on a LocalRunner, for runtime tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import setup
from procedo.runtime.local import LocalRunner
from tests.conftest import EXAMPLES

PEOPLE = {
    "Management A": "anna@acme.example",
    "Management B": "bram@acme.example",
    "Accountant": "carla@acme.example",
    "Deputy": "dirk@acme.example",
    "Administratie": "eva@acme.example",
    "Fiscaal": "finn@acme.example",
    "Relatiebeheerder": "gert@acme.example",
    "Collections": "hans@acme.example",
    "Dunning approver": "ilse@acme.example",
}

GOOD_INVOICE: dict[str, Any] = {
    "invoice_number": "INV-1",
    "order_reference": "PO-9",
    "payable_amount": "1200.00",
    "currency": "EUR",
    "supplier": {
        "kvk": "11112222",
        "name": "Acme",
        "email": "billing@acme.example",
        "trusted": False,
    },
    "checks": {"period_ok": True, "tax_ok": True, "lines_sum_ok": True, "payable_ok": True},
}


def counter_ids() -> Any:
    numbers = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(numbers)))


@dataclass
class World:
    runner: LocalRunner
    tenant: uuid.UUID

    @property
    def rt(self) -> Any:
        return self.runner.rt

    def publish(self, name: str) -> m.FlowVersion:
        return setup.publish(
            self.rt, self.tenant, (EXAMPLES / f"{name}.json").read_bytes(), "consultant"
        )

    def subject(
        self, type_name: str, key: str, fields: dict[str, Any], status: str = ""
    ) -> m.Subject:
        return setup.upsert_subject(self.rt, self.tenant, type_name, key, fields, status)

    def open_tasks(self, instance_id: uuid.UUID | None = None) -> list[m.Task]:
        with self.rt.db.read() as session:
            query = sa.select(m.Task).where(m.Task.status == "open").order_by(m.Task.created_at)
            if instance_id is not None:
                query = query.where(m.Task.instance_id == instance_id)
            return list(session.scalars(query))

    def instance(self, instance_id: uuid.UUID) -> m.Instance:
        with self.rt.db.read() as session:
            row = session.get(m.Instance, instance_id)
            assert row is not None
            return row

    def subject_row(self, subject_id: uuid.UUID) -> m.Subject:
        with self.rt.db.read() as session:
            row = session.get(m.Subject, subject_id)
            assert row is not None
            return row

    def history(self, instance_id: uuid.UUID) -> list[m.History]:
        with self.rt.db.read() as session:
            return list(
                session.scalars(
                    sa.select(m.History)
                    .where(m.History.instance_id == instance_id)
                    .order_by(m.History.seq)
                )
            )


def make_world(url: str) -> World:
    runner = LocalRunner(url, new_id=counter_ids())
    tenant = setup.create_tenant(runner.rt, "Acme Finance", "acme")
    for role, email in PEOPLE.items():
        setup.add_user(runner.rt, tenant.id, email, role)
        setup.add_member(runner.rt, tenant.id, role, email)
    return World(runner, tenant.id)
