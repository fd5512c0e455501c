"""One tenant's broken schedule never stops another's (issue 12, item 9).

Tenant A's scheduled flow was stored before validation refused it (legacy data,
written here straight into the database): its filter reads ``vars.*``, holds a
decimal SQL cannot compare, or its time zone does not exist. Tenant B's valid
schedule is due at the same moment. B runs on time; A's run is rolled back
alone, its error recorded on it, and it is not tried again until its pause ends.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime import schedules, setup, work
from procedo.runtime.local import LocalRunner
from procedo.runtime.schedules import RETRY_MOST, retry_delay, run_due_schedules
from procedo.worker.scheduler import Scheduler
from tests.conftest import EXAMPLES
from tests.receivables_helpers import overdue_debtor

# Monday 5 January 2026; the example's first run is Tuesday 6 January, 16:00 Amsterdam.
DUE = dt.datetime(2026, 1, 6, 15, 0, tzinfo=dt.UTC)
DEBTOR = {
    "name": "X",
    "email": "x@example.nl",
    "problematic": False,
    "dunning_notices": 0,
}


def _vars_filter(flow: dict[str, Any]) -> None:
    flow["trigger"]["filter"]["rules"][1]["field"] = "vars.dunning_notices"


def _huge_decimal(flow: dict[str, Any]) -> None:
    flow["trigger"]["filter"]["rules"][2]["value"]["value"] = "1e1000000"


def _unknown_zone(flow: dict[str, Any]) -> None:
    flow["trigger"]["timezone"] = "Europe/Atlantis"


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "vars filter": (_vars_filter, "rule.sql.unsupported"),
    "huge decimal": (_huge_decimal, "rule.value.number"),
    "unknown time zone": (_unknown_zone, "trigger.timezone.unknown"),
}


@pytest.fixture
def runner(db_url: str) -> Iterator[LocalRunner]:
    runner = LocalRunner(db_url, start=dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC))
    yield runner
    runner.rt.db.dispose()


def tenant_with_schedule(runner: LocalRunner, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant with one debtor and the scheduled dunning flow published; (tenant, version)."""
    tenant = setup.create_tenant(runner.rt, name, name.lower())
    overdue_debtor(runner.rt, tenant.id, "due", DEBTOR, 9, DUE.date())
    document = (EXAMPLES / "dunning-level-1.json").read_bytes()
    version = setup.publish(runner.rt, tenant.id, document, "consultant")
    return tenant.id, version.id


def break_version(runner: LocalRunner, version_id: uuid.UUID, breakage: str) -> None:
    """Rewrite a published version as validation would no longer accept it (legacy data)."""
    with runner.rt.transaction() as (session, _out):
        version = session.get(m.FlowVersion, version_id)
        assert version is not None
        flow = json.loads(version.document)
        BREAKAGES[breakage][0](flow)
        version.document = json.dumps(flow)


def schedule_of(runner: LocalRunner, version_id: uuid.UUID) -> m.FlowSchedule:
    with runner.rt.db.read() as session:
        schedule = session.get(m.FlowSchedule, version_id)
        assert schedule is not None
        return schedule


def instances_of(runner: LocalRunner, tenant_id: uuid.UUID) -> int:
    with runner.rt.db.read() as session:
        query = sa.select(sa.func.count()).where(m.Instance.tenant_id == tenant_id)
        return session.scalar(query) or 0


