"""Work the broker wakes up: each handler takes an id, reads the row, and is idempotent.

A message delivered twice changes nothing the second time: each handler first
claims its row with a conditional UPDATE (pending -> done), and instance steps
use compare-and-set. A lost message is found again by the sweeper.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.db import models as m
from procedo.messaging.attachments import event_variables
from procedo.nodetypes import EventReceived, TimerFired
from procedo.rules.evaluate import evaluate
from procedo.rules.model import Rule
from procedo.rules.today import today_is
from procedo.runtime import fact_waits, phases
from procedo.runtime.admin import create_instance, run_start
from procedo.runtime.buffer import Conflict
from procedo.runtime.context import Outgoing, Runtime
from procedo.runtime.rows import SubjectRow, load_subject, running_on
from procedo.runtime.steps import (
    SUBJECT_EVENTS,
    lock_instance,
    lock_instances,
    prefetch_tokens,
    step_instance,
    subject_view,
)

log = logging.getLogger("procedo.work")
T = TypeVar("T")
CONFLICT_RETRIES = 5


# PostgreSQL: serialization failure, deadlock detected, lock not available.
_RACE_STATES = ("40001", "40P01", "55P03")


def lost_race(exc: BaseException) -> bool:
    """Whether a transaction lost to a concurrent one and may simply run again: the
    instance's compare-and-set lost, or the database broke a deadlock, a serialization
    failure or a lock it could not get (SQLite: the database was locked)."""
    if isinstance(exc, Conflict):
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        return state in _RACE_STATES or "database is locked" in str(exc.orig)
    return False


def retrying(action: Callable[[], T], attempts: int = CONFLICT_RETRIES) -> T:
    """Run ``action`` again when it lost a race (``lost_race``); it re-reads everything.
    The last attempt's failure is raised."""
    for _ in range(attempts - 1):
        try:
            return action()
        except Exception as exc:
            if not lost_race(exc):
                raise
            log.info("lost a race, trying again: %s", exc)
    return action()


