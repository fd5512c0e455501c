"""The distributed setup measured: PostgreSQL, Redis, two worker processes.

- Engine steps per second beside no-op dramatiq messages per second, same broker,
  same number of worker processes and threads.
- Commits per wait state crossed, from pg_stat_database.
- Timers due at once: fire rate, lateness p50/p99, duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from bench.noop_worker import COUNTER, declare
from procedo.db import models as m
from procedo.runtime import admin, setup
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.process import build_runtime

FLOW = Path(__file__).resolve().parent / "invoice_approval.json"
WAIT_FLOW: dict[str, Any] = {
    "format": "procedo.flow/1",
    "key": "bench-wait",
    "name": "Wait, then end",
    "subject_type": "invoice",
    "trigger": {"kind": "manual"},
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "pause",
            "type": "wait",
            "params": {"until": {"mode": "duration", "duration": {"amount": 1, "unit": "days"}}},
        },
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"id": "e1", "source": "start", "source_port": "next", "target": "pause"},
        {"id": "e2", "source": "pause", "source_port": "next", "target": "end"},
    ],
}


@dataclass(frozen=True)
class Throughput:
    engine_steps_per_second: float
    noop_messages_per_second: float
    commits_per_wait_state: float


@dataclass(frozen=True)
class TimerRun:
    timers: int
    fired_per_second: float
    lateness_p50: float
    lateness_p99: float
    duplicates: int
    # Bytes PostgreSQL keeps per waiting instance (instance, position and timer rows with
    # their indexes); a waiting instance costs no worker memory, its state is these rows.
    bytes_per_waiting_instance: float


def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark timed out")
        time.sleep(0.05)


@contextmanager
def bench_schema(postgres_url: str) -> Iterator[str]:
    schema = f"procedo_bench_{os.getpid()}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@contextmanager
def processes(commands: list[list[str]], env: dict[str, str]) -> Iterator[None]:
    running = [
        subprocess.Popen(
            [sys.executable, "-m", *command],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]
    try:
        yield
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait()


# Messages (or instances) handled before the clock starts, on both sides alike: every
# worker process has then imported its code, connected, and (Procedo) compiled the flow.
WARM_UP = 400


def noop_rate(redis_url: str, messages: int, workers: int, threads: int) -> float:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    broker, actor = declare(redis_url)
    command = ["bench.noop_worker", redis_url, str(threads)]
    with processes([command] * workers, {}):
        for _ in range(WARM_UP):
            actor.send()
        wait_for(lambda: int(client.get(COUNTER) or 0) >= WARM_UP, 600)
        started = time.perf_counter()
        for _ in range(messages):
            actor.send()
        wait_for(lambda: int(client.get(COUNTER) or 0) >= WARM_UP + messages, 600)
        seconds = time.perf_counter() - started
    broker.close()
    return messages / seconds


def _commits(runtime: Runtime) -> int:
    with runtime.db.engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return int(
            connection.execute(
                sa.text(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                )
            ).scalar_one()
        )


def _runtime(database_url: str, redis_url: str) -> Runtime:
    settings = Settings(data_dir=Path("."), database_url=database_url, broker_url=redis_url)
    runtime, _actors = build_runtime(settings)
    runtime.db.create_all()
    return runtime


def _subjects(runtime: Runtime, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": i,
            "tenant_id": tenant_id,
            "type": "invoice",
            "key": f"INV-{i}",
            "status": "received",
            "fields": {"payable_amount": "120"},
        }
        for i in ids
    ]
    with runtime.transaction() as (session, _out):
        session.execute(sa.insert(m.Subject), rows)
    return ids


def engine_rate(
    postgres_url: str, redis_url: str, instances: int, workers: int, threads: int
) -> tuple[float, float]:
    """Instances started by the workers per second (each a step from start to its end)."""
    redis.Redis.from_url(redis_url).flushdb()
    with bench_schema(postgres_url) as url:
        runtime = _runtime(url, redis_url)
        tenant = setup.create_tenant(runtime, "Bench", "bench")
        setup.publish(runtime, tenant.id, FLOW.read_bytes(), "bench")
        warm_up = _subjects(runtime, tenant.id, WARM_UP)
        subjects = _subjects(runtime, tenant.id, instances)
        env = {"PROCEDO_DATABASE_URL": url, "PROCEDO_BROKER_URL": redis_url}
        command = ["procedo", "worker", "--threads", str(threads)]

        def completed(count: int) -> Callable[[], bool]:
            def check() -> bool:
                with runtime.db.read() as session:
                    done = session.scalar(
                        sa.select(sa.func.count())
                        .select_from(m.Instance)
                        .where(m.Instance.status == "completed")
                    )
                return done == count

            return check

        with processes([command] * workers, env):
            admin.start_many(runtime, tenant.id, "bench-invoice-approval", warm_up, "bench")
            wait_for(completed(WARM_UP), 600)
            commits_before = _commits(runtime)
            started = time.perf_counter()
            admin.start_many(runtime, tenant.id, "bench-invoice-approval", subjects, "bench")
            wait_for(completed(WARM_UP + instances), 600)
            seconds = time.perf_counter() - started
            time.sleep(1.5)  # PostgreSQL publishes a backend's counters about once a second
            commits = _commits(runtime) - commits_before
        runtime.db.dispose()
    # Each instance crosses one wait state (start -> end); the polling reads commit too.
    return instances / seconds, commits / instances


def throughput(
    postgres_url: str, redis_url: str, instances: int, workers: int = 2, threads: int = 8
) -> Throughput:
    steps, commits = engine_rate(postgres_url, redis_url, instances, workers, threads)
    noop = noop_rate(redis_url, instances, workers, threads)
    return Throughput(steps, noop, commits)


def timers_due_at_once(
    postgres_url: str, redis_url: str, count: int, workers: int = 2, threads: int = 8
) -> TimerRun:
    redis.Redis.from_url(redis_url).flushdb()
    with bench_schema(postgres_url) as url:
        runtime = _runtime(url, redis_url)
        tenant = setup.create_tenant(runtime, "Bench", "bench")
        version = setup.publish(runtime, tenant.id, json.dumps(WAIT_FLOW).encode(), "bench")
        subjects = _subjects(runtime, tenant.id, count)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        instances = [uuid.uuid4() for _ in range(count)]
        tokens = [uuid.uuid4() for _ in range(count)]
        with runtime.transaction() as (session, _out):  # every instance waiting at `pause`
            now = dt.datetime.now(dt.UTC)
            session.execute(
                sa.insert(m.Instance),
                [
                    {
                        "id": i,
                        "tenant_id": tenant.id,
                        "flow_version_id": version.id,
                        "subject_id": s,
                        "status": "running",
                        "version": 1,
                        "variables": {},
                        "started_at": now,
                        "updated_at": now,
                    }
                    for i, s in zip(instances, subjects, strict=True)
                ],
            )
            session.execute(
                sa.insert(m.Token),
                [
                    {
                        "id": t,
                        "tenant_id": tenant.id,
                        "instance_id": i,
                        "node_id": "pause",
                        "entered_at": now,
                    }
                    for i, t in zip(instances, tokens, strict=True)
                ],
            )
            session.execute(
                sa.insert(m.Timer),
                [
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant.id,
                        "instance_id": i,
                        "token_id": t,
                        "purpose": "wake",
                        "due_at": later,
                    }
                    for i, t in zip(instances, tokens, strict=True)
                ],
            )
        with runtime.db.engine.begin() as connection:
            # Fresh bulk-loaded tables: give the planner statistics, as autovacuum would
            # (committed: statistics gathered in a rolled-back transaction are lost).
            connection.execute(sa.text("ANALYZE"))
            waiting_bytes = connection.execute(
                sa.text(
                    "SELECT pg_total_relation_size('instances') + pg_total_relation_size('tokens')"
                    " + pg_total_relation_size('timers')"
                )
            ).scalar_one()
        env = {"PROCEDO_DATABASE_URL": url, "PROCEDO_BROKER_URL": redis_url}
        worker = ["procedo", "worker", "--threads", str(threads)]
        with processes([worker] * workers + [["procedo", "scheduler", "--poll", "0.1"]], env):
            # All of them due at the same moment, once the processes have imported and connected.
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
            with runtime.transaction() as (session, _out):
                session.execute(sa.update(m.Timer).values(due_at=due))

            def done() -> bool:
                with runtime.db.read() as session:
                    return (
                        session.scalar(
                            sa.select(sa.func.count())
                            .select_from(m.Instance)
                            .where(m.Instance.status == "completed")
                        )
                        == count
                    )

            wait_for(done, 1800)
        with runtime.db.read() as session:
            fired = session.execute(
                sa.select(m.History.instance_id, m.History.at).where(
                    m.History.kind == "left", m.History.node_id == "pause"
                )
            ).all()
        runtime.db.dispose()
    late = sorted((at - due).total_seconds() for _instance, at in fired)
    per_instance = len(fired) - len({instance for instance, _at in fired})
    span = max(late) - min(late) if late else 0.0
    return TimerRun(
        timers=count,
        fired_per_second=count / span if span else float(count),
        lateness_p50=statistics.median(late),
        lateness_p99=late[int(len(late) * 0.99) - 1],
        duplicates=per_instance,
        bytes_per_waiting_instance=waiting_bytes / count,
    )


def single_row_commits(postgres_url: str, commits: int) -> float:
    """The ceiling for one-commit-per-step engines: single-row INSERT + COMMIT per second."""
    with bench_schema(postgres_url) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE ceiling (id bigint PRIMARY KEY, note text)"))
        with engine.connect() as connection:
            started = time.perf_counter()
            for n in range(commits):
                connection.execute(sa.text("INSERT INTO ceiling VALUES (:n, 'step')"), {"n": n})
                connection.commit()
            seconds = time.perf_counter() - started
        engine.dispose()
    return commits / seconds
