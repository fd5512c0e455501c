"""Instances and subjects as the runtime's steps read them: plain rows, not ORM objects.

A step reads an instance and its subject, runs the engine, and leaves its writes
in the transaction's buffer (buffer.py), which writes them with compare-and-set.
The ORM's identity map, change tracking and attribute instrumentation would
only be overhead here: loading 50 instances with their subjects as ORM objects
costs twice what reading the same rows does. The models in ``procedo.db.models``
still define the tables; these classes mirror the columns a step needs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m


@dataclass(slots=True, eq=False)
class InstanceRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    flow_version_id: uuid.UUID
    subject_id: uuid.UUID
    status: str
    version: int
    variables: dict[str, Any]
    failed_event: dict[str, Any] | None
    error: str | None
    started_by: str
    started_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(slots=True, eq=False)
class SubjectRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    type: str
    key: str
    status: str
    fields: dict[str, Any]
    version: int


class SubjectLike(Protocol):
    """A subject as read by a step (SubjectRow) or as stored by setup (the ORM model)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def fields(self) -> dict[str, Any]: ...


_INSTANCES: sa.Table = m.Instance.__table__  # type: ignore[assignment]
_SUBJECTS: sa.Table = m.Subject.__table__  # type: ignore[assignment]
_INSTANCE_COLUMNS = [_INSTANCES.c[f.name] for f in fields(InstanceRow)]
_SUBJECT_COLUMNS = [_SUBJECTS.c[f.name] for f in fields(SubjectRow)]
_WIDTH = len(_INSTANCE_COLUMNS)

_WITH_SUBJECTS = (
    sa.select(*_INSTANCE_COLUMNS, *_SUBJECT_COLUMNS)
    .join(_SUBJECTS, _SUBJECTS.c.id == _INSTANCES.c.subject_id)
    .order_by(_INSTANCES.c.id)
)
_BY_IDS = _WITH_SUBJECTS.where(_INSTANCES.c.id.in_(sa.bindparam("ids", expanding=True)))
_RUNNING_ON_SUBJECT = _WITH_SUBJECTS.where(
    _INSTANCES.c.subject_id == sa.bindparam("subject"), _INSTANCES.c.status == "running"
)
_SUBJECT = sa.select(*_SUBJECT_COLUMNS).where(_SUBJECTS.c.id == sa.bindparam("id"))


def subjects(session: Session) -> dict[uuid.UUID, SubjectRow]:
    """The subjects read in this transaction, shared by its steps (each sees the last change)."""
    found: dict[uuid.UUID, SubjectRow] = session.info.setdefault("subjects", {})
    return found


def instances(session: Session) -> dict[uuid.UUID, InstanceRow]:
    """The instances read in this transaction: a second read gives the row as last stepped.

    Their writes wait in the buffer until the transaction ends, so the database
    still holds the state they were read in.
    """
    found: dict[uuid.UUID, InstanceRow] = session.info.setdefault("instances", {})
    return found


def _pairs(session: Session, statement: sa.Select[Any], params: dict[str, Any], lock: bool) -> Any:
    if lock:
        # Locked in id order, so two batches over the same instances never deadlock.
        statement = statement.with_for_update(of=_INSTANCES)
    known_subjects, known_instances = subjects(session), instances(session)
    found = []
    for row in session.connection().execute(statement, params):
        instance = known_instances.get(row[0])
        if instance is None:
            instance = known_instances[row[0]] = InstanceRow(*row[:_WIDTH])
        if instance.subject_id not in known_subjects:
            known_subjects[instance.subject_id] = SubjectRow(*row[_WIDTH:])
        found.append(instance)
    return found


def load_instances(
    session: Session, ids: Iterable[uuid.UUID], lock: bool = True
) -> list[InstanceRow]:
    """Instances by id (locked on PostgreSQL unless ``lock`` is false), with their subjects."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found: list[InstanceRow] = _pairs(session, _BY_IDS, {"ids": wanted}, lock)
    return found


def load_instance(session: Session, ident: uuid.UUID, lock: bool = True) -> InstanceRow | None:
    found = load_instances(session, [ident], lock)
    return found[0] if found else None


def running_on(session: Session, subject_id: uuid.UUID) -> list[InstanceRow]:
    """The running instances on a subject, locked."""
    found: list[InstanceRow] = _pairs(session, _RUNNING_ON_SUBJECT, {"subject": subject_id}, True)
    return found


def load_subject(session: Session, ident: uuid.UUID) -> SubjectRow | None:
    known = subjects(session)
    subject = known.get(ident)
    if subject is None:
        row = session.connection().execute(_SUBJECT, {"id": ident}).first()
        if row is None:
            return None
        subject = known[ident] = SubjectRow(*row)
    return subject
