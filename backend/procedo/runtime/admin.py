"""What people and integrations do to running flows: start, complete, post, move, cancel, retry.

Each call is one transaction. The HTTP API calls these; so do `procedo run` and
the tests. Errors a person can act on are ``Refusal``; a lost race is
``Conflict`` (nothing was applied: try again); unknown ids are ``NotFound``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.ids import new_id
from procedo.nodetypes import Refused, TaskCompleted
from procedo.runtime.buffer import buffer
from procedo.runtime.context import NotFound, Outgoing, Refusal, Runtime
from procedo.runtime.effects import node_mark
from procedo.runtime.recurrence import start_variables
from procedo.runtime.rows import InstanceRow, load_instance, load_subject
from procedo.runtime.steps import (
    decode_event,
    history,
    lock_instances,
    prefetch_tokens,
    step_instance,
)


def _owned(session: Session, model: type[Any], ident: uuid.UUID, tenant_id: uuid.UUID) -> Any:
    row = session.get(model, ident)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no {model.__tablename__[:-1]} {ident} in this tenant")
    return row


def _owned_instance(
    session: Session, ident: uuid.UUID, tenant_id: uuid.UUID, lock: bool = True
) -> InstanceRow:
    instance = load_instance(session, ident, lock)
    if instance is None or instance.tenant_id != tenant_id:
        raise NotFound(f"no instance {ident} in this tenant")
    return instance


def current_version(session: Session, tenant_id: uuid.UUID, flow_key: str) -> m.FlowVersion:
    version = session.scalar(
        sa.select(m.FlowVersion)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow_key)
        .order_by(m.FlowVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"flow '{flow_key}' has no published version; publish it first")
    return version


def create_instance(
    rt: Runtime,
    session: Session,
    version: m.FlowVersion,
    subject_id: uuid.UUID,
    subject_type: str,
    actor: str,
) -> InstanceRow:
    if subject_type != version.subject_type:
        raise Refusal(
            f"flow version {version.number} runs on '{version.subject_type}' subjects, "
            f"not on '{subject_type}'"
        )
    now = rt.clock.now()
    instance = InstanceRow(
        id=new_id(),
        tenant_id=version.tenant_id,
        flow_version_id=version.id,
        subject_id=subject_id,
        status="pending",
        version=0,
        variables=start_variables(rt, session, version),
        started_by=actor,
        started_at=now,
        updated_at=now,
        failed_event=None,
        error=None,
        ended_at=None,
    )
    # Written at the end of the transaction, with the state its first step reaches.
    buffer(session).new_instances[instance.id] = instance
    history(
        session,
        instance,
        subject_id,
        version.tenant_id,
        now,
        [{"kind": "instance_started", "actor": actor, "data": {"version": version.number}}],
    )
    return instance


def run_start(
    rt: Runtime, session: Session, out: Outgoing, instance: InstanceRow, actor: str
) -> None:
    """Step a pending instance from its start node; a failing node leaves it `failed`."""
    # A failure is recorded on the instance (status `failed`, retryable), not raised.
    with contextlib.suppress(eng.NodeFailed):
        step_instance(rt, session, out, instance, eng.Start(), actor)


def start(
    rt: Runtime, tenant_id: uuid.UUID, flow_key: str, subject_id: uuid.UUID, actor: str
) -> InstanceRow:
    """Start the current version of a flow on a subject, up to its first wait states."""
    with rt.transaction() as (session, out):
        version = current_version(session, tenant_id, flow_key)
        subject = load_subject(session, subject_id)
        if subject is None or subject.tenant_id != tenant_id:
            raise NotFound(f"no subject {subject_id} in this tenant")
        instance = create_instance(rt, session, version, subject.id, subject.type, actor)
        run_start(rt, session, out, instance, actor)
        return instance


def start_many(
    rt: Runtime, tenant_id: uuid.UUID, flow_key: str, subject_ids: Iterable[uuid.UUID], actor: str
) -> list[uuid.UUID]:
    """Bulk start (K6): instances are created now and stepped by the workers."""
    with rt.transaction() as (session, out):
        version = current_version(session, tenant_id, flow_key)
        wanted = list(subject_ids)
        query = sa.select(m.Subject.id, m.Subject.type).where(
            m.Subject.id.in_(wanted), m.Subject.tenant_id == tenant_id
        )
        subjects = {row.id: row for row in session.connection().execute(query)}
        created = []
        for subject_id in wanted:
            subject = subjects.get(subject_id)
            if subject is None:
                raise NotFound(f"no subject {subject_id} in this tenant")
            instance = create_instance(rt, session, version, subject.id, subject.type, actor)
            out.add("advance", instance.id)
            created.append(instance.id)
        return created


_TASK_OWNERS = sa.select(m.Task.id, m.Task.instance_id).where(
    m.Task.id.in_(sa.bindparam("tasks", expanding=True)), m.Task.tenant_id == sa.bindparam("tenant")
)
_CLAIM_TASKS = (
    sa.update(m.Task)
    .where(m.Task.id.in_(sa.bindparam("tasks", expanding=True)), m.Task.status == "open")
    .values(
        status="completed",
        completed_by=sa.bindparam("by"),
        completed_at=sa.bindparam("now", type_=m.UtcDateTime()),
    )
    .returning(
        m.Task.id,
        m.Task.token_id,
        m.Task.node_id,
        m.Task.title,
        m.Task.kind,
        m.Task.outcomes,
        m.Task.ticked,
    )
    .execution_options(synchronize_session=False)
)


def complete_task(
    rt: Runtime,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    outcome: str,
    checkpoints: Sequence[str] = (),
    actor: str = "system",
) -> None:
    """Complete one task with an outcome; the flow continues on that outcome's port."""
    complete_tasks(rt, tenant_id, [(task_id, outcome, checkpoints)], actor)


