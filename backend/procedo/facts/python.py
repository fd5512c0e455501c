"""Computed facts in Python, for one subject: what a running flow and a debtor's page see.

``compute`` is pure: the subject's stored fields, its open items and its history
rows in, the computed fields' values out (int, Decimal, date, bool or None).
``load_facts`` reads those rows for one subject and computes. The values equal
what ``facts.sql`` computes for the same subject (a property test checks it on
both databases); they are merged over the stored fields before a rule reads them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from procedo.db.models import History, Instance, Task
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import Calendar
from procedo.facts.declared import Computed
from procedo.facts.model import Activity, Age, Aggregate, Exceeds, Fact, Tasks
from procedo.rules.evaluate import _FAIL, _to_date, _to_decimal

__all__ = ["HistoryRow", "ItemRow", "SubjectRows", "TaskRow", "compute", "load_facts", "load_rows"]


@dataclass(frozen=True, slots=True)
class ItemRow:
    status: str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class HistoryRow:
    kind: str
    at: dt.datetime
    by_workflow: bool
    mark: Any  # data["mark"], whatever the writer put there


@dataclass(frozen=True, slots=True)
class TaskRow:
    status: str
    marks: frozenset[str]  # the marks of its node's task_opened rows


def compute(
    computed: Sequence[Computed],
    fields: Mapping[str, Any],
    items: Sequence[ItemRow],
    history: Sequence[HistoryRow],
    calendar: Calendar,
    tasks: Sequence[TaskRow] = (),
) -> dict[str, Any]:
    """The computed fields' values for one subject, by name."""
    values: dict[str, Any] = {}
    for field in computed:  # dependency order
        fact = field.fact
        if isinstance(fact, Tasks):
            values[field.name] = sum(
                1
                for task in tasks
                if task.status == fact.status and (not fact.marks or task.marks & set(fact.marks))
            )
            continue
        values[field.name] = _value(fact, fields, values, items, history, calendar)
    return values


def _value(
    fact: Fact,
    fields: Mapping[str, Any],
    values: Mapping[str, Any],
    items: Sequence[ItemRow],
    history: Sequence[HistoryRow],
    calendar: Calendar,
) -> Any:
    if isinstance(fact, Aggregate):
        return _aggregate(fact, items, calendar.today)
    if isinstance(fact, Age):
        since = (
            values[fact.since] if fact.since in values else _stored(fields, fact.since, _to_date)
        )
        return None if since is None else calendar.age(since, fact.days == "business")
    if isinstance(fact, Activity):
        rows = [
            row
            for row in history
            if row.kind in fact.events
            and (row.by_workflow or not fact.workflow_only)
            and (not fact.marks or row.mark in fact.marks)
        ]
        if fact.function == "count":
            return len(rows)
        return calendar.local_date(max(row.at for row in rows)) if rows else None
    assert isinstance(fact, Exceeds)  # compute counts tasks itself
    return _exceeds(fact, fields, values)


def _aggregate(fact: Aggregate, items: Sequence[ItemRow], today: dt.date) -> Any:
    chosen = [
        item
        for item in items
        if (not fact.statuses or item.status in fact.statuses) and _due(fact, item.due_date, today)
    ]
    if fact.function == "count":
        return len(chosen)
    if fact.function == "none":
        return not chosen
    assert fact.value is not None
    found = [getattr(item, fact.value) for item in chosen]
    if fact.function == "sum":
        return sum(found, Decimal(0))
    if not found:
        return None
    return min(found) if fact.function == "min" else max(found)


def _due(fact: Aggregate, due: dt.date, today: dt.date) -> bool:
    if fact.due == "overdue":
        return due < today
    if fact.due == "due":
        return due <= today
    if fact.due == "not_due":
        return due > today
    return True


