"""Primary and secondary procedures (P5): which procedures run for which debtor.

- **Primary**: a debtor in procedure (an overdue open invoice: its D.I.P. is set) runs
  at most one. It is the first registered primary, in priority order, whose rule holds;
  else the default. A debtor is assigned once per overdue episode: a primary that ended
  (handed over, or stopped when everything was paid) is not started again until a newer
  invoice becomes the leading one.
- **Secondary**: started when its rule holds and no instance of it runs for the debtor
  (an invoice in dispute starts the dispute procedure); the flow's own ``stop_when``
  stops it (the dispute resolved). Any number run beside the primary.

``reconcile`` applies this to a tenant's debtors, or to some of them, in one transaction:
each rule is one query over the debtors' facts (``facts.sql.select_matching``), and the
instances are not read: the query itself leaves out the debtors that have their
procedure (``NOT EXISTS`` a running one; for primaries also the last one's start against
the leading invoice's due date), so a pass reads the debtors it starts, not every
debtor in procedure.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from procedo.db import models as m
from procedo.db.procedures import Procedure
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.sql import LocalDate, select_matching
from procedo.rules.model import Rule
from procedo.runtime.admin import create_instance, current_version, run_start
from procedo.runtime.context import NotFound, Outgoing, Refusal, Runtime

DEBTOR = "debtor"
# A debtor is in procedure while an overdue open invoice leads its D.I.P.
IN_PROCEDURE: Rule = msgspec.convert(
    {"kind": "compare", "field": "subject.procedure_due_date", "op": "is_set"}, Rule
)
ACTOR = "procedures"
log = logging.getLogger(__name__)


@dataclass
class Reconciled:
    started: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def rule_of(row: Procedure) -> Rule | None:
    return msgspec.convert(row.rule, Rule) if row.rule is not None else None


def registered(session: Session, tenant_id: uuid.UUID) -> list[Procedure]:
    """The tenant's procedures: primaries in priority order (the default last), then
    secondaries by key."""
    rows = session.scalars(sa.select(Procedure).where(Procedure.tenant_id == tenant_id)).all()
    return sorted(
        rows,
        key=lambda p: (p.kind != "primary", p.is_default, p.priority, p.flow_key),
    )


_CHUNK = 10_000  # ids per statement
# A condition on a debtor, given its id column in the query that selects debtors.
Condition = Callable[[Any], ColumnElement[bool]]


def _matching(
    session: Session,
    rt: Runtime,
    tenant_id: uuid.UUID,
    rule: Rule,
    calendar: Calendar,
    among: set[uuid.UUID] | None,
    where: Sequence[Condition] = (),
) -> set[uuid.UUID]:
    """The debtors ``rule`` accepts (of ``among`` if given) for which the conditions
    ``where`` hold: one query, or one per chunk of ``among``."""
    subject_type = rt.subject_types(session, tenant_id).get(DEBTOR)
    if subject_type is None:
        return set()
    base = select_matching(rule, computed_fields(subject_type), calendar, tenant_id, DEBTOR)
    debtor = base.selected_columns[0]
    ids = sorted(among) if among is not None else []
    queries = (  # in chunks of ids: within PostgreSQL's limit of 65,535 parameters
        [base.where(debtor.in_(ids[i : i + _CHUNK])) for i in range(0, len(ids), _CHUNK)]
        if among is not None
        else [base]
    )
    found: set[uuid.UUID] = set()
    for query in queries:
        for n, condition in enumerate(where):
            if n:
                # Each condition on the debtors the one before left: OFFSET 0 keeps
                # PostgreSQL from evaluating its subqueries first, for every debtor.
                fenced = query.offset(0).subquery()
                query = sa.select(fenced.c.id)
            query = query.where(condition(query.selected_columns[0]))
        found |= set(session.scalars(query))
    return found


def _of(tenant_id: uuid.UUID, flow_keys: Iterable[str], debtor: Any) -> list[ColumnElement[bool]]:
    """The debtor's instances of these flows (any version)."""
    versions = (
        sa.select(m.FlowVersion.id)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .where(m.Flow.tenant_id == tenant_id, m.Flow.key.in_(sorted(flow_keys)))
    )
    return [
        m.Instance.tenant_id == tenant_id,
        m.Instance.subject_id == debtor,
        m.Instance.flow_version_id.in_(versions),
    ]


def _none_running(tenant_id: uuid.UUID, flow_keys: Iterable[str]) -> Condition:
    return lambda debtor: (
        ~sa.exists().where(
            *_of(tenant_id, flow_keys, debtor), m.Instance.status.in_(("pending", "running"))
        )
    )