def make_due_first(runner: LocalRunner, version_id: uuid.UUID) -> None:
    """The broken schedule is the oldest due one: the scheduler meets it first."""
    with runner.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, version_id)
        assert schedule is not None
        schedule.next_run_at = DUE - dt.timedelta(hours=1)


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_schedule_fails_alone_and_is_shown_to_its_tenant(
    runner: LocalRunner, breakage: str
) -> None:
    tenant_a, broken = tenant_with_schedule(runner, "Alpha")
    tenant_b, valid = tenant_with_schedule(runner, "Bravo")
    break_version(runner, broken, breakage)
    make_due_first(runner, broken)
    assert schedule_of(runner, valid).next_run_at == DUE
    runner.clock.set(DUE)

    assert Scheduler(runner.rt).tick() >= 1  # a whole round, as the scheduler runs it
    runner.drain()

    assert instances_of(runner, tenant_b) == 1  # B ran on time
    ran = schedule_of(runner, valid)
    assert (ran.last_run_at, ran.failures, ran.last_error) == (DUE, 0, None)
    assert instances_of(runner, tenant_a) == 0  # A's run was rolled back whole
    failed = schedule_of(runner, broken)
    assert failed.failures == 1
    assert failed.last_error_at == DUE
    assert failed.last_error is not None
    assert BREAKAGES[breakage][1] in failed.last_error  # the validation problem, with its place
    assert "publish a corrected version" in failed.last_error
    assert failed.last_run_at is None
    assert failed.next_run_at == DUE + retry_delay(1)


def test_a_failing_schedule_is_not_retried_in_a_hot_loop(runner: LocalRunner) -> None:
    _tenant, broken = tenant_with_schedule(runner, "Alpha")
    break_version(runner, broken, "vars filter")
    runner.clock.set(DUE)
    run_due_schedules(runner.rt)
    first = schedule_of(runner, broken)
    for _ in range(5):  # the scheduler polls several times a second
        runner.clock.set(runner.clock.now() + dt.timedelta(seconds=1))
        run_due_schedules(runner.rt)
    assert schedule_of(runner, broken).failures == 1
    assert schedule_of(runner, broken).last_error_at == first.last_error_at

    pauses = []
    for failures in range(1, 9):
        schedule = schedule_of(runner, broken)
        assert schedule.failures == failures
        assert schedule.last_error_at is not None
        pauses.append(schedule.next_run_at - schedule.last_error_at)
        runner.clock.set(schedule.next_run_at)
        run_due_schedules(runner.rt)
    minute = dt.timedelta(minutes=1)
    assert (
        pauses
        == [minute, 2 * minute, 4 * minute, 8 * minute, 16 * minute, 32 * minute] + [RETRY_MOST] * 2
    )


def test_more_broken_schedules_than_a_round_takes_still_let_a_valid_one_run(
    runner: LocalRunner,
) -> None:
    """Every due schedule gets its turn: the broken ones move out of the way."""
    broken = []
    for number in range(3):
        _tenant, version = tenant_with_schedule(runner, f"Broken{number}")
        break_version(runner, version, "vars filter")
        make_due_first(runner, version)
        broken.append(version)
    tenant_b, _valid = tenant_with_schedule(runner, "Bravo")
    runner.clock.set(DUE)
    run_due_schedules(runner.rt, limit=2)  # a round takes two: both broken
    run_due_schedules(runner.rt, limit=2)  # the third broken one, then B
    runner.drain()
    assert instances_of(runner, tenant_b) == 1
    assert all(schedule_of(runner, version).failures == 1 for version in broken)


def test_a_successful_run_clears_the_error(runner: LocalRunner) -> None:
    tenant, version = tenant_with_schedule(runner, "Alpha")
    with runner.rt.transaction() as (session, _out):
        schedule = session.get(m.FlowSchedule, version)
        assert schedule is not None
        schedule.failures, schedule.last_error, schedule.last_error_at = 3, "earlier", DUE
    runner.clock.set(DUE)
    run_due_schedules(runner.rt)
    healed = schedule_of(runner, version)
    assert (healed.failures, healed.last_error, healed.last_error_at) == (0, None, None)
    assert instances_of(runner, tenant) == 1


