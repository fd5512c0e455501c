"""Rows a transaction writes, kept until it ends and then written one statement per table.

A step inserts history, tokens, tasks, timers and messages; written as they
come, that is a dozen round trips per step. Buffered, a transaction costs one
INSERT per table however many steps it ran, in an order that keeps foreign keys
satisfied. Updates that guard against races (the instance's compare-and-set)
are not buffered: they must fail before anything else is decided.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.bulk import insert_rows, update_guarded
from procedo.runtime.rows import InstanceRow, SubjectRow

# Parents before children.
_INSERT_ORDER = (
    m.Instance,
    m.Token,
    m.Task,
    m.TaskCandidate,
    m.Timer,
    m.Outbox,
    m.Event,
    m.History,
)


# Columns a step's compare-and-set writes; every update row carries all of them.
INSTANCE_STATE = (
    "version",
    "status",
    "variables",
    "updated_at",
    "ended_at",
    "error",
    "failed_event",
)
SUBJECT_STATE = ("version", "fields", "status", "updated_at")  # see update_subject


_TASKS: sa.Table = m.Task.__table__  # type: ignore[assignment]
_TASK_OUTCOMES = (
    _TASKS.update()
    .where(_TASKS.c.id == sa.bindparam("b_id"))
    .values(outcome=sa.bindparam("outcome"), ticked=sa.bindparam("ticked"))
)


_CANDIDATES: sa.Table = m.TaskCandidate.__table__  # type: ignore[assignment]
# A completed or cancelled task leaves the roles' inboxes; who could take it stays known.
_WITHDRAW_OFFERS = (
    _CANDIDATES.update()
    .where(_CANDIDATES.c.task_id.in_(sa.bindparam("tasks", expanding=True)), _CANDIDATES.c.offered)
    .values(offered=False)
)
_TIMERS: sa.Table = m.Timer.__table__  # type: ignore[assignment]
_CANCEL_TASKS_AT = (
    _TASKS.update()
    .where(_TASKS.c.token_id.in_(sa.bindparam("tokens", expanding=True)), _TASKS.c.status == "open")
    .values(status="cancelled")
    .returning(_TASKS.c.id)
)
_CANCEL_TIMERS_AT = (
    _TIMERS.update()
    .where(
        _TIMERS.c.token_id.in_(sa.bindparam("tokens", expanding=True)),
        _TIMERS.c.status.in_(("pending", "enqueued")),
    )
    .values(status="cancelled")
)
_TOKENS: sa.Table = m.Token.__table__  # type: ignore[assignment]
_DELETE_TOKENS = _TOKENS.delete().where(_TOKENS.c.id.in_(sa.bindparam("tokens", expanding=True)))

# Ids per IN list: a pass that moves 80,000 positions in one transaction would
# otherwise bind more parameters than PostgreSQL (65,535) or SQLite (32,766) take.
ID_CHUNK = 10_000


def _in_chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for first in range(0, len(ids), ID_CHUNK):
        yield ids[first : first + ID_CHUNK]


class Conflict(Exception):
    """Someone else changed the row first (compare-and-set lost); nothing was applied."""


def to_json(value: Any) -> Any:
    """Plain JSON values for a JSON column (Decimal -> str, date -> ISO text)."""
    return msgspec.to_builtins(value)


class WriteBuffer:
    def __init__(self) -> None:
        self.rows: defaultdict[type[m.Base], list[dict[str, Any]]] = defaultdict(list)
        # Compare-and-set updates by row id: the version read first, the state written last.
        self.instances: dict[uuid.UUID, dict[str, Any]] = {}
        self.subjects: dict[uuid.UUID, dict[str, Any]] = {}
        # Instances created in this transaction, written with their state after the step.
        self.new_instances: dict[uuid.UUID, InstanceRow] = {}
        self.deleted_tokens: list[uuid.UUID] = []
        self.left_tokens: list[uuid.UUID] = []
        # Outcome and ticked checkpoints of tasks completed in this transaction.
        self.task_outcomes: list[dict[str, Any]] = []
        # Tokens inserted in this transaction, by id, so a later step can change or drop them.
        self.new_tokens: dict[uuid.UUID, dict[str, Any]] = {}

    def insert(self, model: type[m.Base], row: dict[str, Any]) -> None:
        self.rows[model].append(row)

    def complete_task(self, task_id: uuid.UUID, outcome: str, ticked: list[str]) -> None:
        self.task_outcomes.append({"b_id": task_id, "outcome": outcome, "ticked": ticked})

    def insert_token(self, row: dict[str, Any]) -> None:
        self.new_tokens[row["id"]] = row

    def delete_token(self, token_id: uuid.UUID) -> None:
        if self.new_tokens.pop(token_id, None) is None:
            self.deleted_tokens.append(token_id)

    def update_token(self, session: Session, token_id: uuid.UUID, values: dict[str, Any]) -> None:
        pending = self.new_tokens.get(token_id)
        if pending is not None:
            pending.update(values)
        else:
            session.execute(sa.update(m.Token).where(m.Token.id == token_id).values(**values))

    def update_instance(self, instance: InstanceRow, read_version: int) -> None:
        row = self.instances.setdefault(
            instance.id, {"b_id": instance.id, "b_version": read_version}
        )
        row.update({column: getattr(instance, column) for column in INSTANCE_STATE})

    def update_subject(self, subject: SubjectRow, read_version: int, now: dt.datetime) -> None:
        row = self.subjects.setdefault(subject.id, {"b_id": subject.id, "b_version": read_version})
        row.update(
            version=subject.version, fields=subject.fields, status=subject.status, updated_at=now
        )

    def _apply(
        self, session: Session, model: Any, columns: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        if rows and update_guarded(session, model.__table__, columns, rows) != len(rows):
            raise Conflict("a row was changed by someone else meanwhile; nothing was applied")

    def flush(self, session: Session) -> None:
        # The guarded updates first: a lost race stops the transaction before anything else.
        self._apply(session, m.Instance, INSTANCE_STATE, list(self.instances.values()))
        self._apply(session, m.Subject, SUBJECT_STATE, list(self.subjects.values()))
        connection = session.connection()
        ended = [row["b_id"] for row in self.task_outcomes]  # tasks done in this transaction
        if self.task_outcomes:
            connection.execute(_TASK_OUTCOMES, self.task_outcomes)
        if self.new_instances:
            columns = [c.key for c in m.Instance.__table__.columns]
            self.rows[m.Instance] = [
                {key: getattr(instance, key) for key in columns}
                for instance in self.new_instances.values()
            ]
        for tokens in _in_chunks(self.deleted_tokens):
            connection.execute(_DELETE_TOKENS, {"tokens": tokens})
        self.rows[m.Token] = list(self.new_tokens.values())
        for model in _INSERT_ORDER:
            rows = self.rows.get(model)
            if rows:
                insert_rows(session, model.__table__, rows)  # type: ignore[arg-type]
        # The tasks and timers of positions that were left end with them.
        for tokens in _in_chunks(self.left_tokens):
            ended += connection.execute(_CANCEL_TASKS_AT, {"tokens": tokens}).scalars()
            connection.execute(_CANCEL_TIMERS_AT, {"tokens": tokens})
        for tasks in _in_chunks(ended):
            connection.execute(_WITHDRAW_OFFERS, {"tasks": tasks})
        self.__init__()  # type: ignore[misc]


def buffer(session: Session) -> WriteBuffer:
    found = session.info.get("buffer")
    if found is None:
        found = session.info["buffer"] = WriteBuffer()
    assert isinstance(found, WriteBuffer)
    return found
