"""CSV import of open items into PostgreSQL, against PostgreSQL's own COPY of the same file.

``python -m bench.imports [--rows 1000000] [--runs 3] [--profile]`` prints a
markdown table for docs/benchmarks.md. For N open items the file names N/5
debtors (five items each), imported first from their own file. Each run starts
from empty tables and times, through Procedo's import (``receivables/imports.py``,
the code ``procedo import`` and ``POST /api/v1/imports/...`` run):

- the debtors' file;
- the open items' file (every row new: inserts);
- the same open items' file again (every row known: updates, the nightly case);

and, as the peer, psycopg's ``COPY ... FROM STDIN (FORMAT csv)`` of the same open
items' file into a plain table of the same columns (no checks, no upsert, no
foreign key, no index): the floor a bulk load cannot go below. The
database is the local test server (PROCEDO_BENCH_POSTGRES), in a schema of its
own that is dropped at the end. ``--profile`` prints where one items import spends
its time instead.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import sqlalchemy as sa

from bench.distributed import bench_schema
from procedo.db import models as m
from procedo.db.session import Database
from procedo.receivables.imports import import_debtors, import_open_items

POSTGRES = os.environ.get(
    "PROCEDO_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ITEMS_PER_DEBTOR = 5
STATUSES = ("open", "open", "open", "dispute", "promise", "paid")
PEER_TABLE = """
CREATE TABLE copy_peer (
    debtor_number text, number text, issue_date date, due_date date,
    amount numeric(18, 2), open_amount numeric(18, 2), currency text, status text
)
"""


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    debtors = folder / "debtors.csv"
    items = folder / "open-items.csv"
    count = max(1, rows // ITEMS_PER_DEBTOR)
    with debtors.open("w", encoding="utf-8") as out:
        out.write("number,name,email,credit_limit,preferred_contact\n")
        for n in range(count):
            out.write(f"D{n:07d},Debtor {n} B.V.,debtor{n}@example.nl,{1000 + n % 9000}.00,email\n")
    start = dt.date(2026, 1, 1)
    with items.open("w", encoding="utf-8") as out:
        out.write("debtor_number,number,issue_date,due_date,amount,open_amount,currency,status\n")
        for n in range(rows):
            issued = start + dt.timedelta(days=n % 300)
            due = issued + dt.timedelta(days=30)
            amount = f"{100 + n % 9000}.{n % 100:02d}"
            status = STATUSES[n % len(STATUSES)]
            open_amount = "0.00" if status == "paid" else amount
            out.write(
                f"D{n % count:07d},F{n:08d},{issued},{due},{amount},{open_amount},EUR,{status}\n"
            )
    return debtors, items


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _empty(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE open_items, events, subjects, copy_peer CASCADE"))


def _copy(url: str, path: Path) -> None:
    plain = sa.make_url(url).set(drivername="postgresql")
    conninfo = plain.render_as_string(hide_password=False)
    statement = "COPY copy_peer FROM STDIN (FORMAT csv, HEADER true)"
    with (
        psycopg.connect(conninfo) as connection,
        connection.cursor() as cursor,
        path.open("rb") as source,
        cursor.copy(statement) as copy,
    ):
        while data := source.read(1 << 20):
            copy.write(data)


def _check(report: object, expected: int, what: str) -> None:
    stored = getattr(report, "stored", None)
    problems = getattr(report, "problems", [])
    if stored != expected or problems:
        raise SystemExit(f"{what}: stored {stored} of {expected}; problems: {problems[:3]}")


def run(rows: int, runs: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as folder, bench_schema(POSTGRES) as url:
        debtors_file, items_file = write_files(Path(folder), rows)
        count = max(1, rows // ITEMS_PER_DEBTOR)
        size = items_file.stat().st_size
        db = Database(url)
        db.create_all()
        tenant = uuid.uuid4()
        with db.engine.begin() as connection:
            connection.execute(sa.insert(m.Tenant).values(id=tenant, name="Bench", slug="bench"))
            connection.execute(sa.text(PEER_TABLE))
        if profile:
            _check(import_debtors(db.engine, tenant, debtors_file), count, "debtors")
            profiler = cProfile.Profile()
            profiler.enable()
            import_open_items(db.engine, tenant, items_file)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            db.dispose()
            return
        times: dict[str, list[float]] = {"debtors": [], "new": [], "again": [], "copy": []}
        for number in range(runs):
            _empty(db.engine)
            times["debtors"].append(
                _timed(lambda: _check(import_debtors(db.engine, tenant, debtors_file), count, "d"))
            )
            times["new"].append(
                _timed(lambda: _check(import_open_items(db.engine, tenant, items_file), rows, "i"))
            )
            times["again"].append(
                _timed(lambda: _check(import_open_items(db.engine, tenant, items_file), rows, "i"))
            )
            times["copy"].append(_timed(lambda: _copy(url, items_file)))
            print(f"run {number + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()))
        db.dispose()
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{rows:,} open items ({size / 1e6:.0f} MB) of {count:,} debtors, median of {runs}:\n")
    print("| what | seconds | rows/s |")
    print("| --- | --- | --- |")
    lines = [
        ("Procedo: debtors' file (upsert, new)", "debtors", count),
        ("Procedo: open items' file (upsert, new)", "new", rows),
        ("Procedo: the same open items again (upsert, all updates)", "again", rows),
        ("PostgreSQL COPY of the open items' file into a plain table", "copy", rows),
    ]
    for label, name, lines_count in lines:
        print(f"| {label} | {median[name]:.1f} | {lines_count / median[name]:,.0f} |")
    print(f"\nCOPY is {median['new'] / median['copy']:.1f}x as fast as the import (new rows).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    run(arguments.rows, arguments.runs, arguments.profile)


if __name__ == "__main__":
    main()
