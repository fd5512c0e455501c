"""Scheduled flows (D1, K5): at each run, one query selects every subject the filter matches.

The filter reads the subject type's computed facts (a debtor's dunning notices, debt,
oldest overdue days ...) as SQL computes them from its open items and history
(facts/sql.py ``select_matching``), today in the tenant's time zone; a condition in
the flow then sees the same values (runtime/fact_waits.py).

Each due schedule runs in a transaction of its own. One that fails (a filter
that cannot become SQL or a time zone that does not exist, in a version stored
before validation refused them; the database refusing the query) is rolled
back alone: the error is recorded on the schedule for its tenant to see
(GET /schedules) and it is tried again after a pause that doubles with each
failure in a row. So a broken schedule neither runs several times a second nor
holds up another tenant's.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.db.schedule_runs import ScheduleAct, ScheduleRun, ScheduleRunSubject
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.sql import room_for_selection, select_matching
from procedo.flow.model import ScheduleTrigger
from procedo.ids import new_id
from procedo.runtime.bulk import OPEN_STATES, start_in_session
from procedo.runtime.context import NotFound, Outgoing, Runtime, send_batched, working_days_of
from procedo.runtime.periods import of_schedule
from procedo.runtime.setup import next_run

log = logging.getLogger("procedo.schedules")

RETRY_FIRST = dt.timedelta(minutes=1)
RETRY_MOST = dt.timedelta(hours=1)
ERROR_LENGTH = 1000  # characters of an error kept on the schedule


class ScheduleBroken(ValueError):
    """The version's trigger no longer passes validation (stored before a check existed)."""


def retry_delay(failures: int) -> dt.timedelta:
    """1, 2, 4, ... minutes after the 1st, 2nd, 3rd failure in a row; at most an hour."""
    doublings = min(max(failures - 1, 0), 10)
    return min(RETRY_FIRST * (1 << doublings), RETRY_MOST)


def run_due_schedules(rt: Runtime, limit: int = 20) -> int:
    """Start due scheduled flows on their subjects, each schedule in its own transaction.

    At most ``limit`` schedules per call, oldest due first; returns the instances created.
    """
    created = 0
    tried: list[uuid.UUID] = []
    for _ in range(limit):
        schedule_id, started = _run_next(rt, tried)
        if schedule_id is None:
            break
        tried.append(schedule_id)
        created += started
    return created


def _run_next(rt: Runtime, tried: Sequence[uuid.UUID]) -> tuple[uuid.UUID | None, int]:
    """Run the next due schedule not yet ``tried``: its id and the instances it created."""
    claimed: uuid.UUID | None = None
    started: list[uuid.UUID] = []
    try:
        with rt.transaction() as (session, _out):
            schedule = _claim_next(rt, session, tried)
            if schedule is None:
                return None, 0
            claimed = schedule.flow_version_id
            started = _start_flows(rt, session, schedule).started
    except Exception as exc:
        if claimed is None:
            raise  # finding due schedules failed: that is the database, not one schedule
        log.exception("scheduled flow version %s failed", claimed)
        _record_failure(rt, claimed, exc)
        return claimed, 0
    # Sent after the commit, outside the failure handling: the run happened. If the
    # broker is away, the sweeper finds the pending instances later.
    send_batched(rt.dispatcher, [("advance", ident) for ident in started])
    return claimed, len(started)


def _claim_next(rt: Runtime, session: Session, tried: Sequence[uuid.UUID]) -> m.FlowSchedule | None:
    query = (
        sa.select(m.FlowSchedule)
        .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
        .where(
            m.FlowSchedule.active.is_(True),
            m.FlowVersion.active.is_(True),
            m.FlowSchedule.next_run_at <= rt.clock.now(),
            ~_earlier_one_due(),
        )
        .order_by(
            m.FlowSchedule.next_run_at, m.FlowSchedule.position, m.FlowSchedule.flow_version_id
        )
        .limit(1)
    )
    if tried:
        query = query.where(m.FlowSchedule.flow_version_id.not_in(tried))
    if not rt.db.is_sqlite:
        # Several schedulers: each due schedule goes to one of them.
        query = query.with_for_update(skip_locked=True, of=m.FlowSchedule)
        # A compiled rule is one large expression; PostgreSQL's JIT would spend
        # longer compiling it than running it.
        session.execute(sa.text("SET LOCAL jit = off"))
    return session.scalars(query).first()


def _earlier_one_due() -> sa.ColumnElement[bool]:
    """Another active schedule of the tenant, earlier in its order, due by this one's slot.

    Priority (D5): of the workflows due in a slot, a later one waits until every earlier
    one has run (moved its next run on), also when another scheduler is running it, so
    it sees whom they acted on.
    """
    other = aliased(m.FlowSchedule)
    other_version = aliased(m.FlowVersion)
    return (
        sa.select(other.flow_version_id)
        .join(other_version, other_version.id == other.flow_version_id)
        .where(
            other.tenant_id == m.FlowSchedule.tenant_id,
            other.active.is_(True),
            other_version.active.is_(True),
            other.next_run_at <= m.FlowSchedule.next_run_at,
            sa.or_(
                other.position < m.FlowSchedule.position,
                sa.and_(
                    other.position == m.FlowSchedule.position,
                    other.flow_version_id < m.FlowSchedule.flow_version_id,
                ),
            ),
        )
        .exists()
    )


