"""Which debtors ``reconcile`` starts a procedure for (P5), asked of the database: a
primary once per overdue episode (one that ended in this episode is not started again,
one from an earlier episode is; the start's date in the tenant's time zone), in
priority order; a secondary while none of it runs. And what a pass reads does not grow
with the debtors who wait in their procedure."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from procedo.api import accounts
from procedo.db import models as m
from procedo.db.procedures import Procedure
from procedo.db.receivables import OpenItem
from procedo.procedures.assign import reconcile
from procedo.runtime import setup
from procedo.runtime.context import Runtime
from procedo.runtime.local import LocalRunner
from tests.conftest import EXAMPLES

NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)  # 09:00 in Amsterdam, the tenant's zone
DUE = dt.date(2026, 3, 5)  # the leading invoice's due date: overdue since 6 March
WORKSHEET, STEPS, DISPUTE = "collection-worksheet", "collection-step-by-step", "dispute-procedure"


def _rule(field: str, op: str, kind: str, value: str) -> dict[str, Any]:
    return {"kind": "compare", "field": field, "op": op, "value": {"type": kind, "value": value}}


def _office(db_url: str) -> tuple[Runtime, uuid.UUID, dict[str, uuid.UUID]]:
    """A tenant with the worksheet as default primary, the step-by-step procedure for
    debtors marked "step", the dispute procedure as secondary; its flows' version ids."""
    rt = LocalRunner(db_url, start=NOW).rt
    tenant = accounts.create_tenant(rt, "Reconcile Office", "admin@reconcile.example").tenant.id
    versions = {
        key: setup.publish(rt, tenant, (EXAMPLES / f"{key}.json").read_bytes(), "test").id
        for key in (WORKSHEET, STEPS, DISPUTE)
    }
    step = _rule("subject.custom_1", "=", "string", "step")
    disputed = _rule("subject.disputed_invoices", ">", "decimal", "0")
    with rt.transaction() as (session, _):
        session.add_all(
            [
                Procedure(tenant_id=tenant, flow_key=WORKSHEET, kind="primary", is_default=True),
                Procedure(tenant_id=tenant, flow_key=STEPS, kind="primary", priority=10, rule=step),
                Procedure(tenant_id=tenant, flow_key=DISPUTE, kind="secondary", rule=disputed),
            ]
        )
    return rt, tenant, versions


def _debtor(
    rt: Runtime,
    tenant: uuid.UUID,
    versions: dict[str, uuid.UUID],
    key: str,
    items: list[tuple[dt.date, str]],
    instances: Sequence[tuple[str, str, dt.datetime]] = (),
    custom: str = "",
) -> uuid.UUID:
    """A debtor with open items (due date, status) and instances (flow, status, started)
    as earlier passes left them."""
    fields = {"name": key, "custom_1": custom, "sales_rep_email": "rep@reconcile.example"}
    subject = setup.upsert_subject(rt, tenant, "debtor", key, fields)
    with rt.db.transaction() as session:
        for n, (due, status) in enumerate(items):
            session.add(
                OpenItem(
                    tenant_id=tenant,
                    debtor_id=subject.id,
                    number=f"{key}-{n}",
                    issue_date=due - dt.timedelta(days=30),
                    due_date=due,
                    amount=Decimal("100.00"),
                    open_amount=Decimal("100.00"),
                    status=status,
                )
            )
        for flow, status, started in instances:
            session.add(
                m.Instance(
                    tenant_id=tenant,
                    flow_version_id=versions[flow],
                    subject_id=subject.id,
                    status=status,
                    started_at=started,
                    updated_at=started,
                )
            )
    return subject.id


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def test_a_primary_once_per_overdue_episode_by_the_tenants_date(db_url: str) -> None:
    rt, tenant, versions = _office(db_url)
    overdue = [(DUE, "open"), (dt.date(2026, 3, 25), "open")]
    cases: dict[str, tuple[list[tuple[str, str, dt.datetime]], str, list[str]]] = {
        "NEW": ([], "", [WORKSHEET]),
        "STEP": ([], "step", [STEPS]),  # the first primary whose rule holds
        "RUNNING": ([(WORKSHEET, "running", _at(6, 8))], "", []),
        "PENDING": ([(STEPS, "pending", _at(9, 8))], "", []),  # any primary counts
        # Ended at 00:30 on 6 March in Amsterdam (5 March in UTC): this episode.
        "ENDED": ([(WORKSHEET, "completed", _at(5, 23, 30))], "", []),
        # Ended, started at 00:30 on 5 March, the due date: an earlier episode.
        "EARLIER": ([(WORKSHEET, "completed", _at(4, 23, 30))], "", [WORKSHEET]),
        # The last primary counts: the one of this episode, after an earlier one.
        "TWICE": (
            [(STEPS, "completed", _at(1, 8)), (WORKSHEET, "cancelled", _at(7, 8))],
            "",
            [],
        ),
        "SECONDARY": ([(DISPUTE, "running", _at(7, 8))], "", [WORKSHEET]),  # not a primary
    }
    ids = {
        _debtor(rt, tenant, versions, key, overdue, instances, custom): key
        for key, (instances, custom, _) in cases.items()
    }
    later = [(dt.date(2026, 3, 20), "open")]
    ids[_debtor(rt, tenant, versions, "NOT-YET", later)] = "NOT-YET"  # nothing overdue
    # In dispute only: the dispute procedure (the disputed invoice leads no D.I.P.).
    disputed = [(DUE, "dispute")]
    ids[_debtor(rt, tenant, versions, "DISPUTED", disputed)] = "DISPUTED"
    running = [(DISPUTE, "running", _at(8, 8))]
    ids[_debtor(rt, tenant, versions, "DISPUTING", disputed, running)] = "DISPUTING"
    expected = sorted(
        [(key, flow) for key, (_, _, flows) in cases.items() for flow in flows]
        + [("DISPUTED", DISPUTE)]
    )
    by_key = {key: subject_id for subject_id, key in ids.items()}

    some = reconcile(rt, tenant, [by_key["NEW"], by_key["RUNNING"], by_key["DISPUTING"]])
    assert [(ids[s], flow) for s, flow in some.started] == [("NEW", WORKSHEET)]
    rest = reconcile(rt, tenant)
    assert sorted([("NEW", WORKSHEET)] + [(ids[s], f) for s, f in rest.started]) == expected
    assert reconcile(rt, tenant).started == []  # started once


@contextmanager
def _selects(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _rows_read(rt: Runtime, tenant: uuid.UUID) -> int:
    """The rows a pass that starts nothing reads: its queries run again and counted."""
    with _selects(rt.db.engine) as seen:
        assert reconcile(rt, tenant).started == []
    with rt.db.engine.connect() as connection:
        return sum(len(connection.exec_driver_sql(s, p).fetchall()) for s, p in seen)


def test_a_pass_reads_what_it_starts_not_every_debtor_in_procedure(db_url: str) -> None:
    rt, tenant, versions = _office(db_url)
    overdue = [(DUE, "open")]

    def waiting(count: int, start: int) -> None:
        for n in range(start, start + count):
            running = [(WORKSHEET, "running", _at(6, 8))]
            _debtor(rt, tenant, versions, f"W{n}", overdue, running)

    waiting(3, 0)
    _rows_read(rt, tenant)  # the caches filled (subject types, calendar)
    few = _rows_read(rt, tenant)
    waiting(30, 3)
    assert _rows_read(rt, tenant) == few < 30
