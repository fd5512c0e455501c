"""Scheduled flows (D1): the administrators' list, run now, deactivate and activate.

A flow whose trigger is a schedule runs on every subject its filter selects, at
each beat of the schedule. A run that fails shows its error here, for the
tenant's administrators to act on. Only administrators see and change this list.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import FromPath
from sqlalchemy.orm import Session

from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.flow.model import ScheduleTrigger
from procedo.runtime.context import NotFound, Runtime


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
    active: bool
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    # The last run's error while runs fail (cleared by one that succeeds), and how
    # many failed in a row; the scheduler tries again at next_run_at.
    failures: int
    last_error: str | None
    last_error_at: dt.datetime | None


_SCHEDULES = (
    sa.select(m.FlowSchedule, m.FlowVersion, m.Flow)
    .join(m.FlowVersion, m.FlowVersion.id == m.FlowSchedule.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .where(m.FlowVersion.active.is_(True))
    .order_by(m.Flow.name, m.Flow.key)
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
        active=schedule.active,
        next_run_at=schedule.next_run_at,
        last_run_at=schedule.last_run_at,
        failures=schedule.failures,
        last_error=schedule.last_error,
        last_error_at=schedule.last_error_at,
    )


def _find(session: Session, caller: Caller, key: str) -> Row:
    row = session.execute(
        _SCHEDULES.where(m.Flow.tenant_id == caller.tenant_id, m.Flow.key == key)
    ).first()
    if row is None:
        raise NotFound(f"no scheduled flow '{key}' in this tenant; publish one with a schedule")
    return row[0], row[1], row[2]


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
    def run_now(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> ScheduleOut:
        """Due at once: the scheduler runs it within its next poll, then on its rhythm."""
        caller.require()
        return _change(rt, caller, key, next_run_at=rt.clock.now())

    @post("/{key:str}/deactivate", sync_to_thread=True, status_code=200)
    def deactivate(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> ScheduleOut:
        caller.require()
        return _change(rt, caller, key, active=False)

    @post("/{key:str}/activate", sync_to_thread=True, status_code=200)
    def activate(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> ScheduleOut:
        caller.require()
        return _change(rt, caller, key, active=True)
