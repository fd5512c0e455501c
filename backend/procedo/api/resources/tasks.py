"""Tasks: the inbox (mine, my roles', all), claim, tick checkpoints, complete, reassign."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from procedo.api import taskops
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import TASK_BY_ID, TASKS_WITH_SUBJECTS, TaskOut, task_rows_out
from procedo.db import models as m
from procedo.nodetypes import Assignee
from procedo.runtime import admin, phases
from procedo.runtime.context import NotFound

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


class CompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    checkpoints: list[Annotated[str, msgspec.Meta(max_length=64)]] = []


class TickIn(msgspec.Struct, forbid_unknown_fields=True):
    checkpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    ticked: bool = True


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Short | None = None
    user: Short | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


def _task(rt: RuntimeDep, caller: CallerDep, task_id: uuid.UUID) -> TaskOut:
    with rt.db.rows() as connection:
        rows = connection.execute(TASK_BY_ID, {"task": task_id, "tenant": caller.tenant_id})
        found = task_rows_out(rows, rt.clock.now())
    if not found:
        raise NotFound(f"no task {task_id} in this tenant")
    return found[0]


def _inbox_queries() -> dict[str, sa.Select[Any]]:
    """The inbox's statements, built once: a statement made per request costs SQLAlchemy
    more to key its compiled form by than the query costs PostgreSQL."""
    tasks = m.Task.__table__.c
    offers = m.TaskCandidate.__table__.c
    page = (sa.bindparam("limit", type_=sa.Integer), sa.bindparam("offset", type_=sa.Integer))
    # ix_task_candidates_offers: the user's open offers, most urgent first.
    offered = (
        TASKS_WITH_SUBJECTS.join(m.TaskCandidate.__table__, offers.task_id == tasks.id)
        .where(
            offers.tenant_id == sa.bindparam("tenant"),
            offers.user_email == sa.bindparam("email"),
            offers.offered,
        )
        .order_by(offers.due_at.asc().nulls_last(), offers.created_at, offers.task_id)
    )
    by_status = TASKS_WITH_SUBJECTS.where(
        tasks.tenant_id == sa.bindparam("tenant"), tasks.status == sa.bindparam("status")
    )
    candidate = sa.exists().where(
        m.TaskCandidate.task_id == tasks.id, m.TaskCandidate.user_email == sa.bindparam("email")
    )
    others = {
        "mine": by_status.where(tasks.assignee == sa.bindparam("email")),
        "roles": by_status.where(tasks.assignee.is_(None), candidate),  # closed tasks
        "all": by_status,
    }
    # The order of ix_tasks_tenant_status_due (or _assignee): most urgent first, no sort.
    urgent = (tasks.due_at.asc().nulls_last(), tasks.created_at, tasks.id)
    return {
        "offered": offered.limit(page[0]).offset(page[1]),
        **{
            scope: query.order_by(*urgent).limit(page[0]).offset(page[1])
            for scope, query in others.items()
        },
    }


_INBOX = _inbox_queries()


def _filter(description: str, longest: int) -> QueryParameter:
    return QueryParameter(min_length=1, max_length=longest, description=description)


@functools.cache
def _filtered(
    kind: str, flow: bool, role: bool, user: bool, overdue: bool, task_type: bool = False
) -> sa.Select[Any]:
    """An inbox statement narrowed by the filters asked for, built once per combination."""
    tasks = m.Task.__table__.c
    query = _INBOX[kind]
    if flow:
        of_flow = (
            sa.select(m.Instance.id)
            .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Flow.tenant_id == sa.bindparam("tenant"), m.Flow.key == sa.bindparam("flow"))
        )
        query = query.where(tasks.instance_id.in_(of_flow))
    if role:
        query = query.where(tasks.role == sa.bindparam("role"))
    if user:
        # Who may work on it: given to them, or open to a role of theirs (the candidates).
        # An alias: the "roles" inbox joins task_candidates already, and the subquery must
        # not correlate to that join (it would select from nothing).
        who = m.TaskCandidate.__table__.alias("who")
        query = query.where(
            sa.exists().where(who.c.task_id == tasks.id, who.c.user_email == sa.bindparam("user"))
        )
    if overdue:
        query = query.where(tasks.due_at < sa.bindparam("now", type_=m.UtcDateTime()))
    if task_type:
        query = query.where(tasks.kind == sa.bindparam("type"))
    return query


def _not_yours() -> ApiError:
    return ApiError(403, "the task is not yours or your roles'; an admin can reassign it")


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]

    @get("/", sync_to_thread=True)
    def inbox(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        scope_name: Annotated[
            Literal["mine", "roles", "all"], QueryParameter(name="scope")
        ] = "mine",
        status: FromQuery[Literal["open", "completed", "cancelled"]] = "open",
        flow: Annotated[str | None, _filter("only this flow's tasks", 64)] = None,
        role: Annotated[str | None, _filter("only tasks for this role", 100)] = None,
        user: Annotated[str | None, _filter("only tasks this user may work on", 254)] = None,
        overdue: Annotated[bool, QueryParameter(description="only overdue tasks")] = False,
        task_type: Annotated[
            Literal["general", "phone_call", "lawyer_handover", "approval"] | None,
            QueryParameter(name="type", description="only tasks of this type"),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[TaskOut]:
        """mine: taken by or given to you; roles: open to your roles, not taken; all: admin."""
        caller.internal()
        if scope_name == "all":
            caller.require()
        kind = "offered" if (scope_name, status) == ("roles", "open") else scope_name
        query = _filtered(
            kind,
            flow is not None,
            role is not None,
            user is not None,
            overdue,
            task_type is not None,
        )
        values = {
            "tenant": caller.tenant_id,
            "email": caller.email,
            "status": status,
            "flow": flow,
            "role": role,
            "user": (user or "").lower(),
            "now": rt.clock.now(),
            "type": task_type,
            "limit": limit,
            "offset": offset,
        }
        with rt.db.rows() as connection:
            rows = connection.execute(query, values).all()
        return task_rows_out(rows, rt.clock.now())

    @get("/{task_id:uuid}", sync_to_thread=True)
    def get_task(self, task_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep) -> TaskOut:
        caller.internal()
        return _task(rt, caller, task_id)

    @post("/{task_id:uuid}/claim", sync_to_thread=True, status_code=200)
    def claim(self, task_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep) -> TaskOut:
        """Take a task your role may do: it leaves the others' inboxes."""
        caller.internal()
        try:
            taskops.claim(rt, caller.tenant_id, task_id, caller.email, caller.access == "admin")
        except taskops.NotACandidate:
            raise _not_yours() from None
        return _task(rt, caller, task_id)

    @post("/{task_id:uuid}/complete", sync_to_thread=True, status_code=200)
    def complete(
        self,
        task_id: FromPath[uuid.UUID],
        data: JSONBody[CompleteIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> TaskOut:
        """Complete with an outcome (a port of the task) and the checkpoints ticked."""
        caller.internal()
        allowed = taskops.may_work_on(rt, caller.tenant_id, task_id, caller.email)
        if not allowed and caller.access != "admin":
            raise _not_yours()
        admin.complete_task(
            rt, caller.tenant_id, task_id, data.outcome, data.checkpoints, caller.actor
        )
        return _task(rt, caller, task_id)

    @post("/{task_id:uuid}/tick", sync_to_thread=True, status_code=200)
    def tick(
        self,
        task_id: FromPath[uuid.UUID],
        data: JSONBody[TickIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> TaskOut:
        """Tick (``ticked: false``: untick) one checkpoint; who and when is kept (K2).

        A phase that moves on by itself does so once its mandatory checkpoints are ticked.
        """
        caller.internal()
        allowed = taskops.may_work_on(rt, caller.tenant_id, task_id, caller.email)
        if not allowed and caller.access != "admin":
            raise _not_yours()
        phases.tick(rt, caller.tenant_id, task_id, data.checkpoint, data.ticked, caller.actor)
        return _task(rt, caller, task_id)

    @post("/{task_id:uuid}/reassign", sync_to_thread=True, status_code=200)
    def reassign(
        self,
        task_id: FromPath[uuid.UUID],
        data: JSONBody[ReassignIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> TaskOut:
        """Give the task to a role or a user (admin); the reason is kept in the history."""
        caller.require()
        if (data.role is None) == (data.user is None):
            raise ApiError(422, "send either role or user, not both and not neither")
        to = Assignee(role=data.role or "", user=(data.user or "").lower())
        taskops.reassign(rt, caller.tenant_id, task_id, to, caller.actor, data.reason)
        return _task(rt, caller, task_id)
