"""The daily procedures pass over many debtors on PostgreSQL, and a payment's latency.

``python -m bench.procedures_pass [--debtors 100000] [--runs 3] [--payments 300]`` (not
part of ``python -m bench``'s run). The database ``PROCEDO_BENCH_PROCEDURES`` (default
the local server's ``bench_h3_proc``) is made afresh by PostgreSQL itself
(``generate_series``): one tenant (Berlin) with the shipped standard procedure
(docs/examples/collection-worksheet.json) published and registered as the default
primary, and debtors in groups by their number (``g = i % 50``):

- ``g`` 0-39: the oldest open invoice is ``g + 1`` days overdue today (the D.I.P.),
  a second one 12 days younger, an older one paid. Those with a D.I.P. of 2 or more
  have run the procedure since their first overdue day and wait, as they did
  yesterday, at the threshold above yesterday's D.I.P. (``dip7``, ``dip15``,
  ``dip21``, ``dip40``: a wait in mode ``rule`` with its ``recheck`` timer), with
  their history; those at 1 fell overdue yesterday and have no procedure yet.
- ``g`` 40-49: nothing overdue (not in procedure).

So today 8 % of the debtors cross a threshold (D.I.P. 7, 15, 21 or 40: a reminder
email queued, a call or the hand-over proposed on the worksheet) and 2 % enter
procedure; 78 % wait and stay where they are.

Timed, Procedo: the scheduler's pass as it runs it every five minutes, at 09:05 in
Berlin: ``fact_waits.wake_all`` (one query per rule wait finds the positions whose
rule holds; only those are stepped) then ``procedures.reconcile_all`` (one query per
rule: who is in procedure without a primary; those started). Peer, in the same run
on the same data: every debtor re-evaluated one by one (its facts read and computed
in Python, ``facts.python.load_facts``; its wait's rule or "in procedure" evaluated),
and the same steps and starts for those that hold, in one transaction as well. Both
must step and start the same debtors. Between runs the instances are made again.

Then the latency of a payment: ``--payments`` payments in turn, each paying the
leading invoice of a waiting debtor (``record_payments``, as ``POST /payments``
does), timed from the call to the debtor's procedure having looked again (the
``subject.changed`` event handled: its wait re-armed for the next oldest invoice's
D.I.P.), in this one process with nothing queued before it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import statistics
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from procedo import engine as eng
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.migrate import upgrade
from procedo.db.procedures import Procedure
from procedo.db.session import Database
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.messaging.library import add_standard_templates
from procedo.nodes.wait import RECHECK
from procedo.nodetypes import TimerFired
from procedo.procedures import assign as procedures
from procedo.receivables.payments import NewPayment, record_payments
from procedo.rules.evaluate import evaluate
from procedo.runtime import fact_waits, setup, work
from procedo.runtime.admin import create_instance, current_version, run_start
from procedo.runtime.context import Runtime
from procedo.runtime.local import InlineDispatcher
from procedo.runtime.rows import load_instance
from procedo.runtime.steps import step_instance
from procedo.workdays import WorkingDays

URL = os.environ.get(
    "PROCEDO_BENCH_PROCEDURES", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h3_proc"
)
TENANT = uuid.UUID("00000000-0000-7000-8000-0000000000b7")
FLOW = Path(__file__).resolve().parent.parent / "docs" / "examples" / "collection-worksheet.json"
FLOW_KEY = "collection-worksheet"
# The pass after the 09:00 wake-ups, Tuesday 8 December 2026 in Berlin.
NOW = dt.datetime(2026, 12, 8, 8, 5, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 8)
CONTROLLER = "carla@bench-proc.example"

_DEBTORS = """
SET LOCAL session_replication_role = replica;

INSERT INTO subjects (id, tenant_id, type, key, status, fields, version, created_at, updated_at)
SELECT md5('p' || i)::uuid, :tenant, 'debtor', 'P' || lpad(i::text, 7, '0'), 'active',
       jsonb_build_object('name', 'Debtor ' || i, 'email', 'p' || i || '@example.org'),
       1, now(), now()
FROM generate_series(1, :debtors) AS i;

INSERT INTO open_items (id, tenant_id, debtor_id, kind, number, issue_date, due_date, amount,
                        open_amount, currency, status, created_at, updated_at)
SELECT md5('pi' || i || '-' || j)::uuid, :tenant, md5('p' || i)::uuid, 'invoice',
       'P' || i || '-' || j, due - 30, due, amount, CASE WHEN j = 2 THEN 0 ELSE amount END,
       'EUR', CASE WHEN j = 2 THEN 'paid' ELSE 'open' END, now(), now()
