"""The demo tenant's receivables: the shipped dunning flows select real debtors on their
first run (D6, D7, D8), and skip the others for the reasons their filters state."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.api import demo
from procedo.db import models as m
from procedo.db.receivables import OpenItem, Payment
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.runtime.local import LocalRunner
from procedo.runtime.schedules import run_schedule_now
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays

DEBTOR_FACTS = computed_fields(builtin_subject_types()["debtor"])
# Tuesday 3 March 2026, 10:00 in Amsterdam.
NOW = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def runner(db_url: str) -> Iterator[LocalRunner]:
    runner = LocalRunner(db_url, start=NOW)
    yield runner
    runner.rt.db.dispose()


def _tenant(runner: LocalRunner) -> uuid.UUID:
    with runner.rt.db.read() as session:
        tenant_id = session.scalar(sa.select(m.Tenant.id).where(m.Tenant.slug == demo.DEMO_SLUG))
        assert tenant_id is not None
        return tenant_id


def _debtors(runner: LocalRunner, tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Every demo debtor's stored fields with its facts today, by key."""
    calendar = Calendar(runner.rt.clock.now(), "Europe/Amsterdam", WorkingDays("NL"))
    found: dict[str, dict[str, Any]] = {}
    with runner.rt.db.read() as session:
        subjects = session.scalars(
            sa.select(m.Subject).where(m.Subject.tenant_id == tenant_id, m.Subject.type == "debtor")
        )
        for subject in subjects:
            facts = load_facts(
                session.connection(), DEBTOR_FACTS, subject.id, subject.fields, calendar
            )
            found[subject.key] = {**subject.fields, **facts}
    return found


def _started(runner: LocalRunner, tenant_id: uuid.UUID, flow_key: str) -> set[str]:
    """Run the flow's schedule now; the keys of the debtors it started on."""
    with runner.rt.db.read() as session:
        version_id = session.scalar(
            sa.select(m.FlowVersion.id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow_key)
        )
    assert version_id is not None
    result = run_schedule_now(runner.rt, version_id)
    assert result.error is None
    with runner.rt.db.read() as session:
        keys = session.scalars(
            sa.select(m.Subject.key)
            .join(m.Instance, m.Instance.subject_id == m.Subject.id)
            .where(m.Instance.flow_version_id == version_id, m.Instance.status != "completed")
        )
        return set(keys)


def test_the_demo_has_debtors_with_invoices_notices_and_payments(runner: LocalRunner) -> None:
    started = time.perf_counter()
    demo.ensure_demo(runner.rt)
    took = time.perf_counter() - started
    tenant_id = _tenant(runner)
    debtors = _debtors(runner, tenant_id)
    assert len(debtors) >= 300
    with runner.rt.db.read() as session:
        items = session.scalar(sa.select(sa.func.count()).select_from(OpenItem)) or 0
        payments = session.scalar(sa.select(sa.func.count()).select_from(Payment)) or 0
    assert items > 300
    assert payments > 20
    assert sum(1 for d in debtors.values() if d["dunning_notices"] == 1) > 5
    assert sum(1 for d in debtors.values() if d["dunning_notices"] == 2) > 3
    assert sum(1 for d in debtors.values() if d["problematic"]) > 5
    assert sum(1 for d in debtors.values() if d["paid"]) > 20  # no open invoice left
    # The two debtors the docs name, with the facts they are named for.
    assert debtors["D-1001"]["oldest_overdue_days"] == 9
    assert debtors["D-1002"]["dunning_notices"] == 2
    assert debtors["D-1002"]["debt_amount"] == Decimal("2310.00")
    print(f"demo made in {took:.2f} s")


def test_d6_selects_the_demo_debtors_its_filter_states_and_no_others(runner: LocalRunner) -> None:
    """Not problematic, no notices sent by a workflow, oldest invoice overdue > 6 days."""
    demo.ensure_demo(runner.rt)
    tenant_id = _tenant(runner)
    debtors = _debtors(runner, tenant_id)
    selected = _started(runner, tenant_id, "dunning-level-1")

    def wanted(d: dict[str, Any]) -> bool:
        overdue = d["oldest_overdue_days"]
        return not d["problematic"] and d["dunning_notices"] == 0 and (overdue or 0) > 6

    assert selected == {key for key, d in debtors.items() if wanted(d)}
    assert "D-1001" in selected
    assert len(selected) > 20
    skipped = [d for key, d in debtors.items() if key not in selected]
    # Each reason the filter states keeps some debtors out.
    assert any(d["problematic"] for d in skipped)
    assert any(d["dunning_notices"] > 0 for d in skipped)
    assert any(d["oldest_overdue_days"] is None for d in skipped)  # nothing overdue (or paid)
    assert any(0 < (d["oldest_overdue_days"] or 0) <= 6 for d in skipped)


def test_d7_and_d8_select_demo_debtors_on_their_first_run(runner: LocalRunner) -> None:
    demo.ensure_demo(runner.rt)
    tenant_id = _tenant(runner)
    debtors = _debtors(runner, tenant_id)
    level_2 = _started(runner, tenant_id, "dunning-level-2")
    assert level_2
    assert all(
        debtors[k]["dunning_notices"] == 1 and debtors[k]["days_since_last_dunning"] >= 8
        for k in level_2
    )
    calls = _started(runner, tenant_id, "dunning-phone-call")
    assert "D-1002" in calls
    assert all(Decimal(300) <= debtors[k]["debt_amount"] <= Decimal(4000) for k in calls)


def test_the_demo_is_the_same_every_time(runner: LocalRunner, tmp_path: Path) -> None:
    demo.ensure_demo(runner.rt)
    first = _debtors(runner, _tenant(runner))
    other = LocalRunner(f"sqlite:///{tmp_path / 'again.db'}", start=NOW)
    try:
        demo.ensure_demo(other.rt)
        again = _debtors(other, _tenant(other))
    finally:
        other.rt.db.dispose()
    assert again == first
