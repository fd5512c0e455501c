"""Running one engine step and writing its result, inside the caller's transaction.

This is the only place that turns engine output into rows: tokens, tasks and
their candidates, timers, outbox messages, history, subject changes and the
events those changes raise. The instance row is written with compare-and-set on
its version, so two steps racing on one instance cannot both apply.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.ids import new_id
from procedo.nodetypes import TaskCompleted
from procedo.rules.model import Rule
from procedo.runtime import fact_waits
from procedo.runtime.buffer import buffer, to_json
from procedo.runtime.context import NotFound, Outgoing, Runtime
from procedo.runtime.effects import write_effects
from procedo.runtime.roles import members_by_role
from procedo.runtime.rows import (
    InstanceRow,
    SubjectLike,
    SubjectRow,
    load_instance,
    load_instances,
    load_subject,
)

_event_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(eng.EngineEvent)
_rule_decoder = msgspec.json.Decoder(Rule)


def encode_event(event: eng.EngineEvent) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.json.decode(_event_encoder.encode(event))
    return result


def decode_event(data: dict[str, Any]) -> eng.EngineEvent:
    event: eng.EngineEvent = _event_decoder.decode(_event_encoder.encode(data))
    return event


def subject_view(subject: SubjectLike) -> dict[str, Any]:
    return {**subject.fields, "status": subject.status}


def lock_instance(session: Session, instance_id: uuid.UUID) -> InstanceRow | None:
    """Read an instance and lock its row (PostgreSQL) before touching its tasks or timers.

    Every operation locks the instance first and its other rows after, so two
    operations on one instance queue up instead of deadlocking; the version
    compare-and-set still catches any writer that read an older state.
    """
    return load_instance(session, instance_id)


def lock_instances(session: Session, ids: Iterable[uuid.UUID]) -> list[InstanceRow]:
    """Several instances, locked in id order (so two batches never deadlock), with subjects."""
    found = load_instances(session, ids)
    # Who else runs on these subjects, asked once for the batch (see anyone_listens).
    running: dict[uuid.UUID, set[uuid.UUID]] = session.info.setdefault("running", {})
    subject_ids = list({instance.subject_id for instance in found})
    for subject_id in subject_ids:
        running.setdefault(subject_id, set())
    connection = session.connection()
    for instance_id, subject_id in connection.execute(_RUNNING_ON, {"subjects": subject_ids}):
        running[subject_id].add(instance_id)
    return found


def _token_state(row: Any) -> eng.TokenState:
    return eng.TokenState(
        id=str(row.id),
        node=row.node_id,
        origin=str(row.origin_id) if row.origin_id else None,
        await_event=row.await_event,
        await_condition=_rule_decoder.decode(_event_encoder.encode(row.await_condition))
        if row.await_condition
        else None,
        arrived=row.arrived,
    )


def prefetch_tokens(session: Session, instance_ids: Iterable[uuid.UUID]) -> None:
    """Read the tokens of a batch of instances in one query, for their steps."""
    cache: dict[uuid.UUID, list[eng.TokenState]] = session.info.setdefault("tokens", {})
    wanted = [i for i in instance_ids if i not in cache]
    for instance_id in wanted:
        cache[instance_id] = []
    for row in session.connection().execute(_BATCH_TOKENS, {"instances": wanted}):
        cache[row.instance_id].append(_token_state(row))


def load_state(session: Session, instance: InstanceRow) -> eng.State:
    # Token writes wait in the buffer until the transaction ends, so the tokens a
    # step leaves are kept here for any later step on the same instance.
    cache: dict[uuid.UUID, list[eng.TokenState]] = session.info.setdefault("tokens", {})
    tokens = cache.get(instance.id)
    if tokens is None:
        found = session.connection().execute(_TOKENS, {"instance": instance.id})
        tokens = [_token_state(row) for row in found]
    return eng.State(tokens=tuple(tokens), variables=dict(instance.variables))


def history(
    session: Session,
    instance: InstanceRow | m.Instance | None,
    subject_id: uuid.UUID | None,
    tenant_id: uuid.UUID,
    at: dt.datetime,
    rows: Iterable[dict[str, Any]],
) -> None:
    entries = [
        {
            "tenant_id": tenant_id,
            "instance_id": instance.id if instance else None,
            "subject_id": subject_id,
            "at": at,
            "actor": "system",
            "node_id": None,
            "to_node_id": None,
            "port": None,
            "reason": None,
            "data": {},
            **row,
        }
        for row in rows
    ]
    pending = buffer(session)
    for entry in entries:
        pending.insert(m.History, entry)


def step_instance(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    event: eng.EngineEvent,
    actor: str = "system",
    reason: str | None = None,
) -> eng.Step:
    """Run the engine on ``instance`` and write the result; raises Conflict if raced."""
    compiled = rt.compiled(session, instance.flow_version_id)
    subject = load_subject(session, instance.subject_id)
    if subject is None:
        raise NotFound("the instance's subject is gone")
    timezone, days = rt.tenant_calendar(session, instance.tenant_id)
    now = rt.clock.now()
    roles = compiled.roles_needed
    # Computed facts, for a flow with a wait that follows them (fact_waits.py).
    facts = fact_waits.load(rt, session, compiled, subject, now, timezone, days)
    inputs = eng.Inputs(
        flow=compiled,
        subject=fact_waits.view(subject, facts),
        now=now,
        new_id=rt.new_id,
        roles=members_by_role(session, instance.tenant_id, subject.id, roles) if roles else {},
        timezone=timezone,
        working_days=days,
    )
    # A new instance has no tokens yet: no need to ask. Its variables are those it
    # was started with (a run's period, K5).
    fresh = isinstance(event, eng.Start) and instance.status == "pending"
    fresh_state = eng.State(variables=dict(instance.variables))
    state = fresh_state if fresh else load_state(session, instance)
    try:
        step = eng.run(inputs, state, event)
    except eng.NodeFailed as failure:
        _fail(session, instance, event, failure, now, actor)
        raise
    step = fact_waits.without_facts(step, subject.fields, facts)
    _write(rt, session, out, instance, subject, state, step, event, now, actor, reason)
    fact_waits.arm(session, compiled, instance, step, facts)
    return step


def _cas_instance(session: Session, instance: InstanceRow, values: dict[str, Any]) -> None:
    """Record the instance's new state; written with compare-and-set when the transaction ends."""
    rows = buffer(session)
    read_version = instance.version
    instance.version += 1
    for key, value in values.items():
        setattr(instance, key, value)
    # Created in this transaction: its row is written once, with this state, at the end.
    if instance.id not in rows.new_instances:
        rows.update_instance(instance, read_version)