FROM (
  SELECT i, j, 100 + (i % 900) + j AS amount,
    CASE
      WHEN j = 2 THEN :today - 90 - (i % 30)
      WHEN i % 50 >= 40 THEN :today + 1 + (i % 20) + 10 * j
      ELSE :today - (i % 50) - 1 + 12 * j
    END AS due
  FROM generate_series(1, :debtors) AS i, generate_series(0, 2) AS j
) AS items
"""

# The procedure's state as yesterday's steps left it: D.I.P. ``g + 1`` today, so
# ``g`` yesterday, waiting at the next threshold above that (started when D.I.P. was 1).
_WAITING = """
SET LOCAL session_replication_role = replica;

CREATE TEMP TABLE waiting ON COMMIT DROP AS
SELECT i, g,
       CASE WHEN g < 7 THEN 7 WHEN g < 15 THEN 15 WHEN g < 21 THEN 21 ELSE 40 END AS th,
       md5('pr' || i || :round)::uuid AS instance_id, md5('pt' || i || :round)::uuid AS token_id,
       (:today - g)::timestamp AT TIME ZONE 'Europe/Berlin' + interval '9 hours' AS started
FROM (SELECT i, i % 50 AS g FROM generate_series(1, :debtors) AS i) AS d
WHERE g BETWEEN 1 AND 39;

INSERT INTO instances (id, tenant_id, flow_version_id, subject_id, status, version, variables,
                       started_by, started_at, updated_at)
SELECT instance_id, :tenant, :version, md5('p' || i)::uuid, 'running', 1, '{}', 'procedures',
       started, started
FROM waiting;

INSERT INTO tokens (id, tenant_id, instance_id, node_id, arrived, entered_at, await_condition)
SELECT token_id, :tenant, instance_id, 'dip' || th, 1, started,
       jsonb_build_object('kind', 'compare', 'field', 'subject.oldest_overdue_days', 'op', '>=',
                          'value', jsonb_build_object('type', 'decimal', 'value', th::text))
FROM waiting;

INSERT INTO timers (id, tenant_id, instance_id, token_id, purpose, due_at, status)
SELECT md5('pm' || i || :round)::uuid, :tenant, instance_id, token_id, 'recheck',
       (:today + th - g - 1)::timestamp AT TIME ZONE 'Europe/Berlin' + interval '9 hours',
       'pending'
FROM waiting;

INSERT INTO history (tenant_id, instance_id, subject_id, at, actor, kind, node_id, port, data)
SELECT :tenant, instance_id, md5('p' || i)::uuid, started, 'procedures', kind, node, port,
       CASE WHEN kind = 'instance_started' THEN '{"version": 1}'::jsonb ELSE '{}' END
FROM waiting,
     unnest(ARRAY['instance_started', 'left', 'left', 'waiting'],
            ARRAY[NULL, 'start', 'route', 'dip' || th],
            ARRAY[NULL, 'next', 'else', NULL]) AS step(kind, node, port)
"""


def _runtime(url: str) -> tuple[Runtime, InlineDispatcher]:
    dispatcher = InlineDispatcher()
    return Runtime(db=Database(url), dispatcher=dispatcher, clock=FakeClock(NOW)), dispatcher


def make_database(url: str) -> None:
    """An empty database of this name, at the current schema."""
    name = sa.make_url(url).database
    admin = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()


def prepare(rt: Runtime, debtors: int) -> uuid.UUID:
    """The tenant, its procedure and debtors; the procedure's version id."""
    started = time.perf_counter()
    with rt.db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO tenants (id, name, slug, timezone, country, smtp, created_at) "
                "VALUES (:t, 'Bench procedures', 'bench-proc', 'Europe/Berlin', 'DE', '{}', now())"
            ),
            {"t": TENANT},
        )
    with rt.db.transaction() as session:  # as every new tenant has: its reminder is one
        add_standard_templates(session, TENANT, rt.clock.now())
    setup.add_user(rt, TENANT, CONTROLLER, "Carla")
    setup.add_member(rt, TENANT, "Collections", CONTROLLER)
    version = setup.publish(rt, TENANT, FLOW.read_bytes(), "bench")
    with rt.transaction() as (session, _out):
        session.add(Procedure(tenant_id=TENANT, flow_key=FLOW_KEY, kind="primary", is_default=True))
    _run_script(rt, _DEBTORS, {"debtors": debtors})
    print(f"made {debtors:,} debtors in {time.perf_counter() - started:.0f} s")
    return version.id


_ROUND = [0]