def _new_episode(
    tenant_id: uuid.UUID, primary_keys: Iterable[str], calendar: Calendar
) -> Condition:
    """No primary started since the leading invoice fell due: it never had one, or the
    last one started on that due date or before (an earlier episode)."""
    from procedo.db.receivables import OpenItem

    def condition(debtor: Any) -> ColumnElement[bool]:
        last = (
            sa.select(sa.func.max(m.Instance.started_at))
            .where(*_of(tenant_id, primary_keys, debtor))
            .scalar_subquery()
        )
        leading_due = (
            sa.select(sa.func.min(OpenItem.due_date))
            .where(
                OpenItem.tenant_id == tenant_id,
                OpenItem.debtor_id == debtor,
                OpenItem.status.in_(("open", "promise", "payment_plan", "outsourced")),
            )
            .scalar_subquery()
        )
        started_on = LocalDate(last, sa.literal(calendar.timezone, sa.String()))
        # The comparison is NULL without a leading invoice: then no new episode.
        return sa.or_(last.is_(None), sa.func.coalesce(started_on <= leading_due, False))

    return condition


def reconcile(
    rt: Runtime, tenant_id: uuid.UUID, subject_ids: Sequence[uuid.UUID] | None = None
) -> Reconciled:
    """Start the primary and secondary procedures the debtors should run and do not."""
    with rt.transaction() as (session, out):
        return reconcile_in(rt, session, out, tenant_id, subject_ids)


def reconcile_all(rt: Runtime) -> int:
    """``reconcile`` for every tenant with procedures, each in its own transaction (one
    that fails is logged and tried again next time); how many procedures started.
    Run by the scheduler with the fact pass."""
    with rt.db.read() as session:
        tenants = list(session.scalars(sa.select(Procedure.tenant_id).distinct()))
    started = 0
    for tenant_id in tenants:
        try:
            started += len(reconcile(rt, tenant_id).started)
        except Exception:  # the next pass tries again; the other tenants go on
            log.exception("procedures pass for tenant %s failed", tenant_id)
    return started


def reconcile_in(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    tenant_id: uuid.UUID,
    subject_ids: Sequence[uuid.UUID] | None = None,
) -> Reconciled:
    done = Reconciled()
    if session.get_bind().dialect.name == "postgresql":
        # One pass per tenant at a time (schedulers, the API, a status change): the second
        # waits and then sees the first one's instances, so no debtor gets two primaries.
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"procedures:{tenant_id}"},
        )
    procedures = registered(session, tenant_id)
    if not procedures:
        return done
    timezone, days = rt.tenant_calendar(session, tenant_id)
    calendar = Calendar(rt.clock.now(), timezone, days)
    among = set(subject_ids) if subject_ids is not None else None
    primaries = [p for p in procedures if p.kind == "primary"]
    to_start: list[tuple[uuid.UUID, str]] = []
    if primaries:
        keys = {p.flow_key for p in primaries}
        # Only the debtors that need a primary are read: the day's new episodes, not
        # every debtor in procedure (bench/procedures_pass.py); the anti-join first.
        episode = [_none_running(tenant_id, keys), _new_episode(tenant_id, keys, calendar)]
        waiting = _matching(session, rt, tenant_id, IN_PROCEDURE, calendar, among, episode)
        for procedure in primaries:
            if not waiting:
                break
            rule = rule_of(procedure)
            chosen = (
                set(waiting)
                if rule is None
                else _matching(session, rt, tenant_id, rule, calendar, waiting)
            )
            to_start.extend((subject_id, procedure.flow_key) for subject_id in sorted(chosen))
            waiting -= chosen
    for procedure in procedures:
        rule = rule_of(procedure)
        if procedure.kind != "secondary" or rule is None:
            continue
        unstarted = _none_running(tenant_id, [procedure.flow_key])
        matched = _matching(session, rt, tenant_id, rule, calendar, among, [unstarted])
        to_start.extend((subject_id, procedure.flow_key) for subject_id in sorted(matched))
    versions: dict[str, m.FlowVersion] = {}
    for subject_id, flow_key in to_start:
        if flow_key not in versions:
            try:
                versions[flow_key] = current_version(session, tenant_id, flow_key)
            except NotFound as missing:  # a registered flow not published (yet)
                raise Refusal(f"procedure '{flow_key}' has no published version") from missing
        instance = create_instance(rt, session, versions[flow_key], subject_id, DEBTOR, ACTOR)
        run_start(rt, session, out, instance, ACTOR)
        done.started.append((subject_id, flow_key))
    return done
