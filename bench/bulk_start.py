"""Bulk start of the monthly VAT return (K6) against single starts, in the same run.

``python -m bench.bulk_start [--clients 10000] [--url sqlite:///...]`` (default: a
SQLite file in a temporary directory). Both sides start the shipped template
(docs/examples/vat-return.json) for the same number of clients, to its first wait
(the preparation task, after the request for documents is queued):

- bulk: one ``bulk.start_bulk`` for every client and period (transactions of 500
  clients: "all started"), then the workers' advance messages handled inline, in
  this one process (workers on several cores share that part);
- single: ``admin.start`` per client, one transaction each, as ``POST /instances``
  does (without the HTTP around it, so the figure flatters the singles).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import admin, bulk, setup, work
from procedo.runtime.local import LocalRunner
from procedo.runtime.periods import Period

FLOW = Path(__file__).resolve().parent.parent / "docs" / "examples" / "vat-return.json"


def _office(runner: LocalRunner, clients: int, prefix: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    rt = runner.rt
    tenant = setup.create_tenant(rt, f"Bench {prefix}", f"bench-{prefix}")
    setup.add_user(rt, tenant.id, "eva@bench.example")
    for role in ("Administratie", "Accountant", "Fiscaal", "Relatiebeheerder"):
        setup.add_member(rt, tenant.id, role, "eva@bench.example")
    setup.publish(rt, tenant.id, FLOW.read_bytes(), "bench")
    fields = {"products": ["Aangifte BTW"], "vat_period": "monthly", "contact": {"name": "X"}}
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant.id,
            "type": "client",
            "key": f"{prefix}-{n}",
            "status": "active",
            "fields": {**fields, "name": f"Client {n}", "email": f"c{n}@client.example"},
            "version": 1,
        }
        for n in range(clients)
    ]
    with rt.db.transaction() as session:
        session.execute(sa.insert(m.Subject), rows)
    return tenant.id, [uuid.UUID(str(row["id"])) for row in rows]


def _waiting(runner: LocalRunner, tenant_id: uuid.UUID) -> int:
    with runner.rt.db.read() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(m.Task)
                .where(m.Task.tenant_id == tenant_id, m.Task.status == "open")
            )
            or 0
        )


def _advance(runner: LocalRunner) -> None:
    """The workers' part: step the new instances (emails stay queued, as for the singles)."""
    queue = runner.dispatcher.queue
    while queue:
        kind, idents = queue.popleft()
        if kind == "advance":
            work.advance(runner.rt, idents)


def run(clients: int, url: str) -> tuple[float, float, float]:
    runner = LocalRunner(url)
    tenant, subjects = _office(runner, clients, "bulk")
    started = time.perf_counter()
    report = bulk.start_bulk(
        runner.rt, tenant, "vat-return-monthly", subjects, Period.parse("2026-11"), "bench"
    )
    created_seconds = time.perf_counter() - started
    _advance(runner)
    bulk_seconds = time.perf_counter() - started
    assert len(report.started) == clients, report.refused[:3]
    assert _waiting(runner, tenant) == clients

    tenant, subjects = _office(runner, clients, "single")
    started = time.perf_counter()
    for subject_id in subjects:
        admin.start(runner.rt, tenant, "vat-return-monthly", subject_id, "bench")
    single_seconds = time.perf_counter() - started
    assert _waiting(runner, tenant) == clients
    return created_seconds, bulk_seconds, single_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        created, bulk_seconds, single_seconds = run(args.clients, url)
    print(
        f"{args.clients:,} clients, monthly VAT return: bulk start {created:.2f} s to all "
        f"started, {bulk_seconds:.1f} s to all at their first task (one process); "
        f"single starts {single_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
