"""``procedo import debtors|open-items FILE.csv``: upserts by number, all or nothing, in batches.

The file is read once, in batches of ``BATCH`` rows, inside one transaction: a
batch is one upsert statement (and, for open items, one query for the debtors it
names), never a round trip per row. Every bad row is collected with its line and
column; at the end a file with bad rows is rolled back (nothing stored) unless
``skip_bad``, which stores the good rows and reports the skipped ones.

Upserts are by number, so the nightly export of an ERP can be imported again:
a debtor's columns in the file replace those fields (an empty cell clears one),
other fields stay; an open item is replaced whole.

Every debtor the file touched that a flow is running on gets a ``subject.changed``
event in the same transaction (its fields or its facts may have changed), so waits
on conditions look again; debtors no flow runs on get none, so a nightly import of
a million rows writes events only for the few that matter. The events are pending
rows that the scheduler's sweeper hands to a worker (the command has no broker).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from procedo.db.models import Event, Instance, Subject, utcnow
from procedo.db.receivables import OpenItem
from procedo.ids import new_id
from procedo.receivables.csvfile import (
    DEBTOR_COLUMNS,
    OPEN_ITEM_COLUMNS,
    Column,
    CsvProblem,
    Row,
    read_rows,
)

BATCH: Final = 5000
# On PostgreSQL a batch is one INSERT ... SELECT FROM unnest(arrays): a statement of a
# dozen parameters whatever the batch's size, compiled once (psycopg's executemany would
# send a statement per row, and a VALUES list of 5,000 rows costs SQLAlchemy seconds).
_PG_DEBTORS: Final = sa.text(
    """
    INSERT INTO subjects (id, tenant_id, type, key, status, fields, version, created_at, updated_at)
    SELECT incoming.id, :tenant_id, :type, incoming.key, 'active', CAST(incoming.fields AS jsonb),
           1, :now, :now
    FROM unnest(CAST(:ids AS uuid[]), CAST(:keys AS text[]), CAST(:fields AS text[]))
         AS incoming(id, key, fields)
    ON CONFLICT (tenant_id, type, key) DO UPDATE
    SET fields = subjects.fields || excluded.fields, version = subjects.version + 1,
        updated_at = excluded.updated_at
    """
)
_PG_DEBTOR_IDS: Final = sa.text(
    """
    SELECT subjects.key, subjects.id
    FROM unnest(CAST(:numbers AS text[])) AS wanted(key)
    JOIN subjects ON subjects.tenant_id = :tenant_id AND subjects.type = :type
                 AND subjects.key = wanted.key
    """
)
_ITEM_COLUMNS: Final = (
    ("debtor_id", "uuid"),
    ("kind", "text"),
    ("number", "text"),
    ("issue_date", "date"),
    ("due_date", "date"),
    ("amount", "numeric"),
    ("open_amount", "numeric"),
    ("currency", "text"),
    ("status", "text"),
)
_NAMES: Final = ", ".join(name for name, _ in _ITEM_COLUMNS)
_ARRAYS: Final = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _ITEM_COLUMNS)
_REPLACED: Final = ", ".join(f"{name} = excluded.{name}" for name, _ in _ITEM_COLUMNS)
_PG_ITEMS: Final = sa.text(
    f"""
    INSERT INTO open_items (id, tenant_id, {_NAMES}, created_at, updated_at)
    SELECT incoming.id, CAST(:tenant_id AS uuid), {_NAMES}, :now, :now
    FROM unnest(CAST(:id AS uuid[]), {_ARRAYS}) AS incoming(id, {_NAMES})
    ON CONFLICT (tenant_id, number) DO UPDATE SET {_REPLACED}, updated_at = excluded.updated_at
    """  # noqa: S608 - fixed column names; every value is a bind parameter
)
DEBTOR: Final = "debtor"

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    stored: int = 0
    problems: list[CsvProblem] = field(default_factory=list)
    # True when the file had problems and nothing of it was stored.
    refused: bool = False


class _Refused(Exception):
    """Raised at the end of the transaction to roll it back."""


def import_debtors(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    path: Path,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    return _import(engine, tenant_id, path, DEBTOR_COLUMNS, _DebtorWriter, skip_bad, progress)


def import_open_items(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    path: Path,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    return _import(engine, tenant_id, path, OPEN_ITEM_COLUMNS, _ItemWriter, skip_bad, progress)


def _import(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    path: Path,
    columns: tuple[Column, ...],
    writer_class: type[_Writer],
    skip_bad: bool,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()
    try:
        with engine.begin() as connection:
            writer = writer_class(connection, tenant_id)
            try:
                for batch in _batches(read_rows(path, columns), report):
                    report.stored += writer.write(batch, report.problems)
                    if progress is not None:
                        progress(report.stored)
            except CsvProblem as problem:  # the rest of the file cannot be read
                report.problems.append(problem)
                raise _Refused from None
            if report.problems and not skip_bad:
                raise _Refused
            _announce_changes(connection, tenant_id, writer)
    except _Refused:
        report.refused, report.stored = True, 0
    report.problems.sort(key=lambda problem: problem.line)
    return report


def _batches(rows: Iterator[Row | CsvProblem], report: ImportReport) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        if isinstance(row, CsvProblem):
            report.problems.append(row)
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _announce_changes(connection: sa.Connection, tenant_id: uuid.UUID, writer: _Writer) -> None:
    """``subject.changed`` for each touched debtor with a running flow (a query per 5,000)."""
    numbers = sorted(writer.touched)
    now = utcnow()
    for start in range(0, len(numbers), _ANNOUNCED_PER_QUERY):
        chunk = numbers[start : start + _ANNOUNCED_PER_QUERY]
        if connection.dialect.name == "postgresql":
            found = connection.execute(
                _PG_RUNNING, {"tenant_id": tenant_id, "type": DEBTOR, "numbers": chunk}
            )
        else:
            subjects, instances = Subject.__table__, Instance.__table__
            found = connection.execute(
                sa.select(subjects.c.id, subjects.c.status).where(
                    subjects.c.tenant_id == tenant_id,
                    subjects.c.type == DEBTOR,
                    subjects.c.key.in_(chunk),
                    sa.exists().where(
                        instances.c.subject_id == subjects.c.id, instances.c.status == "running"
                    ),
                )
            )
        events = [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "subject_id": debtor_id,
                "name": "subject.changed",
                "data": {"from": status, "to": status, "cause": "import"},
                "status": "pending",
                "created_at": now,
                "processed_at": None,
            }
            for debtor_id, status in found
        ]
        if events:
            connection.execute(sa.insert(Event), events)


_ANNOUNCED_PER_QUERY: Final = 5000
_PG_RUNNING: Final = sa.text(
    """
    SELECT subjects.id, subjects.status
    FROM unnest(CAST(:numbers AS text[])) AS wanted(key)
    JOIN subjects ON subjects.tenant_id = :tenant_id AND subjects.type = :type
                 AND subjects.key = wanted.key
    WHERE EXISTS (SELECT 1 FROM instances
                  WHERE instances.subject_id = subjects.id AND instances.status = 'running')
    """
)


class _Writer:
    def __init__(self, connection: sa.Connection, tenant_id: uuid.UUID) -> None:
        self.connection = connection
        self.tenant_id = tenant_id
        self.dialect = connection.dialect.name
        self.seen: dict[str, int] = {}  # number -> line, to refuse a number given twice
        self.touched: set[str] = set()  # the numbers of the debtors the file changed

    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> int:
        raise NotImplementedError

    def unique(self, rows: Sequence[Row], problems: list[CsvProblem]) -> list[Row]:
        kept: list[Row] = []
        for row in rows:
            number = row.values["number"]
            first = self.seen.setdefault(number, row.line)
            if first != row.line:
                problems.append(
                    CsvProblem(
                        row.line, None, None, f"number {number!r} was already on line {first}"
                    )
                )
                continue
            kept.append(row)
        return kept

    def insert(self, table: Any) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)


class _DebtorWriter(_Writer):
    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> int:
        rows = self.unique(rows, problems)
        if not rows:
            return 0
        self.touched.update(row.values["number"] for row in rows)
        now = utcnow()
        table = Subject.__table__
        named = [c.name for c in DEBTOR_COLUMNS if c.name != "number"]
        values = [
            {
                "id": new_id(),
                "tenant_id": self.tenant_id,
                "type": DEBTOR,
                "key": row.values["number"],
                "status": "active",
                "fields": {name: _json(row.values[name]) for name in named if name in row.present},
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        if self.dialect == "postgresql":
            self.connection.execute(
                _PG_DEBTORS,
                {
                    "tenant_id": self.tenant_id,
                    "type": DEBTOR,
                    "now": now,
                    "ids": [value["id"] for value in values],
                    "keys": [value["key"] for value in values],
                    "fields": [msgspec.json.encode(value["fields"]).decode() for value in values],
                },
            )
            return len(rows)
        statement = self.insert(table)
        merged = self._merge(table.c.fields, statement.excluded.fields, rows[0])
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "type", "key"],
            set_={"fields": merged, "version": table.c.version + 1, "updated_at": now},
        )
        self.connection.execute(statement, values)
        return len(rows)

    def _merge(self, stored: Any, incoming: Any, sample: Row) -> Any:
        """The stored fields with the file's columns replaced (JSON null where a cell was empty)."""
        if self.dialect == "postgresql":
            return stored.op("||")(incoming)
        arguments: list[Any] = [stored]
        for name in sample.present:
            if name == "number":
                continue
            arguments += [sa.literal(f'$."{name}"'), incoming.op("->")(sa.literal(f'$."{name}"'))]
        return sa.func.json_set(*arguments, type_=stored.type)


