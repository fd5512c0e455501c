"""Starting a flow for many subjects at once (K6), each run knowing its period (K5).

A bulk start creates its instances in a few transactions of CHUNK subjects each
(not one per subject); the workers step them from their start nodes. Subjects
that cannot start are refused with a reason, and the others start anyway:

- no such subject here, or one of another type than the flow runs on;
- with a period: a run of the flow for that subject and period exists (running,
  waiting, failed or done; a cancelled one may be started again), so repeating a
  bulk start changes nothing;
- without a period: the flow already runs on the subject.

Every start for a period also moves the subject's start plan (recurrence.py) past
that period, so the next run is planned and the same period never starts twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.starts import PeriodRun
from procedo.ids import new_id
from procedo.runtime import recurrence, test_runs
from procedo.runtime.admin import create_instance, current_version
from procedo.runtime.context import Outgoing, Refusal, Runtime
from procedo.runtime.periods import Period

CHUNK = 500  # subjects per transaction: a few statements each, whatever the chunk's size
OPEN_STATES = ("pending", "running", "failed")


@dataclass(frozen=True)
class Started:
    subject_id: uuid.UUID
    key: str
    instance_id: uuid.UUID


@dataclass(frozen=True)
class Refused:
    subject_id: uuid.UUID
    key: str
    reason: str


@dataclass
class StartReport:
    flow: str
    version: int
    period: str | None
    started: list[Started] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def add(self, other: StartReport) -> None:
        self.started += other.started
        self.refused += other.refused


@dataclass(frozen=True)
class _Subject:
    id: uuid.UUID
    key: str
    type: str


def start_bulk(
    rt: Runtime,
    tenant_id: uuid.UUID,
    flow_key: str,
    subject_ids: Sequence[uuid.UUID],
    period: Period | None,
    actor: str,
    test: bool = False,
) -> StartReport:
    """Start the flow's current version for each subject, CHUNK subjects per transaction.

    ``test``: a test run (test_runs.py) on at most test_runs.MOST subjects, its
    messages to ``actor``.
    """
    if test and not 1 <= len(set(subject_ids)) <= test_runs.MOST:
        raise Refusal(f"a test run takes one to {test_runs.MOST} subjects, not {len(subject_ids)}")
    wanted = list(dict.fromkeys(subject_ids))  # each subject once, in the order asked
    report: StartReport | None = None
    for first in range(0, max(len(wanted), 1), CHUNK):
        chunk = wanted[first : first + CHUNK]
        try:
            part = _start_chunk(rt, tenant_id, flow_key, chunk, period, actor, test)
        except sa.exc.IntegrityError:
            # Another start for the same period committed first: again, to refuse those.
            part = _start_chunk(rt, tenant_id, flow_key, chunk, period, actor, test)
        if report is None:
            report = part
        else:
            report.add(part)
    assert report is not None
    return report


def _start_chunk(
    rt: Runtime,
    tenant_id: uuid.UUID,
    flow_key: str,
    subject_ids: Sequence[uuid.UUID],
    period: Period | None,
    actor: str,
    test: bool,
) -> StartReport:
    with rt.transaction() as (session, out):
        version = current_version(session, tenant_id, flow_key)
        return start_in_session(rt, session, out, version, subject_ids, period, actor, test=test)


def start_in_session(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    version: m.FlowVersion,
    subject_ids: Sequence[uuid.UUID],
    period: Period | None,
    actor: str,
    alongside: bool = False,
    test: bool = False,
) -> StartReport:
    """Create the instances in this transaction (the workers step them after the commit).

    ``alongside``: without a period, start even where the flow runs already (a
    weekly dunning schedule starts its round whatever the last one still does).
    """
    flow_key = session.scalar(sa.select(m.Flow.key).where(m.Flow.id == version.flow_id))
    report = StartReport(str(flow_key), version.number, str(period) if period else None)
    subjects = _subjects(session, version.tenant_id, subject_ids)
    startable: list[_Subject] = []
    for subject_id in subject_ids:
        subject = subjects.get(subject_id)
        if subject is None:
            report.refused.append(Refused(subject_id, "", "no such subject in this tenant"))
        elif subject.type != version.subject_type:
            report.refused.append(
                Refused(
                    subject_id,
                    subject.key,
                    f"a '{subject.type}'; the flow runs on '{version.subject_type}' subjects",
                )
            )
        else:
            startable.append(subject)
    # A test run (K7) holds no period and is refused nowhere: the rollout comes after it.
    checked = [] if test or (alongside and period is None) else [s.id for s in startable]
    busy = _busy(session, version.flow_id, checked, period)
    takeover: dict[uuid.UUID, uuid.UUID] = {}  # subject -> its cancelled run's period row
    new_rows: list[dict[str, object]] = []
    now = rt.clock.now()
    for subject in startable:
        reason, cancelled_row = busy.get(subject.id, (None, None))
        if reason is not None:
            report.refused.append(Refused(subject.id, subject.key, reason))
            continue
        instance = create_instance(rt, session, version, subject.id, subject.type, actor)
        # Written with the instance at the end of the transaction (buffer.py).
        if period is not None:
            instance.variables = period.variables()
        if test:
            instance.variables = {**instance.variables, **test_runs.variables(actor)}
        elif period is not None:
            if cancelled_row is not None:
                takeover[cancelled_row] = instance.id
            else:
                new_rows.append(
                    {
                        "id": new_id(),
                        "tenant_id": version.tenant_id,
                        "flow_id": version.flow_id,
                        "subject_id": subject.id,
                        "period": str(period),
                        "instance_id": instance.id,
                        "created_at": now,
                    }
                )
        out.add("advance", instance.id)
        report.started.append(Started(subject.id, subject.key, instance.id))
    if new_rows:
        session.execute(sa.insert(PeriodRun), new_rows)
    for row_id, instance_id in takeover.items():
        session.execute(
            sa.update(PeriodRun).where(PeriodRun.id == row_id).values(instance_id=instance_id)
        )
    if period is not None and report.started and not test:
        started = {s.subject_id: s.instance_id for s in report.started}
        recurrence.plan_after(rt, session, version.flow_id, list(started), period, started)
    return report


def _subjects(
    session: Session, tenant_id: uuid.UUID, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, _Subject]:
    rows = session.execute(
        sa.select(m.Subject.id, m.Subject.key, m.Subject.type).where(
            m.Subject.tenant_id == tenant_id, m.Subject.id.in_(list(subject_ids))
        )
    )
    return {row.id: _Subject(row.id, row.key, row.type) for row in rows}


def _busy(
    session: Session, flow_id: uuid.UUID, subject_ids: list[uuid.UUID], period: Period | None
) -> dict[uuid.UUID, tuple[str | None, uuid.UUID | None]]:
    """Per subject: why it cannot start (or None), and a cancelled run's period row to reuse."""
    if not subject_ids:
        return {}
    found: dict[uuid.UUID, tuple[str | None, uuid.UUID | None]] = {}
    if period is None:
        running = session.execute(
            sa.select(m.Instance.subject_id, m.Instance.status)
            .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
            .where(
                m.FlowVersion.flow_id == flow_id,
                m.Instance.subject_id.in_(subject_ids),
                m.Instance.status.in_(OPEN_STATES),
            )
        )
        for subject_id, status in running:
            found[subject_id] = (f"the flow already runs on it ({status})", None)
        return found
    query = (
        sa.select(PeriodRun.id, PeriodRun.subject_id, m.Instance.status)
        .outerjoin(m.Instance, m.Instance.id == PeriodRun.instance_id)
        .where(
            PeriodRun.flow_id == flow_id,
            PeriodRun.subject_id.in_(subject_ids),
            PeriodRun.period == str(period),
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two bulk starts at once: the second waits here and then sees the first's runs.
        query = query.with_for_update(of=PeriodRun)
    for row_id, subject_id, status in session.execute(query):
        if status == "cancelled":
            found[subject_id] = (None, row_id)
        else:
            found[subject_id] = (f"already started for {period} ({status or 'pending'})", None)
    return found