def _fail(
    session: Session,
    instance: InstanceRow,
    event: eng.EngineEvent,
    failure: eng.NodeFailed,
    now: dt.datetime,
    actor: str,
) -> None:
    message = f"{type(failure.error).__name__}: {failure.error}"
    _cas_instance(
        session,
        instance,
        {
            "status": "failed",
            "error": message,
            "failed_event": encode_event(event),
            "updated_at": now,
        },
    )
    history(
        session,
        instance,
        instance.subject_id,
        instance.tenant_id,
        now,
        [{"kind": "failed", "node_id": failure.node, "actor": actor, "data": {"error": message}}],
    )


_STATUS_BY_OUTCOME = {
    "waiting": "running",
    "completed": "completed",
    "stopped": "cancelled",
    "cancelled": "cancelled",
}


def _write(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    subject: SubjectRow,
    before: eng.State,
    step: eng.Step,
    event: eng.EngineEvent,
    now: dt.datetime,
    actor: str,
    reason: str | None,
) -> None:
    ended = step.outcome != "waiting"
    _cas_instance(
        session,
        instance,
        {
            "status": _STATUS_BY_OUTCOME[step.outcome],
            "variables": to_json(step.state.variables),
            "updated_at": now,
            "ended_at": now if ended else None,
            "error": None,
            "failed_event": None,
        },
    )
    rows = _write_subject(session, out, instance, subject, step, now, actor)
    _write_tokens(session, instance, before, step, now)
    effects = write_effects(rt, session, out, instance, subject, step, now)
    asked = {row["node_id"] for row in effects if row["kind"] == "task_opened"}
    rows += effects + _trail_history(step, event, asked, actor, reason)
    # One history, in the order things happened during the step.
    rows.sort(key=lambda row: row.pop("seq", 0) or 1_000_000)
    history(session, instance, subject.id, instance.tenant_id, now, rows)


