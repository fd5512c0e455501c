"""Scheduled flows (D1): the administrators' list, run now, deactivate and activate.

A flow whose trigger is a schedule runs on every subject its filter selects, at
each beat of the schedule. A run that fails shows its error here, for the
tenant's administrators to act on. Only administrators see and change this list.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, TypeAlias

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.db.schedule_runs import ScheduleRun, ScheduleRunSubject
from procedo.flow.model import FlowKey, ScheduleTrigger
from procedo.runtime.context import NotFound, Runtime
from procedo.runtime.schedules import run_schedule_now
from procedo.runtime.setup import next_run


class ScheduleOut(msgspec.Struct):
    flow: str
    name: str
    version: int
    every: str
    interval: int
    weekday: str | None
    day_of_month: int | None
    at: str
    timezone: str | None
    # Where ``at`` is read: the trigger's time zone, else the tenant's (runs are shown in it).
    zone: str
    active: bool
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    # The last run's error while runs fail (cleared by one that succeeds), and how
    # many failed in a row; the scheduler tries again at next_run_at.
    failures: int
    last_error: str | None
    last_error_at: dt.datetime | None
    # The last run: how many subjects its filter selected and how many it started (a
    # subject with an open instance of the flow is skipped); None before the first.
    last_selected: int | None = None
    last_started: int | None = None
    # The tenant's priority order (D5): the list comes in it, and so do runs of one slot.
    position: int = 0
    # Acts also on subjects an earlier workflow of the slot acted on (the trigger says so).
    also_if_acted_on: bool = False


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every scheduled flow's key, once each, in the order they are to run."""

    flows: Annotated[list[FlowKey], msgspec.Meta(min_length=1, max_length=1000)]


class RunOut(msgspec.Struct):
    id: uuid.UUID
    version: int
    slot_at: dt.datetime
    ran_at: dt.datetime
    manual: bool
    selected: int
    acted: int
    skipped: int


class RunSubjectOut(msgspec.Struct):
    """A subject the run selected: acted on, or skipped and why (``reason``, in words)."""

    subject_id: uuid.UUID
    key: str
    name: str
    outcome: str  # acted | open | earlier | repeated | refused
    by_flow: str | None
    reason: str | None


class RunNowOut(msgspec.Struct):
    """Run now's answer: what the run did, said plainly, and the schedule after it."""

    message: str
    ran: bool
    selected: int
    started: int
    error: str | None
    schedule: ScheduleOut
    run_id: uuid.UUID | None = None


_SCHEDULES = (
    sa.select(m.FlowSchedule, m.FlowVersion, m.Flow)
    .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .where(m.FlowVersion.active.is_(True))
    .order_by(m.FlowSchedule.position, m.Flow.name, m.Flow.key)
)


Row: TypeAlias = tuple[m.FlowSchedule, m.FlowVersion, m.Flow]


def _out(rt: Runtime, session: Session, row: Row) -> ScheduleOut:
    schedule, version, flow = row
    trigger = rt.compiled(session, version.id).checked.flow.trigger
    assert isinstance(trigger, ScheduleTrigger)
    return ScheduleOut(
        flow=flow.key,
        name=flow.name,
        version=version.number,
        every=trigger.every,
        interval=trigger.interval,
        weekday=trigger.weekday,
        day_of_month=trigger.day_of_month,
        at=trigger.at,
        timezone=trigger.timezone,
        zone=trigger.timezone or rt.tenant_calendar(session, flow.tenant_id)[0],
        active=schedule.active,
        next_run_at=schedule.next_run_at,
        last_run_at=schedule.last_run_at,
        failures=schedule.failures,
        last_error=schedule.last_error,
        last_error_at=schedule.last_error_at,
        last_selected=schedule.last_selected,
        last_started=schedule.last_started,
        position=schedule.position,
        also_if_acted_on=trigger.also_if_acted_on,
    )


def _find(session: Session, caller: Caller, key: str) -> Row:
    row = session.execute(
        _SCHEDULES.where(m.Flow.tenant_id == caller.tenant_id, m.Flow.key == key)
    ).first()
    if row is None:
        raise NotFound(f"no scheduled flow '{key}' in this tenant; publish one with a schedule")
    return row[0], row[1], row[2]


def _check_order(keys: list[str], known: set[str]) -> None:
    twice = sorted({key for key in keys if keys.count(key) > 1})
    unknown = sorted(set(keys) - known)
    missing = sorted(known - set(keys))
    problems = []
    if twice:
        problems.append(f"named more than once: {', '.join(twice)}")
    if unknown:
        problems.append(f"not a scheduled flow of this tenant: {', '.join(unknown)}")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if problems:
        raise ApiError(
            422,
            "flows: " + "; ".join(problems) + ". Send every scheduled flow's key once, in order.",
        )


def skip_reason(outcome: str, by_flow: str | None, detail: str | None) -> str | None:
    """Why a run skipped a subject, in words (None when it acted on it)."""
    if outcome == "earlier":
        return f"acted on by {by_flow} in this slot"
    if outcome == "repeated":
        return "acted on by this workflow in this slot already (a repeated run)"
    if outcome == "open":
        return "an instance of this workflow is still open on it"
    if outcome == "refused":
        return detail
    return None


def _run_out(run: ScheduleRun) -> RunOut:
    return RunOut(
        id=run.id,
        version=run.version,
        slot_at=run.slot_at,
        ran_at=run.ran_at,
        manual=run.manual,
        selected=run.selected,
        acted=run.acted,
        skipped=run.skipped,
    )


