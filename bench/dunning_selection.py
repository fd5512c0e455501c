"""D6's debtor filter over 1,000,000 debtors and 5,000,000 open items on PostgreSQL.

``python -m bench.dunning_selection [--debtors 1000000] [--runs 5] [--peer-runs 1]``
(not part of ``python -m bench``'s run). The data is made once by PostgreSQL
itself (``generate_series``) in the database ``PROCEDO_BENCH_D6`` (default: the
local server's ``bench_d6``, created when missing) and kept for the next run
when its size matches. Five open items per debtor; the debtors fall in groups
by their number (``i % 20``) so that D6 (not problematic, no dunning notice sent
by a workflow, oldest overdue item more than 6 days) selects about 50,000:

- 0: an item overdue 10-39 days, no notice: selected unless problematic (1 in 97);
- 1-6: an item overdue 30-89 days and one or two notices a workflow sent;
- 7-9: an item overdue 1-6 days;
- 10-12: an overdue item in dispute (the procedure does not follow disputes);
- 13-19: everything paid or not yet due.

The rows are made with the foreign-key triggers off (``session_replication_role``:
the generator keeps the keys right itself; ten million trigger calls would take
longer than the benchmark), then vacuumed as autovacuum would. Every debtor with
an instance also has the instance's other history rows (about six each), as a
real history table does. Timed: ``select_matching`` (the SQL the scheduler runs)
to the list of ids, on a connection as Procedo makes it, against the peer, which
loads the tenant's debtors, items and history rows and evaluates the same facts
and rule in Python (``facts.python.compute``, ``rules.evaluate``), in the same
run. Both must select the same debtors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from procedo.db.migrate import upgrade
from procedo.db.session import Database
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import HistoryRow, ItemRow, compute
from procedo.facts.sql import room_for_selection, select_matching
from procedo.flow.codec import decode_flow
from procedo.flow.model import ScheduleTrigger
from procedo.rules.evaluate import evaluate
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays

URL = os.environ.get("PROCEDO_BENCH_D6", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_d6")
TENANT = uuid.UUID("00000000-0000-7000-8000-00000000d006")
# A D6 slot: Tuesday 16:00 in Berlin.
NOW = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)
# D6 as the demo ships it: its schedule's filter.
D6_FLOW = Path(__file__).resolve().parent.parent / "docs" / "examples" / "dunning-level-1.json"

_GENERATE = """
SET LOCAL session_replication_role = replica;

INSERT INTO tenants (id, name, slug, timezone, country, smtp, created_at)
VALUES (:tenant, 'Bench D6', 'bench-d6', 'Europe/Berlin', 'DE', '{}', now());

INSERT INTO subjects (id, tenant_id, type, key, status, fields, version, created_at, updated_at)
SELECT md5('d' || i)::uuid, :tenant, 'debtor', 'D' || lpad(i::text, 7, '0'), 'active',
       jsonb_strip_nulls(jsonb_build_object(
         'name', 'Debtor ' || i,
         'email', CASE WHEN i % 10 <> 3 THEN 'd' || i || '@example.org' END,
         'problematic', i % 97 = 0,
         'credit_limit', 5000)),
       1, now(), now()
FROM generate_series(1, :debtors) AS i;

INSERT INTO open_items (id, tenant_id, debtor_id, kind, number, issue_date, due_date, amount,
                        open_amount, currency, status, created_at, updated_at)
SELECT md5('i' || i || '-' || j)::uuid, :tenant, md5('d' || i)::uuid, 'invoice',
       'INV' || i || '-' || j, due - 30, due, 100 + (i % 900), open_amount, 'EUR', status,
       now(), now()
FROM (
  SELECT i, j, g,
    CASE
      WHEN j = 0 AND g = 0 THEN :today - 10 - (i % 30)
      WHEN j = 0 AND g BETWEEN 1 AND 6 THEN :today - 30 - (i % 60)
      WHEN j = 0 AND g BETWEEN 7 AND 9 THEN :today - 1 - (i % 6)
      WHEN j = 0 AND g BETWEEN 10 AND 12 THEN :today - 20 - (i % 40)
      WHEN j = 4 THEN :today + 1 + (i % 30)
      ELSE :today - 40 - 30 * j - (i % 20)
    END AS due,
    CASE
      WHEN j = 0 AND g BETWEEN 10 AND 12 THEN 'dispute'
      WHEN (j = 0 AND g < 10) OR j = 4 THEN 'open'
      ELSE 'paid'
    END AS status,
    CASE WHEN (j = 0 AND g < 13) OR j = 4 THEN 100 + (i % 900) ELSE 0 END AS open_amount
  FROM (SELECT i, j, i % 20 AS g FROM generate_series(1, :debtors) AS i,
        generate_series(0, 4) AS j) AS base
) AS items;

