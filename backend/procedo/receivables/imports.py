"""``procedo import debtors|open-items FILE.csv``: upserts by number, all or nothing, in batches.

The file is read once, in batches of ``BATCH`` rows, inside one transaction: a
batch is one upsert statement (and, for open items, one query for the debtors it
names), never a round trip per row. On PostgreSQL a batch of open items is
streamed with COPY into a temporary table and upserted from there, joined to the
debtors: the values travel as text the server parses, not as Python objects that
psycopg turns into typed arrays one by one (bench/imports.py). Every bad row is
collected with its line and column; at the end a file with bad rows is rolled back
(nothing stored) unless ``skip_bad``, which stores the good rows and reports the skipped ones.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final

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
    RETURNING xmax = 0 AS inserted
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
    "debtor_id",
    "kind",
    "number",
    "issue_date",
    "due_date",
    "amount",
    "open_amount",
    "currency",
    "status",
)
_NAMES: Final = ", ".join(_ITEM_COLUMNS)
_REPLACED: Final = ", ".join(f"{name} = excluded.{name}" for name in _ITEM_COLUMNS)
DEBTOR: Final = "debtor"

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    stored: int = 0  # rows written: new ones and known ones updated
    updated: int = 0  # of those, the ones that were there before (by number)
    problems: list[CsvProblem] = field(default_factory=list)
    # True when the file had problems and nothing of it was stored.
    refused: bool = False

    @property
    def created(self) -> int:
        return self.stored - self.updated


Source = Path | BinaryIO  # a file's path (the command) or an open binary file (an upload)


class _Refused(Exception):
    """Raised at the end of the transaction to roll it back."""


def import_debtors(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    source: Source,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    return _import(engine, tenant_id, source, DEBTOR_COLUMNS, _DebtorWriter, skip_bad, progress)


def import_open_items(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    source: Source,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    return _import(engine, tenant_id, source, OPEN_ITEM_COLUMNS, _ItemWriter, skip_bad, progress)


def _import(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    source: Source,
    columns: tuple[Column, ...],
    writer_class: type[_Writer],
    skip_bad: bool,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()

    def written(batch: Future[tuple[int, int | None]]) -> None:
        stored, updated = batch.result()
        report.stored += stored
        report.updated += updated or 0
        if progress is not None:
            progress(report.stored)

    try:
        # The database writes a batch while this thread reads and checks the next one (the
        # driver lets go of the GIL while it waits), so an import takes about the longer of
        # the two, not their sum. One batch at a time: the connection is never shared. The
        # pool is left (waiting for the last write) before the transaction ends.
        with (
            engine.begin() as connection,
            ThreadPoolExecutor(1, thread_name_prefix="procedo-import") as database,
        ):
            writer = writer_class(connection, tenant_id)
            known_before = writer.count_known()
            try:
                pending: Future[tuple[int, int | None]] | None = None
                for batch in _batches(read_rows(source, columns), report):
                    if pending is not None:
                        written(pending)
                    pending = database.submit(writer.write, batch, report.problems)
                if pending is not None:
                    written(pending)
            except CsvProblem as problem:  # the rest of the file cannot be read
                report.problems.append(problem)
                raise _Refused from None
            if report.problems and not skip_bad:
                raise _Refused
            if known_before is not None:  # SQLite: its write lock makes the counts exact
                report.updated = report.stored - (writer.count_known() or 0) + known_before
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
    table: Any

    def __init__(self, connection: sa.Connection, tenant_id: uuid.UUID) -> None:
        self.connection = connection
        self.tenant_id = tenant_id
        self.dialect = connection.dialect.name
        self.seen: dict[str, int] = {}  # number -> line, to refuse a number given twice
        self.touched: set[str] = set()  # the numbers of the debtors the file changed

    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> tuple[int, int | None]:
        """(rows stored, of them known before) for a batch; None where not counted here."""
        raise NotImplementedError

    def count_known(self) -> int | None:
        """On SQLite, the tenant's rows of this kind (updated = stored - the rows added);
        PostgreSQL counts them per batch in the upsert itself."""
        if self.dialect == "postgresql":
            return None
        query = sa.select(sa.func.count()).where(self.table.c.tenant_id == self.tenant_id)
        if self.table is Subject.__table__:
            query = query.where(self.table.c.type == DEBTOR)
        return int(self.connection.scalar(query) or 0)

    def unique(self, rows: Sequence[Row], problems: list[CsvProblem]) -> list[Row]:
        kept: list[Row] = []
        for row in rows:
            number = row.values["number"]
            first = self.seen.setdefault(number, row.line)
            if first != row.line:
                problems.append(
                    CsvProblem(
                        row.line,
                        None,
                        None,
                        f"number {number!r} was already on line {first}",
                        "duplicate",
                        {"number": number, "first": first},
                    )
                )
                continue
            kept.append(row)
        return kept

    def insert(self, table: Any) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)


class _DebtorWriter(_Writer):
    table = Subject.__table__

    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> tuple[int, int | None]:
        rows = self.unique(rows, problems)
        if not rows:
            return 0, 0
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
            inserted = self.connection.scalars(
                _PG_DEBTORS,
                {
                    "tenant_id": self.tenant_id,
                    "type": DEBTOR,
                    "now": now,
                    "ids": [value["id"] for value in values],
                    "keys": [value["key"] for value in values],
                    "fields": [msgspec.json.encode(value["fields"]).decode() for value in values],
                },
            ).all()
            return len(rows), inserted.count(False)
        statement = self.insert(table)
        merged = self._merge(table.c.fields, statement.excluded.fields, rows[0])
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "type", "key"],
            set_={"fields": merged, "version": table.c.version + 1, "updated_at": now},
        )
        self.connection.execute(statement, values)
        return len(rows), None

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
    table = OpenItem.__table__

    def __init__(self, connection: sa.Connection, tenant_id: uuid.UUID) -> None:
        super().__init__(connection, tenant_id)
        if self.dialect == "postgresql":
            connection.execute(_PG_STAGE)

    def write(self, rows: Sequence[Row], problems: list[CsvProblem]) -> tuple[int, int | None]:
        rows = self.unique(rows, problems)
        if not rows:
            return 0, 0
        if self.dialect == "postgresql":
            return self._write_staged(rows, problems)
        numbers = sorted({row.values["debtor_number"] for row in rows})
        subjects = Subject.__table__
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
                problems.append(_unknown_debtor(row))
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
                    "status": _status(item),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if not values:
            return 0, None
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
        return len(values), None

    def _write_staged(self, rows: list[Row], problems: list[CsvProblem]) -> tuple[int, int]:
        """COPY the batch into the temporary table, upsert it joined to the debtors, empty it."""
        lines = []
        for row in rows:
            item = row.values
            lines.append(
                f"{row.line}\t{new_id()}\t{_copy_text(item['debtor_number'])}\t"
                f"{item['kind'] or _kind(item['amount'])}\t{_copy_text(item['number'])}\t"
                f"{item['issue_date']}\t{item['due_date']}\t{item['amount']}\t"
                f"{item['open_amount']}\t{item['currency'] or 'EUR'}\t{_status(item)}\n"
            )
        driver = self.connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            copy.write("".join(lines))
        parameters = {"tenant_id": self.tenant_id, "type": DEBTOR, "now": utcnow()}
        written, inserted = self.connection.execute(_PG_STAGED_UPSERT, parameters).one()
        if written < len(rows):  # some rows name a debtor that is not there
            unknown = self.connection.execute(_PG_STAGED_UNKNOWN, parameters)
            missing = {line for line, _number in unknown}
            for row in rows:
                if row.line in missing:
                    problems.append(_unknown_debtor(row))
                else:
                    self.touched.add(row.values["debtor_number"])
        else:
            self.touched.update(row.values["debtor_number"] for row in rows)
        self.connection.execute(_PG_UNSTAGE)
        return int(written), int(written) - int(inserted)


_PG_STAGE: Final = sa.text(
    """
    CREATE TEMPORARY TABLE import_staged_items (
        line integer, id uuid, debtor_number text, kind text, number text, issue_date date,
        due_date date, amount numeric(18, 2), open_amount numeric(18, 2), currency text,
        status text
    ) ON COMMIT DROP
    """
)
_PG_COPY: Final = "COPY import_staged_items FROM STDIN"
_PG_UNSTAGE: Final = sa.text("TRUNCATE import_staged_items")
_PG_STAGED_FROM: Final = """
    FROM import_staged_items AS staged
    JOIN subjects ON subjects.tenant_id = :tenant_id AND subjects.type = :type
                 AND subjects.key = staged.debtor_number
