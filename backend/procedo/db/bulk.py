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
# Set in a connection's info when row-level security binds it (procedo.api.tenancy):
# PostgreSQL refuses COPY FROM then, so its inserts take the plain INSERT path.
ROW_LEVEL_SECURITY = "procedo.row_level_security"
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


def _remembering(process: Processor) -> Processor:
    """``process`` that returns its last answer again for the same (immutable) value.

    The rows of a step share their tenant id, instance id and moment: formatting
    a datetime or UUID for SQLite once per batch of rows instead of once per row
    is most of what this writer saves. The last pair is kept as one tuple, so
    threads sharing the plan never see a value with another value's answer.
    """
    if process is None:
        return None
    last: list[tuple[Any, Any]] = [(_MISSING, None)]

    def run(value: Any) -> Any:
        seen, answer = last[0]
        if seen is value:
            return answer
        answer = process(value)
        last[0] = (value, answer)
        return answer

    return run


_IMMUTABLE_TYPES = (sa.Uuid, sa.DateTime, sa.Date)


@functools.cache
def _sqlite_plan(
    table: sa.Table, keys: frozenset[str], dialect: sa.Dialect
) -> tuple[str, tuple[tuple[str, Any, Processor], ...]]:
    columns = _columns(table, keys)
    names = ", ".join(f'"{key}"' for key, _ in columns)
    marks = ", ".join("?" for _ in columns)
    plan = []
    for key, default in columns:
        column_type = table.c[key].type
        process: Processor = column_type._cached_bind_processor(dialect)
        base = column_type.impl if isinstance(column_type, sa.TypeDecorator) else column_type
        if isinstance(base, _IMMUTABLE_TYPES):  # never JSON: a dict may change between rows
            process = _remembering(process)
        plan.append((key, default, process))
    # Names come from the table's own definition, never from data.
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', tuple(plan)  # noqa: S608


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
    if dialect.name == "postgresql" and not connection.info.get(ROW_LEVEL_SECURITY):
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


@functools.cache
def _guarded_update_sql(table: sa.Table, columns: tuple[str, ...], dialect: sa.Dialect) -> str:
    # Names come from the table's own definition, never from data.
    assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns)
    if dialect.name == "sqlite":
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        return f'UPDATE "{table.name}" SET {sets} WHERE id = ? AND version = ?'  # noqa: S608
    # One statement for any number of rows: each column travels as one array.
    keys = ("id", "version", *columns)
    arrays = ", ".join(f"%s::{_array_type(table.c[c].type, dialect)}" for c in keys)
    names = ", ".join(f'"{c}"' for c in ("b_id", "b_version", *columns))
    return (
        f'UPDATE "{table.name}" AS t SET {assignments} '  # noqa: S608
        f"FROM unnest({arrays}) AS v({names}) "
        "WHERE t.id = v.b_id AND t.version = v.b_version"
    )


def _array_type(column_type: Any, dialect: sa.Dialect) -> str:
    if isinstance(column_type, sa.JSON):
        return "jsonb[]"
    if isinstance(column_type, sa.TypeDecorator):
        column_type = column_type.impl
    return f"{column_type.compile(dialect=dialect)}[]"


def update_guarded(
    session: Session, table: sa.Table, columns: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> int:
    """Compare-and-set many rows: set ``columns`` where id = b_id and version = b_version.

    Returns how many rows matched; fewer than ``len(rows)`` means someone else
    changed a row first.
    """
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    statement = _guarded_update_sql(table, columns, dialect)
    if dialect.name == "postgresql":
        process = [_copy_processor(table.c[c].type, dialect) for c in columns]
        arrays: list[list[Any]] = [[r["b_id"] for r in rows], [r["b_version"] for r in rows]]
        for column, processor in zip(columns, process, strict=True):
            values = [r[column] for r in rows]
            arrays.append([processor(v) for v in values] if processor else values)
        cursor = connection.connection.cursor()
        cursor.execute(statement, arrays)
        return int(cursor.rowcount)
    if dialect.name == "sqlite":
        processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
        id_processor = table.c.id.type._cached_bind_processor(dialect)
        params = [
            (
                *(p(r[c]) if p else r[c] for c, p in zip(columns, processors, strict=True)),
                id_processor(r["b_id"]) if id_processor else r["b_id"],
                r["b_version"],
            )
            for r in rows
        ]
        cursor = connection.connection.cursor()
        cursor.executemany(statement, params)
        return int(cursor.rowcount)
    raise NotImplementedError(f"no guarded update for {dialect.name}")
