"""The worksheet (P4): actions collection procedures propose, done one by one or in bulk.

Reading is for the tenant's people; doing, postponing and skipping an action needs it
to be offered to you (a candidate of its task) unless you are an administrator, as in
the inbox. Bulk requests take at most 500 actions and answer per action: a repeated
request performs nothing twice (``already_done``). See docs/procedures.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from procedo.api import taskops
from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.procedures import worksheet as ws
from procedo.runtime.context import Runtime

MAX_BULK = 500
# A bulk request names at most 500 ids and a reason: well below this.
BODY_LIMIT = 64 * 1024
TaskIds = Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=MAX_BULK)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ItemOut(msgspec.Struct):
    task_id: uuid.UUID
    instance_id: uuid.UUID
    subject_id: uuid.UUID
    subject_key: str
    subject_name: str
    flow_key: str
    flow_name: str
    node_id: str
    action: str
    title: str
    role: str | None
    assignee: str | None
    created_at: dt.datetime
    status: str
    outcome: str | None
    completed_by: str | None
    completed_at: dt.datetime | None
    postponed_until: dt.date | None
    undone_at: dt.datetime | None
    can_undo: bool


class ProcessIn(msgspec.Struct, forbid_unknown_fields=True):
    tasks: TaskIds


class PostponeIn(msgspec.Struct, forbid_unknown_fields=True):
    tasks: TaskIds
    until: dt.date


class SkipIn(msgspec.Struct, forbid_unknown_fields=True):
    tasks: TaskIds
    reason: Reason


class ResultOut(msgspec.Struct):
    task_id: uuid.UUID
    outcome: str
    detail: str = ""


class UndoOut(msgspec.Struct):
    task_id: uuid.UUID
    undone: str


def _results(found: list[ws.Result]) -> list[ResultOut]:
    return [ResultOut(r.task_id, r.outcome, r.detail) for r in found]


def _allowed(rt: Runtime, caller: Caller, task_ids: list[uuid.UUID]) -> None:
    if caller.access == "admin":
        return
    for task_id in task_ids:
        if not taskops.may_work_on(rt, caller.tenant_id, task_id, caller.email):
            raise ApiError(
                403,
                f"action {task_id} is not on your worksheet or your roles'; "
                "an admin can do it or reassign it",
            )


class WorksheetController(Controller):
    path = "/worksheet"
    tags = ["procedures"]

    @get("/", sync_to_thread=True)
    def worksheet(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        state_name: Annotated[
            Literal["proposed", "postponed", "done"], QueryParameter(name="state")
        ] = "proposed",
        role: Annotated[
            str | None, QueryParameter(min_length=1, max_length=100, description="this role's")
        ] = None,
        user: Annotated[
            str | None,
            QueryParameter(min_length=1, max_length=254, description="offered to this user"),
        ] = None,
        action: FromQuery[Literal["email", "letter", "call", "handover", "status"] | None] = None,
        subject: Annotated[uuid.UUID | None, QueryParameter(description="one debtor's")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_BULK)] = 100,
    ) -> list[ItemOut]:
        """Proposed actions (open now), postponed ones, or done ones (newest first)."""
        caller.internal()
        found = ws.items(
            rt,
            caller.tenant_id,
            state=state_name,
            role=role,
            user=user,
            action=action,
            subject_id=subject,
            limit=limit,
        )
        return [msgspec.convert(item, ItemOut, from_attributes=True) for item in found]

    @post("/process", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def process(
        self, data: JSONBody[ProcessIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[ResultOut]:
        """Perform each action once: an action done already answers ``already_done``."""
        caller.internal()
        _allowed(rt, caller, data.tasks)
        return _results(ws.complete(rt, caller.tenant_id, data.tasks, caller.actor))

    @post("/skip", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def skip(self, data: JSONBody[SkipIn], caller: CallerDep, rt: RuntimeDep) -> list[ResultOut]:
        """Pass the actions by without doing them; the reason is kept in the history."""
        caller.internal()
        _allowed(rt, caller, data.tasks)
        found = ws.complete(rt, caller.tenant_id, data.tasks, caller.actor, skip_reason=data.reason)
        return _results(found)

    @post("/postpone", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def postpone(
        self, data: JSONBody[PostponeIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[ResultOut]:
        """Off the worksheet until that day (the tenant's date); back on it then."""
        caller.internal()
        _allowed(rt, caller, data.tasks)
        return _results(ws.postpone(rt, caller.tenant_id, data.tasks, data.until, caller.actor))

    @post("/{task_id:uuid}/undo", sync_to_thread=True, status_code=200)
    def undo(self, task_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep) -> UndoOut:
        """Reset the status the action set, or withdraw its message while unsent."""
        caller.internal()
        _allowed(rt, caller, [task_id])
        return UndoOut(task_id, ws.undo(rt, caller.tenant_id, task_id, caller.actor))