"""
_PG_STAGED_UPSERT: Final = sa.text(
    f"""
    WITH written AS (
        INSERT INTO open_items (id, tenant_id, {_NAMES}, created_at, updated_at)
        SELECT staged.id, :tenant_id, subjects.id, staged.kind, staged.number, staged.issue_date,
               staged.due_date, staged.amount, staged.open_amount, staged.currency,
               staged.status, :now, :now
        {_PG_STAGED_FROM}
        ON CONFLICT (tenant_id, number) DO UPDATE SET {_REPLACED}, updated_at = excluded.updated_at
        RETURNING xmax = 0 AS inserted
    )
    SELECT count(*), count(*) FILTER (WHERE inserted) FROM written
    """  # noqa: S608 - fixed column names; every value is a bind parameter
)
_PG_STAGED_UNKNOWN: Final = sa.text(
    """
    SELECT staged.line, staged.debtor_number FROM import_staged_items AS staged
    WHERE NOT EXISTS (SELECT 1 FROM subjects
                      WHERE subjects.tenant_id = :tenant_id AND subjects.type = :type
                        AND subjects.key = staged.debtor_number)
    """
)


def _copy_text(value: str) -> str:
    """A value in COPY's text format: numbers hold no control characters, only backslashes."""
    return value.replace("\\", "\\\\")


def _unknown_debtor(row: Row) -> CsvProblem:
    number = row.values["debtor_number"]
    return CsvProblem(
        row.line,
        row.column_of("debtor_number"),
        "debtor_number",
        f"no debtor {number!r}; import the debtors first",
        "unknown_debtor",
        {"value": number},
    )


def _status(item: dict[str, Any]) -> str:
    status: str = item["status"] or ("paid" if item["open_amount"] == 0 else "open")
    return status


def _kind(amount: Decimal) -> str:
    """Without a kind column, a negative amount is a credit note."""
    return "credit_note" if amount < 0 else "invoice"


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact in JSON: rules read numeric text as decimals
    return value
