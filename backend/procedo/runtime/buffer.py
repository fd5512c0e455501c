"""Rows a transaction writes, kept until it ends and then written one statement per table.

A step inserts history, tokens, tasks, timers and messages; written as they
come, that is a dozen round trips per step. Buffered, a transaction costs one
INSERT per table however many steps it ran, in an order that keeps foreign keys
satisfied. Updates that guard against races (the instance's compare-and-set)
are not buffered: they must fail before anything else is decided.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m

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


class WriteBuffer:
    def __init__(self) -> None:
        self.rows: defaultdict[type[m.Base], list[dict[str, Any]]] = defaultdict(list)
        # Instances created in this transaction, written with their state after the step.
        self.new_instances: dict[uuid.UUID, m.Instance] = {}
        self.deleted_tokens: list[uuid.UUID] = []
        self.left_tokens: list[uuid.UUID] = []

    def insert(self, model: type[m.Base], row: dict[str, Any]) -> None:
        self.rows[model].append(row)

    def flush(self, session: Session) -> None:
        if self.new_instances:
            columns = [c.key for c in m.Instance.__table__.columns]
            self.rows[m.Instance] = [
                {key: getattr(instance, key) for key in columns}
                for instance in self.new_instances.values()
            ]
        if self.deleted_tokens:
            session.execute(sa.delete(m.Token).where(m.Token.id.in_(self.deleted_tokens)))
        for model in _INSERT_ORDER:
            rows = self.rows.get(model)
            if rows:
                session.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]
        if self.left_tokens:
            # The tasks and timers of positions that were left end with them.
            session.execute(
                sa.update(m.Task)
                .where(m.Task.token_id.in_(self.left_tokens), m.Task.status == "open")
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
            session.execute(
                sa.update(m.Timer)
                .where(
                    m.Timer.token_id.in_(self.left_tokens),
                    m.Timer.status.in_(("pending", "enqueued")),
                )
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
        self.__init__()  # type: ignore[misc]


def buffer(session: Session) -> WriteBuffer:
    found = session.info.get("buffer")
    if found is None:
        found = session.info["buffer"] = WriteBuffer()
    assert isinstance(found, WriteBuffer)
    return found
