"""Many rows into one table in one round trip: COPY on PostgreSQL, executemany on SQLite.

A step writes about ten rows (history, tokens, tasks...), and a batch of steps a
few hundred. SQLAlchemy's executemany turns each row into its own statement
execution on psycopg (one Bind/Execute per row in a pipeline) and processes
every parameter through several layers of Python. COPY sends the rows as one
stream that PostgreSQL parses in C; on SQLite a plain ``executemany`` of
prepared tuples skips the per-row parameter machinery. Both apply the columns'
Python-side defaults and bind processors themselves, so the rows stored are the
ones ``table.insert()`` would have stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None
_MISSING = object()


@functools.cache
def _columns(table: sa.Table, keys: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    """The columns to write (those the rows name, plus those with a Python-side default)."""
    chosen = []
    for column in table.columns:
        default = column.default if isinstance(column.default, sa.ColumnDefault) else None
        if column.key in keys or default is not None:
            chosen.append((column.key, default))
    return tuple(chosen)


def _default(default: sa.ColumnDefault | None) -> Any:
    if default is None:
        return None
    # Callable defaults are wrapped by SQLAlchemy to take an execution context; ours ignore it.
    return default.arg(None) if default.is_callable else default.arg


@functools.cache
def _sqlite_plan(
    table: sa.Table, keys: frozenset[str], dialect: sa.Dialect
) -> tuple[str, tuple[tuple[str, Any, Processor], ...]]:
    columns = _columns(table, keys)
    names = ", ".join(f'"{key}"' for key, _ in columns)
    marks = ", ".join("?" for _ in columns)
    plan = tuple(
        (key, default, table.c[key].type._cached_bind_processor(dialect))
        for key, default in columns
    )
    # Names come from the table's own definition, never from data.
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', plan  # noqa: S608


def _json_text(value: Any) -> Any:
    return None if value is None else msgspec.json.encode(value).decode()


def _copy_processor(column_type: Any, dialect: sa.Dialect) -> Processor:
    """What COPY needs done in Python: JSON to text, and our own types' checks (aware UTC)."""
    if isinstance(column_type, sa.JSON):
        return _json_text
    if isinstance(column_type, sa.TypeDecorator):
        return functools.partial(column_type.process_bind_param, dialect=dialect)
    return None  # psycopg adapts str, int, bool, UUID, datetime and Decimal itself


@functools.cache
def _postgres_plan(
    table: sa.Table, keys: frozenset[str], dialect: sa.Dialect
) -> tuple[str, tuple[tuple[str, Any, Processor], ...]]:
    columns = _columns(table, keys)
    names = ", ".join(f'"{key}"' for key, _ in columns)
    plan = tuple(
        (key, default, _copy_processor(table.c[key].type, dialect)) for key, default in columns
    )
    return f'COPY "{table.name}" ({names}) FROM STDIN', plan


def _values(row: dict[str, Any], plan: tuple[tuple[str, Any, Processor], ...]) -> tuple[Any, ...]:
    values = []
    for key, default, process in plan:
        value = row.get(key, _MISSING)
        if value is _MISSING:
            value = _default(default)
        values.append(process(value) if process is not None else value)
    return tuple(values)


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column) into ``table`` in the session's transaction."""
    if not rows:
        return
    keys = frozenset().union(*rows)
    connection = session.connection()
    dialect = connection.dialect
    if any(key not in table.c for key in keys):
        raise KeyError(f"{table.name} has no column {sorted(keys - set(table.c.keys()))}")
    if dialect.name == "postgresql":
        statement, plan = _postgres_plan(table, keys, dialect)
        cursor = connection.connection.cursor()
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(_values(row, plan))
        return
    if dialect.name == "sqlite":
        statement, plan = _sqlite_plan(table, keys, dialect)
        connection.connection.cursor().executemany(statement, [_values(r, plan) for r in rows])
        return
    session.execute(table.insert(), list(rows))
