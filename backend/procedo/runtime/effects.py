"""Turning a step's effects into rows: tasks and their candidates, timers, emails, escalations."""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.ids import new_id
from procedo.nodetypes import (
    Assignee,
    ClientRequestAction,
    EscalateTask,
    OpenTask,
    QueueEmail,
    QueueLetter,
    QueueSms,
    StartTimer,
)
from procedo.runtime import test_runs
from procedo.runtime.buffer import buffer, to_json
from procedo.runtime.context import Outgoing, Runtime
from procedo.runtime.roles import resolve_candidates
from procedo.runtime.rows import InstanceRow, SubjectRow


def write_effects(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    subject: SubjectRow,
    step: eng.Step,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    noted = 0
    compiled = rt.compiled(session, instance.flow_version_id)
    for index, emitted in enumerate(step.effects):
        effect = emitted.effect
        token = uuid.UUID(emitted.token) if emitted.token else None
        if isinstance(effect, StartTimer) and token is not None:
            buffer(session).insert(
                m.Timer,
                {
                    "id": new_id(),
                    "tenant_id": instance.tenant_id,
                    "instance_id": instance.id,
                    "token_id": token,
                    "purpose": effect.purpose,
                    "due_at": effect.at,
                    "status": "pending",
                    "claimed_at": None,
                },
            )
        elif isinstance(effect, OpenTask) and token is not None:
            _open_task(session, instance, subject, emitted.node, token, effect, now)
            notes.append(
                {
                    "kind": "task_opened",
                    "node_id": emitted.node,
                    "data": {
                        "title": effect.title,
                        "assignee": effect.assignee.describe(),
                        **node_mark(compiled, emitted.node),
                    },
                }
            )
        elif isinstance(effect, QueueEmail) and effect.digest and not _test_run(instance):
            notes.append(_collect(session, instance, subject, emitted.node, effect, now))
            notes[-1]["data"].update(node_mark(compiled, emitted.node))
        elif isinstance(effect, QueueEmail | QueueLetter | QueueSms):
            # A test run's messages go to its consultant, not the client (K7).
            row = test_runs.redirect(instance, _queue(instance, effect, index, now))
            buffer(session).insert(m.Outbox, row)
            if row["kind"] in ("email", "sms"):
                out.add("outbox", row["id"])
            notes.append(
                {
                    "kind": f"{row['kind']}_queued",
                    "node_id": emitted.node,
                    "data": {
                        "to": row["recipients"],
                        "subject": row["subject"],
                        **node_mark(compiled, emitted.node),
                    },
                }
            )
        elif isinstance(effect, EscalateTask) and emitted.origin is not None:
            notes.extend(
                escalate(rt, session, out, instance, uuid.UUID(emitted.origin), effect, now)
            )
        elif isinstance(effect, ClientRequestAction):
            # Asking the client, reminding them, filing what they approved (K3, K4).
            from procedo.clientpage import requests as client_requests

            notes.extend(
                client_requests.apply(session, out, instance, emitted.node, token, effect, now)
            )
        for note in notes[noted:]:
            note["seq"] = emitted.seq
        noted = len(notes)
    return notes


def _test_run(instance: InstanceRow) -> bool:
    # A test run's hand-over goes alone, to its consultant (K7).
    return bool(instance.variables.get(test_runs.FLAG))


def _collect(
    session: Session,
    instance: InstanceRow,
    subject: SubjectRow,
    node_id: str,
    effect: QueueEmail,
    now: dt.datetime,
) -> dict[str, Any]:
    """A hand-over listed in its recipient's digest, due after the run (D2)."""
    from procedo.messaging import handovers

    (to,) = effect.to
    digest, added = handovers.collect(
        session, instance, subject, to, (effect.subject, effect.body), now
    )
    data = {"to": [to], "subject": effect.subject, "digest": digest}
    if added:
        return {"kind": "email_queued", "node_id": node_id, "data": data}
    return {"kind": "hand_over_listed_already", "node_id": node_id, "data": data}


def node_mark(compiled: eng.Compiled, node_id: str) -> dict[str, str]:
    """``{"mark": ...}`` when the node says what its message or task counts as
    (a dunning notice, a call: the subject's computed facts count these rows)."""
    node = compiled.checked.nodes.get(node_id)
    mark = getattr(node.params, "mark", "") if node is not None else ""
    return {"mark": mark} if isinstance(mark, str) and mark else {}


def _open_task(
    session: Session,
    instance: InstanceRow,
    subject: SubjectRow,
    node_id: str,
    token: uuid.UUID,
    effect: OpenTask,
    now: dt.datetime,
) -> None:
    task_id = new_id()
    buffer(session).insert(
        m.Task,
        {
            "id": task_id,
            "tenant_id": instance.tenant_id,
            "instance_id": instance.id,
            "token_id": token,
            "node_id": node_id,
            "subject_id": subject.id,
            "title": effect.title,
            "instructions": effect.instructions,
            "role": effect.assignee.role or None,
            "assignee": effect.assignee.user or None,
            "outcomes": [to_json(outcome) for outcome in effect.outcomes],
            "checkpoints": [to_json(c) for c in effect.checkpoints],
            "kind": effect.kind,
            "due_at": effect.due_at,
            "created_at": now,
        },
    )
    opened = OpenedTask(task_id, instance.tenant_id, subject.id, effect.due_at, now)
    set_candidates(session, opened, effect.assignee, new=True)


class TaskKeys(Protocol):
    """What of a task its candidates need: a Task row, or an OpenedTask."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def subject_id(self) -> uuid.UUID: ...
    @property
    def due_at(self) -> dt.datetime | None: ...
    @property
    def created_at(self) -> dt.datetime: ...


@dataclass(frozen=True)
class OpenedTask:
    id: uuid.UUID
    tenant_id: uuid.UUID
    subject_id: uuid.UUID
    due_at: dt.datetime | None
    created_at: dt.datetime


def set_candidates(
    session: Session, task: TaskKeys, assignee: Assignee, new: bool = False
) -> list[str]:
    """Who may take the task now; returns their addresses.

    A task given to a user is in nobody's roles' inbox: it is not offered.
    """
    if not new:
        session.execute(sa.delete(m.TaskCandidate).where(m.TaskCandidate.task_id == task.id))
    emails = resolve_candidates(session, task.tenant_id, task.subject_id, assignee)
    _set_this_transaction(session)[task.id] = emails
    rows = buffer(session)
    for email in emails:
        rows.insert(
            m.TaskCandidate,
            {
                "task_id": task.id,
                "user_email": email,
                "tenant_id": task.tenant_id,
                "offered": not assignee.user,
                "due_at": task.due_at,
                "created_at": task.created_at,
            },
        )
    return emails


def _set_this_transaction(session: Session) -> dict[uuid.UUID, list[str]]:
    """Candidates set in this transaction, by task: their rows wait in the write buffer."""
    found: dict[uuid.UUID, list[str]] = session.info.setdefault("candidates_set", {})
    return found


def holders(session: Session, task_id: uuid.UUID) -> list[str]:
    """Who holds the task now, including a reassignment earlier in this transaction.

    Timers due together fire in one transaction: a reminder after the reassignment
    would read the table, where the old candidates are deleted and the new ones
    not yet written, and remind nobody.
    """
    found = _set_this_transaction(session).get(task_id)
    if found is not None:
        return found
    return list(
        session.scalars(
            sa.select(m.TaskCandidate.user_email).where(m.TaskCandidate.task_id == task_id)
        )
    )


def outbox_row(
    instance: InstanceRow,
    message_id: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    now: dt.datetime,
    kind: str = "email",
    template: str = "",
) -> dict[str, Any]:
    """A message of the instance's run, for the outbox."""
    return message_row(
        instance.tenant_id,
        instance.id,
        message_id,
        recipients,
        subject,
        body,
        now,
        kind,
        template,
        subject_id=instance.subject_id,
    )


def message_row(
    tenant_id: uuid.UUID,
    instance_id: uuid.UUID | None,
    message_id: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    now: dt.datetime,
    kind: str = "email",
    template: str = "",
    *,
    subject_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """An outbox row; ``instance_id`` None for a message of no run (an ad hoc request),
    ``subject_id`` whom it is about (the link it carries is made for them)."""
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "instance_id": instance_id,
        "subject_id": subject_id,
        "kind": kind,
        "message_id": message_id,
        "recipients": list(recipients),
        "subject": subject,
        "body": body,
        "template": template,
        "text_template": "",
        # Letters wait for print; emails and SMS for the sender.
        "status": "ready" if kind == "letter" else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _queue(
    instance: InstanceRow,
    effect: QueueEmail | QueueLetter | QueueSms,
    index: int,
    now: dt.datetime,
) -> dict[str, Any]:
    # Deterministic: the same step (same instance version and effect) gives the same id.
    message_id = f"<{instance.id}.{instance.version}.{index}@procedo>"
    if isinstance(effect, QueueEmail):
        to, subject, body = effect.to, effect.subject, effect.body
        row = outbox_row(instance, message_id, to, subject, body, now, "email", effect.template)
        if effect.attach_item:
            row["attach_item"] = uuid.UUID(effect.attach_item)
        return row
    if isinstance(effect, QueueSms):
        # The text is the body; the subject column shows its start in lists.
        preview = effect.text if len(effect.text) <= 120 else effect.text[:119] + "…"
        return outbox_row(instance, message_id, [effect.to], preview, effect.text, now, "sms")
    row = outbox_row(
        instance, message_id, [], effect.subject, effect.body, now, "letter", effect.template
    )
    row["text_template"] = effect.library  # drawn from the library when printed
    return row


# A task reminder in the office's language (its email settings', else its country's).
_EN = ("Reminder: {title}", "This task is waiting for you: {title}")
_REMINDER = {
    "en": _EN,
    "nl": ("Herinnering: {title}", "Deze taak wacht op u: {title}"),
    "de": ("Erinnerung: {title}", "Diese Aufgabe wartet auf Sie: {title}"),
}


def escalate(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    task_token: uuid.UUID,
    effect: EscalateTask,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Remind the holders of the open task at ``task_token`` and/or reassign it."""
    task = session.scalar(
        sa.select(m.Task).where(m.Task.token_id == task_token, m.Task.status == "open")
    )
    if task is None:
        return []
    notes: list[dict[str, Any]] = []
    if effect.reassign_to is not None:
        before = f"role {task.role}" if task.role else f"user {task.assignee}"
        task.role = effect.reassign_to.role or None
        task.assignee = effect.reassign_to.user or None
        set_candidates(session, task, effect.reassign_to)
        notes.append(
            {
                "kind": "task_reassigned",
                "node_id": task.node_id,
                "data": {"from": before, "to": effect.reassign_to.describe()},
            }
        )
    if effect.remind:
        task.reminders += 1
        recipients = holders(session, task.id)
        if recipients:
            from procedo.messaging.channel import default_language  # it imports the runtime

            subject, line = _REMINDER.get(default_language(session, instance.tenant_id), _EN)
            reminder = outbox_row(
                instance,
                f"<{task.id}.reminder.{task.reminders}@procedo>",
                sorted(recipients),
                subject.format(title=task.title),
                f"<p>{html.escape(line.format(title=task.title))}</p>",
                now,
            )
            buffer(session).insert(m.Outbox, reminder)
            out.add("outbox", reminder["id"])
        notes.append(
            {
                "kind": "task_reminded",
                "node_id": task.node_id,
                "data": {"to": sorted(recipients), "reminder": task.reminders},
            }
        )
    return notes
