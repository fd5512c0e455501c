"""The embedded mode: the actors on the in-process broker, a scheduler thread, SQLite."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.db.session import Database
from procedo.runtime import admin, setup
from procedo.settings import Settings
from procedo.worker.process import Embedded
from tests.flows import quick_flow
from tests.runtime_helpers import GOOD_INVOICE


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'p.db'}", broker_url=""
    )
    Database(settings.database_url).create_all()
    running = Embedded.start(settings, threads=4, poll=0.05)
    yield running
    running.stop()


def test_flows_run_in_process_with_real_timers(embedded: Embedded) -> None:
    rt = embedded.runtime
    tenant = setup.create_tenant(rt, "Acme", "acme")
    setup.add_user(rt, tenant.id, "carla@acme.example")
    setup.add_member(rt, tenant.id, "Accountant", "carla@acme.example")
    setup.publish(rt, tenant.id, json.dumps(quick_flow()).encode(), "consultant")
    subjects = [
        setup.upsert_subject(
            rt, tenant.id, "invoice", f"INV-{n}", {**GOOD_INVOICE, "invoice_number": f"INV-{n}"}
        )
        for n in range(20)
    ]
    started = admin.start_many(rt, tenant.id, "quick", [s.id for s in subjects], "bulk")

    def reminded() -> bool:
        with rt.db.read() as session:
            count = session.scalar(
                sa.select(sa.func.count()).select_from(m.Task).where(m.Task.reminders >= 1)
            )
        return count == len(started)

    wait_until(reminded)  # waited 1 s, opened the task, 1 s later the reminder
    with rt.db.read() as session:
        tasks = session.scalars(sa.select(m.Task)).all()
    for task in tasks:
        admin.complete_task(rt, tenant.id, task.id, "approve", [], "carla@acme.example")

    def all_done() -> bool:
        with rt.db.read() as session:
            statuses = set(session.scalars(sa.select(m.Instance.status)))
            unsent = session.scalar(
                sa.select(sa.func.count())
                .select_from(m.Outbox)
                .where(m.Outbox.status.in_(("pending", "enqueued", "sending")))
            )
        return statuses == {"completed"} and unsent == 0

    wait_until(all_done)
    with rt.db.read() as session:
        statuses = set(session.scalars(sa.select(m.Subject.status)))
        # No SMTP server is configured for this tenant: each email is a recorded failure.
        failures = session.scalars(
            sa.select(m.History.data).where(m.History.kind == "email_failed")
        ).all()
    assert statuses == {"approved"}
    assert len(failures) == 20 + 20  # 20 reminders, 20 approvals
    assert all("SMTP settings are missing" in f["detail"] for f in failures)
