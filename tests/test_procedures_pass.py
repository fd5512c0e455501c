"""The scheduler starts procedures (P5): a debtor whose invoice falls overdue gets the
default primary procedure on the next pass, once; a paid-up debtor gets none."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from procedo.api import accounts
from procedo.db import models as m
from procedo.db.procedures import Procedure
from procedo.runtime import setup
from procedo.runtime.local import LocalRunner
from procedo.worker.scheduler import Scheduler
from tests.conftest import EXAMPLES
from tests.receivables_helpers import add_open_items


def _started(runner: LocalRunner) -> list[tuple[str, str]]:
    with runner.rt.db.read() as session:
        rows = session.execute(
            sa.select(m.Subject.key, m.Flow.key)
            .join(m.Instance, m.Instance.subject_id == m.Subject.id)
            .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        )
        return sorted((row[0], row[1]) for row in rows)


def test_the_scheduler_starts_the_primary_procedure_once_a_debtor_is_overdue() -> None:
    runner = LocalRunner(start=dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC))
    rt = runner.rt
    tenant = accounts.create_tenant(rt, "Pass Office", "admin@pass.example").tenant.id
    setup.publish(rt, tenant, (EXAMPLES / "collection-worksheet.json").read_bytes(), "test")
    with rt.transaction() as (session, _):
        session.add(
            Procedure(
                tenant_id=tenant, flow_key="collection-worksheet", kind="primary", is_default=True
            )
        )
    late = setup.upsert_subject(
        rt, tenant, "debtor", "LATE", {"name": "Late", "email": "a@late.example"}
    )
    setup.upsert_subject(rt, tenant, "debtor", "PAID", {"name": "Paid"})
    add_open_items(rt, tenant, late.id, [("L-1", dt.date(2026, 1, 6), "50.00")])
    scheduler = Scheduler(rt, fact_pass_every=0)

    scheduler.tick()
    assert _started(runner) == []  # due tomorrow: not in procedure yet
    runner.advance(dt.timedelta(days=2))
    scheduler.tick()
    scheduler.tick()
    assert _started(runner) == [("LATE", "collection-worksheet")]