def _change(rt: Runtime, caller: Caller, key: str, **values: object) -> ScheduleOut:
    with rt.transaction() as (session, _out_messages):
        row = _find(session, caller, key)
        for name, value in values.items():
            setattr(row[0], name, value)
        session.flush()
        return _out(rt, session, row)


class ScheduleController(Controller):
    path = "/schedules"
    tags = ["schedules"]

    @get("/", sync_to_thread=True)
    def list_schedules(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[ScheduleOut]:
        """Interval, day, hour, next and last run of every scheduled flow (admin)."""
        caller.require()
        with rt.db.read() as session:
            mine = _SCHEDULES.where(m.Flow.tenant_id == caller.tenant_id)
            rows = session.execute(mine.limit(limit).offset(offset))
            return [_out(rt, session, (r[0], r[1], r[2])) for r in rows]

    @post("/{key:str}/run", sync_to_thread=True, status_code=200)
    def run_now(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> RunNowOut:
        """Run at once, also when deactivated; the schedule's own rhythm is left as it is."""
        caller.require()
        with rt.db.read() as session:
            version_id = _find(session, caller, key)[1].id
        result = run_schedule_now(rt, version_id)
        with rt.db.read() as session:
            schedule = _out(rt, session, _find(session, caller, key))
        if result.error is not None:
            message = f"The run failed: {result.error}"
        else:
            message = (
                f"Ran now: {result.selected} selected, {result.started} started"
                f" ({result.selected - result.started} skipped: the flow still runs on them"
                " or ran for this period)."
            )
        if not schedule.active:
            message += (
                " This workflow is deactivated: it ran this once, and stays deactivated"
                " (no scheduled runs until it is activated)."
            )
        return RunNowOut(
            message=message,
            ran=result.error is None,
            selected=result.selected,
            started=result.started,
            error=result.error,
            schedule=schedule,
            run_id=result.run_id,
        )

    @put("/order", sync_to_thread=True, status_code=200, request_max_body_size=131_072)
    def set_order(
        self, data: JSONBody[OrderIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[ScheduleOut]:
        """The priority order (D5): flows due in the same slot run in it, first to last."""
        caller.require()
        with rt.transaction() as (session, _out_messages):
            rows = session.execute(_SCHEDULES.where(m.Flow.tenant_id == caller.tenant_id)).all()
            by_key = {row[2].key: row[0] for row in rows}
            _check_order(data.flows, set(by_key))
            for place, key in enumerate(data.flows, start=1):
                by_key[key].position = place
            session.flush()
            rows = session.execute(_SCHEDULES.where(m.Flow.tenant_id == caller.tenant_id)).all()
            return [_out(rt, session, (r[0], r[1], r[2])) for r in rows]

    @get("/{key:str}/runs", sync_to_thread=True)
    def list_runs(
        self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep, limit: Limit = 20
    ) -> list[RunOut]:
        """The flow's runs, newest first: selected, acted on and skipped (admin)."""
        caller.require()
        with rt.db.read() as session:
            flow = _find(session, caller, key)[2]
            runs = session.scalars(
                sa.select(ScheduleRun)
                .where(ScheduleRun.tenant_id == caller.tenant_id, ScheduleRun.flow_id == flow.id)
                .order_by(ScheduleRun.ran_at.desc())
                .limit(limit)
            )
            return [_run_out(run) for run in runs]

    @get("/runs/{run_id:uuid}/subjects", sync_to_thread=True)
    def run_subjects(
        self,
        run_id: FromPath[uuid.UUID],
        caller: CallerDep,
        rt: RuntimeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[RunSubjectOut]:
        """Whom a run acted on and whom it skipped, and why (skipped first, admin)."""
        caller.require()
        with rt.db.read() as session:
            run = session.get(ScheduleRun, run_id)
            if run is None or run.tenant_id != caller.tenant_id:
                raise NotFound(f"no scheduled run {run_id} in this tenant")
            rows = session.execute(
                sa.select(ScheduleRunSubject, m.Subject.key, m.Subject.fields)
                .join(m.Subject, m.Subject.id == ScheduleRunSubject.subject_id)
                .where(ScheduleRunSubject.run_id == run_id)
                .order_by((ScheduleRunSubject.outcome == "acted").asc(), m.Subject.key)
                .limit(limit)
                .offset(offset)
            )
            return [
                RunSubjectOut(
                    subject_id=entry.subject_id,
                    key=subject_key,
                    name=str((fields or {}).get("name") or subject_key),
                    outcome=entry.outcome,
                    by_flow=entry.by_flow,
                    reason=skip_reason(entry.outcome, entry.by_flow, entry.detail),
                )
                for entry, subject_key, fields in rows
            ]

    @post("/{key:str}/deactivate", sync_to_thread=True, status_code=200)
    def deactivate(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> ScheduleOut:
        caller.require()
        return _change(rt, caller, key, active=False)

    @post("/{key:str}/activate", sync_to_thread=True, status_code=200)
    def activate(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> ScheduleOut:
        """Resume: slots missed while deactivated are not made up; the next one is kept."""
        caller.require()
        with rt.transaction() as (session, _out_messages):
            schedule, version, flow = _find(session, caller, key)
            now = rt.clock.now()
            if not schedule.active and schedule.next_run_at <= now:
                trigger = rt.compiled(session, version.id).checked.flow.trigger
                assert isinstance(trigger, ScheduleTrigger)
                tenant = session.get(m.Tenant, version.tenant_id)
                assert tenant is not None
                schedule.next_run_at = next_run(
                    trigger, now, tenant.timezone, anchor=version.published_at
                )
            schedule.active = True
            session.flush()
            return _out(rt, session, (schedule, version, flow))