def test_a_failing_phase_of_a_round_stops_no_other(
    runner: LocalRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claiming timers fails (say, one tenant's row the database refuses): schedules still run."""
    tenant, _version = tenant_with_schedule(runner, "Alpha")

    def refuse(*_args: object, **_kwargs: object) -> list[uuid.UUID]:
        raise RuntimeError("timers unavailable")

    monkeypatch.setattr(work, "claim_due_timers", refuse)
    runner.clock.set(DUE)
    assert Scheduler(runner.rt).tick() == 1  # the schedule's one instance
    runner.drain()
    assert instances_of(runner, tenant) == 1


@pytest.mark.parametrize(("singly_up_to", "batches"), [(100, [1, 1, 1, 1]), (3, [2, 2])])
def test_swept_work_fails_alone_or_with_its_own_tenants_only(
    runner: LocalRunner, singly_up_to: int, batches: list[int]
) -> None:
    """What the sweeper finds may be what failed before: a few go one per message, a
    flood (more than ``sweep_singly_up_to``) in batches of one tenant each."""
    tenants = [tenant_with_schedule(runner, name)[0] for name in ("Alpha", "Bravo")]
    for tenant in tenants:
        overdue_debtor(runner.rt, tenant, "also-due", DEBTOR, 9, DUE.date())
    runner.clock.set(DUE)
    assert run_due_schedules(runner.rt) == 4
    runner.dispatcher.queue.clear()  # their messages were lost (or kept failing)
    runner.clock.set(DUE + dt.timedelta(minutes=5))
    scheduler = Scheduler(runner.rt, grace=30)
    scheduler.sweep_singly_up_to = singly_up_to
    scheduler.tick()
    with runner.rt.db.read() as session:
        rows = session.execute(sa.select(m.Instance.id, m.Instance.tenant_id))
        tenant_of = dict(rows.all())
    sent = [ids for kind, ids in runner.dispatcher.queue if kind == "advance"]
    assert sorted(len(ids) for ids in sent) == batches
    assert all(len({tenant_of[ident] for ident in ids}) == 1 for ids in sent)
    runner.drain()
    assert [instances_of(runner, tenant) for tenant in tenants] == [2, 2]


def test_a_query_the_database_refuses_fails_only_its_schedule(
    runner: LocalRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error kept is the database's message, not the SQL; B's run is not rolled back."""
    tenant_a, refused = tenant_with_schedule(runner, "Alpha")
    tenant_b, valid = tenant_with_schedule(runner, "Bravo")
    make_due_first(runner, refused)
    failing: Any
    if runner.rt.db.is_sqlite:
        failing = sa.func.json_extract(sa.literal("{not json"), "$").is_not(None)
    else:
        failing = sa.cast(sa.literal("not a number"), sa.Integer()) > 0
    # Which tenant's schedule is running: noted from the schedule the run claimed.
    tenant_of_next_run: list[uuid.UUID | None] = [None]
    real_start, real_select = schedules._start_flows, schedules.select_matching

    def select_failing_for_alpha(*args: Any) -> Any:
        if tenant_of_next_run[0] == tenant_a:
            return sa.select(m.Subject.id).where(failing)
        return real_select(*args)

    def start_flows(rt: Any, session: Any, schedule: m.FlowSchedule) -> list[uuid.UUID]:
        tenant_of_next_run[0] = schedule.tenant_id
        return real_start(rt, session, schedule)

    monkeypatch.setattr(schedules, "select_matching", select_failing_for_alpha)
    monkeypatch.setattr(schedules, "_start_flows", start_flows)
    runner.clock.set(DUE)
    assert run_due_schedules(runner.rt) == 1
    assert (instances_of(runner, tenant_a), instances_of(runner, tenant_b)) == (0, 1)
    failed = schedule_of(runner, refused)
    assert failed.failures == 1
    assert failed.last_error is not None
    assert "SELECT" not in failed.last_error  # the database's message, without the query
    assert ("JSON" if runner.rt.db.is_sqlite else "integer") in failed.last_error
    assert schedule_of(runner, valid).last_run_at == DUE
