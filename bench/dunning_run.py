"""A D6 run end to end on PostgreSQL: from the slot to every reminder's approval queued.

``python -m bench.dunning_run [--debtors 1000000] [--runs 3] [--workers 2]`` (not part
of ``python -m bench``'s run). The data is ``bench.dunning_selection``'s (1,000,000
debtors, 5,000,000 open items, the history of earlier reminders; D6 selects about
50,000), made once in the database ``PROCEDO_BENCH_RUN`` (default the local server's
``bench_h3``) and kept. On top of it the shipped D6 flow
(docs/examples/dunning-level-1.json) is published on the tenant, with its approver
role, and its schedule is made due at the slot (Tuesday 16:00 in Berlin).

Timed, Procedo: ``run_due_schedules`` as the scheduler calls it (one transaction:
the filter as one query, the subjects skipped or acted on, an instance created per
selected debtor, the run and its acts recorded), then the ``advance`` messages it
sent, handled by ``--workers`` processes as the dramatiq workers handle them: each
instance stepped from its start to the approval task ("Approve reminder to ...",
its candidates written). The clock stops when every instance waits at its task.

Peer, in the same run on the same data: the same filter evaluated per customer in
Python (``bench.dunning_selection.in_python``: every debtor's items and notices
loaded, the facts and the rule computed per debtor), then the same flow started on
each selected debtor one by one (``admin.start``, one transaction each, as
``POST /instances`` does without its HTTP), up to the same approval task.

Between runs the instances, their history, tasks and the schedule's runs are
deleted, so every run starts from the same state.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from bench.dunning_selection import D6_FLOW, NOW, TENANT, prepare
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.session import Database
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import HistoryRow, ItemRow, compute
from procedo.flow.codec import decode_flow
from procedo.flow.model import ScheduleTrigger
from procedo.messaging.library import add_standard_templates
from procedo.rules.evaluate import evaluate
from procedo.runtime import admin, setup, work
from procedo.runtime.context import Runtime
from procedo.runtime.local import InlineDispatcher
from procedo.runtime.schedules import run_due_schedules
from procedo.subjects import builtin_subject_types
from procedo.workdays import WorkingDays

URL = os.environ.get("PROCEDO_BENCH_RUN", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h3")
APPROVER = "approver@bench-d6.example"
FLOW_KEY = "dunning-level-1"


def _runtime(url: str) -> tuple[Runtime, InlineDispatcher]:
    dispatcher = InlineDispatcher()
    return Runtime(db=Database(url), dispatcher=dispatcher, clock=FakeClock(NOW)), dispatcher


def publish_d6(rt: Runtime) -> uuid.UUID:
    """The D6 flow on the tenant (once), with its approver; the version's id."""
    with rt.db.read() as session:
        version = session.scalar(
            sa.select(m.FlowVersion.id)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Flow.tenant_id == TENANT, m.Flow.key == FLOW_KEY)
        )
    if version is not None:
        return version
    with rt.db.transaction() as session:  # as every new tenant has: D6 mails one
        add_standard_templates(session, TENANT, rt.clock.now())
    setup.add_user(rt, TENANT, APPROVER, "Approver")
    setup.add_member(rt, TENANT, "Dunning approver", APPROVER)
    return setup.publish(rt, TENANT, D6_FLOW.read_bytes(), "bench").id


# The earlier runs the history tells of: each instance in it (750,000 at a million
# debtors) is there, completed, with its approval task done, as in a tenant that has
# run D6 for a while. Without them the instances and tasks tables hold only this run's
# rows, and PostgreSQL, whose statistics say the tables are nearly empty, joins a
# debtor's tasks by reading every task: a start then costs more with each one before it.
_PAST = """
SET LOCAL session_replication_role = replica;

INSERT INTO instances (id, tenant_id, flow_version_id, subject_id, status, version, variables,
                       started_by, started_at, updated_at, ended_at)
SELECT instance_id, :tenant, :version, subject_id, 'completed', 3, '{}', 'schedule',
       at, at + interval '1 day', at + interval '1 day'
FROM history WHERE tenant_id = :tenant AND kind = 'instance_started' AND at < :now;

INSERT INTO tasks (id, tenant_id, instance_id, token_id, node_id, subject_id, title,
                   instructions, role, outcomes, checkpoints, status, outcome, ticked,
                   completed_by, reminders, created_at, completed_at, kind, ticks)
SELECT md5('t' || instance_id)::uuid, :tenant, instance_id, md5('k' || instance_id)::uuid,
       'approve', subject_id, 'Approve reminder', '', 'Dunning approver', '[]', '[]',
       'completed', 'approve', '[]', :approver, 0, at, at + interval '1 hour', 'approval', '{}'
FROM history WHERE tenant_id = :tenant AND kind = 'instance_started' AND at < :now
"""