def reset(rt: Runtime, version_id: uuid.UUID, debtors: int) -> None:
    """The procedures as yesterday left them: every instance, position, timer, history row
    and email of the tenant made again (new ids each round: no dead index entries)."""
    started = time.perf_counter()
    with rt.db.engine.begin() as connection:
        for table in ("outbox", "events", "history", "instances"):  # tokens, timers, tasks cascade
            delete = f"DELETE FROM {table} WHERE tenant_id = :t"  # noqa: S608 (names above)
            connection.execute(sa.text(delete), {"t": TENANT})
    _ROUND[0] += 1
    _run_script(rt, _WAITING, {"debtors": debtors, "version": version_id, "round": _ROUND[0]})
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            sa.text("VACUUM ANALYZE subjects, open_items, instances, tokens, timers, history")
        )
    print(f"  (state made again in {time.perf_counter() - started:.0f} s)")


def _run_script(rt: Runtime, script: str, values: dict[str, Any]) -> None:
    with rt.db.engine.begin() as connection:
        for statement in script.split(";\n"):
            if statement.strip():
                connection.execute(sa.text(statement), {"tenant": TENANT, "today": TODAY, **values})


def the_pass(rt: Runtime) -> tuple[int, int]:
    """What the scheduler runs: (positions woken, procedures started)."""
    started = time.perf_counter()
    woken = fact_waits.wake_all(rt)
    between = time.perf_counter()
    entered = procedures.reconcile_all(rt)
    ended = time.perf_counter()
    print(f"  (wake_all {between - started:.1f} s, reconcile_all {ended - between:.1f} s)")
    return woken, entered


def one_by_one(rt: Runtime) -> tuple[int, int]:
    """The peer: each debtor's facts read and its rule evaluated on its own."""
    woken = entered = 0
    with rt.transaction() as (session, out):
        calendar = Calendar(rt.clock.now(), "Europe/Berlin", WorkingDays("DE"))
        computed = computed_fields(rt.subject_types(session, TENANT)["debtor"])
        version = current_version(session, TENANT, FLOW_KEY)
        waits = fact_waits.rule_waits(rt.compiled(session, version.id))
        positions = {
            subject_id: (instance_id, token_id, node_id)
            for subject_id, instance_id, token_id, node_id in session.execute(
                sa.select(m.Instance.subject_id, m.Instance.id, m.Token.id, m.Token.node_id)
                .join(m.Token, m.Token.instance_id == m.Instance.id)
                .where(m.Instance.tenant_id == TENANT, m.Instance.status == "running")
            )
        }
        with_procedure = set(
            session.scalars(
                sa.select(m.Instance.subject_id).where(m.Instance.tenant_id == TENANT).distinct()
            )
        )
        debtors = session.execute(
            sa.select(m.Subject.id, m.Subject.fields, m.Subject.status).where(
                m.Subject.tenant_id == TENANT, m.Subject.type == "debtor"
            )
        ).all()
        connection = session.connection()
        for subject_id, fields, status in debtors:
            facts = load_facts(connection, computed, subject_id, fields, calendar)
            view = {**fields, **facts, "status": status}
            position = positions.get(subject_id)
            if position is not None:
                instance_id, token_id, node_id = position
                wait = waits.get(node_id)
                if wait is None or not evaluate(wait.when, view, {}):
                    continue
                instance = load_instance(session, instance_id)
                assert instance is not None
                signal = eng.Resume(str(token_id), TimerFired(RECHECK))
                with contextlib.suppress(eng.StaleEvent, eng.NodeFailed):
                    step_instance(rt, session, out, instance, signal, "one by one")
                woken += 1
            elif subject_id not in with_procedure and facts.get("procedure_due_date") is not None:
                instance = create_instance(rt, session, version, subject_id, "debtor", "procedures")
                run_start(rt, session, out, instance, "procedures")
                entered += 1
    return woken, entered


def outcome(rt: Runtime) -> dict[str, int]:
    """Where the procedures stand: positions per node, open tasks, queued emails."""
    with rt.db.read() as session:
        nodes = dict(
            session.execute(
                sa.select(m.Token.node_id, sa.func.count())
                .where(m.Token.tenant_id == TENANT)
                .group_by(m.Token.node_id)
            ).all()
        )
        nodes["emails"] = int(
            session.scalar(
                sa.select(sa.func.count()).select_from(m.Outbox).where(m.Outbox.tenant_id == TENANT)
            )
            or 0
        )
    return {str(k): int(v) for k, v in nodes.items()}