def _trail_history(
    step: eng.Step, event: eng.EngineEvent, asked: set[str], actor: str, reason: str | None
) -> list[dict[str, Any]]:
    """The step's path as history, one row per thing that happened.

    Entering a node is not a row ("left", with its port, "waiting" and "ended" say it
    better), nor is what another row already says: waiting at a node whose task was
    opened in this step ("task_opened"), leaving a task on the outcome it was completed
    with ("task_completed"), and the end node an instance completes at, which is the
    node of its "instance_completed".
    """
    completed = (
        event.signal.outcome
        if isinstance(event, eng.Resume) and isinstance(event.signal, TaskCompleted)
        else None
    )
    rows: list[dict[str, Any]] = []
    for entry in step.trail:
        if entry.kind == "entered" or (entry.kind == "waiting" and entry.node in asked):
            continue
        if entry.kind == "left" and completed is not None and entry.port == completed:
            completed = None  # the resumed task's own leaving: said by task_completed
            continue
        row: dict[str, Any] = {
            "kind": entry.kind,
            "node_id": entry.node,
            "port": entry.port,
            "actor": actor,
            "seq": entry.seq,
        }
        if entry.kind in ("moved", "cancelled", "stopped"):
            row |= {"to_node_id": entry.to_node, "reason": reason}
        rows.append(row)
    if step.outcome in ("completed", "stopped", "cancelled"):
        at_end = step.outcome == "completed" and rows and rows[-1]["kind"] == "ended"
        node = rows.pop()["node_id"] if at_end else None
        rows.append(
            {"kind": f"instance_{step.outcome}", "node_id": node, "actor": actor, "reason": reason}
        )
    return rows


def _write_subject(
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    subject: SubjectRow,
    step: eng.Step,
    now: dt.datetime,
    actor: str,
) -> list[dict[str, Any]]:
    if not step.changes:
        return []
    new_status = str(step.subject.get("status", subject.status))
    fields = {k: v for k, v in to_json(step.subject).items() if k != "status"}
    old_status, read_version = subject.status, subject.version
    subject.fields, subject.status, subject.version = fields, new_status, subject.version + 1
    buffer(session).update_subject(subject, read_version, now)
    rows: list[dict[str, Any]] = []
    previous = old_status
    for change in step.changes:
        if change.field == "status":
            rows.append({"kind": "status_changed", "data": {"from": previous, "to": change.value}})
            previous = change.value
        else:
            data = {"field": change.field, "value": to_json(change.value)}
            rows.append({"kind": "field_changed", "data": data})
        rows[-1] |= {"actor": actor, "node_id": change.node, "seq": change.seq}
    if anyone_listens(session, subject, instance.id):
        raise_subject_event(session, out, subject, old_status, now, source=instance.id)
    return rows


def anyone_listens(session: Session, subject: SubjectLike, source: uuid.UUID | None = None) -> bool:
    """Whether a subject change matters to anyone but the instance that made it.

    Other running instances on the subject may wait on a condition or have a stop
    rule; flows may be triggered by subject changes. If neither, no event is
    needed (it would cost a transaction of its own).
    """
    # Which subject types have flows triggered by their changes: asked once per transaction.
    triggered: dict[tuple[uuid.UUID, str], bool] = session.info.setdefault("triggered", {})
    key = (subject.tenant_id, subject.type)
    if key not in triggered:
        triggered[key] = session.scalar(_TRIGGERED, {"tenant": key[0], "type": key[1]}) is not None
    if triggered[key]:
        return True
    running: dict[uuid.UUID, set[uuid.UUID]] | None = session.info.get("running")
    if running is not None and subject.id in running:
        return bool(running[subject.id] - {source})
    other = session.scalar(_OTHER_RUNNING, {"subject": subject.id, "source": source or _NO_ID})
    return other is not None