class RunDone(NamedTuple):
    run_id: uuid.UUID
    selected: int
    started: list[uuid.UUID]


def _start_flows(
    rt: Runtime, session: Session, schedule: m.FlowSchedule, manual: bool = False
) -> RunDone:
    """Create an instance per subject the filter selects; move the schedule on.

    One query selects the subjects and tells which to skip: an instance of the flow
    (any version) still open on it; this workflow acted on it in this slot already (a
    repeated run); an earlier workflow of the tenant's order acted on it in this slot
    (unless the trigger says ``also_if_acted_on``). The run is recorded with each
    subject's outcome, and a key per workflow, subject and slot for each one acted
    on. ``manual`` (run now) is a slot of its own and leaves the rhythm as it is.
    """
    now = rt.clock.now()
    slot = now if manual else schedule.next_run_at
    version = session.get(m.FlowVersion, schedule.flow_version_id)
    tenant = session.get(m.Tenant, schedule.tenant_id)
    assert version is not None
    assert tenant is not None
    checked = rt.compiled(session, version.id).checked
    trigger = checked.flow.trigger
    assert isinstance(trigger, ScheduleTrigger)
    broken = [p for p in checked.problems if (p.path or "").startswith("$.trigger")]
    if broken:
        raise ScheduleBroken(
            "; ".join(str(p) for p in broken) + "; publish a corrected version of the flow"
        )
    open_instance = (
        sa.select(m.Instance.id)
        .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
        .where(
            m.Instance.subject_id == m.Subject.id,
            m.FlowVersion.flow_id == version.flow_id,
            m.Instance.status.in_(OPEN_STATES),
        )
        .exists()
    )
    act = aliased(ScheduleAct)
    repeated = (
        sa.select(act.subject_id)
        .where(
            act.flow_id == version.flow_id,
            act.subject_id == m.Subject.id,
            act.slot_at == slot,
        )
        .exists()
    )
    earlier: sa.ColumnElement[str | None] = sa.literal(None, sa.String())
    if not trigger.also_if_acted_on:
        earlier = (
            sa.select(sa.func.min(m.Flow.name))
            .join(act, act.flow_id == m.Flow.id)
            .where(
                act.tenant_id == version.tenant_id,
                act.slot_at == slot,
                act.subject_id == m.Subject.id,
                act.flow_id != version.flow_id,
            )
            .scalar_subquery()
        )
    subjects = sa.select(
        m.Subject.id,
        open_instance.label("busy"),
        repeated.label("repeated"),
        earlier.label("earlier"),
    ).where(m.Subject.tenant_id == version.tenant_id, m.Subject.type == version.subject_type)
    if trigger.filter is not None:
        subject_type = rt.subject_types(session, tenant.id).get(version.subject_type)
        computed = computed_fields(subject_type) if subject_type is not None else []
        calendar = Calendar(now, tenant.timezone, working_days_of(tenant))
        matching = select_matching(
            trigger.filter, computed, calendar, tenant.id, version.subject_type
        )
        subjects = subjects.where(m.Subject.id.in_(matching.scalar_subquery()))
    # A monthly or quarterly run is for the period just ended (vars.period, K5); a
    # subject whose run for that period exists already (started in bulk) is skipped.
    period = of_schedule(trigger.every, now, trigger.timezone or tenant.timezone)
    if trigger.filter is not None:
        room_for_selection(session)
    selected = session.execute(subjects).all()
    outcomes: dict[uuid.UUID, tuple[str, str | None, str | None]] = {}
    subject_ids: list[uuid.UUID] = []
    for subject_id, busy, again, by_flow in selected:
        if again:
            outcomes[subject_id] = ("repeated", None, None)
        elif by_flow is not None:
            outcomes[subject_id] = ("earlier", by_flow, None)
        elif busy:
            outcomes[subject_id] = ("open", None, None)
        else:
            subject_ids.append(subject_id)
    started: list[uuid.UUID] = []
    run_id = new_id()
    acts: list[dict[str, object]] = []
    if subject_ids:
        report = start_in_session(
            rt, session, Outgoing(), version, subject_ids, period, "schedule", alongside=True
        )
        for refused in report.refused:
            outcomes[refused.subject_id] = ("refused", None, refused.reason[:500])
        for run in report.started:
            started.append(run.instance_id)
            outcomes[run.subject_id] = ("acted", None, None)
            acts.append(
                {
                    "flow_id": version.flow_id,
                    "subject_id": run.subject_id,
                    "slot_at": slot,
                    "tenant_id": version.tenant_id,
                    "run_id": run_id,
                    "instance_id": run.instance_id,
                }
            )
    _record_run(session, version, run_id, slot, now, manual, len(selected), outcomes, acts)
    schedule.last_run_at = now
    schedule.last_selected, schedule.last_started = len(selected), len(started)
    if not manual:
        # A run missed during downtime happens once, then the schedule continues from
        # now, in the rhythm counted from its first slot after publishing.
        schedule.next_run_at = next_run(trigger, now, tenant.timezone, anchor=version.published_at)
    schedule.failures, schedule.last_error, schedule.last_error_at = 0, None, None
    return RunDone(run_id, len(selected), started)


