"""The distributed setup: PostgreSQL, Redis, separate worker and scheduler processes.

These run the real `procedo worker` and `procedo scheduler` commands, kill
workers with SIGKILL at random points, deliver messages twice and flush Redis,
and check that every instance finishes exactly once and every email arrives
with one Message-ID.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import admin, setup
from procedo.runtime.context import Runtime
from procedo.settings import Settings
from procedo.worker.process import build_runtime
from tests.cluster import Cluster, smtp_sink, wait_until
from tests.conftest import minimal_flow, service_missing
from tests.flows import quick_flow
from tests.runtime_helpers import GOOD_INVOICE


@pytest.fixture
def cluster(postgres_db: str, redis_url: str) -> Iterator[Cluster]:
    env = {
        "PROCEDO_DATABASE_URL": postgres_db,
        "PROCEDO_BROKER_URL": redis_url,
        "PROCEDO_SWEEP_GRACE": "2",
        "PROCEDO_SENDING_TIMEOUT": "3",
    }
    running = Cluster(env)
    yield running
    running.stop()


def client_runtime(cluster: Cluster) -> Runtime:
    settings = Settings(
        data_dir=".",  # type: ignore[arg-type]
        database_url=cluster.env["PROCEDO_DATABASE_URL"],
        broker_url=cluster.env["PROCEDO_BROKER_URL"],
    )
    runtime, _actors = build_runtime(settings)
    runtime.db.create_all()
    return runtime


def tenant_with_invoices(
    rt: Runtime, flow: dict[str, Any], count: int, smtp_port: int | None
) -> tuple[Any, list[Any]]:
    tenant = setup.create_tenant(rt, "Acme", "acme")
    if smtp_port is not None:
        with rt.transaction() as (session, _out):
            row = session.get(m.Tenant, tenant.id)
            assert row is not None
            row.smtp = {"host": "127.0.0.1", "port": smtp_port, "sender": "procedo@acme.example"}
    setup.add_user(rt, tenant.id, "carla@acme.example")
    setup.add_member(rt, tenant.id, "Accountant", "carla@acme.example")
    setup.publish(rt, tenant.id, json.dumps(flow).encode(), "consultant")
    subjects = [
        setup.upsert_subject(
            rt, tenant.id, "invoice", f"INV-{n}", {**GOOD_INVOICE, "invoice_number": f"INV-{n}"}
        )
        for n in range(count)
    ]
    return tenant, subjects


def count(rt: Runtime, query: Any) -> int:
    with rt.db.read() as session:
        return int(session.scalar(query) or 0)


def completed_count(rt: Runtime) -> int:
    return count(
        rt,
        sa.select(sa.func.count()).select_from(m.Instance).where(m.Instance.status == "completed"),
    )


def approve_reminded(rt: Runtime, tenant_id: Any, expected: int) -> None:
    """Wait until every task got its reminder, then approve them all."""
    wait_until(lambda: len([t for t in open_tasks(rt) if t.reminders]) == expected, 60, "reminders")
    for task in open_tasks(rt):
        admin.complete_task(rt, tenant_id, task.id, "approve", [], "carla@acme.example")


def open_tasks(rt: Runtime) -> list[m.Task]:
    with rt.db.read() as session:
        return list(session.scalars(sa.select(m.Task).where(m.Task.status == "open")))


def test_journey_with_workers_killed_at_random(cluster: Cluster) -> None:
    controller, sink, port = smtp_sink()
    try:
        rt = client_runtime(cluster)
        batch = 150
        tenant, subjects = tenant_with_invoices(rt, quick_flow(), batch, port)
        for _ in range(2):
            cluster.start_worker()
        cluster.start_scheduler()
        admin.start_many(rt, tenant.id, "quick", [s.id for s in subjects], "bulk")
        rng = random.Random(7)
        completed: set[Any] = set()
        while cluster.kills < 50:
            cluster.kill_random_worker(rng)
            for task in open_tasks(rt)[:10]:
                if task.reminders >= 1 and task.id not in completed:
                    admin.complete_task(rt, tenant.id, task.id, "approve", [], "carla@acme.example")
                    completed.add(task.id)
            wait_until(lambda: True, 0, "")

        def finish() -> bool:
            for task in open_tasks(rt):
                if task.reminders >= 1 and task.id not in completed:
                    admin.complete_task(rt, tenant.id, task.id, "approve", [], "carla@acme.example")
                    completed.add(task.id)
            done = completed_count(rt)
            unsent = count(
                rt,
                sa.select(sa.func.count()).select_from(m.Outbox).where(m.Outbox.status != "sent"),
            )
            return done == batch and unsent == 0

        wait_until(finish, 180, "every instance to complete and every email to be sent")
        with rt.db.read() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(m.Instance)) == batch
            per_instance = Counter(
                session.scalars(
                    sa.select(m.History.instance_id).where(m.History.kind == "instance_completed")
                )
            )
            assert set(per_instance.values()) == {1}
            timers = Counter(session.scalars(sa.select(m.Timer.status)))
            outbox_ids = set(session.scalars(sa.select(m.Outbox.message_id)))
        assert timers["pending"] == timers["enqueued"] == 0
        # Each email (a reminder and an approval per invoice) arrived, known by its Message-ID;
        # a resend after a crash carries the same Message-ID, so receivers can drop it.
        received = {message_id for message_id, _to, _subject in sink.received}
        assert received == outbox_ids
        assert len(outbox_ids) == 2 * batch
        by_id = {(mid, to, subj) for mid, to, subj in sink.received}
        assert len(by_id) == len(outbox_ids), "a Message-ID was reused for another email"
    finally:
        controller.stop()


def test_messages_delivered_twice_change_nothing(cluster: Cluster) -> None:
    rt = client_runtime(cluster)
    tenant, subjects = tenant_with_invoices(rt, quick_flow(), 20, None)
    created = admin.start_many(rt, tenant.id, "quick", [s.id for s in subjects], "bulk")
    rt.dispatcher.send("advance", created)  # every message sent a second time
    cluster.start_worker()
    cluster.start_scheduler()
    wait_until(lambda: len([t for t in open_tasks(rt) if t.reminders]) == 20, 60, "reminders")
    with rt.db.read() as session:
        timer_ids = list(session.scalars(sa.select(m.Timer.id)))
    rt.dispatcher.send("timer", timer_ids)  # fired again after they fired
    approve_reminded(rt, tenant.id, 20)
    wait_until(lambda: completed_count(rt) == 20, 60, "completion")
    with rt.db.read() as session:
        kinds = Counter(session.scalars(sa.select(m.History.kind)))
    assert kinds["instance_completed"] == 20
    assert kinds["task_opened"] == 20
    assert kinds["task_reminded"] == 20


WAIT_FLOW = minimal_flow(
    key="waiting",
    nodes=[
        {"id": "start", "type": "start"},
        {
            "id": "pause",
            "type": "wait",
            "params": {
                "until": {"mode": "duration", "duration": {"amount": 15, "unit": "seconds"}}
            },
        },
        {"id": "end", "type": "end", "params": {"status": "approved"}},
    ],
    edges=[
        {"id": "e1", "source": "start", "source_port": "next", "target": "pause"},
        {"id": "e2", "source": "pause", "source_port": "next", "target": "end"},
    ],
)


def test_flushing_redis_loses_no_timer(cluster: Cluster) -> None:
    """10,000 timers claimed and sent, then Redis is flushed: all fire from the database, once."""
    rt = client_runtime(cluster)
    batch = 10_000
    tenant = setup.create_tenant(rt, "Acme", "acme")
    setup.publish(rt, tenant.id, json.dumps(WAIT_FLOW).encode(), "consultant")
    with rt.transaction() as (session, _out):
        session.execute(
            sa.insert(m.Subject),
            [
                {
                    "id": __import__("uuid").uuid4(),
                    "tenant_id": tenant.id,
                    "type": "invoice",
                    "key": f"INV-{n}",
                    "status": "received",
                    "fields": {},
                }
                for n in range(batch)
            ],
        )
    with rt.db.read() as session:
        ids = list(session.scalars(sa.select(m.Subject.id)))
    admin.start_many(rt, tenant.id, "waiting", ids, "bulk")
    for _ in range(2):
        cluster.start_worker(threads=8)
    wait_until(
        lambda: count(rt, sa.select(sa.func.count()).select_from(m.Timer)) == batch,
        300,
        "every instance to reach its wait",
    )
    cluster.stop(list(cluster.workers))  # workers gone: the messages stay in Redis
    cluster.start_scheduler()
    wait_until(
        lambda: (
            count(
                rt,
                sa.select(sa.func.count()).select_from(m.Timer).where(m.Timer.status == "enqueued"),
            )
            == batch
        ),
        120,
        "the scheduler to claim every timer",
    )
    redis.Redis.from_url(cluster.env["PROCEDO_BROKER_URL"]).flushdb()  # every message lost
    for _ in range(2):
        cluster.start_worker(threads=8)
    wait_until(lambda: completed_count(rt) == batch, 300, "every instance to complete")
    with rt.db.read() as session:
        fired = Counter(
            session.scalars(
                sa.select(m.History.instance_id).where(
                    m.History.kind == "left", m.History.node_id == "pause"
                )
            )
        )
        timers = Counter(session.scalars(sa.select(m.Timer.status)))
    assert len(fired) == batch
    assert set(fired.values()) == {1}
    assert timers == {"fired": batch}


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def test_rabbitmq_works_too(postgres_db: str) -> None:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except pika.exceptions.AMQPError as exc:
        service_missing("RabbitMQ", RABBITMQ_URL, exc)
    cluster = Cluster(
        {
            "PROCEDO_DATABASE_URL": postgres_db,
            "PROCEDO_BROKER_URL": RABBITMQ_URL,
            "PROCEDO_SWEEP_GRACE": "2",
        }
    )
    try:
        rt = client_runtime(cluster)
        tenant, subjects = tenant_with_invoices(rt, quick_flow(), 10, None)
        cluster.start_worker()
        cluster.start_scheduler()
        admin.start_many(rt, tenant.id, "quick", [s.id for s in subjects], "bulk")
        approve_reminded(rt, tenant.id, 10)
        wait_until(lambda: completed_count(rt) == 10, 60, "completion")
    finally:
        cluster.stop()
