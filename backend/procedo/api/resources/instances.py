"""Instances: start on a subject, list with filters, get, history, move, cancel, retry."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import (
    OPEN_TASKS_OF_INSTANCE,
    HistoryOut,
    SubjectOut,
    TaskOut,
    TimerOut,
    history_out,
    plain_rows,
    subject_out,
    task_rows_out,
)
from procedo.db import models as m
from procedo.runtime import admin
from procedo.runtime.context import NotFound

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
NodeId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class StartIn(msgspec.Struct, forbid_unknown_fields=True):
    flow: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    subject_id: uuid.UUID


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    to_node: NodeId
    reason: Reason
    # Which position moves when the instance waits at several; default: the only one.
    from_node: NodeId | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = "cancelled"


class InstanceSummary(msgspec.Struct):
    id: uuid.UUID
    flow: str
    version: int
    subject_id: uuid.UUID
    subject_key: str
    status: str
    positions: list[str]
    started_at: dt.datetime
    updated_at: dt.datetime
    # Why a failed instance stopped, and the node it failed at (for its list and retry).
    error: str | None = None
    failed_node: str | None = None


class RetryIn(msgspec.Struct, forbid_unknown_fields=True):
    """Retry on this published version of the flow instead of the instance's own."""

    version: Annotated[int, msgspec.Meta(ge=1)] | None = None


class InstanceOut(msgspec.Struct):
    id: uuid.UUID
    flow: str
    version: int
    subject: SubjectOut
    status: str
    positions: list[str]
    tasks: list[TaskOut]
    timers: list[TimerOut]
    variables: dict[str, object]
    error: str | None
    started_by: str
    started_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None


_WITH_FLOW = (
    sa.select(m.Instance, m.Flow.key, m.FlowVersion.number, m.Subject)
    .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .join(m.Subject, m.Subject.id == m.Instance.subject_id)
)


_SUMMARIES = (
    sa.select(
        m.Instance.id,
        m.Instance.status,
        m.Instance.subject_id,
        m.Instance.started_at,
        m.Instance.updated_at,
        m.Instance.error,
        m.Flow.key,
        m.FlowVersion.number,
        m.Subject.key.label("subject_key"),
    )
    .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .join(m.Subject, m.Subject.id == m.Instance.subject_id)
)


_POSITIONS = (
    sa.select(m.Token.instance_id, m.Token.node_id)
    .where(m.Token.instance_id.in_(sa.bindparam("instances", expanding=True)))
    .order_by(m.Token.entered_at, m.Token.node_id)
)


_FAILED_AT = (
    sa.select(m.History.instance_id, m.History.node_id)
    .where(
        m.History.instance_id.in_(sa.bindparam("instances", expanding=True)),
        m.History.kind == "failed",
    )
    .order_by(m.History.seq)
)


_SUMMARY_ROWS = plain_rows(_SUMMARIES)


