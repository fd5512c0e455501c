"""Waits that follow a fact: the subject's computed facts for a step, and the wake-up timer.

A flow that names a computed field of its subject type (a ``wait`` in mode ``rule`` on
the D.I.P. ``oldest_overdue_days``, a condition on ``paid``, a template printing
``debt_amount`` ...) sees the subject's computed facts merged over the stored fields in
its steps, as ``GET /subjects/{id}/facts`` shows them today and as the scheduler
selected the subject (facts/sql.py). Flows that name none read nothing extra.

After each step of such an instance, every position waiting at a rule wait gets one
``recheck`` timer at the moment the clock alone makes its rule true
(``facts.wakeup.next_true_day``, at the wait's ``at`` on that day in the tenant's time
zone), replacing the one it had: a payment that moves the D.I.P. back moves the timer
with it. A rule the clock cannot make true gets no timer and is looked at again when the
subject changes (``subject.changed`` from payments: work._subject_updated).

``wake_matching`` is the set-based pass: for each rule wait of the tenant's running
flows, one SQL query (``facts.sql.select_matching``) finds the positions whose rule
holds now, and only those are stepped. It catches up after changes that raise no
subject event (a nightly open-items import) without evaluating every waiting subject
in Python.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.facts.calendar import Calendar
from procedo.facts.declared import Computed, computed_fields
from procedo.facts.python import ItemRow, SubjectRows, compute, load_rows
from procedo.facts.sql import select_matching
from procedo.facts.wakeup import Projection, next_true_day
from procedo.ids import new_id
from procedo.nodes.wait import RECHECK, UntilRule, WaitParams
from procedo.nodetypes import TimerFired
from procedo.rules.sql import sql_problems
from procedo.runtime.buffer import buffer
from procedo.runtime.context import Runtime
from procedo.runtime.rows import InstanceRow, SubjectRow, load_instances
from procedo.workdays import WorkingDays

log = logging.getLogger("procedo.fact_waits")


@dataclass(frozen=True)
class SubjectFacts:
    """A subject's computed facts at the step's moment, and what projecting them needs."""

    computed: list[Computed]
    values: dict[str, Any]
    items: list[ItemRow]
    calendar: Calendar


def rule_waits(compiled: eng.Compiled) -> dict[str, UntilRule]:
    """The flow's waits in mode ``rule``, by node id (asked on every step: kept per version)."""
    cached = _RULE_WAITS.get(id(compiled))
    if cached is not None and cached[0] is compiled:
        return cached[1]
    found: dict[str, UntilRule] = {}
    for node_id, node in compiled.checked.nodes.items():
        params = node.params
        if isinstance(params, WaitParams) and isinstance(params.until, UntilRule):
            found[node_id] = params.until
    if len(_RULE_WAITS) >= 2000:
        _RULE_WAITS.clear()
    # The compiled flow is kept with its answer, so its id is not reused meanwhile.
    _RULE_WAITS[id(compiled)] = (compiled, found)
    return found


_RULE_WAITS: dict[int, tuple[eng.Compiled, dict[str, UntilRule]]] = {}


def names_facts(compiled: eng.Compiled, computed: list[Computed]) -> bool:
    """Whether the flow reads a computed field anywhere (rules, templates, titles)."""
    if not computed:
        return False
    cached = _READS_FACTS.get(id(compiled))
    if cached is not None and cached[0] is compiled:
        named = cached[1]
    else:
        text = msgspec.json.encode(compiled.checked.flow).decode()
        named = frozenset(_SUBJECT_FIELD.findall(text))
        if len(_READS_FACTS) >= 2000:
            _READS_FACTS.clear()
        _READS_FACTS[id(compiled)] = (compiled, named)
    return any(field.name in named for field in computed)


_SUBJECT_FIELD = re.compile(r"subject\.([A-Za-z][A-Za-z0-9_]*)")
_READS_FACTS: dict[int, tuple[eng.Compiled, frozenset[str]]] = {}


def load(
    rt: Runtime,
    session: Session,
    compiled: eng.Compiled,
    subject: SubjectRow,
    now: dt.datetime,
    timezone: str,
    days: WorkingDays,
) -> SubjectFacts | None:
    """The subject's facts when the flow reads them, else None (nothing read)."""
    computed = _computed(rt, session, subject.tenant_id, subject.type)
    if not rule_waits(compiled) and not names_facts(compiled, computed):
        return None
    calendar = Calendar(now, timezone, days)
    # Read ahead for the batch (``prefetch``), each subject's rows used once: a second
    # step on the same subject in the transaction reads them again, after the first's writes.
    rows = session.info.get(_PREFETCHED, {}).pop(subject.id, None)
    if rows is None:
        rows = load_rows(session.connection(), computed, [subject.id])[subject.id]
    values = compute(computed, subject.fields, rows.items, rows.history, calendar, rows.tasks)
    return SubjectFacts(computed, values, rows.items, calendar)


