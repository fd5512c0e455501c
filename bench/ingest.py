"""Ingest and route UBL invoices: parsed, stored, the approval flow started, first wait reached.

The invoices arrive as an access point delivers them, in batches (``ingest_many``,
100 documents a call); each is stored with its ``invoice.received`` event, and
the invoice-approval flow (docs/examples) routes it to a manager's task. The
clock stops when every invoice waits at its approval task.

- embedded: SQLite, the events handled in-process (``LocalRunner``);
- distributed: PostgreSQL, Redis, two worker processes handle the events.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
import sqlalchemy as sa

from bench.distributed import WARM_UP, bench_schema, processes, wait_for
from procedo.db import models as m
from procedo.runtime import setup
from procedo.runtime.context import Runtime
from procedo.runtime.local import LocalRunner
from procedo.settings import Settings
from procedo.ubl.ingest import ingest_many
from procedo.worker.process import build_runtime

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (ROOT / "tests" / "ubl" / "invoice-kvk-x.xml").read_bytes()
FLOW = ROOT / "docs" / "examples" / "invoice-approval.json"
BATCH = 100


@dataclass(frozen=True)
class IngestRun:
    invoices: int
    embedded_per_second: float
    distributed_per_second: float


def documents(count: int, prefix: str) -> list[bytes]:
    """``count`` invoices like the KvK X sample, each with its own number."""
    return [SAMPLE.replace(b"INV-2026-0042", f"{prefix}-{n}".encode()) for n in range(count)]


def _tenant(rt: Runtime) -> uuid.UUID:
    tenant = setup.create_tenant(rt, "Bench", "bench")
    setup.add_user(rt, tenant.id, "anna@bench.example")
    setup.add_member(rt, tenant.id, "Management A", "anna@bench.example")
    setup.publish(rt, tenant.id, FLOW.read_bytes(), "bench")
    return tenant.id


def _waiting(rt: Runtime) -> int:
    with rt.db.read() as session:
        found = session.scalar(
            sa.select(sa.func.count()).select_from(m.Task).where(m.Task.status == "open")
        )
    return int(found or 0)


def _deliver(
    rt: Runtime, tenant_id: uuid.UUID, docs: list[bytes], after: Callable[[], None]
) -> None:
    for first in range(0, len(docs), BATCH):
        outcomes = ingest_many(rt, tenant_id, docs[first : first + BATCH], "access point")
        refused = [o.error for o in outcomes if o.error is not None]
        if refused:
            raise RuntimeError(f"the benchmark's invoices were refused: {refused[0]}")
        after()


def embedded_rate(count: int, folder: Path) -> float:
    path = folder / "ingest.db"
    path.unlink(missing_ok=True)
    runner = LocalRunner(f"sqlite:///{path}")
    tenant_id = _tenant(runner.rt)
    _deliver(runner.rt, tenant_id, documents(WARM_UP // 4, "W"), runner.drain)
    started = time.perf_counter()
    _deliver(runner.rt, tenant_id, documents(count, "B"), runner.drain)
    seconds = time.perf_counter() - started
    if _waiting(runner.rt) != count + WARM_UP // 4:
        raise RuntimeError("not every invoice reached its approval task")
    runner.rt.db.dispose()
    return count / seconds


def distributed_rate(postgres_url: str, redis_url: str, count: int, workers: int = 2) -> float:
    redis.Redis.from_url(redis_url).flushdb()
    with bench_schema(postgres_url) as url:
        settings = Settings(data_dir=Path("."), database_url=url, broker_url=redis_url)
        rt, _actors = build_runtime(settings)
        rt.db.create_all()
        tenant_id = _tenant(rt)
        env = {"PROCEDO_DATABASE_URL": url, "PROCEDO_BROKER_URL": redis_url}
        command = ["procedo", "worker", "--threads", "8"]
        with processes([command] * workers, env):
            warm = WARM_UP // 4
            _deliver(rt, tenant_id, documents(warm, "W"), lambda: None)
            wait_for(lambda: _waiting(rt) == warm, 600)
            started = time.perf_counter()
            _deliver(rt, tenant_id, documents(count, "B"), lambda: None)
            wait_for(lambda: _waiting(rt) == warm + count, 600)
            seconds = time.perf_counter() - started
        rt.db.dispose()
    return count / seconds


def ingest_runs(
    postgres_url: str, redis_url: str, count: int, runs: int, folder: Path
) -> list[IngestRun]:
    return [
        IngestRun(
            count, embedded_rate(count, folder), distributed_rate(postgres_url, redis_url, count)
        )
        for _ in range(runs)
    ]


if __name__ == "__main__":
    import sys
    import tempfile

    from bench.__main__ import POSTGRES, REDIS

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        results = ingest_runs(POSTGRES, REDIS, total, 1, Path(tmp))
    print(statistics.median(r.embedded_per_second for r in results), "embedded /s")
    print(statistics.median(r.distributed_per_second for r in results), "distributed /s")