@functools.cache
def _summaries(flow: bool, status: bool, subject: bool, node: bool) -> sa.Executable:
    """The list's statement for a set of filters, built once (see tasks._inbox_queries)."""
    query = _SUMMARIES.where(m.Instance.tenant_id == sa.bindparam("tenant"))
    if flow:
        query = query.where(m.Flow.key == sa.bindparam("flow"))
    if status:
        query = query.where(m.Instance.status == sa.bindparam("status"))
    if subject:
        query = query.where(m.Instance.subject_id == sa.bindparam("subject"))
    if node:
        query = query.where(
            sa.exists().where(
                m.Token.instance_id == m.Instance.id, m.Token.node_id == sa.bindparam("node")
            )
        )
    # Newest first, in the order of the (tenant, [status,] started_at, id) indexes.
    return (
        query.order_by(m.Instance.started_at.desc(), m.Instance.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


def _positions(connection: sa.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {ident: [] for ident in ids}
    if ids:
        rows = connection.execute(_POSITIONS, {"instances": ids})
        for instance_id, node in rows:
            found[instance_id].append(node)
    return found


def _failed_nodes(
    connection: sa.Connection, ids: list[uuid.UUID]
) -> dict[uuid.UUID | None, str | None]:
    """The node each failed instance last failed at (its latest `failed` history row)."""
    if not ids:
        return {}
    return {row[0]: row[1] for row in connection.execute(_FAILED_AT, {"instances": ids})}


def instance_out(rt: RuntimeDep, tenant_id: uuid.UUID, instance_id: uuid.UUID) -> InstanceOut:
    with rt.db.read() as session:
        row = session.execute(
            _WITH_FLOW.where(m.Instance.id == instance_id, m.Instance.tenant_id == tenant_id)
        ).first()
        if row is None:
            raise NotFound(f"no instance {instance_id} in this tenant")
        instance, key, number, subject = row
        connection = session.connection()
        tasks = connection.execute(OPEN_TASKS_OF_INSTANCE, {"instance": instance_id}).all()
        timers = session.scalars(
            sa.select(m.Timer)
            .where(m.Timer.instance_id == instance_id, m.Timer.status.in_(("pending", "enqueued")))
            .order_by(m.Timer.due_at)
        ).all()
        return InstanceOut(
            id=instance.id,
            flow=key,
            version=number,
            subject=subject_out(subject),
            status=instance.status,
            positions=_positions(connection, [instance.id])[instance.id],
            tasks=task_rows_out(tasks, rt.clock.now()),
            timers=[TimerOut(t.id, t.purpose, t.due_at) for t in timers],
            variables=instance.variables,
            error=instance.error,
            started_by=instance.started_by,
            started_at=instance.started_at,
            updated_at=instance.updated_at,
            ended_at=instance.ended_at,
        )


def _token_at(rt: RuntimeDep, instance_id: uuid.UUID, node: str | None) -> str | None:
    if node is None:
        return None
    with rt.db.read() as session:
        token = session.scalar(
            sa.select(m.Token.id).where(m.Token.instance_id == instance_id, m.Token.node_id == node)
        )
    if token is None:
        raise NotFound(f"the instance does not wait at node '{node}'")
    return str(token)


class InstanceController(Controller):
    path = "/instances"
    tags = ["instances"]

    @post("/", sync_to_thread=True)
    def start_instance(
        self, data: JSONBody[StartIn], caller: CallerDep, rt: RuntimeDep
    ) -> InstanceOut:
        """Start the latest version of a flow on a subject; it runs to its first waits."""
        caller.require("designer")
        instance = admin.start(rt, caller.tenant_id, data.flow, data.subject_id, caller.actor)
        return instance_out(rt, caller.tenant_id, instance.id)

    @get("/", sync_to_thread=True)
    def list_instances(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        flow: FromQuery[str | None] = None,
        node: Annotated[
            str | None, QueryParameter(description="instances waiting at this node")
        ] = None,
        status: FromQuery[str | None] = None,
        subject_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[InstanceSummary]:
        caller.internal()
        query = _summaries(
            flow is not None, status is not None, subject_id is not None, node is not None
        )
        values = {
            "tenant": caller.tenant_id,
            "flow": flow,
            "status": status,
            "subject": subject_id,
            "node": node,
            "limit": limit,
            "offset": offset,
        }
        with rt.db.rows() as connection:
            rows = _SUMMARY_ROWS(connection.execute(query, values))
            positions = _positions(connection, [row.id for row in rows])
            failed = _failed_nodes(connection, [row.id for row in rows if row.status == "failed"])
        return [
            InstanceSummary(
                id=row.id,
                flow=row.key,
                version=row.number,
                subject_id=row.subject_id,
                subject_key=row.subject_key,
                status=row.status,
                positions=positions[row.id],
                started_at=row.started_at,
                updated_at=row.updated_at,
                error=row.error,
                failed_node=failed.get(row.id),
            )
            for row in rows
        ]

    @get("/{instance_id:uuid}", sync_to_thread=True)
    def get_instance(
        self, instance_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> InstanceOut:
        """Where the instance is: positions, open tasks, pending timers."""
        caller.internal()
        return instance_out(rt, caller.tenant_id, instance_id)

    @get("/{instance_id:uuid}/history", sync_to_thread=True)
    def history(
        self, instance_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> list[HistoryOut]:
        """Who did what, when, from which node to which, and why; oldest first."""
        caller.internal()
        with rt.db.read() as session:
            instance = session.get(m.Instance, instance_id)
            if instance is None or instance.tenant_id != caller.tenant_id:
                raise NotFound(f"no instance {instance_id} in this tenant")
            rows = session.scalars(
                sa.select(m.History)
                .where(m.History.instance_id == instance_id)
                .order_by(m.History.seq)
            ).all()
        return [history_out(row) for row in rows]

    @post("/{instance_id:uuid}/move", sync_to_thread=True, status_code=200)
    def move(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> InstanceOut:
        """Move the instance to any node, with a reason the history keeps (admin, E8)."""
        caller.require()
        instance_out(rt, caller.tenant_id, instance_id)  # 404 before anything else
        token = _token_at(rt, instance_id, data.from_node)
        admin.move(
            rt, caller.tenant_id, instance_id, data.to_node, data.reason, caller.actor, token
        )
        return instance_out(rt, caller.tenant_id, instance_id)

    @post("/{instance_id:uuid}/cancel", sync_to_thread=True, status_code=200)
    def cancel(
        self,
        instance_id: FromPath[uuid.UUID],
        caller: CallerDep,
        rt: RuntimeDep,
        data: JSONBody[CancelIn | None] = None,
    ) -> InstanceOut:
        caller.require()
        reason = data.reason if data is not None else "cancelled"
        if not reason.strip():
            raise ApiError(
                422, "say why the instance is cancelled; the reason is kept in the history"
            )
        admin.cancel(rt, caller.tenant_id, instance_id, reason, caller.actor)
        return instance_out(rt, caller.tenant_id, instance_id)

    @post("/{instance_id:uuid}/retry", sync_to_thread=True, status_code=200)
    def retry(
        self,
        instance_id: FromPath[uuid.UUID],
        caller: CallerDep,
        rt: RuntimeDep,
        data: JSONBody[RetryIn | None] = None,
    ) -> InstanceOut:
        """Run a failed step again: after its data was fixed, or with `{"version": n}` on a
        newer published version of the flow (its template fixed), where the instance stands."""
        caller.require()
        on_version = data.version if data is not None else None
        admin.retry(rt, caller.tenant_id, instance_id, caller.actor, on_version)
        return instance_out(rt, caller.tenant_id, instance_id)