def complete_tasks(
    rt: Runtime,
    tenant_id: uuid.UUID,
    items: Sequence[tuple[uuid.UUID, str, Sequence[str]]],
    actor: str,
) -> None:
    """Complete several tasks in one transaction ("approve selected"): all or none."""
    task_ids = [task_id for task_id, _outcome, _checkpoints in items]
    with rt.transaction() as (session, out):
        connection = session.connection()
        owners: dict[uuid.UUID, uuid.UUID] = {
            row[0]: row[1]
            for row in connection.execute(_TASK_OWNERS, {"tasks": task_ids, "tenant": tenant_id})
        }
        missing = [task_id for task_id in task_ids if task_id not in owners]
        if missing:
            raise NotFound(f"no task {missing[0]} in this tenant")
        # Lock the instances first (every operation does), then claim the tasks still open.
        instances = {i.id: i for i in lock_instances(session, set(owners.values()))}
        prefetch_tokens(session, instances)
        now = rt.clock.now()
        claimed = {
            row.id: row
            for row in connection.execute(
                _CLAIM_TASKS, {"tasks": task_ids, "by": actor, "now": now}
            )
        }
        for task_id, outcome, checkpoints in items:
            task = claimed.get(task_id)
            if task is None:
                status = session.scalar(sa.select(m.Task.status).where(m.Task.id == task_id))
                raise Refusal(f"the task is {status}, no longer open")
            instance = instances[owners[task_id]]
            ports = [
                str(o.get("port")) if isinstance(o, dict) else str(o) for o in task.outcomes or ()
            ]
            if ports and outcome not in ports:
                # One of this task's own buttons: a phase's task and the tasks its
                # automations open wait at the same node with different outcomes.
                raise Refusal(f"unknown outcome '{outcome}'; choose one of {', '.join(ports)}")
            # Ticked one by one in the inbox before (K2), or named with the completion.
            ticked = sorted(set(checkpoints) | set(task.ticked or ()))
            buffer(session).complete_task(task_id, outcome, ticked)
            history(
                session,
                instance,
                instance.subject_id,
                tenant_id,
                now,
                [
                    {
                        "kind": _completed_kind(task.kind),
                        "actor": actor,
                        "node_id": task.node_id,
                        "port": outcome,
                        "data": {
                            "title": task.title,
                            "checkpoints": ticked,
                            **node_mark(
                                rt.compiled(session, instance.flow_version_id), task.node_id
                            ),
                            **_decision(task.kind, task.outcomes, outcome),
                        },
                    }
                ],
            )
            signal = TaskCompleted(outcome=outcome, checkpoints=frozenset(ticked), by=actor)
            resume = eng.Resume(str(task.token_id), signal)
            try:
                step_instance(rt, session, out, instance, resume, actor)
            except Refused as refused:
                raise Refusal(str(refused)) from refused
            except eng.StaleEvent as stale:
                raise Refusal("the flow no longer waits for this task") from stale
            except eng.NodeFailed:
                pass  # the instance is `failed` with the error; the completion itself stands


def _completed_kind(task_kind: str) -> str:
    """An approval's completion reads as a decision in the history (D4): who approved or
    rejected what."""
    return "approval_decided" if task_kind == "approval" else "task_completed"


def _decision(task_kind: str, outcomes: Sequence[Any], outcome: str) -> dict[str, str]:
    """``{"decision": "approved" | "rejected"}`` for an approval: its first outcome
    approves (assign_role's check), the second rejects."""
    if task_kind != "approval":
        return {}
    first = outcomes[0].get("port") if outcomes and isinstance(outcomes[0], dict) else None
    return {"decision": "approved" if outcome == first else "rejected"}


def post_event(
    rt: Runtime,
    tenant_id: uuid.UUID,
    subject_id: uuid.UUID,
    name: str,
    data: dict[str, Any] | None = None,
) -> m.Event:
    """Record an event on a subject; flows are started and waits resumed by a worker."""
    with rt.transaction() as (session, out):
        subject = _owned(session, m.Subject, subject_id, tenant_id)
        event = m.Event(
            tenant_id=tenant_id,
            subject_id=subject.id,
            name=name,
            data=data or {},
            created_at=rt.clock.now(),
        )
        session.add(event)
        session.flush()
        out.add("event", event.id)
        return event