def _claim(
    session: Session,
    model: Any,
    ident: uuid.UUID,
    from_states: tuple[str, ...],
    to_state: str,
    **values: Any,
) -> bool:
    result = session.execute(
        sa.update(model)
        .where(model.id == ident, model.status.in_(from_states))
        .values(status=to_state, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def alone_on_failure(
    batch: Callable[[Sequence[uuid.UUID]], None], ids: Sequence[uuid.UUID], what: str
) -> None:
    """Run ``batch`` over all ids in one commit; if it fails, over each id alone.

    A batch mixes tenants (timers due together, a bulk start's instances), so one item
    that cannot be handled must not hold up the others: each then commits or fails on
    its own, and the first failure is raised afterwards so the message is retried
    (the handled ones are claimed already and change nothing the second time).
    """
    if len(ids) == 1:
        batch(ids)
        return
    try:
        batch(ids)
        return
    except Exception:
        log.exception("a batch of %d %s failed; handling them one by one", len(ids), what)
    failed: Exception | None = None
    for ident in ids:
        try:
            batch([ident])
        except Exception as exc:  # the others still run
            failed = failed or exc
    if failed is not None:
        raise failed


def advance(rt: Runtime, instance_ids: Sequence[uuid.UUID]) -> None:
    """Step pending instances (bulk starts, schedules) from their start nodes, in one commit."""
    alone_on_failure(lambda ids: _advance(rt, ids), instance_ids, "starts")


def _advance(rt: Runtime, instance_ids: Sequence[uuid.UUID]) -> None:
    def attempt() -> None:
        with rt.transaction() as (session, out):
            pending = [i for i in lock_instances(session, instance_ids) if i.status == "pending"]
            fact_waits.prefetch(rt, session, pending)  # the batch's facts in a few queries
            for instance in pending:
                run_start(rt, session, out, instance, instance.started_by)

    retrying(attempt)


def fire_timers(rt: Runtime, timer_ids: Sequence[uuid.UUID]) -> None:
    """Fire due timers, in one commit; a timer fired or cancelled already is skipped."""
    alone_on_failure(lambda ids: _fire_timers(rt, ids), timer_ids, "timers")


def _fire_timers(rt: Runtime, timer_ids: Sequence[uuid.UUID]) -> None:
    def attempt() -> None:
        with rt.transaction() as (session, out):
            owners = session.connection().execute(_TIMER_OWNERS, {"timers": list(timer_ids)})
            instances = {i.id: i for i in lock_instances(session, {row[0] for row in owners})}
            prefetch_tokens(session, instances)
            fact_waits.prefetch(rt, session, instances.values())
            # Claimed after the locks: a timer fired or cancelled meanwhile is not returned.
            claim = session.connection().execute(_CLAIM_TIMERS, {"timers": list(timer_ids)})
            timers = claim.all()
            # Timers due at the same moment fire in the order they were set (ids are UUIDv7):
            # a task's reassignment, set days ago, before the reminder set yesterday.
            for timer in sorted(timers, key=lambda t: (t.due_at, t.id)):
                instance = instances.get(timer.instance_id)
                if instance is None or instance.status != "running":
                    continue
                signal = eng.Resume(str(timer.token_id), TimerFired(timer.purpose))
                with contextlib.suppress(eng.StaleEvent, eng.NodeFailed):
                    step_instance(rt, session, out, instance, signal)

    retrying(attempt)


def dispatch_events(rt: Runtime, event_ids: Sequence[uuid.UUID]) -> None:
    """A message's events in one transaction (a batch of invoices received: one commit).

    If the batch fails for any reason but a lost race, each event is handled in a
    transaction of its own, so one event that cannot be handled holds up no other.
    """
    alone_on_failure(lambda ids: _dispatch_batch(rt, ids), event_ids, "events")


def _dispatch_batch(rt: Runtime, event_ids: Sequence[uuid.UUID]) -> None:
    def attempt() -> None:
        with rt.transaction() as (session, out):
            for event_id in event_ids:
                _dispatch(rt, session, out, event_id)

    retrying(attempt)


def dispatch_event(rt: Runtime, event_id: uuid.UUID) -> None:
    """Start flows the event triggers, resume waits on it, re-check condition waits."""

    def attempt() -> None:
        with rt.transaction() as (session, out):
            _dispatch(rt, session, out, event_id)

    retrying(attempt)


def _dispatch(rt: Runtime, session: Session, out: Outgoing, event_id: uuid.UUID) -> None:
    event = session.get(m.Event, event_id)
    now = rt.clock.now()
    if event is None or not _claim(
        session, m.Event, event_id, ("pending",), "done", processed_at=now
    ):
        return
    subject = load_subject(session, event.subject_id)
    if subject is None:
        return
    _start_triggered(rt, session, out, event, subject)
    _resume_waiting(rt, session, out, event)
    phases.on_event(rt, session, out, event)  # client_request.completed: phases re-checked
    if event.name in SUBJECT_EVENTS:
        _subject_updated(rt, session, out, subject)


def _start_triggered(
    rt: Runtime, session: Session, out: Outgoing, event: m.Event, subject: SubjectRow
) -> None:
    # Which versions the event starts: asked once per transaction (a batch shares them).
    triggered: dict[tuple[uuid.UUID, str, str], list[m.FlowVersion]]
    triggered = session.info.setdefault("triggered_versions", {})
    key = (event.tenant_id, event.name, subject.type)
    versions = triggered.get(key)
    if versions is None:
        versions = triggered[key] = list(
            session.scalars(
                sa.select(m.FlowVersion).where(
                    m.FlowVersion.tenant_id == event.tenant_id,
                    m.FlowVersion.trigger_event == event.name,
                    m.FlowVersion.subject_type == subject.type,
                    m.FlowVersion.active.is_(True),
                )
            )
        )
    for version in versions:
        compiled = rt.compiled(session, version.id)
        trigger = compiled.checked.flow.trigger
        rule = getattr(trigger, "when", None)
        view = subject_view(subject)
        if rule is not None and not _accepts(rt, session, event.tenant_id, rule, view):
            continue
        actor = f"event {event.name}"
        instance = create_instance(rt, session, version, subject.id, subject.type, actor)
        # The flow sees what started it: vars.event (and the document of an item it names).
        event_vars = event_variables(session, event.tenant_id, event.data)
        instance.variables = {**instance.variables, "event": event_vars}
        run_start(rt, session, out, instance, actor)


def _accepts(
    rt: Runtime, session: Session, tenant_id: uuid.UUID, rule: Rule, subject: dict[str, Any]
) -> bool:
    """An event trigger's ``when``, with ``today`` the tenant's date (rules/today.py)."""
    timezone, _days = rt.tenant_calendar(session, tenant_id)
    with today_is(rt.clock.now().astimezone(ZoneInfo(timezone)).date()):
        return evaluate(rule, subject, {})


def _resume_waiting(rt: Runtime, session: Session, out: Outgoing, event: m.Event) -> None:
    rows = session.execute(
        sa.select(m.Token.id, m.Token.instance_id)
        .join(m.Instance, m.Instance.id == m.Token.instance_id)
        .where(
            m.Token.tenant_id == event.tenant_id,
            m.Token.await_event == event.name,
            m.Instance.subject_id == event.subject_id,
            m.Instance.status == "running",
        )
    ).all()
    for token_id, instance_id in sorted(rows, key=lambda row: row[1]):
        instance = lock_instance(session, instance_id)
        if instance is None:
            continue
        signal = eng.Resume(str(token_id), EventReceived(event.name, dict(event.data)))
        with contextlib.suppress(eng.StaleEvent, eng.NodeFailed):
            step_instance(rt, session, out, instance, signal, f"event {event.name}")


def _subject_updated(rt: Runtime, session: Session, out: Outgoing, subject: SubjectRow) -> None:
    for instance in running_on(session, subject.id):
        compiled = rt.compiled(session, instance.flow_version_id)
        waits_on_condition = session.scalar(
            sa.select(sa.func.count())
            .select_from(m.Token)
            .where(m.Token.instance_id == instance.id, m.Token.await_condition.is_not(None))
        )
        if compiled.checked.flow.stop_when is None and not waits_on_condition:
            continue
        with contextlib.suppress(eng.NodeFailed):
            step_instance(rt, session, out, instance, eng.SubjectUpdated())


_TIMER_OWNERS = sa.select(m.Timer.instance_id).where(
    m.Timer.id.in_(sa.bindparam("timers", expanding=True))
)
_CLAIM_TIMERS = (
    sa.update(m.Timer)
    .where(
        m.Timer.id.in_(sa.bindparam("timers", expanding=True)),
        m.Timer.status.in_(("pending", "enqueued")),
    )
    .values(status="fired")
    .returning(m.Timer.id, m.Timer.instance_id, m.Timer.token_id, m.Timer.purpose, m.Timer.due_at)
    .execution_options(synchronize_session=False)
)

HANDLERS: dict[str, Callable[[Runtime, Sequence[uuid.UUID]], None]] = {
    "advance": advance,
    "timer": fire_timers,
    "event": dispatch_events,
}


def claim_due_timers(rt: Runtime, limit: int = 500) -> list[uuid.UUID]:
    """Mark due timers `enqueued` and return their ids (several schedulers may run)."""
    with rt.transaction() as (session, _out):
        query = (
            sa.select(m.Timer.id)
            .where(m.Timer.status == "pending", m.Timer.due_at <= rt.clock.now())
            .order_by(m.Timer.due_at, m.Timer.id)
            .limit(limit)
        )
        if not rt.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                sa.update(m.Timer)
                .where(m.Timer.id.in_(ids))
                .values(status="enqueued", claimed_at=rt.clock.now())
                .execution_options(synchronize_session=False)
            )
    return ids


def next_timer_due(rt: Runtime) -> dt.datetime | None:
    with rt.db.read() as session:
        due: dt.datetime | None = session.scalar(
            sa.select(sa.func.min(m.Timer.due_at)).where(m.Timer.status == "pending")
        )
    return due
