"""Procedo embedded (SQLite, in-process) on the invoice-approval flow, beside SpiffWorkflow.

The same work as ``spiff_peer``: half the invoices are approved at once (amount
120), half wait for a person (amount 1200) who approves them later. Every wait
state is committed before it is acknowledged. Two ways of driving Procedo:

- ``batched``: how bulk work reaches the workers. Invoices arrive as a batch, the
  starts travel in messages of 50 ids and each message is one transaction; the
  approvals are "approve selected" in the inbox, 50 per transaction.
- ``single``: one transaction per start and per approval, as separate API calls.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.runtime import admin, setup
from procedo.runtime.local import LocalRunner

FLOW = Path(__file__).resolve().parent / "invoice_approval.json"
CHUNK = 50


@dataclass(frozen=True)
class ProcedoResult:
    seconds: float
    instances: int
    approved: int
    via_task: int

    @property
    def per_second(self) -> float:
        return self.instances / self.seconds


def run_procedo(instances: int, db_path: Path, mode: str = "batched") -> ProcedoResult:
    db_path.unlink(missing_ok=True)
    runner = LocalRunner(f"sqlite:///{db_path}")
    rt = runner.rt
    tenant = setup.create_tenant(rt, "Bench", "bench")
    setup.add_user(rt, tenant.id, "carla@bench.example")
    setup.add_member(rt, tenant.id, "Accountant", "carla@bench.example")
    setup.publish(rt, tenant.id, FLOW.read_bytes(), "bench")  # deployment: not timed

    started = time.perf_counter()
    subject_ids = _receive_invoices(runner, tenant.id, instances)
    if mode == "batched":
        admin.start_many(rt, tenant.id, "bench-invoice-approval", subject_ids, "bench")
        runner.drain()
    else:
        for subject_id in subject_ids:
            admin.start(rt, tenant.id, "bench-invoice-approval", subject_id, "bench")
    with rt.db.read() as session:  # the inbox
        task_ids = list(session.scalars(sa.select(m.Task.id).where(m.Task.status == "open")))
    if mode == "batched":
        for first in range(0, len(task_ids), CHUNK):
            items = [(t, "approve", ()) for t in task_ids[first : first + CHUNK]]
            admin.complete_tasks(rt, tenant.id, items, "carla@bench.example")
    else:
        for task_id in task_ids:
            admin.complete_task(rt, tenant.id, task_id, "approve", (), "carla@bench.example")
    runner.drain()
    seconds = time.perf_counter() - started

    with rt.db.read() as session:
        approved = session.scalar(
            sa.select(sa.func.count()).select_from(m.Subject).where(m.Subject.status == "approved")
        )
        completed = session.scalar(
            sa.select(sa.func.count())
            .select_from(m.Instance)
            .where(m.Instance.status == "completed")
        )
    rt.db.dispose()
    result = ProcedoResult(seconds, instances, int(approved or 0), len(task_ids))
    if result.approved != instances or completed != instances or len(task_ids) != instances // 2:
        raise RuntimeError(f"benchmark run went wrong: {result}, completed={completed}")
    return result


def _receive_invoices(runner: LocalRunner, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    """The invoices arrive as one batch (an ingest), like Spiff's start data."""
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": ids[n],
            "tenant_id": tenant_id,
            "type": "invoice",
            "key": f"INV-{n}",
            "status": "received",
            "fields": {"payable_amount": "120" if n % 2 else "1200"},
        }
        for n in range(count)
    ]
    with runner.rt.transaction() as (session, _out):
        insert_rows(session, m.Subject.__table__, rows)  # type: ignore[arg-type]
    return ids


if __name__ == "__main__":
    import sys
    import tempfile

    from bench.spiff_peer import run_spiff

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as folder:
        spiff = run_spiff(count, Path(folder) / "spiff.db")
        for mode in ("batched", "single"):
            procedo = run_procedo(count, Path(folder) / f"procedo-{mode}.db", mode)
            print(
                f"{mode:8} procedo {procedo.per_second:7.0f}/s  spiff {spiff.per_second:7.0f}/s  "
                f"ratio {procedo.per_second / spiff.per_second:.2f}"
            )
