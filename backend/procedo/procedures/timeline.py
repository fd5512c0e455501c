"""The customer timeline (P6): every procedure of a debtor, past and running.

Each procedure's steps on a time axis with the D.I.P. on the day of the step (in
calendar and in working days: a procedure may count either), the leading invoice now,
and for the current step why the debtor stands there: the rule of the wait it waits at
(its facts with their values, whether it holds, when it is looked at next), the branch
that routed it there with its rule, or the proposal on a worksheet it waits for. Without
a running primary procedure, why not: no overdue invoice, or the primary rules evaluated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.procedures import Procedure, WorksheetEntry
from procedo.db.receivables import OpenItem, Payment
from procedo.facts.calendar import Calendar, business_days_between
from procedo.facts.declared import Computed, computed_fields
from procedo.facts.model import Age
from procedo.facts.python import load_facts
from procedo.procedures.assign import registered, rule_of
from procedo.rules.evaluate import evaluate
from procedo.rules.model import All, AnyOf, Compare, Not, Rule, compares, literal_python
from procedo.rules.today import today_is
from procedo.runtime.context import NotFound, Runtime
from procedo.runtime.fact_waits import rule_waits

# Item statuses whose due date leads the D.I.P. (the debtor's procedure_due_date).
LEADING_STATUSES = ("open", "promise", "payment_plan", "outsourced")
STEP_KINDS = (
    "instance_started",
    "task_opened",
    "task_completed",
    "email_queued",
    "letter_queued",
    "status_changed",
    "action_skipped",
    "action_postponed",
    "action_undone",
    "waiting",
    "instance_completed",
    "instance_stopped",
    "cancelled",
    "moved",
)


@dataclass(frozen=True)
class Fact:
    name: str
    value: Any


@dataclass(frozen=True)
class Reason:
    """A rule evaluated now: its text, the facts it reads, whether it holds."""

    text: str
    holds: bool
    facts: list[Fact]
    what: str = ""  # wait, branch, primary, secondary, stop


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    day: dt.date
    dip: int | None
    kind: str
    node_id: str | None
    label: str
    actor: str
    port: str | None
    reason: str | None
    data: dict[str, Any]
    # The D.I.P. that day in working days (weekends and the tenant's holidays skipped).
    dip_working: int | None = None


@dataclass(frozen=True)
class Position:
    node_id: str
    label: str
    node_type: str
    since: dt.datetime
    next_look: dt.datetime | None
    proposal: str | None
    postponed_until: dt.date | None
    reasons: list[Reason]


@dataclass(frozen=True)
class ProcedureRun:
    instance_id: uuid.UUID
    flow_key: str
    flow_name: str
    version: int
    kind: str  # primary, secondary, or "" (a flow not registered as a procedure)
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    steps: list[Step]
    current: list[Position]
    # "working" when its waits count working days (an age in business days), else
    # "calendar": the D.I.P. to show beside its steps.
    counts: str = "calendar"


@dataclass(frozen=True)
class Leading:
    number: str
    due_date: dt.date
    open_amount: Decimal
    currency: str


@dataclass(frozen=True)
class Timeline:
    subject_id: uuid.UUID
    type: str
    key: str
    name: str
    today: dt.date
    dip: int | None
    leading: Leading | None
    procedures: list[ProcedureRun]
    why_not: list[Reason] = field(default_factory=list)
    dip_working: int | None = None


def rule_text(rule: Rule) -> str:
    """A rule as a person reads it: ``subject.oldest_overdue_days >= 15``."""
    if isinstance(rule, Compare):
        field_name = rule.field.removeprefix("subject.")
        if rule.value is None:
            return f"{field_name} {rule.op.replace('_', ' ')}"
        value = literal_python(rule.value)
        items = value if isinstance(value, list) else [value]
        shown = ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in items)
        return f"{field_name} {rule.op} {shown}"
    if isinstance(rule, Not):
        return f"not ({rule_text(rule.rule)})"
    joiner = " and " if isinstance(rule, All) else " or "
    assert isinstance(rule, All | AnyOf)
    return joiner.join(f"({rule_text(part)})" for part in rule.rules)


def _reason(rule: Rule, view: Mapping[str, Any], today: dt.date, what: str) -> Reason:
    with today_is(today):
        holds = evaluate(rule, view, {})
    names = dict.fromkeys(c.field.removeprefix("subject.") for c in compares(rule))
    return Reason(rule_text(rule), holds, [Fact(n, view.get(n)) for n in names], what)


def dip_on(day: dt.date, items: Sequence[Any], paid_on: Mapping[uuid.UUID, dt.date]) -> int | None:
    """The D.I.P. on a past day: days past the due date of the oldest item overdue that
    day and not yet paid (an item paid by payments counts until its last payment's date;
    one paid without a payment row is taken as paid before)."""
    due = leading_due_on(day, items, paid_on)
    return (day - due).days if due is not None else None


def leading_due_on(
    day: dt.date, items: Sequence[Any], paid_on: Mapping[uuid.UUID, dt.date]
) -> dt.date | None:
    """The due date that leads the D.I.P. on a past day (see ``dip_on``)."""
    dues = [
        item.due_date
        for item in items
        if item.due_date < day
        and (
            item.status in LEADING_STATUSES
            or (item.status == "paid" and item.id in paid_on and paid_on[item.id] > day)
        )
    ]
    return min(dues) if dues else None


def timeline(rt: Runtime, tenant_id: uuid.UUID, subject_id: uuid.UUID) -> Timeline:
    with rt.db.read() as session:
        subject = session.get(m.Subject, subject_id)
        if subject is None or subject.tenant_id != tenant_id:
            raise NotFound(f"no subject {subject_id} in this tenant")
        timezone, days = rt.tenant_calendar(session, tenant_id)
        calendar = Calendar(rt.clock.now(), timezone, days)
        subject_type = rt.subject_types(session, tenant_id).get(subject.type)
        computed = computed_fields(subject_type) if subject_type is not None else []
        facts = load_facts(session.connection(), computed, subject.id, subject.fields, calendar)
        view: dict[str, Any] = {**subject.fields, **facts, "status": subject.status}
        items = session.scalars(sa.select(OpenItem).where(OpenItem.debtor_id == subject.id)).all()
        paid_on: dict[uuid.UUID, dt.date] = {
            item_id: day
            for item_id, day in session.execute(
                sa.select(Payment.open_item_id, sa.func.max(Payment.paid_on))
                .where(Payment.debtor_id == subject.id, Payment.open_item_id.is_not(None))
                .group_by(Payment.open_item_id)
            )
            if item_id is not None
        }
        procedures = {p.flow_key: p for p in registered(session, tenant_id)}
        runs = [
            _run(rt, session, calendar, view, procedures, row, items, paid_on, computed)
            for row in _instances(session, subject.id)
        ]
        runs = [run for run in runs if run.kind or _is_procedure(rt, session, run)]
        leading = _leading(items, calendar.today)
        why_not: list[Reason] = []
        if not any(r.kind == "primary" and r.status == "running" for r in runs):
            why_not = _why_not(view, calendar.today, procedures.values())
    dip = facts.get("oldest_overdue_days")
    return Timeline(
        subject.id,
        subject.type,
        subject.key,
        str(subject.fields.get("name", "")),
        calendar.today,
        dip if isinstance(dip, int) else None,
        leading,
        runs,
        why_not,
        _working_days(leading.due_date, calendar.today, calendar) if leading else None,
    )


def _working_days(due: dt.date | None, day: dt.date, calendar: Calendar) -> int | None:
    """Working days after ``due`` up to ``day``, as the fact ``age`` in business days counts."""
    return None if due is None else business_days_between(due, day, calendar.holidays)


def _instances(session: Session, subject_id: uuid.UUID) -> list[Any]:
    return list(
        session.execute(
            sa.select(
                m.Instance.id,
                m.Instance.status,
                m.Instance.started_at,
                m.Instance.ended_at,
                m.Instance.flow_version_id,
                m.FlowVersion.number,
                m.Flow.key,
                m.Flow.name,
            )
            .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Instance.subject_id == subject_id)
            .order_by(m.Instance.started_at, m.Instance.id)
        )
    )


def _is_procedure(rt: Runtime, session: Session, run: ProcedureRun) -> bool:
    """A flow not registered is shown when it proposes actions (it is a procedure too)."""
    version_id = session.scalar(
        sa.select(m.Instance.flow_version_id).where(m.Instance.id == run.instance_id)
    )
    assert version_id is not None
    nodes = rt.compiled(session, version_id).checked.nodes.values()
    return any(node.node_type.type == "procedure_action" for node in nodes)


def _leading(items: Sequence[OpenItem], today: dt.date) -> Leading | None:
    overdue = [i for i in items if i.status in LEADING_STATUSES and i.due_date < today]
    if not overdue:
        return None
    item = min(overdue, key=lambda i: (i.due_date, i.number))
    return Leading(item.number, item.due_date, item.open_amount, item.currency)


def _run(
    rt: Runtime,
    session: Session,
    calendar: Calendar,
    view: Mapping[str, Any],
    procedures: Mapping[str, Procedure],
    row: Any,
    items: Sequence[OpenItem],
    paid_on: Mapping[uuid.UUID, dt.date],
    computed: Sequence[Computed],
) -> ProcedureRun:
    compiled = rt.compiled(session, row.flow_version_id)
    nodes = compiled.checked.nodes

    def label(node_id: str | None) -> str:
        node = nodes.get(node_id or "")
        return (node.node.label or node_id or "") if node is not None else (node_id or "")

    steps = []
    for h in session.scalars(
        sa.select(m.History)
        .where(m.History.instance_id == row.id, m.History.kind.in_(STEP_KINDS))
        .order_by(m.History.seq)
    ):
        day = calendar.local_date(h.at)
        due = leading_due_on(day, items, paid_on)
        steps.append(
            Step(
                h.at,
                day,
                (day - due).days if due is not None else None,
                h.kind,
                h.node_id,
                label(h.node_id),
                h.actor,
                h.port,
                h.reason,
                dict(h.data or {}),
                _working_days(due, day, calendar),
            )
        )
    current = []
    if row.status == "running":
        current = _positions(session, calendar, view, compiled, row.id, label)
    procedure = procedures.get(row.key)
    return ProcedureRun(
        row.id,
        row.key,
        row.name,
        row.number,
        procedure.kind if procedure is not None else "",
        row.status,
        row.started_at,
        row.ended_at,
        steps,
        current,
        "working" if _counts_working_days(compiled, computed) else "calendar",
    )


def _counts_working_days(compiled: Any, computed: Sequence[Computed]) -> bool:
    business = {c.name for c in computed if isinstance(c.fact, Age) and c.fact.days == "business"}
    return any(
        c.field.removeprefix("subject.") in business
        for mode in rule_waits(compiled).values()
        for c in compares(mode.when)
    )


def _positions(
    session: Session,
    calendar: Calendar,
    view: Mapping[str, Any],
    compiled: Any,
    instance_id: uuid.UUID,
    label: Any,
) -> list[Position]:
    found = []
    tokens = session.scalars(
        sa.select(m.Token).where(m.Token.instance_id == instance_id).order_by(m.Token.entered_at)
    ).all()
    for token in tokens:
        node = compiled.checked.nodes.get(token.node_id)
        if node is None:
            continue
        reasons: list[Reason] = []
        until = getattr(node.params, "until", None)
        when = getattr(until, "when", None)
        if when is not None:
            reasons.append(_reason(when, view, calendar.today, "wait"))
        branch = _branch_here(session, compiled, instance_id, token.node_id)
        if branch is not None:
            reasons.insert(0, _reason(branch, view, calendar.today, "branch"))
        stop = compiled.checked.flow.stop_when
        if stop is not None:
            reasons.append(_reason(stop, view, calendar.today, "stop"))
        next_look = session.scalar(
            sa.select(sa.func.min(m.Timer.due_at)).where(
                m.Timer.token_id == token.id, m.Timer.status.in_(("pending", "enqueued"))
            )
        )
        task = session.execute(
            sa.select(m.Task.title, m.Task.role, m.Task.assignee, WorksheetEntry.postponed_until)
            .outerjoin(WorksheetEntry, WorksheetEntry.task_id == m.Task.id)
            .where(m.Task.token_id == token.id, m.Task.status == "open")
        ).first()
        proposal = None
        if task is not None:
            proposal = f"{task.title} ({task.role or task.assignee})"
        found.append(
            Position(
                token.node_id,
                label(token.node_id),
                node.node_type.type,
                token.entered_at,
                next_look,
                proposal,
                task.postponed_until if task is not None else None,
                reasons,
            )
        )
    return found


def _branch_here(
    session: Session, compiled: Any, instance_id: uuid.UUID, node_id: str
) -> Rule | None:
    """The rule of the condition branch the instance last took towards this node."""
    last = session.execute(
        sa.select(m.History.node_id, m.History.port)
        .where(
            m.History.instance_id == instance_id,
            m.History.kind == "left",
            m.History.port.is_not(None),
        )
        .order_by(m.History.seq.desc())
        .limit(20)
    ).all()
    for source, port in last:
        node = compiled.checked.nodes.get(source)
        if node is None or node.node_type.type != "condition":
            continue
        if node_id not in compiled.targets.get((source, port), []):
            continue
        for branch in getattr(node.params, "branches", []):
            if branch.port == port:
                rule: Rule = branch.when
                return rule
        return None
    return None


def _why_not(view: Mapping[str, Any], today: dt.date, procedures: Any) -> list[Reason]:
    """Why no primary procedure runs: no overdue invoice, or the rules as they stand."""
    reasons = [
        Reason(
            "procedure_due_date is set",
            view.get("procedure_due_date") is not None,
            [Fact("procedure_due_date", view.get("procedure_due_date"))],
            "in_procedure",
        )
    ]
    for procedure in procedures:
        rule = rule_of(procedure)
        if rule is None:
            if procedure.kind == "primary":
                reasons.append(Reason(f"default: {procedure.flow_key}", True, [], "primary"))
            continue
        reason = _reason(rule, view, today, procedure.kind)
        reasons.append(
            Reason(f"{procedure.flow_key}: {reason.text}", reason.holds, reason.facts, reason.what)
        )
    return reasons