def payments(rt: Runtime, dispatcher: InlineDispatcher, count: int) -> list[float]:
    """Seconds from each payment's call to its debtor's procedure looked at again."""
    with rt.db.read() as session:
        waiting = session.execute(
            sa.select(m.Instance.id, m.Instance.subject_id, _TIMERS)
            .join(m.Token, m.Token.instance_id == m.Instance.id)
            .where(
                m.Instance.tenant_id == TENANT,
                m.Instance.status == "running",
                m.Token.node_id.like("dip%"),
            )
            .order_by(m.Instance.id)
            .limit(count)
        ).all()
        numbers: dict[uuid.UUID, str] = dict(
            session.execute(
                sa.text(
                    "SELECT DISTINCT ON (debtor_id) debtor_id, number || ' ' || open_amount "
                    "FROM open_items WHERE tenant_id = :t AND status = 'open' "
                    "AND debtor_id = ANY(:ids) ORDER BY debtor_id, due_date"
                ),
                {"t": TENANT, "ids": [row.subject_id for row in waiting]},
            ).all()
        )
    dispatcher.queue.clear()
    latencies: list[float] = []
    for _instance_id, subject_id, _timers in waiting:
        number, amount = numbers[subject_id].split()
        payment = NewPayment(
            amount=Decimal(amount),
            currency="EUR",
            paid_on=TODAY,
            bank_reference=f"bench-{subject_id}",
            remittance=f"invoice {number}",
        )
        started = time.perf_counter()
        record_payments(rt, TENANT, [payment], "bank")
        while dispatcher.queue:
            kind, idents = dispatcher.queue.popleft()
            if kind != "outbox":  # sending is the mail worker's, not the procedure's
                work.HANDLERS[kind](rt, idents)
        latencies.append(time.perf_counter() - started)
    with rt.db.read() as session:
        after: dict[uuid.UUID, int] = dict(
            session.execute(
                sa.select(m.Instance.id, _TIMERS).where(m.Instance.id.in_([r.id for r in waiting]))
            ).all()
        )
    # Looked at again: its wait's wake-up moved (a new timer for the next invoice's D.I.P.).
    unmoved = [row.id for row in waiting if after[row.id] == row.timers]
    if unmoved:
        raise SystemExit(f"{len(unmoved)} procedures were not looked at again after a payment")
    return latencies


_TIMERS = (
    sa.select(sa.func.count())
    .where(m.Timer.instance_id == m.Instance.id)
    .correlate(m.Instance)
    .scalar_subquery()
    .label("timers")
)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s (min {min(values):.1f}, max {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=1)
    parser.add_argument("--payments", type=int, default=300)
    args = parser.parse_args()
    make_database(URL)
    rt, dispatcher = _runtime(URL)
    version_id = prepare(rt, args.debtors)
    # Warm-up, as a scheduler that has run for a while is: the holiday tables imported,
    # the flow compiled.
    Calendar(NOW, "Europe/Berlin", WorkingDays("DE"))
    with rt.db.read() as session:
        rt.compiled(session, version_id)
    ours: list[float] = []
    peers: list[float] = []
    done: set[tuple[int, int]] = set()
    results: dict[str, dict[str, int]] = {}
    loads: list[float] = []
    for run in range(max(args.runs, args.peer_runs)):
        if run < args.runs:
            reset(rt, version_id, args.debtors)
            started = time.perf_counter()
            counted = the_pass(rt)
            ours.append(time.perf_counter() - started)
            done.add(counted)
            results["pass"] = outcome(rt)
            print(f"pass {run + 1}: {ours[-1]:.1f} s, {counted} load {os.getloadavg()[0]:.1f}")
        if run < args.peer_runs:
            reset(rt, version_id, args.debtors)
            started = time.perf_counter()
            counted = one_by_one(rt)
            peers.append(time.perf_counter() - started)
            done.add(counted)
            results["peer"] = outcome(rt)
            print(f"peer {run + 1}: {peers[-1]:.1f} s, {counted} load {os.getloadavg()[0]:.1f}")
        loads.append(os.getloadavg()[0])
    if len(done) != 1 or results["pass"] != results["peer"]:
        raise SystemExit(f"the pass and the peer must agree: {done} {results}")
    woken, entered = done.pop()
    # The payments arrive after the day's pass, on the state it left.
    latencies = payments(rt, dispatcher, args.payments)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\n{args.debtors:,} debtors; load average {[round(x, 1) for x in loads]}")
    print(f"this process's peak memory: {peak:,} MB")
    print(f"after the pass: {results['pass']}\n")
    print("| debtors | crossed | entered procedure | the pass | peer: one by one | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {args.debtors:,} | {woken:,} | {entered:,} | {_median(ours)} | {_median(peers)} | "
        f"{statistics.median(peers) / statistics.median(ours):.1f}x |"
    )
    ms = [x * 1000 for x in latencies]
    print(
        f"\npayment to step recomputed, {len(ms)} payments: p50 {_quantile(ms, 0.5):.1f} ms, "
        f"p99 {_quantile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )


if __name__ == "__main__":
    main()