_PREFETCHED = "fact_rows"


def prefetch(rt: Runtime, session: Session, instances: Iterable[InstanceRow]) -> None:
    """Read the fact rows of the instances' subjects whose flows read facts, in a few
    queries for the whole batch, before it is stepped (``load`` takes them from here)."""
    wanted: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for instance in instances:
        compiled = rt.compiled(session, instance.flow_version_id)
        type_name = compiled.checked.flow.subject_type
        computed = _computed(rt, session, instance.tenant_id, type_name)
        if rule_waits(compiled) or names_facts(compiled, computed):
            wanted.setdefault((instance.tenant_id, type_name), []).append(instance.subject_id)
    if not wanted:
        return
    prefetched: dict[uuid.UUID, SubjectRows] = session.info.setdefault(_PREFETCHED, {})
    for (tenant_id, type_name), subject_ids in wanted.items():
        computed = _computed(rt, session, tenant_id, type_name)
        prefetched.update(load_rows(session.connection(), computed, sorted(set(subject_ids))))


def _computed(
    rt: Runtime, session: Session, tenant_id: uuid.UUID, type_name: str
) -> list[Computed]:
    """The type's computed fields; kept for a minute, as every step of every flow asks."""
    key = (tenant_id, type_name)
    moment = time.monotonic()
    cached = _COMPUTED.get(key)
    if cached is not None and cached[0] > moment:
        return cached[1]
    subject_type = rt.subject_types(session, tenant_id).get(type_name)
    computed = computed_fields(subject_type) if subject_type is not None else []
    if len(_COMPUTED) >= 10_000:
        _COMPUTED.clear()
    _COMPUTED[key] = (moment + 60.0, computed)
    return computed


_COMPUTED: dict[tuple[uuid.UUID, str], tuple[float, list[Computed]]] = {}


def view(subject: SubjectRow, facts: SubjectFacts | None) -> dict[str, Any]:
    """The subject as the step's rules and templates read it: a computed value wins."""
    extra = facts.values if facts is not None else {}
    return {**subject.fields, **extra, "status": subject.status}


def without_facts(step: eng.Step, stored: dict[str, Any], facts: SubjectFacts | None) -> eng.Step:
    """The step with its subject as it is stored: computed values are never written back."""
    if facts is None:
        return step
    fields = {k: v for k, v in step.subject.items() if k not in facts.values}
    fields |= {k: stored[k] for k in facts.values if k in stored}
    return eng.Step(
        state=step.state,
        subject=fields,
        changes=step.changes,
        effects=step.effects,
        trail=step.trail,
        removed=step.removed,
        outcome=step.outcome,
    )


def arm(
    session: Session,
    compiled: eng.Compiled,
    instance: InstanceRow,
    step: eng.Step,
    facts: SubjectFacts | None,
) -> None:
    """Give each position at a rule wait its next wake-up timer, replacing the old one."""
    if facts is None:
        return
    waits = rule_waits(compiled)
    waiting = [t for t in step.state.tokens if t.node in waits]
    left = [uuid.UUID(t) for t in step.removed]
    armed: dict[uuid.UUID, dict[str, Any]] = session.info.setdefault("fact_wake_timers", {})
    pending = buffer(session)
    for token_id in left:
        _forget(pending, armed, token_id)
    if not waiting:
        return
    calendar = facts.calendar
    stored = {k: v for k, v in step.subject.items() if k != "status"}
    projection = Projection(
        facts.computed, stored, facts.values, facts.items, calendar.timezone, calendar.working_days
    )
    status = str(step.subject.get("status", ""))
    tokens = [uuid.UUID(t.id) for t in waiting]
    session.connection().execute(_CANCEL_RECHECKS, {"instance": instance.id, "tokens": tokens})
    for token in waiting:
        token_id = uuid.UUID(token.id)
        _forget(pending, armed, token_id)
        mode = waits[token.node]
        day = next_true_day(mode.when, step.state.variables, status, projection, calendar.today)
        if day is None:
            continue
        hour, minute = (int(part) for part in mode.at.split(":"))
        due = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(calendar.timezone))
        row = {
            "id": new_id(),
            "tenant_id": instance.tenant_id,
            "instance_id": instance.id,
            "token_id": token_id,
            "purpose": RECHECK,
            "due_at": due.astimezone(dt.UTC),
            "status": "pending",
            "claimed_at": None,
        }
        pending.insert(m.Timer, row)
        armed[token_id] = row