def _exceeds(fact: Exceeds, fields: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    def number(name: str) -> Decimal | None:
        found: Decimal | None = (
            values[name] if name in values else _stored(fields, name, _to_decimal)
        )
        return found

    value, limit = number(fact.value), number(fact.limit)
    return value is not None and limit is not None and value > limit


def _stored(fields: Mapping[str, Any], name: str, coerce: Callable[[Any], Any]) -> Any:
    """A stored field read as rules read it; None when absent or unreadable."""
    raw = fields.get(name)
    if raw is None:
        return None
    value = coerce(raw)
    return None if value is _FAIL else value


def load_facts(
    connection: sa.Connection | Any,
    computed: Sequence[Computed],
    subject_id: uuid.UUID,
    fields: Mapping[str, Any],
    calendar: Calendar,
) -> dict[str, Any]:
    """Read one subject's open items and history (two queries) and compute its facts."""
    rows = load_rows(connection, computed, [subject_id])[subject_id]
    return compute(computed, fields, rows.items, rows.history, calendar, rows.tasks)


@dataclass(frozen=True, slots=True)
class SubjectRows:
    """What a subject's facts are computed from."""

    items: list[ItemRow]
    history: list[HistoryRow]
    tasks: list[TaskRow]


_MANY = 500  # subjects per query


def load_rows(
    connection: sa.Connection | Any,
    computed: Sequence[Computed],
    subject_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, SubjectRows]:
    """The rows the facts of each of ``subject_ids`` are computed from, a few queries per
    500 subjects (a batch of steps reads them together, not a few round trips each)."""
    found = {subject_id: SubjectRows([], [], []) for subject_id in subject_ids}
    kinds = sorted({k for f in computed if isinstance(f.fact, Activity) for k in f.fact.events})
    with_tasks = any(isinstance(f.fact, Tasks) for f in computed)
    wanted = list(found)
    for start in range(0, len(wanted), _MANY):
        chunk = wanted[start : start + _MANY]
        for debtor_id, *item in connection.execute(_ITEMS, {"subjects": chunk}):
            found[debtor_id].items.append(ItemRow(*item))
        if kinds:
            for subject_id, kind, at, instance_id, data in connection.execute(
                _HISTORY, {"subjects": chunk, "kinds": kinds}
            ):
                mark = data.get("mark") if isinstance(data, dict) else None
                found[subject_id].history.append(
                    HistoryRow(kind, at, instance_id is not None, mark)
                )
        if with_tasks:
            for subject_id, tasks in _tasks(connection, chunk).items():
                found[subject_id].tasks.extend(tasks)
    return found


_ITEM_TABLE: sa.Table = OpenItem.__table__  # type: ignore[assignment]
_HISTORY_TABLE: sa.Table = History.__table__  # type: ignore[assignment]
_ITEMS = sa.select(
    _ITEM_TABLE.c.debtor_id,
    _ITEM_TABLE.c.status,
    _ITEM_TABLE.c.issue_date,
    _ITEM_TABLE.c.due_date,
    _ITEM_TABLE.c.amount,
    _ITEM_TABLE.c.open_amount,
).where(_ITEM_TABLE.c.debtor_id.in_(sa.bindparam("subjects", expanding=True)))
_HISTORY = sa.select(
    _HISTORY_TABLE.c.subject_id,
    _HISTORY_TABLE.c.kind,
    _HISTORY_TABLE.c.at,
    _HISTORY_TABLE.c.instance_id,
    _HISTORY_TABLE.c.data,
).where(
    _HISTORY_TABLE.c.subject_id.in_(sa.bindparam("subjects", expanding=True)),
    _HISTORY_TABLE.c.kind.in_(sa.bindparam("kinds", expanding=True)),
)


def _tasks(
    connection: sa.Connection | Any, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TaskRow]]:
    """The subjects' tasks, each with the marks its node gave when it opened it."""
    tasks, instances, history = Task.__table__, Instance.__table__, History.__table__
    marks: dict[tuple[Any, Any], set[str]] = {}
    opened = sa.select(history.c.instance_id, history.c.node_id, history.c.data).where(
        history.c.subject_id.in_(subject_ids), history.c.kind == "task_opened"
    )
    for instance_id, node_id, data in connection.execute(opened):
        mark = data.get("mark") if isinstance(data, dict) else None
        if isinstance(mark, str):
            marks.setdefault((instance_id, node_id), set()).add(mark)
    query = (
        sa.select(instances.c.subject_id, tasks.c.status, tasks.c.instance_id, tasks.c.node_id)
        .join(instances, instances.c.id == tasks.c.instance_id)
        .where(instances.c.subject_id.in_(subject_ids))
    )
    found: dict[uuid.UUID, list[TaskRow]] = {}
    for subject_id, status, instance_id, node_id in connection.execute(query):
        row = TaskRow(status, frozenset(marks.get((instance_id, node_id), ())))
        found.setdefault(subject_id, []).append(row)
    return found
