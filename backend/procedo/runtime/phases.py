"""Checkpoints ticked one by one, and phases that move on by themselves (K2).

A task's checkpoints are ticked and unticked in the inbox; each change is kept in
the task (``ticked``, and who and when in ``ticks``) and in the history. A phase
node set to ``advance: automatic`` completes itself, as ``system``, once every
mandatory checkpoint is ticked and its instance has no open client request
(client_requests_gate); it is looked at again after every tick and whenever the
event ``client_request.completed`` is posted on its subject.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.nodetypes import TaskCompleted
from procedo.runtime import client_requests_gate
from procedo.runtime.buffer import buffer
from procedo.runtime.client_requests_gate import CLIENT_REQUEST_COMPLETED
from procedo.runtime.context import NotFound, Outgoing, Refusal, Runtime
from procedo.runtime.rows import InstanceRow
from procedo.runtime.steps import history, lock_instance, step_instance

# The phase's own outcome (nodes/phase.py COMPLETE).
COMPLETE = "complete"
SYSTEM = "system"

_TASK = sa.select(
    m.Task.id,
    m.Task.instance_id,
    m.Task.token_id,
    m.Task.node_id,
    m.Task.title,
    m.Task.status,
    m.Task.checkpoints,
    m.Task.ticked,
    m.Task.ticks,
    m.Task.outcomes,
)


def tick(
    rt: Runtime,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    checkpoint: str,
    ticked: bool,
    actor: str,
) -> None:
    """Tick (or untick) one checkpoint of an open task; an automatic phase may move on."""
    with rt.transaction() as (session, out):
        owner = session.scalar(
            sa.select(m.Task.instance_id).where(m.Task.id == task_id, m.Task.tenant_id == tenant_id)
        )
        if owner is None:
            raise NotFound(f"no task {task_id} in this tenant")
        # Lock the instance first (every operation does), then read its task.
        instance = lock_instance(session, owner)
        task = session.execute(_TASK.where(m.Task.id == task_id)).one()
        if task.status != "open":
            raise Refusal(f"the task is {task.status}; its checkpoints can no longer change")
        found = next((c for c in task.checkpoints if c.get("id") == checkpoint), None)
        if found is None:
            known = ", ".join(c["id"] for c in task.checkpoints) or "none"
            raise Refusal(f"the task has no checkpoint '{checkpoint}' (it has: {known})")
        now = rt.clock.now()
        ids = set(task.ticked or ())
        ticks: dict[str, Any] = dict(task.ticks or {})
        if ticked == (checkpoint in ids):
            return  # already so: nothing to keep
        if ticked:
            ids.add(checkpoint)
            ticks[checkpoint] = {"by": actor, "at": now.isoformat()}
        else:
            ids.discard(checkpoint)
            ticks.pop(checkpoint, None)
        session.execute(
            sa.update(m.Task)
            .where(m.Task.id == task_id)
            .values(ticked=sorted(ids), ticks=ticks)
            .execution_options(synchronize_session=False)
        )
        assert instance is not None
        history(
            session,
            instance,
            instance.subject_id,
            tenant_id,
            now,
            [
                {
                    "kind": "checkpoint_ticked" if ticked else "checkpoint_unticked",
                    "actor": actor,
                    "node_id": task.node_id,
                    "data": {
                        "title": task.title,
                        "checkpoint": checkpoint,
                        "label": found.get("label", checkpoint),
                        "mandatory": bool(found.get("mandatory")),
                    },
                }
            ],
        )
        if ticked:
            _move_on_if_ready(rt, session, out, instance, task.id, now)


def recheck(
    rt: Runtime, session: Session, out: Outgoing, instance_ids: Sequence[uuid.UUID]
) -> None:
    """Let the automatic phases of these instances move on if they are ready now."""
    now = rt.clock.now()
    for instance_id in sorted(set(instance_ids)):
        instance = lock_instance(session, instance_id)
        if instance is None or instance.status != "running":
            continue
        open_tasks = session.scalars(
            sa.select(m.Task.id).where(m.Task.instance_id == instance_id, m.Task.status == "open")
        ).all()
        for task_id in open_tasks:
            _move_on_if_ready(rt, session, out, instance, task_id, now)


def on_event(rt: Runtime, session: Session, out: Outgoing, event: m.Event) -> None:
    """``client_request.completed`` on a subject: its instance (or all running on it) re-checked."""
    if event.name != CLIENT_REQUEST_COMPLETED:
        return
    named = (event.data or {}).get("instance_id")
    query = sa.select(m.Instance.id).where(
        m.Instance.tenant_id == event.tenant_id,
        m.Instance.subject_id == event.subject_id,
        m.Instance.status == "running",
    )
    if named:
        try:
            query = query.where(m.Instance.id == uuid.UUID(str(named)))
        except ValueError:
            return  # not an instance id: nothing of ours to look at
    recheck(rt, session, out, list(session.scalars(query)))


def _ports(outcomes: Sequence[Any] | None) -> list[str]:
    """A task's outcome ports (older tasks stored them as plain names)."""
    return [str(o.get("port")) if isinstance(o, dict) else str(o) for o in outcomes or ()]


def _move_on_if_ready(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    task_id: uuid.UUID,
    now: dt.datetime,
) -> bool:
    if instance.status != "running":
        return False
    task = session.execute(_TASK.where(m.Task.id == task_id)).one_or_none()
    if task is None or task.status != "open":
        return False
    node = rt.compiled(session, instance.flow_version_id).checked.nodes.get(task.node_id)
    if node is None or node.node_type.type != "phase":
        return False
    if getattr(node.params, "advance", "by_hand") != "automatic":
        return False
    # The phase's own task, not one its automations opened (those complete with task_done).
    if COMPLETE not in _ports(task.outcomes):
        return False
    ticked = set(task.ticked or ())
    if any(c.get("mandatory") and c.get("id") not in ticked for c in task.checkpoints):
        return False
    if client_requests_gate.open_client_requests(session, instance.id) > 0:
        return False
    claimed = session.execute(
        sa.update(m.Task)
        .where(m.Task.id == task_id, m.Task.status == "open")
        .values(status="completed", completed_by=SYSTEM, completed_at=now)
        .returning(m.Task.id)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return False
    buffer(session).complete_task(task_id, COMPLETE, sorted(ticked))
    history(
        session,
        instance,
        instance.subject_id,
        instance.tenant_id,
        now,
        [
            {
                "kind": "task_completed",
                "actor": SYSTEM,
                "node_id": task.node_id,
                "port": COMPLETE,
                "reason": "every mandatory checkpoint ticked and no client request open",
                "data": {"title": task.title, "checkpoints": sorted(ticked)},
            }
        ],
    )
    signal = TaskCompleted(outcome=COMPLETE, checkpoints=frozenset(ticked), by=SYSTEM)
    with contextlib.suppress(eng.NodeFailed, eng.StaleEvent):
        step_instance(rt, session, out, instance, eng.Resume(str(task.token_id), signal), SYSTEM)
    return True