class _ItemWriter(_Writer):
    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> int:
        rows = self.unique(rows, problems)
        numbers = sorted({row.values["debtor_number"] for row in rows})
        subjects = Subject.__table__
        if self.dialect == "postgresql":
            # One array parameter, joined: an IN list of 5,000 parameters costs seconds to
            # send, and "= ANY(array)" compares every subject with every number.
            found = self.connection.execute(
                _PG_DEBTOR_IDS, {"tenant_id": self.tenant_id, "type": DEBTOR, "numbers": numbers}
            )
        else:
            found = self.connection.execute(
                sa.select(subjects.c.key, subjects.c.id).where(
                    subjects.c.tenant_id == self.tenant_id,
                    subjects.c.type == DEBTOR,
                    subjects.c.key.in_(numbers),
                )
            )
        debtors: dict[str, uuid.UUID] = {}
        for key, ident in found:
            debtors[key] = ident
        now = utcnow()
        values: list[dict[str, Any]] = []
        for row in rows:
            debtor = debtors.get(row.values["debtor_number"])
            if debtor is None:
                problems.append(
                    CsvProblem(
                        row.line,
                        row.column_of("debtor_number"),
                        "debtor_number",
                        f"no debtor {row.values['debtor_number']!r}; import the debtors first",
                    )
                )
                continue
            item = row.values
            self.touched.add(row.values["debtor_number"])
            values.append(
                {
                    "id": new_id(),
                    "tenant_id": self.tenant_id,
                    "debtor_id": debtor,
                    "kind": item["kind"] or _kind(item["amount"]),
                    "number": item["number"],
                    "issue_date": item["issue_date"],
                    "due_date": item["due_date"],
                    "amount": item["amount"],
                    "open_amount": item["open_amount"],
                    "currency": item["currency"] or "EUR",
                    "status": item["status"] or ("paid" if item["open_amount"] == 0 else "open"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if not values:
            return 0
        if self.dialect == "postgresql":
            arrays = {name: [value[name] for value in values] for name, _ in _ITEM_COLUMNS}
            ids = [value["id"] for value in values]
            self.connection.execute(
                _PG_ITEMS, {"tenant_id": self.tenant_id, "now": now, "id": ids, **arrays}
            )
            return len(values)
        table = OpenItem.__table__
        statement = self.insert(table)
        replaced = (
            "debtor_id",
            "kind",
            "issue_date",
            "due_date",
            "amount",
            "open_amount",
            "currency",
            "status",
        )
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "number"],
            set_={**{name: statement.excluded[name] for name in replaced}, "updated_at": now},
        )
        self.connection.execute(statement, values)
        return len(values)


def _kind(amount: Decimal) -> str:
    """Without a kind column, a negative amount is a credit note."""
    return "credit_note" if amount < 0 else "invoice"


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact in JSON: rules read numeric text as decimals
    return value
