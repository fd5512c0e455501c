"""Start plans (K5): a flow starts for one client on a date, once or every month or quarter.

A plan names the next run's local date (at PLAN_TIME in the tenant's time zone)
and its period. When a run for a period starts, by the plan, by hand or in
bulk, the plan moves to the following period and date: the next run is planned
as one starts, and a period started in bulk is not started again by the plan.
A plan made without a period takes the last whole period before its date (a
monthly VAT return starting on 1 December is for November).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.starts import StartPlan
from procedo.flow.model import ScheduleTrigger
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.periods import BadPeriod, Period, Rhythm, add_months, of_schedule

log = logging.getLogger("procedo.recurrence")
PLAN_TIME = dt.time(8, 0)  # a planned run starts at 08:00 local: its emails arrive in office hours
RETRY = dt.timedelta(hours=1)  # a plan whose flow cannot start now is tried again after this


@dataclass(frozen=True)
class PlanView:
    flow: str
    subject_id: uuid.UUID
    every: str | None
    next_on: dt.date | None
    next_period: str | None
    next_run_at: dt.datetime | None
    last_instance_id: uuid.UUID | None
    last_error: str | None


def run_at(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, PLAN_TIME, ZoneInfo(timezone)).astimezone(dt.UTC)


def _flow_id(session: Session, tenant_id: uuid.UUID, flow_key: str) -> uuid.UUID:
    flow_id = session.scalar(
        sa.select(m.Flow.id).where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow_key)
    )
    if flow_id is None:
        raise NotFound(f"no flow '{flow_key}' in this tenant")
    return flow_id


def set_plan(
    rt: Runtime,
    tenant_id: uuid.UUID,
    flow_key: str,
    subject_id: uuid.UUID,
    starts_on: dt.date,
    every: Rhythm | None,
    period: Period | None,
    by: str,
) -> PlanView:
    """Make or replace the subject's plan for the flow: the first run on ``starts_on``."""
    if period is not None and every is not None and period.rhythm != every:
        raise BadPeriod(
            f"'{period}' is a {period.rhythm}, but the plan repeats every {every}; "
            f"give a {every} such as {Period.before(starts_on, every)}"
        )
    if period is None and every is not None:
        period = Period.before(starts_on, every)
    with rt.transaction() as (session, _out):
        flow_id = _flow_id(session, tenant_id, flow_key)
        subject = session.get(m.Subject, subject_id)
        if subject is None or subject.tenant_id != tenant_id:
            raise NotFound(f"no subject {subject_id} in this tenant")
        tenant = session.get(m.Tenant, tenant_id)
        assert tenant is not None
        plan = session.scalar(
            sa.select(StartPlan).where(
                StartPlan.flow_id == flow_id, StartPlan.subject_id == subject_id
            )
        )
        if plan is None:
            plan = StartPlan(tenant_id=tenant_id, flow_id=flow_id, subject_id=subject_id)
            session.add(plan)
        plan.every = every
        plan.next_on = starts_on
        plan.next_period = str(period) if period else None
        plan.next_run_at = run_at(starts_on, tenant.timezone)
        plan.last_error = None
        plan.created_by = by
        plan.updated_at = rt.clock.now()
        session.flush()
        return _view(flow_key, plan)


def remove_plan(rt: Runtime, tenant_id: uuid.UUID, flow_key: str, subject_id: uuid.UUID) -> None:
    with rt.transaction() as (session, _out):
        flow_id = _flow_id(session, tenant_id, flow_key)
        gone = session.execute(
            sa.delete(StartPlan).where(
                StartPlan.flow_id == flow_id, StartPlan.subject_id == subject_id
            )
        )
        if gone.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"no start plan of '{flow_key}' for subject {subject_id}")


