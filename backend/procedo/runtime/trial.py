"""A trial run of one flow on one subject, for consultants: `procedo run`.

Starts the flow on the subject in a throw-away embedded database, completes
open tasks with the outcomes given (oldest task first, all checkpoints ticked),
posts awaited events that were given, and otherwise lets simulated time pass
to the next timer, until the instance ends or waits for something not given.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa

from procedo.db import models as m
from procedo.flow.codec import decode_flow
from procedo.runtime import admin, setup
from procedo.runtime.local import LocalRunner

# Simulated time a trial may pass through before giving up (escalations repeat forever).
HORIZON = dt.timedelta(days=400)


class SubjectFile(msgspec.Struct, forbid_unknown_fields=True):
    """A subject for a trial run: ``{"key": ..., "status": ..., "fields": {...}}``."""

    fields: dict[str, Any]
    key: str = "trial"
    status: str = ""


class TrialResult(msgspec.Struct):
    status: str
    subject_status: str
    waiting_at: list[str]
    history: list[str]
    emails: list[str]


def read_subject(data: bytes) -> SubjectFile:
    raw = msgspec.json.decode(data)
    if isinstance(raw, dict) and "fields" not in raw:
        raw = {"fields": raw}  # a bare object is the subject's fields
    return msgspec.convert(raw, SubjectFile)


def trial_run(
    flow_document: bytes,
    subject: SubjectFile,
    completions: Iterable[str] = (),
    events: Iterable[str] = (),
) -> TrialResult:
    runner = LocalRunner()
    rt = runner.rt
    flow = decode_flow(flow_document)
    tenant = setup.create_tenant(rt, "Trial", "trial")
    setup.publish(rt, tenant.id, flow_document, "trial")
    row = setup.upsert_subject(
        rt, tenant.id, flow.subject_type, subject.key, subject.fields, subject.status
    )
    instance = admin.start(rt, tenant.id, flow.key, row.id, "trial")
    outcomes, pending_events = deque(completions), deque(events)
    horizon = runner.clock.now() + HORIZON
    while True:
        runner.drain()
        with rt.db.read() as session:
            current = session.get(m.Instance, instance.id)
            assert current is not None
            if current.status != "running":
                break
            task = session.scalar(
                sa.select(m.Task)
                .where(m.Task.instance_id == instance.id, m.Task.status == "open")
                .order_by(m.Task.created_at)
                .limit(1)
            )
            awaited = set(
                session.scalars(
                    sa.select(m.Token.await_event).where(
                        m.Token.instance_id == instance.id, m.Token.await_event.is_not(None)
                    )
                )
            )
        if task is not None and outcomes:
            ticked = [c["id"] for c in task.checkpoints]
            admin.complete_task(rt, tenant.id, task.id, outcomes.popleft(), ticked, "trial")
        elif pending_events and pending_events[0] in awaited:
            admin.post_event(rt, tenant.id, row.id, pending_events.popleft())
        elif task is not None and not outcomes:
            break  # waits for a person: nothing more was given
        elif not runner.skip_to_next_timer(horizon):
            break
    return _result(runner, instance.id, tenant.timezone)


def _result(runner: LocalRunner, instance_id: Any, timezone: str) -> TrialResult:
    zone = ZoneInfo(timezone)
    with runner.rt.db.read() as session:
        instance = session.get(m.Instance, instance_id)
        assert instance is not None
        subject = session.get(m.Subject, instance.subject_id)
        assert subject is not None
        waiting = list(
            session.scalars(sa.select(m.Token.node_id).where(m.Token.instance_id == instance_id))
        )
        rows = session.scalars(
            sa.select(m.History).where(m.History.instance_id == instance_id).order_by(m.History.seq)
        ).all()
        lines = [describe(row, zone) for row in rows]
        if instance.error:
            lines.append(f"error: {instance.error}")
    emails = [f"to {', '.join(e.recipients)}: {e.subject}" for e in runner.sender.sent]
    return TrialResult(
        status=instance.status,
        subject_status=subject.status,
        waiting_at=waiting,
        history=lines,
        emails=emails,
    )


def describe(row: m.History, zone: ZoneInfo) -> str:
    when = row.at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
    where = row.node_id or ""
    if row.port:
        where += f" -> {row.port}"
    if row.to_node_id:
        where += f" => {row.to_node_id}"
    details = ", ".join(f"{k}={v}" for k, v in sorted(row.data.items()) if k != "message_id")
    reason = f" (reason: {row.reason})" if row.reason else ""
    return f"{when}  {row.actor:<10} {row.kind:<18} {where}{reason}  {details}".rstrip()