def _record_run(
    session: Session,
    version: m.FlowVersion,
    run_id: uuid.UUID,
    slot: dt.datetime,
    now: dt.datetime,
    manual: bool,
    selected: int,
    outcomes: dict[uuid.UUID, tuple[str, str | None, str | None]],
    acts: list[dict[str, object]],
) -> None:
    """The run, each selected subject's outcome, and the keys of those acted on.

    A key that exists already (another run of this slot committed meanwhile) fails
    the insert and so the whole run: its instances are rolled back with it.
    """
    session.add(
        ScheduleRun(
            id=run_id,
            tenant_id=version.tenant_id,
            flow_id=version.flow_id,
            version=version.number,
            slot_at=slot,
            ran_at=now,
            manual=manual,
            selected=selected,
            acted=len(acts),
            skipped=len(outcomes) - len(acts),
        )
    )
    session.flush()
    if outcomes:
        rows = [
            {
                "run_id": run_id,
                "subject_id": subject_id,
                "tenant_id": version.tenant_id,
                "outcome": outcome,
                "by_flow": by_flow,
                "detail": detail,
            }
            for subject_id, (outcome, by_flow, detail) in outcomes.items()
        ]
        insert_rows(session, ScheduleRunSubject.__table__, rows)  # type: ignore[arg-type]
    # COPY on PostgreSQL: tens of thousands of rows in a slot of D6's size.
    insert_rows(session, ScheduleAct.__table__, acts)  # type: ignore[arg-type]


def _record_failure(rt: Runtime, schedule_id: uuid.UUID, error: Exception) -> None:
    now = rt.clock.now()
    with rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, schedule_id, with_for_update=True)
        if schedule is None:  # deleted with its flow meanwhile
            return
        schedule.failures += 1
        schedule.last_error = describe(error)
        schedule.last_error_at = now
        schedule.next_run_at = now + retry_delay(schedule.failures)


def describe(error: BaseException) -> str:
    """The error for the tenant's administrators: what failed, without the SQL text."""
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(error, ValueError):  # an unexpected kind: its name helps support
        text = f"{type(cause).__name__}: {text}" if text else type(cause).__name__
    return text[:ERROR_LENGTH]


def run_now(rt: Runtime, version_id: object, at: dt.datetime | None = None) -> None:
    """Make a scheduled flow due at once ("run now" in the schedules list)."""
    with rt.transaction() as (session, _out):
        session.execute(
            sa.update(m.FlowSchedule)
            .where(m.FlowSchedule.flow_version_id == version_id)
            .values(next_run_at=at or rt.clock.now())
        )


class _NoSchedule(NotFound):
    """Run now on a flow version without a schedule (raised, not recorded as a failure)."""


class ManualRun(NamedTuple):
    """What run now did: the subjects selected and started, or the error it failed with."""

    selected: int
    started: int
    error: str | None
    run_id: uuid.UUID | None = None


def run_schedule_now(rt: Runtime, version_id: uuid.UUID) -> ManualRun:
    """Run one scheduled flow version at once ("run now"), active or deactivated.

    Its rhythm is left as it is: the next scheduled run stays when it was. A failure
    is recorded on the schedule as the scheduler's would be.
    """
    started: list[uuid.UUID] = []
    try:
        with rt.transaction() as (session, _out):
            query = sa.select(m.FlowSchedule).where(m.FlowSchedule.flow_version_id == version_id)
            if not rt.db.is_sqlite:
                # Waits for a scheduler running it this moment, then sees its instances.
                query = query.with_for_update(of=m.FlowSchedule)
                session.execute(sa.text("SET LOCAL jit = off"))
            schedule = session.scalars(query).first()
            if schedule is None:
                raise _NoSchedule(f"no schedule for flow version {version_id}")
            done = _start_flows(rt, session, schedule, manual=True)
            started = done.started
    except _NoSchedule:
        raise
    except Exception as exc:
        log.exception("run now of flow version %s failed", version_id)
        _record_failure(rt, version_id, exc)
        return ManualRun(0, 0, describe(exc))
    send_batched(rt.dispatcher, [("advance", ident) for ident in started])
    return ManualRun(done.selected, len(started), None, done.run_id)
