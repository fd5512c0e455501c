"""Tasks: the inbox (mine, my roles', all), claim, complete (outcome, checkpoints), reassign."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from procedo.api import taskops
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import TASKS_WITH_SUBJECTS, TaskOut, task_rows_out, tasks_out
from procedo.db import models as m
from procedo.nodetypes import Assignee
from procedo.runtime import admin
from procedo.runtime.context import NotFound

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


class CompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    checkpoints: list[Annotated[str, msgspec.Meta(max_length=64)]] = []


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Short | None = None
    user: Short | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


def _task(rt: RuntimeDep, caller: CallerDep, task_id: uuid.UUID) -> TaskOut:
    with rt.db.read() as session:
        row = session.execute(
            sa.select(m.Task, m.Subject)
            .join(m.Subject, m.Subject.id == m.Task.subject_id)
            .where(m.Task.id == task_id, m.Task.tenant_id == caller.tenant_id)
        ).first()
        if row is None:
            raise NotFound(f"no task {task_id} in this tenant")
        return tasks_out(session, [(row[0], row[1])], rt.clock.now())[0]


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
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[TaskOut]:
        """mine: taken by or given to you; roles: open to your roles, not taken; all: admin."""
        caller.internal()
        tasks = m.Task.__table__.c
        query = TASKS_WITH_SUBJECTS.where(
            tasks.tenant_id == caller.tenant_id, tasks.status == status
        )
        if scope_name == "mine":
            query = query.where(tasks.assignee == caller.email)
        elif scope_name == "roles":
            candidate = sa.exists().where(
                m.TaskCandidate.task_id == tasks.id, m.TaskCandidate.user_email == caller.email
            )
            query = query.where(tasks.assignee.is_(None), candidate)
        else:
            caller.require()
        # The order of ix_tasks_tenant_status_due: the most urgent first, without sorting all.
        query = query.order_by(tasks.due_at.asc().nulls_last(), tasks.created_at, tasks.id)
        with rt.db.read() as session:
            rows = session.connection().execute(query.limit(limit).offset(offset)).all()
            return task_rows_out(session, list(rows), rt.clock.now())

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