INSERT INTO history (tenant_id, instance_id, subject_id, at, actor, kind, node_id, data)
SELECT :tenant, md5('n' || i || '-' || n)::uuid, md5('d' || i)::uuid,
       :now - make_interval(days => 10 + 20 * n + (i % 10)), 'system', kind, node,
       CASE WHEN kind = 'email_queued' THEN '{"mark": "dunning_notice"}'::jsonb ELSE '{}' END
FROM generate_series(1, :debtors) AS i,
     generate_series(0, 1) AS n,
     unnest(ARRAY['instance_started', 'entered', 'left', 'entered', 'email_queued', 'left',
                  'instance_completed'],
            ARRAY['start', 'mail', 'start', 'mail', 'mail', 'mail', 'end']) AS step(kind, node)
WHERE i % 20 BETWEEN 1 AND 6 AND (n = 0 OR i % 2 = 0)
   OR i % 20 BETWEEN 7 AND 12 AND n = 0 AND kind <> 'email_queued';
"""


def prepare(engine: sa.Engine, debtors: int) -> None:
    """The tables and the data, unless a previous run left the same amount."""
    upgrade(engine)
    with engine.connect() as connection:
        have = connection.scalar(
            sa.text("SELECT count(*) FROM subjects WHERE tenant_id = :t"), {"t": TENANT}
        )
    if have == debtors:
        return
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM tenants WHERE id = :t"), {"t": TENANT})
        for statement in _GENERATE.split(";\n"):
            if statement.strip():
                connection.execute(
                    sa.text(statement),
                    {"tenant": TENANT, "debtors": debtors, "today": _today(), "now": NOW},
                )
    # As autovacuum would by the next run: hint bits and the visibility map set, so
    # the first timed query does not pay for the bulk load.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE subjects, open_items, history"))
    print(f"made {debtors:,} debtors in {time.perf_counter() - started:.0f} s")


def _today() -> dt.date:
    return Calendar(NOW, "Europe/Berlin", WorkingDays("DE")).today


def _rule() -> Any:
    trigger = decode_flow(D6_FLOW.read_bytes()).trigger
    assert isinstance(trigger, ScheduleTrigger)
    assert trigger.filter is not None
    return trigger.filter


def _computed() -> Any:
    return computed_fields(builtin_subject_types()["debtor"])


def in_sql(engine: sa.Engine) -> set[uuid.UUID]:
    calendar = Calendar(NOW, "Europe/Berlin", WorkingDays("DE"))
    query = select_matching(_rule(), _computed(), calendar, TENANT, "debtor")
    with engine.connect() as connection:
        room_for_selection(connection)  # as the scheduler does
        return set(connection.scalars(query))


def in_python(engine: sa.Engine) -> set[uuid.UUID]:
    """The peer: every row loaded, the facts and the rule evaluated per debtor."""
    calendar = Calendar(NOW, "Europe/Berlin", WorkingDays("DE"))
    computed, rule = _computed(), _rule()
    items: dict[uuid.UUID, list[ItemRow]] = defaultdict(list)
    history: dict[uuid.UUID, list[HistoryRow]] = defaultdict(list)
    selected: set[uuid.UUID] = set()
    with engine.connect() as connection:
        for row in connection.execute(
            sa.text(
                "SELECT debtor_id, status, issue_date, due_date, amount, open_amount "
                "FROM open_items WHERE tenant_id = :t"
            ),
            {"t": TENANT},
        ):
            items[row[0]].append(ItemRow(*row[1:]))
        for row in connection.execute(
            sa.text(
                "SELECT subject_id, kind, at, instance_id IS NOT NULL, data->'mark' "
                "FROM history WHERE tenant_id = :t "
                "AND kind IN ('email_queued', 'letter_queued', 'task_completed')"
            ),
            {"t": TENANT},
        ):
            history[row[0]].append(HistoryRow(*row[1:]))
        for subject_id, fields, status in connection.execute(
            sa.text(
                "SELECT id, fields, status FROM subjects WHERE tenant_id = :t AND type = 'debtor'"
            ),
            {"t": TENANT},
        ):
            facts = compute(computed, fields, items[subject_id], history[subject_id], calendar)
            if evaluate(rule, {**fields, **facts, "status": status}, {}):
                selected.add(subject_id)
    return selected


def explain(engine: sa.Engine, query: Any) -> list[str]:
    """PostgreSQL's plan of ``query`` as it ran, with its bound values (a bench tool's peek)."""
    compiled = query.compile(engine, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors  # the JSON and date binds, as execute sends them
    values = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled.string}", values)
        return [line for (line,) in plan]


def timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


# Rows written per table in the write-cost comparison; a quarter of the items unpaid and
# a tenth of the history rows marked, so a part of them goes into each partial index.
_WRITES = {
    "open_items": (
        "ix_open_items_unpaid_due",
        "SELECT gen_random_uuid(), :tenant, md5('d' || (i % 1000 + 1))::uuid, 'invoice', "
        "'W' || i, :today, :today, 100, 100, 'EUR', "
        "CASE WHEN i % 4 = 0 THEN 'open' ELSE 'paid' END, now(), now(), NULL "
        "FROM generate_series(1, :rows) AS i",
    ),
    "history": (
        "ix_history_marked",
        "SELECT nextval('history_seq_seq'), :tenant, gen_random_uuid(), "
        "md5('d' || (i % 1000 + 1))::uuid, now(), 'system', "
        "CASE WHEN i % 10 = 0 THEN 'email_queued' ELSE 'entered' END, 'mail', NULL, NULL, "
        'NULL, CASE WHEN i % 10 = 0 THEN \'{"mark": "dunning_notice"}\'::jsonb '
        "ELSE '{}' END FROM generate_series(1, :rows) AS i",
    ),
}


def write_cost(engine: sa.Engine, rows: int, runs: int) -> list[str]:
    """Inserting into a copy of each table with all its indexes, against one without the
    partial index the selection reads; median seconds of ``runs``, each rolled back."""
    lines = []
    for table, (index, select) in _WRITES.items():
        timings: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(runs):
            for with_index in (True, False):
                with engine.connect() as connection, connection.begin() as transaction:
                    connection.execute(sa.text(f"CREATE TEMP TABLE w (LIKE {table} INCLUDING ALL)"))
                    if not with_index:
                        name = connection.scalar(
                            sa.text(
                                "SELECT indexname FROM pg_indexes WHERE tablename = 'w' "
                                "AND indexdef LIKE '%WHERE%'"
                            )
                        )
                        connection.execute(sa.text(f'DROP INDEX "{name}"'))
                    started = time.perf_counter()
                    connection.execute(
                        sa.text(f"INSERT INTO w {select}"),
                        {"tenant": TENANT, "today": _today(), "rows": rows},
                    )
                    timings[with_index].append(time.perf_counter() - started)
                    transaction.rollback()
        with_it, without = (statistics.median(timings[flag]) for flag in (True, False))
        lines.append(
            f"| {table} | {index} | {without:.2f} s | {with_it:.2f} s | "
            f"{(with_it / without - 1) * 100:+.0f} % |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print the query plan")
    parser.add_argument("--write-rows", type=int, default=200_000)
    args = parser.parse_args()
    engine = Database(URL).engine  # as Procedo connects (no JIT, UTC)
    prepare(engine, args.debtors)
    if args.explain:
        calendar = Calendar(NOW, "Europe/Berlin", WorkingDays("DE"))
        query = select_matching(_rule(), _computed(), calendar, TENANT, "debtor")
        print("\n".join(explain(engine, query)))
    in_sql(engine)  # warm the buffers and the statement cache
    sql_times: list[float] = []
    selected: set[uuid.UUID] = set()
    for _ in range(args.runs):
        seconds, selected = timed(lambda: in_sql(engine))
        sql_times.append(seconds)
    peer_times: list[float] = []
    peer_selected: set[uuid.UUID] = set()
    for _ in range(args.peer_runs):
        seconds, peer_selected = timed(lambda: in_python(engine))
        peer_times.append(seconds)
    if selected != peer_selected:
        raise SystemExit(
            f"SQL selected {len(selected):,}, Python {len(peer_selected):,}: they must agree"
        )
    sql, peer = statistics.median(sql_times), statistics.median(peer_times)
    print("| debtors | selected | SQL (select_matching) | peer: evaluated in Python | ratio |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {args.debtors:,} | {len(selected):,} | {sql:.2f} s (min {min(sql_times):.2f}, "
        f"max {max(sql_times):.2f}) | {peer:.1f} s | {peer / sql:.0f}x |"
    )
    print(f"\nInserting {args.write_rows:,} rows (median of {args.runs}):\n")
    print("| table | index | without it | with it | cost |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(write_cost(engine, args.write_rows, args.runs)))


if __name__ == "__main__":
    main()
