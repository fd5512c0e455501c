"""Claiming and reassigning tasks: the instance is locked first, like every runtime operation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.nodetypes import Assignee
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.effects import set_candidates
from procedo.runtime.steps import history, lock_instance


class NotACandidate(Exception):
    pass


def _open_task(session: Session, tenant_id: uuid.UUID, task_id: uuid.UUID) -> m.Task:
    owner = session.scalar(
        sa.select(m.Task.instance_id).where(m.Task.id == task_id, m.Task.tenant_id == tenant_id)
    )
    if owner is None:
        raise NotFound(f"no task {task_id} in this tenant")
    lock_instance(session, owner)
    task = session.get(m.Task, task_id, populate_existing=True)
    assert task is not None
    if task.status != "open":
        raise Refusal(f"the task is {task.status}, no longer open")
    return task


def candidates(session: Session, task_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            sa.select(m.TaskCandidate.user_email).where(m.TaskCandidate.task_id == task_id)
        )
    )


def may_work_on(rt: Runtime, tenant_id: uuid.UUID, task_id: uuid.UUID, email: str) -> bool:
    with rt.db.read() as session:
        owner = session.scalar(
            sa.select(m.Task.id).where(m.Task.id == task_id, m.Task.tenant_id == tenant_id)
        )
        if owner is None:
            raise NotFound(f"no task {task_id} in this tenant")
        return email in candidates(session, task_id)


def claim(rt: Runtime, tenant_id: uuid.UUID, task_id: uuid.UUID, email: str, anyone: bool) -> None:
    """Take a task: it becomes yours alone. ``anyone``: an admin may take any task."""
    with rt.transaction() as (session, _out):
        task = _open_task(session, tenant_id, task_id)
        if task.assignee == email:
            return
        if task.assignee is not None:
            raise Refusal(f"the task is taken by {task.assignee}; an admin can reassign it")
        if not anyone and email not in candidates(session, task.id):
            raise NotACandidate
        task.assignee = email
        set_candidates(session, task, Assignee(user=email))
        instance = session.get(m.Instance, task.instance_id)
        history(
            session,
            instance,
            task.subject_id,
            tenant_id,
            rt.clock.now(),
            [
                {
                    "kind": "task_claimed",
                    "actor": email,
                    "node_id": task.node_id,
                    "data": {"title": task.title},
                }
            ],
        )


def reassign(
    rt: Runtime,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    to: Assignee,
    actor: str,
    reason: str | None,
) -> list[str]:
    """Give a task to another role or user (E8); returns who may take it now."""
    with rt.transaction() as (session, _out):
        # The task first: another tenant's task is "not found", whatever the target.
        task = _open_task(session, tenant_id, task_id)
        if to.role:
            exists = session.scalar(
                sa.select(m.Role.id).where(m.Role.tenant_id == tenant_id, m.Role.name == to.role)
            )
            if exists is None:
                raise Refusal(f"no role '{to.role}' in this tenant; create it first (POST /roles)")
        else:
            exists = session.scalar(
                sa.select(m.User.id).where(m.User.tenant_id == tenant_id, m.User.email == to.user)
            )
            if exists is None:
                raise Refusal(f"no user {to.user} in this tenant")
        before = f"user {task.assignee}" if task.assignee else f"role {task.role}"
        task.role = to.role or None
        task.assignee = to.user or None
        holders = set_candidates(session, task, to)
        instance = session.get(m.Instance, task.instance_id)
        history(
            session,
            instance,
            task.subject_id,
            tenant_id,
            rt.clock.now(),
            [
                {
                    "kind": "task_reassigned",
                    "actor": actor,
                    "node_id": task.node_id,
                    "reason": reason,
                    "data": {"from": before, "to": to.describe()},
                }
            ],
        )
        return holders
