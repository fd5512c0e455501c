"""Flow drafts: create, save with a revision check, duplicate, import, delete, publish.

A draft is stored as canonical flow JSON, so an export is byte-identical to
what any other tenant stores when it imports that export. Publishing is the
runtime's (`setup.publish`): it validates and makes the next immutable version.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.model import Flow
from procedo.flow.problems import FlowError, Problem
from procedo.flow.validate import check_flow
from procedo.messaging.library import tenant_flow_problems
from procedo.runtime import setup
from procedo.runtime.context import NotFound, Refusal, Runtime

OPEN_STATUSES = ("pending", "running", "failed")


class KeyTaken(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"a flow '{key}' exists already; import it to make a new draft")
        self.key = key


class StaleDraft(Exception):
    """The draft changed since the caller read it."""

    def __init__(self, changed_by: str, changed_at: dt.datetime, revision: int) -> None:
        super().__init__(f"revision {revision} by {changed_by} at {changed_at.isoformat()}")
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.revision = revision


def find_flow(session: Session, tenant_id: uuid.UUID, key: str, lock: bool = False) -> m.Flow:
    query = sa.select(m.Flow).where(m.Flow.tenant_id == tenant_id, m.Flow.key == key)
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no flow '{key}' in this tenant")
    return row


def latest_version(session: Session, flow_id: uuid.UUID) -> m.FlowVersion | None:
    return session.scalar(
        sa.select(m.FlowVersion)
        .where(m.FlowVersion.flow_id == flow_id)
        .order_by(m.FlowVersion.number.desc())
        .limit(1)
    )


def find_version(session: Session, flow: m.Flow, number: int) -> m.FlowVersion:
    version = session.scalar(
        sa.select(m.FlowVersion).where(
            m.FlowVersion.flow_id == flow.id, m.FlowVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"flow '{flow.key}' has no version {number}")
    return version


def current_document(session: Session, flow: m.Flow) -> str:
    """The draft; the latest version's document when there is no draft."""
    if flow.draft is not None:
        return flow.draft
    version = latest_version(session, flow.id)
    assert version is not None, "a flow without a draft has a version"
    return version.document


def _canonical(flow: Flow) -> str:
    return encode_flow(flow).decode()


def create_flow(rt: Runtime, tenant_id: uuid.UUID, document: bytes, by: str) -> m.Flow:
    """A new flow whose draft is ``document`` (it may still have problems: it is a draft)."""
    flow = decode_flow(document)
    return _insert(rt, tenant_id, flow, by)


def _insert(rt: Runtime, tenant_id: uuid.UUID, flow: Flow, by: str) -> m.Flow:
    with rt.transaction() as (session, _out):
        taken = session.scalar(
            sa.select(m.Flow.id).where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow.key)
        )
        if taken is not None:
            raise KeyTaken(flow.key)
        row = m.Flow(
            tenant_id=tenant_id,
            key=flow.key,
            name=flow.name,
            draft=_canonical(flow),
            revision=1,
            updated_by=by,
            updated_at=rt.clock.now(),
        )
        session.add(row)
        session.flush()
        return row


def _key_matches(flow: Flow, key: str) -> None:
    if flow.key != key:
        raise FlowError(
            [
                Problem(
                    code="flow.key_mismatch",
                    message=f"the document's key is '{flow.key}' but it is saved as '{key}': "
                    "a flow keeps its key (duplicate it for a new one)",
                    path="$.key",
                )
            ]
        )


def save_draft(
    rt: Runtime, tenant_id: uuid.UUID, key: str, document: bytes, revision: int, by: str
) -> m.Flow:
    """Save the draft if it is still at ``revision``; raises StaleDraft otherwise."""
    flow = decode_flow(document)
    _key_matches(flow, key)
    with rt.transaction() as (session, _out):
        row = find_flow(session, tenant_id, key, lock=True)
        if row.revision != revision:
            raise StaleDraft(row.updated_by, row.updated_at, row.revision)
        # Compare-and-set: a writer that read the same revision at the same moment loses.
        result = session.execute(
            sa.update(m.Flow)
            .where(m.Flow.id == row.id, m.Flow.revision == revision)
            .values(
                draft=_canonical(flow),
                name=flow.name,
                revision=revision + 1,
                updated_by=by,
                updated_at=rt.clock.now(),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(row)
            raise StaleDraft(row.updated_by, row.updated_at, row.revision)
        session.refresh(row)
        return row


def import_flow(rt: Runtime, tenant_id: uuid.UUID, document: bytes, by: str) -> tuple[m.Flow, bool]:
    """A flow file in: a new flow, or a new draft of the existing key. Returns (row, created).

    The file must be valid (it is a finished flow from elsewhere); on any problem
    nothing is stored and every problem is reported.
    """
    flow = decode_flow(document)
    with rt.db.read() as session:
        known = rt.subject_types(session, tenant_id)
        checked = check_flow(flow, rt.registry, known)
        problems = checked.problems + tenant_flow_problems(session, tenant_id, flow, known)
    if problems:
        raise FlowError(problems)
    with rt.transaction() as (session, _out):
        row = session.scalar(
            sa.select(m.Flow).where(m.Flow.tenant_id == tenant_id, m.Flow.key == flow.key)
        )
        if row is not None:
            row.draft = _canonical(flow)
            row.name = flow.name
            row.revision += 1
            row.updated_by = by
            row.updated_at = rt.clock.now()
            session.flush()
            return row, False
    return _insert(rt, tenant_id, flow, by), True


def duplicate(
    rt: Runtime, tenant_id: uuid.UUID, key: str, new_key: str, new_name: str, by: str
) -> m.Flow:
    with rt.db.read() as session:
        source = decode_flow(current_document(session, find_flow(session, tenant_id, key)))
    copy = msgspec.structs.replace(source, key=new_key, name=new_name)
    # Re-read the copy: the key is checked by the same decoder as any flow file.
    return _insert(rt, tenant_id, decode_flow(encode_flow(copy)), by)


def delete_flow(rt: Runtime, tenant_id: uuid.UUID, key: str) -> None:
    with rt.transaction() as (session, _out):
        row = find_flow(session, tenant_id, key, lock=True)
        if latest_version(session, row.id) is not None:
            raise Refusal(
                f"flow '{key}' was published: its versions stay (instances are pinned to them)"
            )
        session.delete(row)


def publish(rt: Runtime, tenant_id: uuid.UUID, key: str, by: str) -> m.FlowVersion:
    with rt.db.read() as session:
        row = find_flow(session, tenant_id, key)
        draft = row.draft
    if draft is None:
        raise Refusal(f"flow '{key}' has no draft: the latest version is current")
    return setup.publish(rt, tenant_id, draft, by)