def add_past_runs(rt: Runtime, version_id: uuid.UUID) -> None:
    """The completed instances and tasks of the history's earlier runs (once)."""
    with rt.db.read() as session:
        if session.scalar(sa.select(m.Instance.id).where(m.Instance.status == "completed")):
            return
    started = time.perf_counter()
    with rt.db.engine.begin() as connection:
        for statement in _PAST.split(";\n"):
            if statement.strip():
                connection.execute(
                    sa.text(statement),
                    {"tenant": TENANT, "version": version_id, "approver": APPROVER, "now": NOW},
                )
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE instances, tasks"))
    print(f"made the earlier runs' instances in {time.perf_counter() - started:.0f} s")


def reset(rt: Runtime, version_id: uuid.UUID) -> None:
    """Back to before the run: none of its instances, runs or acts; the schedule due at NOW."""
    ours = sa.and_(m.Instance.flow_version_id == version_id, m.Instance.started_at >= NOW)
    with rt.db.transaction() as session:
        mine = sa.select(m.Instance.id).where(ours)
        session.execute(sa.delete(m.History).where(m.History.instance_id.in_(mine)))
        # tasks (and their candidates), tokens and timers go with their instance
        session.execute(sa.delete(m.Instance).where(ours))
        session.execute(sa.text("DELETE FROM schedule_runs WHERE tenant_id = :t"), {"t": TENANT})
        session.execute(
            sa.update(m.FlowSchedule)
            .where(m.FlowSchedule.flow_version_id == version_id)
            .values(next_run_at=NOW, last_run_at=None, failures=0)
        )
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE instances, tasks, tokens, task_candidates"))


def counts(rt: Runtime, version_id: uuid.UUID) -> tuple[int, int]:
    """(instances waiting at their approval, open approval tasks) of the D6 version."""
    with rt.db.read() as session:
        running = session.scalar(
            sa.select(sa.func.count())
            .select_from(m.Instance)
            .where(m.Instance.flow_version_id == version_id, m.Instance.status == "running")
        )
        tasks = session.scalar(
            sa.select(sa.func.count())
            .select_from(m.Task)
            .join(m.Instance, m.Instance.id == m.Task.instance_id)
            .where(m.Instance.flow_version_id == version_id, m.Task.status == "open")
        )
    return int(running or 0), int(tasks or 0)


# The worker processes' runtime: made once per process, as a dramatiq worker does.
_WORKER: Runtime | None = None


def _worker_init(url: str) -> None:
    global _WORKER
    _WORKER, _ = _runtime(url)


def _advance(ids: list[uuid.UUID]) -> int:
    assert _WORKER is not None
    work.advance(_WORKER, ids)
    return len(ids)


def scheduled(
    rt: Runtime, dispatcher: InlineDispatcher, pool: cf.ProcessPoolExecutor, advance: bool
) -> tuple[float, float, int]:
    """The scheduler's run, then the workers' advance: (seconds to commit, seconds to
    every task, instances created)."""
    started = time.perf_counter()
    created = run_due_schedules(rt)
    committed = time.perf_counter() - started
    if not advance:
        dispatcher.queue.clear()
        return committed, committed, created
    batches: list[list[uuid.UUID]] = []
    while dispatcher.queue:
        kind, idents = dispatcher.queue.popleft()
        assert kind == "advance", kind
        batches.append(idents)
    sum(pool.map(_advance, batches))
    return committed, time.perf_counter() - started, created


def one_by_one(
    rt: Runtime, url: str, version_id: uuid.UUID, start: bool
) -> tuple[float, float, int]:
    """The peer: (seconds to select in Python, seconds to every task, instances)."""
    started = time.perf_counter()
    engine = Database(url).engine
    chosen = sorted(in_python(engine, version_id))
    engine.dispose()
    selected = time.perf_counter() - started
    if not start:
        return selected, selected, len(chosen)
    for subject_id in chosen:
        admin.start(rt, TENANT, FLOW_KEY, subject_id, "one by one")
    return selected, time.perf_counter() - started, len(chosen)