def _forget(pending: Any, armed: dict[uuid.UUID, dict[str, Any]], token_id: uuid.UUID) -> None:
    """Drop a wake-up timer set earlier in this transaction (still in the write buffer)."""
    row = armed.pop(token_id, None)
    timers = pending.rows.get(m.Timer)
    if row is not None and timers:
        timers[:] = [t for t in timers if t is not row]


_CANCEL_RECHECKS = (
    sa.update(m.Timer)
    .where(
        # By the instance first: timers have no index on the token, and a scan of every
        # timer per step made a day's pass grow with the square of the waiting debtors.
        m.Timer.instance_id == sa.bindparam("instance"),
        m.Timer.token_id.in_(sa.bindparam("tokens", expanding=True)),
        m.Timer.purpose == RECHECK,
        m.Timer.status.in_(("pending", "enqueued")),
    )
    .values(status="cancelled")
    .execution_options(synchronize_session=False)
)


def matching_positions(
    rt: Runtime, session: Session, tenant_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(instance, token) of every position at a rule wait whose rule holds now: one query
    per rule wait of the tenant's running flow versions."""
    timezone, days = rt.tenant_calendar(session, tenant_id)
    calendar = Calendar(rt.clock.now(), timezone, days)
    found: list[tuple[uuid.UUID, uuid.UUID]] = []
    versions = session.scalars(_RUNNING_VERSIONS, {"tenant": tenant_id}).all()
    types = rt.subject_types(session, tenant_id)
    for version_id in versions:
        compiled = rt.compiled(session, version_id)
        subject_type = types.get(compiled.checked.flow.subject_type)
        if subject_type is None:
            continue
        computed = computed_fields(subject_type)
        for node_id, mode in rule_waits(compiled).items():
            if sql_problems(mode.when):
                continue  # names vars.*: left to its timer and the subject's events
            waiting = _WAITING.where(
                m.Instance.flow_version_id == version_id, m.Token.node_id == node_id
            )
            matching = select_matching(mode.when, computed, calendar, tenant_id, subject_type.name)
            # Facts computed only for the subjects waiting there (PostgreSQL pushes the
            # condition down into the subquery that computes them), not the whole tenant.
            subject_ids = waiting.with_only_columns(m.Instance.subject_id).scalar_subquery()
            matching = matching.where(matching.selected_columns[0].in_(subject_ids))
            query = waiting.where(m.Instance.subject_id.in_(matching.scalar_subquery()))
            found.extend((row.instance_id, row.id) for row in session.execute(query))
    return sorted(found)


def wake_matching(rt: Runtime, tenant_id: uuid.UUID) -> int:
    """Step every position at a rule wait whose rule holds now; how many were woken."""
    from procedo.runtime.steps import step_instance  # steps imports this module

    with rt.transaction() as (session, out):
        positions = matching_positions(rt, session, tenant_id)
        # In chunks: the chunk's instances locked in one query and their subjects' fact
        # rows read in a few, not a few round trips per position.
        for start in range(0, len(positions), _CHUNK):
            chunk = positions[start : start + _CHUNK]
            instances = {i.id: i for i in load_instances(session, {p[0] for p in chunk})}
            prefetch(rt, session, instances.values())
            for instance_id, token_id in chunk:
                instance = instances.get(instance_id)
                if instance is None or instance.status != "running":
                    continue
                signal = eng.Resume(str(token_id), TimerFired(RECHECK))
                with contextlib.suppress(eng.StaleEvent, eng.NodeFailed):
                    step_instance(rt, session, out, instance, signal, "fact pass")
    return len(positions)


_CHUNK = 500


def wake_all(rt: Runtime) -> int:
    """``wake_matching`` for every tenant with a running instance; how many were woken.

    Run by the scheduler every few minutes. Each tenant is its own transaction, so one
    whose pass fails (logged) holds up no other.
    """
    with rt.db.read() as session:
        tenants = list(session.scalars(_RUNNING_TENANTS))
    woken = 0
    for tenant_id in tenants:
        try:
            woken += wake_matching(rt, tenant_id)
        except Exception:  # the next pass tries again; the others go on
            log.exception("fact pass for tenant %s failed", tenant_id)
    return woken


_RUNNING_TENANTS = sa.select(m.Instance.tenant_id).where(m.Instance.status == "running").distinct()
_RUNNING_VERSIONS = (
    sa.select(m.Instance.flow_version_id)
    .where(m.Instance.tenant_id == sa.bindparam("tenant"), m.Instance.status == "running")
    .distinct()
)
_WAITING = (
    sa.select(m.Token.id, m.Token.instance_id)
    .join(m.Instance, m.Instance.id == m.Token.instance_id)
    .where(m.Instance.status == "running")
)
