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

__all__ = ["HistoryRow", "ItemRow", "TaskRow", "compute", "load_facts"]


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
    items_table = OpenItem.__table__
    items = [
        ItemRow(*row)
        for row in connection.execute(
            sa.select(
                items_table.c.status,
                items_table.c.issue_date,
                items_table.c.due_date,
                items_table.c.amount,
                items_table.c.open_amount,
            ).where(items_table.c.debtor_id == subject_id)
        )
    ]
    kinds = sorted({k for f in computed if isinstance(f.fact, Activity) for k in f.fact.events})
    history: list[HistoryRow] = []
    if kinds:
        table = History.__table__
        query = sa.select(table.c.kind, table.c.at, table.c.instance_id, table.c.data).where(
            table.c.subject_id == subject_id, table.c.kind.in_(kinds)
        )
        history = [
            HistoryRow(
                kind,
                at,
                instance_id is not None,
                data.get("mark") if isinstance(data, dict) else None,
            )
            for kind, at, instance_id, data in connection.execute(query)
        ]
    tasks = (
        _tasks(connection, subject_id) if any(isinstance(f.fact, Tasks) for f in computed) else []
    )
    return compute(computed, fields, items, history, calendar, tasks)


def _tasks(connection: sa.Connection | Any, subject_id: uuid.UUID) -> list[TaskRow]:
    """The subject's tasks, each with the marks its node gave when it opened it."""
    tasks, instances, history = Task.__table__, Instance.__table__, History.__table__
    marks: dict[tuple[Any, Any], set[str]] = {}
    opened = sa.select(history.c.instance_id, history.c.node_id, history.c.data).where(
        history.c.subject_id == subject_id, history.c.kind == "task_opened"
    )
    for instance_id, node_id, data in connection.execute(opened):
        mark = data.get("mark") if isinstance(data, dict) else None
        if isinstance(mark, str):
            marks.setdefault((instance_id, node_id), set()).add(mark)
    query = (
        sa.select(tasks.c.status, tasks.c.instance_id, tasks.c.node_id)
        .join(instances, instances.c.id == tasks.c.instance_id)
        .where(instances.c.subject_id == subject_id)
    )
    return [
        TaskRow(status, frozenset(marks.get((instance_id, node_id), ())))
        for status, instance_id, node_id in connection.execute(query)
    ]
