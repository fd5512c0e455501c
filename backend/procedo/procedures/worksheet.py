"""The worksheet (P4): the actions procedures propose, done, postponed, skipped or undone.

A proposed action is the task a manual ``procedure_action`` node opens; its outcomes are
``perform`` and ``skip``. Doing it completes the task (``runtime.admin.complete_task``),
and the node then performs the action in the same step, so an action is performed at
most once: a second request finds the task closed and reports ``already_done``. What a
task row does not say (postponed to a date, undone) is a ``WorksheetEntry``; every
change is a history row of the instance, so the history keeps the action and its undo.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.procedures import WorksheetEntry
from procedo.nodes.procedure_action import PERFORM, SKIP, ProcedureActionParams
from procedo.runtime import admin
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.steps import history, lock_instance, raise_subject_event

NODE_TYPE = "procedure_action"
State = Literal["proposed", "postponed", "done"]
Outcome = Literal["performed", "skipped", "postponed", "already_done", "refused"]
# At most this many proposals are read for one page of the worksheet.
MOST = 500


@dataclass(frozen=True)
class Item:
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


@dataclass(frozen=True)
class Result:
    task_id: uuid.UUID
    outcome: Outcome
    detail: str = ""


def _actions(rt: Runtime, session: Session, version_id: uuid.UUID) -> dict[str, Any]:
    nodes = rt.compiled(session, version_id).checked.nodes
    return {
        node_id: node.params
        for node_id, node in nodes.items()
        if node.node_type.type == NODE_TYPE and isinstance(node.params, ProcedureActionParams)
    }


_ITEMS = (
    sa.select(
        m.Task.id,
        m.Task.instance_id,
        m.Task.subject_id,
        m.Task.node_id,
        m.Task.title,
        m.Task.role,
        m.Task.assignee,
        m.Task.created_at,
        m.Task.status,
        m.Task.outcome,
        m.Task.completed_by,
        m.Task.completed_at,
        m.Instance.flow_version_id,
        m.Subject.key,
        m.Subject.fields,
        m.Flow.key.label("flow_key"),
        m.Flow.name.label("flow_name"),
        WorksheetEntry.postponed_until,
        WorksheetEntry.undone_at,
    )
    .join(m.Instance, m.Instance.id == m.Task.instance_id)
    .join(m.Subject, m.Subject.id == m.Task.subject_id)
    .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
    .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .outerjoin(WorksheetEntry, WorksheetEntry.task_id == m.Task.id)
)


def local_today(rt: Runtime, session: Session, tenant_id: uuid.UUID) -> dt.date:
    timezone, _days = rt.tenant_calendar(session, tenant_id)
    return rt.clock.now().astimezone(ZoneInfo(timezone)).date()


def items(
    rt: Runtime,
    tenant_id: uuid.UUID,
    *,
    state: State = "proposed",
    role: str | None = None,
    user: str | None = None,
    action: str | None = None,
    subject_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[Item]:
    """The worksheet: proposals open now (``proposed``), put off to a later day
    (``postponed``), or done (``done``: performed or skipped, newest first)."""
    query = _ITEMS.where(m.Task.tenant_id == tenant_id)
    if state == "done":
        query = query.where(m.Task.status == "completed").order_by(m.Task.completed_at.desc())
    else:
        query = query.where(m.Task.status == "open").order_by(m.Task.created_at, m.Task.id)
    if role:
        query = query.where(m.Task.role == role)
    if user:
        query = query.where(
            sa.or_(
                m.Task.assignee == user.lower(),
                sa.exists().where(
                    m.TaskCandidate.task_id == m.Task.id,
                    m.TaskCandidate.user_email == user.lower(),
                ),
            )
        )
    if subject_id is not None:
        query = query.where(m.Task.subject_id == subject_id)
    found: list[Item] = []
    with rt.db.read() as session:
        today = local_today(rt, session, tenant_id)
        for row in session.execute(query.limit(MOST)):
            params = _actions(rt, session, row.flow_version_id).get(row.node_id)
            if params is None or (action and params.action != action):
                continue
            later = row.postponed_until is not None and row.postponed_until > today
            if state != "done" and later != (state == "postponed"):
                continue
            found.append(_item(row, params))
            if len(found) >= limit:
                break
    return found


def _item(row: Any, params: ProcedureActionParams) -> Item:
    performed = row.status == "completed" and row.outcome == PERFORM
    return Item(
        task_id=row.id,
        instance_id=row.instance_id,
        subject_id=row.subject_id,
        subject_key=row.key,
        subject_name=str((row.fields or {}).get("name", "")),
        flow_key=row.flow_key,
        flow_name=row.flow_name,
        node_id=row.node_id,
        action=params.action,
        title=row.title,
        role=row.role,
        assignee=row.assignee,
        created_at=row.created_at,
        status=row.status,
        outcome=row.outcome,
        completed_by=row.completed_by,
        completed_at=row.completed_at,
        postponed_until=row.postponed_until,
        undone_at=row.undone_at,
        can_undo=performed and row.undone_at is None and params.action != "call",
    )


def _task(session: Session, tenant_id: uuid.UUID, task_id: uuid.UUID) -> m.Task:
    task = session.get(m.Task, task_id, populate_existing=True)
    if task is None or task.tenant_id != tenant_id:
        raise NotFound(f"no task {task_id} in this tenant")
    return task


def _params(rt: Runtime, session: Session, task: m.Task) -> ProcedureActionParams:
    instance = session.get(m.Instance, task.instance_id)
    assert instance is not None
    params = _actions(rt, session, instance.flow_version_id).get(task.node_id)
    if params is None:
        raise Refusal(f"task {task.id} is no proposed action of a procedure")
    found: ProcedureActionParams = params
    return found


def complete(
    rt: Runtime,
    tenant_id: uuid.UUID,
    task_ids: Sequence[uuid.UUID],
    actor: str,
    *,
    skip_reason: str | None = None,
) -> list[Result]:
    """Perform (or skip, with a reason) each action once, each in its own transaction:
    one that cannot be done does not hold up the others. Asking again is harmless."""
    results: list[Result] = []
    for task_id in dict.fromkeys(task_ids):
        with rt.db.read() as session:
            task = _task(session, tenant_id, task_id)
            _params(rt, session, task)
            status = task.status
        if status != "open":
            results.append(Result(task_id, "already_done", f"the action is {status}"))
            continue
        outcome = SKIP if skip_reason is not None else PERFORM
        try:
            admin.complete_task(rt, tenant_id, task_id, outcome, (), actor)
        except Refusal as refusal:
            with rt.db.read() as session:
                now_status = _task(session, tenant_id, task_id).status
            kind: Outcome = "already_done" if now_status != "open" else "refused"
            results.append(Result(task_id, kind, str(refusal)))
            continue
        if skip_reason is not None:
            _note(rt, tenant_id, task_id, actor, "action_skipped", reason=skip_reason)
            results.append(Result(task_id, "skipped"))
        else:
            results.append(Result(task_id, "performed"))
    return results


def _note(
    rt: Runtime,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    actor: str,
    kind: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    with rt.transaction() as (session, _out):
        task = _task(session, tenant_id, task_id)
        instance = session.get(m.Instance, task.instance_id)
        row: dict[str, Any] = {"kind": kind, "actor": actor, "node_id": task.node_id}
        row["reason"] = reason
        row["data"] = {"task": str(task.id), "title": task.title, **(data or {})}
        history(session, instance, task.subject_id, tenant_id, rt.clock.now(), [row])


def postpone(
    rt: Runtime, tenant_id: uuid.UUID, task_ids: Sequence[uuid.UUID], until: dt.date, actor: str
) -> list[Result]:
    """Put open proposals off the worksheet until a day (tenant's date); kept in history."""
    results: list[Result] = []
    with rt.transaction() as (session, _out):
        if until <= local_today(rt, session, tenant_id):
            raise Refusal(f"postpone to a day after today, not {until.isoformat()}")
        for task_id in dict.fromkeys(task_ids):
            task = _task(session, tenant_id, task_id)
            _params(rt, session, task)
            if task.status != "open":
                results.append(Result(task_id, "already_done", f"the action is {task.status}"))
                continue
            entry = session.get(WorksheetEntry, task_id) or WorksheetEntry(
                task_id=task_id, tenant_id=tenant_id
            )
            entry.postponed_until = until
            entry.postponed_by = actor
            session.add(entry)
            instance = session.get(m.Instance, task.instance_id)
            row: dict[str, Any] = {"kind": "action_postponed", "actor": actor}
            row["node_id"] = task.node_id
            row["data"] = {"task": str(task_id), "title": task.title, "until": until.isoformat()}
            history(session, instance, task.subject_id, tenant_id, rt.clock.now(), [row])
            results.append(Result(task_id, "postponed"))
    return results


def undo(rt: Runtime, tenant_id: uuid.UUID, task_id: uuid.UUID, actor: str) -> str:
    """Take back a performed action where its effect allows: a status set is reset, an
    email or letter not yet sent is withdrawn. A call that was made stays made."""
    with rt.transaction() as (session, out):
        owner = session.scalar(sa.select(m.Task.instance_id).where(m.Task.id == task_id))
        if owner is None:
            raise NotFound(f"no task {task_id} in this tenant")
        lock_instance(session, owner)
        task = _task(session, tenant_id, task_id)
        params = _params(rt, session, task)
        if task.status != "completed" or task.outcome != PERFORM:
            raise Refusal("only a performed action can be undone; this one was not performed")
        entry = session.get(WorksheetEntry, task_id)
        if entry is not None and entry.undone_at is not None:
            raise Refusal(f"the action was undone already, by {entry.undone_by}")
        assert task.completed_at is not None
        now = rt.clock.now()
        undone: dict[str, Any]
        if params.action in ("handover", "status"):
            undone = _reset_status(session, out, task, now)
        elif params.action in ("email", "letter"):
            undone = _withdraw_message(session, task)
        else:
            raise Refusal("a call that was made cannot be undone; log a new action instead")
        entry = entry or WorksheetEntry(task_id=task_id, tenant_id=tenant_id)
        entry.undone_at = now
        entry.undone_by = actor
        session.add(entry)
        instance = session.get(m.Instance, task.instance_id)
        row: dict[str, Any] = {"kind": "action_undone", "actor": actor}
        row["node_id"] = task.node_id
        row["data"] = {"task": str(task_id), "title": task.title, **undone}
        history(session, instance, task.subject_id, tenant_id, now, [row])
        return str(undone.get("what", ""))


def _reset_status(session: Session, out: Any, task: m.Task, now: dt.datetime) -> dict[str, Any]:
    assert task.completed_at is not None
    changed = session.execute(
        sa.select(m.History.data)
        .where(
            m.History.instance_id == task.instance_id,
            m.History.node_id == task.node_id,
            m.History.kind == "status_changed",
            m.History.at >= task.completed_at,
        )
        .order_by(m.History.seq)
        .limit(1)
    ).scalar_one_or_none()
    subject = session.get(m.Subject, task.subject_id, with_for_update=True)
    assert subject is not None
    if changed is None:
        raise Refusal("the action set no status (the subject had it already); nothing to undo")
    if subject.status != changed["to"]:
        raise Refusal(
            f"the status is '{subject.status}' now, no longer '{changed['to']}' as the action "
            "set it; change it by hand if needed"
        )
    old = subject.status
    subject.status = changed["from"]
    subject.version += 1
    raise_subject_event(session, out, subject, old, now)
    return {"what": "status", "from": changed["to"], "to": changed["from"]}


def _withdraw_message(session: Session, task: m.Task) -> dict[str, Any]:
    assert task.completed_at is not None
    message = session.execute(
        sa.select(m.Outbox)
        .where(m.Outbox.instance_id == task.instance_id, m.Outbox.created_at >= task.completed_at)
        .order_by(m.Outbox.created_at)
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if message is None:
        raise Refusal("the action queued no message; nothing to undo")
    if message.status not in ("pending", "ready"):
        raise Refusal(f"the {message.kind} is {message.status} and cannot be taken back")
    message.status = "withdrawn"
    return {"what": message.kind, "message": str(message.id)}
