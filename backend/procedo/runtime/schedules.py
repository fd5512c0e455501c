"""Scheduled flows (D1, K5): at each run, one query selects every subject the filter matches."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from procedo.db import models as m
from procedo.flow.model import ScheduleTrigger
from procedo.rules.sql import to_sql
from procedo.runtime.admin import create_instance
from procedo.runtime.context import Runtime
from procedo.runtime.setup import next_run


def run_due_schedules(rt: Runtime, limit: int = 20) -> int:
    """Start every due scheduled flow on its subjects; returns the instances created."""
    now = rt.clock.now()
    created = 0
    with rt.transaction() as (session, out):
        query = (
            sa.select(m.FlowSchedule)
            .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
            .where(
                m.FlowSchedule.active.is_(True),
                m.FlowVersion.active.is_(True),
                m.FlowSchedule.next_run_at <= now,
            )
            .limit(limit)
        )
        if not rt.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=m.FlowSchedule)
            # A compiled rule is one large expression; PostgreSQL's JIT would spend
            # longer compiling it than running it.
            session.execute(sa.text("SET LOCAL jit = off"))
        for schedule in session.scalars(query).all():
            version = session.get(m.FlowVersion, schedule.flow_version_id)
            tenant = session.get(m.Tenant, schedule.tenant_id)
            assert version is not None
            assert tenant is not None
            trigger = rt.compiled(session, version.id).checked.flow.trigger
            assert isinstance(trigger, ScheduleTrigger)
            subjects = sa.select(m.Subject.id).where(
                m.Subject.tenant_id == version.tenant_id, m.Subject.type == version.subject_type
            )
            if trigger.filter is not None:
                subjects = subjects.where(to_sql(trigger.filter))
            for subject_id in session.scalars(subjects):
                instance = create_instance(
                    rt, session, version, subject_id, version.subject_type, "schedule"
                )
                out.add("advance", instance.id)
                created += 1
            schedule.last_run_at = now
            # A run missed during downtime happens once, then the schedule continues from now.
            schedule.next_run_at = next_run(trigger, now, tenant.timezone)
    return created


def run_now(rt: Runtime, version_id: object, at: dt.datetime | None = None) -> None:
    """Make a scheduled flow due at once ("run now" in the schedules list)."""
    with rt.transaction() as (session, _out):
        session.execute(
            sa.update(m.FlowSchedule)
            .where(m.FlowSchedule.flow_version_id == version_id)
            .values(next_run_at=at or rt.clock.now())
        )
