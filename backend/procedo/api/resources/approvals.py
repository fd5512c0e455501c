"""The approval list (D4): open tasks of type approval, with the action each would let out.

An approval is a task (assign_role with task type approval), so approving is
completing it with its first outcome and rejecting with its second: the same
locking, history and flow continuation as any task. Who may decide: the
members of the role the approval is for (D6: "Dunning approver"), and
administrators; others see none of it. A bulk decision is one transaction: all
of the chosen approvals are decided, or none.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import JSONBody

from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import TASKS_WITH_SUBJECTS, TaskOut, task_rows_out
from procedo.db import models as m
from procedo.runtime import admin
from procedo.runtime.proposals import ProposedAction, proposal

_TASKS: sa.Table = m.Task.__table__  # type: ignore[assignment]
_OPEN_APPROVALS = TASKS_WITH_SUBJECTS.where(
    _TASKS.c.tenant_id == sa.bindparam("tenant"),
    _TASKS.c.kind == "approval",
    _TASKS.c.status == "open",
)
_MAY_DECIDE = sa.exists().where(
    m.TaskCandidate.task_id == _TASKS.c.id, m.TaskCandidate.user_email == sa.bindparam("email")
)
_PAGE = (_TASKS.c.created_at, _TASKS.c.id)
_LIMITS = (sa.bindparam("limit", type_=sa.Integer), sa.bindparam("offset", type_=sa.Integer))
_ALL = _OPEN_APPROVALS.order_by(*_PAGE).limit(_LIMITS[0]).offset(_LIMITS[1])
_MINE = _OPEN_APPROVALS.where(_MAY_DECIDE).order_by(*_PAGE).limit(_LIMITS[0]).offset(_LIMITS[1])
_FLOWS = (
    sa.select(m.Instance.id, m.Flow.key, m.Flow.name, m.Instance.flow_version_id)
    .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .where(m.Instance.id.in_(sa.bindparam("instances", expanding=True)))
)
_DECIDABLE = sa.select(_TASKS.c.id, _TASKS.c.kind, _TASKS.c.status, _TASKS.c.outcomes).where(
    _TASKS.c.tenant_id == sa.bindparam("tenant"),
    _TASKS.c.id.in_(sa.bindparam("tasks", expanding=True)),
)
_CANDIDATES = sa.select(m.TaskCandidate.task_id).where(
    m.TaskCandidate.task_id.in_(sa.bindparam("tasks", expanding=True)),
    m.TaskCandidate.user_email == sa.bindparam("email"),
)


class ApprovalFlow(msgspec.Struct):
    key: str
    name: str


class ApprovalOut(msgspec.Struct):
    """A pending approval: its task (with the subject), its workflow, and what it lets out."""

    task: TaskOut
    flow: ApprovalFlow
    actions: list[ProposedAction]


class DecideIn(msgspec.Struct, forbid_unknown_fields=True):
    tasks: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    decision: Literal["approve", "reject"]


class DecideOut(msgspec.Struct):
    decided: int
    decision: str


def _may_decide_all(caller: Caller) -> bool:
    return caller.access == "admin"


def _port(outcomes: list[Any], decision: str) -> str:
    chosen = outcomes[0] if decision == "approve" else outcomes[-1]
    port: str = chosen["port"]
    return port


class ApprovalController(Controller):
    path = "/approvals"
    tags = ["tasks"]

    @get("/", sync_to_thread=True)
    def pending(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 50, offset: Offset = 0
    ) -> list[ApprovalOut]:
        """Open approvals you may decide (an administrator: all), oldest first, each with
        the actions approving would cause as they would go out now."""
        caller.internal()
        query = _ALL if _may_decide_all(caller) else _MINE
        values = {"tenant": caller.tenant_id, "email": caller.email}
        with rt.db.read() as session:
            connection = session.connection()
            rows = connection.execute(query, {**values, "limit": limit, "offset": offset}).all()
            tasks = task_rows_out(rows, rt.clock.now())
            instances = list({task.instance_id for task in tasks})
            flows = {
                row.id: ApprovalFlow(row.key, row.name)
                for row in connection.execute(_FLOWS, {"instances": instances})
            }
            found: list[ApprovalOut] = []
            for task, row in zip(tasks, rows, strict=True):
                port = _port(task.outcomes, "approve")
                actions = proposal(rt, session, task.instance_id, row.token_id, port)
                found.append(ApprovalOut(task, flows[task.instance_id], actions))
        return found

    @post("/decide", sync_to_thread=True, status_code=200)
    def decide(self, data: JSONBody[DecideIn], caller: CallerDep, rt: RuntimeDep) -> DecideOut:
        """Approve or reject the chosen approvals, all in one transaction: all or none.
        Approving completes the task with its first outcome, rejecting with its second;
        the history says who decided (kind approval_decided)."""
        caller.internal()
        chosen = list(dict.fromkeys(data.tasks))
        values = {"tenant": caller.tenant_id, "tasks": chosen, "email": caller.email}
        with rt.db.rows() as connection:
            tasks = {row.id: row for row in connection.execute(_DECIDABLE, values)}
            allowed = {row.task_id for row in connection.execute(_CANDIDATES, values)}
        for index, task_id in enumerate(chosen):
            task = tasks.get(task_id)
            place = f"tasks[{index}]"
            if task is None:
                raise ApiError(404, f"{place}: no task {task_id} in this tenant")
            if task.kind != "approval":
                raise ApiError(422, f"{place}: task {task_id} is not an approval")
            if task.status != "open":
                raise ApiError(409, f"{place}: the approval {task_id} is already {task.status}")
            if task_id not in allowed and not _may_decide_all(caller):
                raise ApiError(
                    403, f"{place}: you are not in the role this approval is for; ask its members"
                )
        items = [(task_id, _port(tasks[task_id].outcomes, data.decision), ()) for task_id in chosen]
        admin.complete_tasks(rt, caller.tenant_id, items, caller.actor)
        return DecideOut(len(chosen), data.decision)