SUBJECT_EVENTS = ("subject.changed", "subject.status_changed")
_NO_ID = uuid.UUID(int=0)
# Prebuilt statements: only their parameters change from call to call.
_TRIGGERED = (
    sa.select(m.FlowVersion.id)
    .where(
        m.FlowVersion.tenant_id == sa.bindparam("tenant"),
        m.FlowVersion.trigger_event.in_(SUBJECT_EVENTS),
        m.FlowVersion.subject_type == sa.bindparam("type"),
        m.FlowVersion.active.is_(True),
    )
    .limit(1)
)
_OTHER_RUNNING = (
    sa.select(m.Instance.id)
    .where(
        m.Instance.subject_id == sa.bindparam("subject"),
        m.Instance.status == "running",
        m.Instance.id != sa.bindparam("source"),
    )
    .limit(1)
)
_RUNNING_ON = sa.select(m.Instance.id, m.Instance.subject_id).where(
    m.Instance.subject_id.in_(sa.bindparam("subjects", expanding=True)),
    m.Instance.status == "running",
)
_TOKEN_COLUMNS = [
    m.Token.__table__.c[name]
    for name in (
        "id",
        "instance_id",
        "node_id",
        "origin_id",
        "await_event",
        "await_condition",
        "arrived",
    )
]
_TOKENS = (
    sa.select(*_TOKEN_COLUMNS)
    .where(m.Token.instance_id == sa.bindparam("instance"))
    .order_by(m.Token.entered_at, m.Token.id)
)
_BATCH_TOKENS = (
    sa.select(*_TOKEN_COLUMNS)
    .where(m.Token.instance_id.in_(sa.bindparam("instances", expanding=True)))
    .order_by(m.Token.entered_at, m.Token.id)
)


def raise_subject_event(
    session: Session,
    out: Outgoing,
    subject: SubjectLike,
    old_status: str,
    now: dt.datetime,
    source: uuid.UUID | None = None,
) -> None:
    """Tell other flows on the subject (condition waits, stop rules, triggers)."""
    name = "subject.status_changed" if subject.status != old_status else "subject.changed"
    data: dict[str, Any] = {"from": old_status, "to": subject.status}
    if source is not None:
        data["source_instance"] = str(source)
    event_id = new_id()
    buffer(session).insert(
        m.Event,
        {
            "id": event_id,
            "tenant_id": subject.tenant_id,
            "subject_id": subject.id,
            "name": name,
            "data": data,
            "status": "pending",
            "created_at": now,
            "processed_at": None,
        },
    )
    out.add("event", event_id)


def _write_tokens(
    session: Session, instance: InstanceRow, before: eng.State, step: eng.Step, now: dt.datetime
) -> None:
    rows = buffer(session)
    session.info.setdefault("tokens", {})[instance.id] = list(step.state.tokens)
    old = {t.id: t for t in before.tokens}
    new = {t.id: t for t in step.state.tokens}
    for gone in old.keys() - new.keys():
        rows.delete_token(uuid.UUID(gone))
    rows.left_tokens.extend(uuid.UUID(i) for i in step.removed)
    for token in new.values():
        if token.id not in old:
            rows.insert_token(
                {
                    "id": uuid.UUID(token.id),
                    "tenant_id": instance.tenant_id,
                    "instance_id": instance.id,
                    "node_id": token.node,
                    "origin_id": uuid.UUID(token.origin) if token.origin else None,
                    "await_event": token.await_event,
                    "await_condition": to_json(token.await_condition)
                    if token.await_condition
                    else None,
                    "arrived": token.arrived,
                    "entered_at": now,
                },
            )
        elif token != old[token.id]:
            changed = {"arrived": token.arrived, "node_id": token.node}
            rows.update_token(session, uuid.UUID(token.id), changed)