def list_plans(
    rt: Runtime, tenant_id: uuid.UUID, flow_key: str, limit: int = 100, offset: int = 0
) -> list[PlanView]:
    with rt.db.read() as session:
        flow_id = _flow_id(session, tenant_id, flow_key)
        plans = session.scalars(
            sa.select(StartPlan)
            .where(StartPlan.flow_id == flow_id)
            .order_by(StartPlan.next_run_at, StartPlan.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_view(flow_key, plan) for plan in plans]


def _view(flow_key: str, plan: StartPlan) -> PlanView:
    return PlanView(
        flow_key,
        plan.subject_id,
        plan.every,
        plan.next_on,
        plan.next_period,
        plan.next_run_at,
        plan.last_instance_id,
        plan.last_error,
    )


def plan_after(
    rt: Runtime,
    session: Session,
    flow_id: uuid.UUID,
    subject_ids: Sequence[uuid.UUID],
    period: Period,
    started: dict[uuid.UUID, uuid.UUID] | None = None,
) -> None:
    """Runs for ``period`` started on these subjects: move their plans past it.

    A repeating plan moves to the period after, its date as many months on; a
    plan for one run of that period is done. ``started``: subject -> instance.
    """
    if not subject_ids:
        return
    plans = session.scalars(
        sa.select(StartPlan).where(
            StartPlan.flow_id == flow_id,
            StartPlan.subject_id.in_(list(subject_ids)),
            StartPlan.next_period.is_not(None),
        )
    ).all()
    for plan in plans:
        assert plan.next_period is not None
        planned = Period.parse(plan.next_period)
        if planned.rhythm != period.rhythm or planned > period:
            continue  # a run of another rhythm, or of an earlier period: the plan stands
        if started and plan.subject_id in started:
            plan.last_instance_id = started[plan.subject_id]
        plan.updated_at = rt.clock.now()
        if plan.every is None or plan.next_on is None:
            plan.next_on = plan.next_period = plan.next_run_at = None
            continue
        steps = (period.shift(1).start.year - planned.start.year) * 12 + (
            period.shift(1).start.month - planned.start.month
        )
        timezone, _days = rt.tenant_calendar(session, plan.tenant_id)
        plan.next_on = add_months(plan.next_on, steps)
        plan.next_period = str(period.shift(1))
        plan.next_run_at = run_at(plan.next_on, timezone)
        plan.last_error = None


def run_due_plans(rt: Runtime, limit: int = 2000) -> int:
    """Start the runs whose plans are due: one transaction per flow and period."""
    with rt.transaction() as (session, _out):
        query = (
            sa.select(StartPlan.id, StartPlan.flow_id, StartPlan.next_period)
            .where(StartPlan.next_run_at <= rt.clock.now())
            .order_by(StartPlan.next_run_at)
            .limit(limit)
        )
        due = session.execute(query).all()
    groups: defaultdict[tuple[uuid.UUID, str | None], list[uuid.UUID]] = defaultdict(list)
    for plan_id, flow_id, next_period in due:
        groups[(flow_id, next_period)].append(plan_id)
    started = 0
    for (flow_id, next_period), plan_ids in groups.items():
        try:
            started += _run_group(rt, flow_id, next_period, plan_ids)
        except Exception as exc:  # one flow that cannot start holds up no other
            log.exception("start plans of flow %s failed", flow_id)
            _record_failure(rt, plan_ids, str(exc) or type(exc).__name__)
    return started


def _run_group(
    rt: Runtime, flow_id: uuid.UUID, next_period: str | None, plan_ids: list[uuid.UUID]
) -> int:
    from procedo.runtime.bulk import start_in_session  # bulk imports this module

    with rt.transaction() as (session, out):
        query = sa.select(StartPlan).where(
            StartPlan.id.in_(plan_ids), StartPlan.next_run_at <= rt.clock.now()
        )
        if not rt.db.is_sqlite:  # several schedulers: each due plan goes to one of them
            query = query.with_for_update(skip_locked=True)
        plans = session.scalars(query).all()
        if not plans:
            return 0
        flow_key = session.scalar(sa.select(m.Flow.key).where(m.Flow.id == flow_id))
        version = session.scalar(
            sa.select(m.FlowVersion)
            .where(m.FlowVersion.flow_id == flow_id)
            .order_by(m.FlowVersion.number.desc())
            .limit(1)
        )
        if version is None:
            raise Refusal(f"flow '{flow_key}' has no published version; publish it")
        period = Period.parse(next_period) if next_period else None
        subject_ids = [plan.subject_id for plan in plans]
        report = start_in_session(rt, session, out, version, subject_ids, period, "plan")
        refused = {r.subject_id: r.reason for r in report.refused}
        if period is not None:  # a refused start (the period ran already) moves on as well
            plan_after(rt, session, flow_id, list(refused), period)
        for plan in plans:
            if plan.next_run_at is not None and plan.next_run_at <= rt.clock.now():
                plan.next_on = plan.next_period = plan.next_run_at = None  # its one run
            plan.last_error = refused.get(plan.subject_id)
    return len(report.started)


def _record_failure(rt: Runtime, plan_ids: list[uuid.UUID], error: str) -> None:
    with rt.transaction() as (session, _out):
        session.execute(
            sa.update(StartPlan)
            .where(StartPlan.id.in_(plan_ids))
            .values(last_error=error[:1000], next_run_at=rt.clock.now() + RETRY)
        )


def start_variables(rt: Runtime, session: Session, version: m.FlowVersion) -> dict[str, str]:
    """What a run started without a period knows: a monthly or quarterly scheduled flow
    started by hand or by an event is for the period just ended, as its scheduled run is."""
    if version.trigger_kind != "schedule":
        return {}
    trigger = rt.compiled(session, version.id).checked.flow.trigger
    if not isinstance(trigger, ScheduleTrigger):
        return {}
    timezone = trigger.timezone or rt.tenant_calendar(session, version.tenant_id)[0]
    period = of_schedule(trigger.every, rt.clock.now(), timezone)
    return period.variables() if period else {}