def in_python(engine: sa.Engine, version_id: uuid.UUID) -> set[uuid.UUID]:
    """The peer's selection: every debtor's items and notices read, the facts and the
    published version's filter evaluated per debtor (bench.dunning_selection's peer, with
    the filter the scheduler runs rather than the file's)."""
    calendar = Calendar(NOW, "Europe/Berlin", WorkingDays("DE"))
    computed = computed_fields(builtin_subject_types()["debtor"])
    items: dict[uuid.UUID, list[ItemRow]] = defaultdict(list)
    history: dict[uuid.UUID, list[HistoryRow]] = defaultdict(list)
    selected: set[uuid.UUID] = set()
    with engine.connect() as connection:
        document = connection.scalar(
            sa.select(m.FlowVersion.document).where(m.FlowVersion.id == version_id)
        )
        trigger = decode_flow(str(document)).trigger
        assert isinstance(trigger, ScheduleTrigger)
        assert trigger.filter is not None
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
            if evaluate(trigger.filter, {**fields, **facts, "status": status}, {}):
                selected.add(subject_id)
    return selected


def _check(waiting: tuple[int, int], created: int, created_only: bool) -> None:
    """Every instance at its task; one that failed (the template's render guard of 0.5 s
    trips when the machine is overloaded) is reported, not hidden."""
    if created_only:
        return
    if waiting != (created, created):
        print(f"  NOT ALL AT THEIR TASK: {waiting} of {created} (see the instances' errors)")


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f} s (min {min(values):.1f}, max {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debtors", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="advance worker processes")
    parser.add_argument(
        "--created-only",
        action="store_true",
        help="stop the clock when the run has committed its instances (no advance, and the "
        "peer only selects): the part that grows with the debtors, not the selected",
    )
    args = parser.parse_args()
    rt, dispatcher = _runtime(URL)
    prepare(rt.db.engine, args.debtors)
    version_id = publish_d6(rt)
    reset(rt, version_id)  # what an interrupted run left
    add_past_runs(rt, version_id)
    ours: list[tuple[float, float, int]] = []
    peers: list[tuple[float, float, int]] = []
    loads: list[float] = []
    with cf.ProcessPoolExecutor(args.workers, initializer=_worker_init, initargs=(URL,)) as pool:
        # Warm-up: the worker processes started, imported and connected before the clock.
        list(pool.map(_advance, [[] for _ in range(args.workers * 4)]))
        for run in range(max(args.runs, args.peer_runs)):
            if run < args.runs:
                reset(rt, version_id)
                ours.append(scheduled(rt, dispatcher, pool, not args.created_only))
                waiting = counts(rt, version_id)
                _check(waiting, ours[-1][2], args.created_only)
                print(f"scheduled run {run + 1}: {ours[-1]} load {os.getloadavg()[0]:.1f}")
            if run < args.peer_runs:
                reset(rt, version_id)
                peers.append(one_by_one(rt, URL, version_id, not args.created_only))
                waiting = counts(rt, version_id)
                _check(waiting, peers[-1][2], args.created_only)
                print(f"one by one {run + 1}: {peers[-1]} load {os.getloadavg()[0]:.1f}")
            loads.append(os.getloadavg()[0])
    reset(rt, version_id)
    if ours[0][2] != peers[0][2]:
        raise SystemExit(f"scheduled {ours[0][2]:,}, one by one {peers[0][2]:,}: must agree")
    selected = ours[0][2]
    total = statistics.median(t for _, t, _ in ours)
    peer_total = statistics.median(t for _, t, _ in peers)
    print(f"\n{args.debtors:,} debtors, {selected:,} selected; load average {loads}\n")
    print("| side | selected and created (committed) | every approval task open | per customer |")
    print("| --- | --- | --- | --- |")
    print(
        f"| Procedo: scheduled run, {args.workers} worker processes | "
        f"{_median([c for c, _, _ in ours])} | {_median([t for _, t, _ in ours])} | "
        f"{total / selected * 1000:.2f} ms |"
    )
    print(
        f"| peer: filter in Python per customer, then one start each | "
        f"{_median([c for c, _, _ in peers])} (selection only) | "
        f"{_median([t for _, t, _ in peers])} | {peer_total / selected * 1000:.2f} ms |"
    )
    print(f"\nratio peer / Procedo, end to end: {peer_total / total:.1f}x")


if __name__ == "__main__":
    main()