def _admin_step(
    rt: Runtime,
    tenant_id: uuid.UUID,
    instance_id: uuid.UUID,
    event: eng.EngineEvent,
    actor: str,
    reason: str | None,
    allowed: tuple[str, ...],
) -> InstanceRow:
    with rt.transaction() as (session, out):
        instance = _owned_instance(session, instance_id, tenant_id)
        if instance.status not in allowed:
            raise Refusal(
                f"the instance is {instance.status}; this needs it {' or '.join(allowed)}"
            )
        try:
            step_instance(rt, session, out, instance, event, actor, reason)
        except eng.BadEvent as bad:
            raise Refusal(str(bad)) from bad
        except eng.StaleEvent as stale:
            raise Refusal(str(stale)) from stale
        except eng.NodeFailed:
            pass
        return instance


def move(
    rt: Runtime,
    tenant_id: uuid.UUID,
    instance_id: uuid.UUID,
    to_node: str,
    reason: str,
    actor: str,
    token: str | None = None,
) -> InstanceRow:
    """Move a position to any node (back to an earlier step, another branch or role), E8.

    A failed instance moves too: the step that failed is dropped, not retried, and the
    instance goes on from the node it is moved to.
    """
    if not reason.strip():
        raise Refusal("say why the instance moves; the reason is kept in the history")
    with rt.db.read() as session:
        instance = _owned_instance(session, instance_id, tenant_id, lock=False)
        placed = sa.select(m.Token.id).where(m.Token.instance_id == instance_id).limit(1)
        if instance.status == "failed" and session.scalar(placed) is None:
            raise Refusal(
                "the instance failed before it reached its first step, so it has no position "
                "to move; fix the cause and retry it, or cancel it"
            )
    event = eng.Move(to_node=to_node, reason=reason, token=token)
    return _admin_step(rt, tenant_id, instance_id, event, actor, reason, ("running", "failed"))


def cancel(
    rt: Runtime, tenant_id: uuid.UUID, instance_id: uuid.UUID, reason: str, actor: str
) -> InstanceRow:
    event = eng.Cancel(reason=reason)
    return _admin_step(
        rt, tenant_id, instance_id, event, actor, reason, ("running", "failed", "pending")
    )


def retry(
    rt: Runtime,
    tenant_id: uuid.UUID,
    instance_id: uuid.UUID,
    actor: str,
    on_version: int | None = None,
) -> InstanceRow:
    """Run the failed step again, after the data was fixed or, on a newer version of the
    flow (`on_version`), after the flow itself was fixed and published."""
    with rt.db.read() as session:
        instance = _owned_instance(session, instance_id, tenant_id, lock=False)
        if instance.status != "failed" or instance.failed_event is None:
            raise Refusal(f"only a failed instance can be retried; this one is {instance.status}")
        event = decode_event(instance.failed_event)
    if on_version is not None:
        _switch_version(rt, tenant_id, instance_id, on_version, actor)
    return _admin_step(rt, tenant_id, instance_id, event, actor, None, ("failed",))


def _switch_version(
    rt: Runtime, tenant_id: uuid.UUID, instance_id: uuid.UUID, number: int, actor: str
) -> None:
    """Put a failed instance on another published version of its flow, where it stands.

    Refused unless every node the instance stands on, and each open task's node, is in
    that version with the same type: the engine then goes on there as if it had always
    run it. Recorded in the history (`instance_upgraded`).
    """
    with rt.transaction() as (session, _out):
        row = session.get(m.Instance, instance_id, with_for_update=not rt.db.is_sqlite)
        if row is None or row.tenant_id != tenant_id or row.status != "failed":
            raise Refusal("only a failed instance can be retried")
        current = session.get_one(m.FlowVersion, row.flow_version_id)
        target = session.scalar(
            sa.select(m.FlowVersion).where(
                m.FlowVersion.flow_id == current.flow_id, m.FlowVersion.number == number
            )
        )
        if target is None:
            raise Refusal(f"this flow has no published version {number}")
        if target.id == current.id:
            return
        old = rt.compiled(session, current.id).checked.nodes
        new = rt.compiled(session, target.id).checked.nodes
        standing = set(
            session.scalars(sa.select(m.Token.node_id).where(m.Token.instance_id == instance_id))
        )
        standing |= set(
            session.scalars(
                sa.select(m.Task.node_id).where(
                    m.Task.instance_id == instance_id, m.Task.status == "open"
                )
            )
        )
        for node in sorted(standing):
            if node not in new or new[node].node_type.type != old[node].node_type.type:
                raise Refusal(
                    f"version {number} has no {old[node].node_type.type} node '{node}', where "
                    "the instance stands: retry on its own version or move it first"
                )
        row.flow_version_id = target.id
        session.add(
            m.History(
                tenant_id=tenant_id,
                instance_id=instance_id,
                subject_id=row.subject_id,
                actor=actor,
                kind="instance_upgraded",
                data={"from": current.number, "to": number},
            )
        )
