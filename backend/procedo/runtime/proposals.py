"""What an approval would let out (D4): the engine run as if the approval were given.

An approval is a task of type approval (assign_role); what its first outcome
leads to (the level set, the email or the letter) is the action on the approval
list. The list shows that action as it would go out now: the engine is pure, so
the step the approval would cause is computed from the instance's stored state
and the subject as it is now, and nothing of it is written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.messaging import library
from procedo.nodetypes import (
    Increment,
    OpenTask,
    QueueEmail,
    QueueLetter,
    SetField,
    SetStatus,
    TaskCompleted,
)
from procedo.portal.placeholders import Form
from procedo.runtime import fact_waits
from procedo.runtime.context import Runtime
from procedo.runtime.roles import members_by_role
from procedo.runtime.rows import load_instance, load_subject
from procedo.runtime.steps import load_state
from procedo.templates import TemplateError


class ProposedAction(msgspec.Struct, omit_defaults=True):
    """One thing the approval lets happen: an email, a letter, a field set, a task."""

    kind: str  # email, letter, set_field, increment, status, task
    node: str
    to: list[str] = []
    subject: str = ""
    body: str = ""  # HTML, as it would be sent (a library template's rendered now)
    template: str = ""
    library: str = ""  # the library template its texts come from
    field: str = ""
    value: Any = None


def _action(node: str, effect: object) -> ProposedAction | None:
    if isinstance(effect, QueueEmail):
        return ProposedAction(
            "email",
            node,
            list(effect.to),
            effect.subject,
            effect.body,
            effect.template,
            library=effect.template,
        )
    if isinstance(effect, QueueLetter):
        return ProposedAction(
            "letter",
            node,
            subject=effect.subject,
            body=effect.body,
            template=effect.template,
            library=effect.library,
        )
    if isinstance(effect, SetField):
        return ProposedAction("set_field", node, field=effect.field, value=effect.value)
    if isinstance(effect, Increment):
        return ProposedAction("increment", node, field=effect.field, value=effect.by)
    if isinstance(effect, SetStatus):
        return ProposedAction("status", node, value=effect.status)
    if isinstance(effect, OpenTask):
        return ProposedAction("task", node, subject=effect.title)
    return None


def proposal(
    rt: Runtime,
    session: Session,
    instance_id: uuid.UUID,
    token_id: uuid.UUID,
    approve_port: str,
) -> list[ProposedAction]:
    """The actions completing the approval task at ``token_id`` with ``approve_port``
    would cause now, in order; empty when the instance no longer waits there."""
    instance = load_instance(session, instance_id, lock=False)
    if instance is None:
        return []
    subject = load_subject(session, instance.subject_id)
    if subject is None:
        return []
    compiled = rt.compiled(session, instance.flow_version_id)
    timezone, days = rt.tenant_calendar(session, instance.tenant_id)
    now = rt.clock.now()
    roles = compiled.roles_needed
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
    event = eng.Resume(str(token_id), TaskCompleted(outcome=approve_port, by="proposal"))
    try:
        step = eng.run(inputs, load_state(session, instance), event)
    except (eng.StaleEvent, eng.NodeFailed, eng.BadEvent):
        return []
    found = (_action(emitted.node, emitted.effect) for emitted in step.effects)
    run = (subject.id, instance.variables)
    return [_rendered(session, instance.tenant_id, a, run, now) for a in found if a is not None]


def _rendered(
    session: Session,
    tenant_id: uuid.UUID,
    action: ProposedAction,
    run: tuple[uuid.UUID, dict[str, Any]],
    now: dt.datetime,
) -> ProposedAction:
    """An email or letter from the library as it would read now, so the approver sees the
    text; one that cannot be rendered keeps its "(template ...)" line (it would fail)."""
    if action.kind not in ("email", "letter") or not action.library:
        return action
    form: Form = "p" if action.kind == "letter" else "portal"
    try:
        shown = library.render_named(session, tenant_id, action.library, run, now, form)
    except TemplateError:
        return action
    return msgspec.structs.replace(action, subject=shown.subject, body=shown.html)
