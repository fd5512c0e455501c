"""Starting work (K5, K6): bulk starts for a period, and each client's start plan."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.rules.check import check_rule
from procedo.rules.model import Rule
from procedo.rules.sql import UnsupportedInSql, to_sql
from procedo.runtime import bulk, recurrence, test_runs
from procedo.runtime.admin import current_version
from procedo.runtime.periods import BadPeriod, Period

MAX_SUBJECTS = 20_000  # per bulk start: 10,000 clients with room to spare


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    # Either the subjects picked from a list, or a rule tree that selects them.
    subject_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_SUBJECTS)] | None = None
    filter: dict[str, Any] | None = None
    # "2026-11" or "2026-Q4": the runs' vars.period; one run per subject and period.
    period: str | None = None
    # K7: a test run on one to five picked subjects; its messages go to the caller.
    test: bool = False


class StartedOut(msgspec.Struct):
    subject_id: uuid.UUID
    key: str
    instance_id: uuid.UUID


class RefusedOut(msgspec.Struct):
    subject_id: uuid.UUID
    key: str
    reason: str


class BulkOut(msgspec.Struct):
    flow: str
    version: int
    period: str | None
    started: list[StartedOut]
    refused: list[RefusedOut]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_on: dt.date
    every: Literal["month", "quarter"] | None = None
    period: str | None = None


class PlanOut(msgspec.Struct):
    flow: str
    subject_id: uuid.UUID
    every: str | None
    next_on: dt.date | None
    next_period: str | None
    next_run_at: dt.datetime | None
    last_instance_id: uuid.UUID | None
    last_error: str | None


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    try:
        return Period.parse(text)
    except BadPeriod as exc:
        raise ApiError(422, f"period: {exc}") from None


def _selected(rt: RuntimeDep, tenant_id: uuid.UUID, flow_key: str, data: BulkIn) -> list[uuid.UUID]:
    """The subjects asked for: the ids given, or those the filter selects now."""
    if (data.subject_ids is None) == (data.filter is None):
        raise ApiError(422, "give either subject_ids (the subjects picked) or filter (a rule)")
    if data.subject_ids is not None:
        return data.subject_ids
    try:
        rule = msgspec.convert(data.filter, Rule)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"filter: {exc}") from None
    with rt.db.read() as session:
        version = current_version(session, tenant_id, flow_key)
        subject_type = rt.subject_types(session, tenant_id)[version.subject_type]
        problems = check_rule(rule, subject_type, "$.filter")
        if problems:
            raise ApiError(422, "; ".join(f"{p.path}: {p.message}" for p in problems))
        try:
            condition = to_sql(rule)
        except (UnsupportedInSql, ValueError) as exc:
            raise ApiError(422, f"filter: {exc}") from None
        found = session.scalars(
            sa.select(m.Subject.id)
            .where(
                m.Subject.tenant_id == tenant_id,
                m.Subject.type == version.subject_type,
                condition,
            )
            .order_by(m.Subject.key)
            .limit(MAX_SUBJECTS + 1)
        ).all()
    if len(found) > MAX_SUBJECTS:
        raise ApiError(422, f"filter: it selects over {MAX_SUBJECTS:,} subjects; narrow it")
    return list(found)


class StartController(Controller):
    path = "/flows"
    tags = ["starts"]

    @post("/{key:str}/start-bulk", sync_to_thread=True, status_code=200)
    def start_bulk(
        self, key: FromPath[str], data: JSONBody[BulkIn], caller: CallerDep, rt: RuntimeDep
    ) -> BulkOut:
        """Start the flow's latest version for many subjects; a report of what started and
        what was refused and why (a run for the period exists: repeating changes nothing)."""
        caller.require("designer")
        period = _period(data.period)
        subject_ids = _selected(rt, caller.tenant_id, key, data)
        if data.test and not 1 <= len(set(data.subject_ids or ())) <= test_runs.MOST:
            raise ApiError(
                422, f"a test run takes subject_ids: pick one to {test_runs.MOST} clients"
            )
        report = bulk.start_bulk(
            rt, caller.tenant_id, key, subject_ids, period, caller.actor, test=data.test
        )
        return BulkOut(
            report.flow,
            report.version,
            report.period,
            [StartedOut(s.subject_id, s.key, s.instance_id) for s in report.started],
            [RefusedOut(r.subject_id, r.key, r.reason) for r in report.refused],
        )

    @get("/{key:str}/plans", sync_to_thread=True)
    def list_plans(
        self,
        key: FromPath[str],
        caller: CallerDep,
        rt: RuntimeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[PlanOut]:
        """The flow's start plans, the next due first."""
        caller.internal()
        plans = recurrence.list_plans(rt, caller.tenant_id, key, limit, offset)
        return [PlanOut(**asdict(p)) for p in plans]

    @put("/{key:str}/plans/{subject_id:uuid}", sync_to_thread=True)
    def set_plan(
        self,
        key: FromPath[str],
        subject_id: FromPath[uuid.UUID],
        data: JSONBody[PlanIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> PlanOut:
        """Start the flow for this subject on ``starts_on`` (08:00 local), once or every
        month or quarter; ``period`` defaults to the last whole one before that date."""
        caller.require("designer")
        period = _period(data.period)
        try:
            plan = recurrence.set_plan(
                rt,
                caller.tenant_id,
                key,
                subject_id,
                data.starts_on,
                data.every,
                period,
                caller.actor,
            )
        except BadPeriod as exc:
            raise ApiError(422, f"period: {exc}") from None
        return PlanOut(**asdict(plan))

    @delete("/{key:str}/plans/{subject_id:uuid}", sync_to_thread=True)
    def remove_plan(
        self, key: FromPath[str], subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        caller.require("designer")
        recurrence.remove_plan(rt, caller.tenant_id, key, subject_id)
