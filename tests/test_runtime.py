"""Runtime behaviour users rely on, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from procedo import engine as eng
from procedo.db import models as m
from procedo.runtime import admin, setup, work
from procedo.runtime.buffer import Conflict
from procedo.runtime.context import Refusal
from procedo.runtime.outbox import deliver
from procedo.runtime.rows import load_instance
from procedo.runtime.steps import step_instance
from tests.client_page_helpers import answer
from tests.conftest import minimal_flow
from tests.receivables_helpers import add_open_items, pay
from tests.runtime_helpers import GOOD_INVOICE, World, make_world

DAY = dt.timedelta(days=1)


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def publish_dict(world: World, flow: dict[str, Any]) -> None:
    setup.publish(world.rt, world.tenant, json.dumps(flow).encode(), "consultant")


def test_role_members_per_subject_come_first(world: World) -> None:
    """K1: each client has its own Accountant; others get the tenant-wide one."""
    setup.add_user(world.rt, world.tenant, "zoe@acme.example", "Zoe")
    special = world.subject("invoice", "INV-S", GOOD_INVOICE)
    plain = world.subject("invoice", "INV-P", GOOD_INVOICE)
    setup.add_member(world.rt, world.tenant, "Accountant", "zoe@acme.example", special.id)
    world.publish("invoice-approval")
    for subject in (special, plain):
        admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    with world.rt.db.read() as session:
        holders = dict(
            session.execute(
                sa.select(m.Task.subject_id, m.TaskCandidate.user_email).join(
                    m.TaskCandidate, m.TaskCandidate.task_id == m.Task.id
                )
            ).all()
        )
    assert holders == {special.id: "zoe@acme.example", plain.id: "carla@acme.example"}


def test_a_bulk_start_gives_each_subject_its_own_members(world: World) -> None:
    """K1 in one batch: the members read for the first subject do not answer for the others."""
    world.publish("invoice-approval")
    own = {}
    for n in range(4):
        email = f"acc{n}@acme.example"
        setup.add_user(world.rt, world.tenant, email)
        subject = world.subject("invoice", f"INV-{n}", GOOD_INVOICE)
        setup.add_member(world.rt, world.tenant, "Accountant", email, subject.id)
        own[subject.id] = email
    plain = world.subject("invoice", "INV-P", GOOD_INVOICE)
    own[plain.id] = "carla@acme.example"
    admin.start_many(world.rt, world.tenant, "invoice-approval", list(own), "bulk")
    world.runner.drain()  # one message, one transaction for the whole batch
    with world.rt.db.read() as session:
        holders = dict(
            session.execute(
                sa.select(m.Task.subject_id, m.TaskCandidate.user_email).join(
                    m.TaskCandidate, m.TaskCandidate.task_id == m.Task.id
                )
            ).all()
        )
    assert holders == own


def test_mandatory_checkpoints_block_completion_and_nothing_is_stored(world: World) -> None:
    world.publish("vat-return")
    client = world.subject(
        "client",
        "C-1",
        {
            "name": "Visser",
            "email": "a@visser.example",
            "contact": {"name": "M"},
            "period": "2025-12",
        },
    )
    instance = admin.start(world.rt, world.tenant, "vat-return-monthly", client.id, "tester")
    (task,) = world.open_tasks(instance.id)
    before = len(world.history(instance.id))
    with pytest.raises(Refusal, match="Bank statements processed"):
        admin.complete_task(
            world.rt, world.tenant, task.id, "complete", ["purchases", "sales"], "eva"
        )
    (still_open,) = world.open_tasks(instance.id)
    assert still_open.id == task.id
    assert still_open.outcome is None
    assert len(world.history(instance.id)) == before
    with pytest.raises(Refusal, match="unknown outcome"):
        admin.complete_task(world.rt, world.tenant, task.id, "finished", [], "eva")
    admin.complete_task(
        world.rt, world.tenant, task.id, "complete", ["bank", "purchases", "sales"], "eva"
    )
    answer(world.rt, instance.id, "upload")  # review waits for the client's documents too
    assert [t.node_id for t in world.open_tasks(instance.id)] == ["review"]


def test_completing_a_closed_task_is_refused(world: World) -> None:
    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    (task,) = world.open_tasks(instance.id)
    admin.complete_task(world.rt, world.tenant, task.id, "approve", [], "carla")
    with pytest.raises(Refusal, match="no longer open"):
        admin.complete_task(world.rt, world.tenant, task.id, "reject", [], "carla")


def test_an_event_starts_flows_whose_trigger_matches(world: World) -> None:
    world.publish("invoice-approval")  # trigger: invoice.received
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    admin.post_event(world.rt, world.tenant, subject.id, "invoice.received")
    admin.post_event(world.rt, world.tenant, subject.id, "invoice.archived")
    world.runner.drain()
    (task,) = world.open_tasks()
    assert task.subject_id == subject.id
    assert task.role == "Accountant"


def test_duplicate_messages_change_nothing(world: World) -> None:
    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    event = admin.post_event(world.rt, world.tenant, subject.id, "invoice.received")
    world.runner.drain()
    work.dispatch_events(world.rt, [event.id])  # delivered again
    (_task,) = world.open_tasks()
    world.runner.clock.advance(3 * DAY)
    (timer_id,) = work.claim_due_timers(world.rt)
    work.fire_timers(world.rt, [timer_id])
    work.fire_timers(world.rt, [timer_id])  # delivered again
    world.runner.drain()
    with world.rt.db.read() as session:
        reminders = session.scalars(
            sa.select(m.Outbox).where(m.Outbox.subject.like("Herinnering%"))
        )
        (reminder,) = reminders.all()
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Instance)) == 1
    deliver(world.rt, reminder.id, world.runner.sender)  # delivered again
    assert len(world.runner.sender.sent) == 1
    assert world.open_tasks()[0].reminders == 1


def test_stop_rule_cancels_the_procedure(world: World) -> None:
    """Paying what is open makes `paid` true, and the procedure's stop rule ends it."""
    world.publish("collection-procedure")
    debtor = world.subject("debtor", "D-1", {"name": "J", "email": "j@x.example"})
    due = world.runner.clock.now().date() - dt.timedelta(days=3)
    add_open_items(world.rt, world.tenant, debtor.id, [("F-1", due, "120.00")])
    instance = admin.start(world.rt, world.tenant, "collection-procedure", debtor.id, "tester")
    world.runner.drain()
    assert world.instance(instance.id).status == "running"
    pay(world.rt, world.tenant, "F-1", "120.00")
    world.runner.drain()
    assert world.instance(instance.id).status == "cancelled"
    with world.rt.db.read() as session:
        pending = session.scalar(
            sa.select(sa.func.count()).select_from(m.Timer).where(m.Timer.status == "pending")
        )
    assert pending == 0


def test_a_failing_node_fails_the_instance_and_retry_continues(world: World) -> None:
    world.publish("promise-to-pay")
    debtor = world.subject(
        "debtor", "D-1", {"name": "J", "email": "j@x.example", "debt_amount": "10.00"}
    )
    instance = admin.start(world.rt, world.tenant, "promise-to-pay", debtor.id, "tester")
    failed = world.instance(instance.id)
    assert failed.status == "failed"
    assert failed.error is not None
    # The wait for the promise's check date fails: the subject has none (the node says so).
    assert "promise_check_date is empty" in failed.error
    assert world.history(instance.id)[-1].kind == "failed"
    world.subject(
        "debtor",
        "D-1",
        {
            "name": "J",
            "email": "j@x.example",
            "debt_amount": "10.00",
            "promised_payment_date": "2026-01-09",
            # The promise's check date, which the portal sets with the promise (M3).
            "promise_check_date": "2026-01-14",
        },
    )
    admin.retry(world.rt, world.tenant, instance.id, "admin")
    assert world.instance(instance.id).status == "running"
    with pytest.raises(Refusal, match="only a failed instance"):
        admin.retry(world.rt, world.tenant, instance.id, "admin")


def test_move_needs_a_reason_and_cancels_the_abandoned_task(world: World) -> None:
    world.publish("invoice-approval")
    subject = world.subject(
        "invoice",
        "INV-1",
        {**GOOD_INVOICE, "supplier": {**GOOD_INVOICE["supplier"], "kvk": "12345678"}},
    )
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    (task,) = world.open_tasks(instance.id)
    with pytest.raises(Refusal, match="say why"):
        admin.move(world.rt, world.tenant, instance.id, "approve_b", " ", "admin")
    with pytest.raises(Refusal, match="not a node"):
        admin.move(world.rt, world.tenant, instance.id, "nowhere", "typo", "admin")
    admin.move(
        world.rt, world.tenant, instance.id, "approve_b", "Management A is on leave", "admin"
    )
    (new_task,) = world.open_tasks(instance.id)
    assert new_task.role == "Management B"
    with world.rt.db.read() as session:
        old = session.get(m.Task, task.id)
        assert old is not None
        assert old.status == "cancelled"
        timers = session.scalars(sa.select(m.Timer.status).where(m.Timer.token_id == task.token_id))
        assert set(timers) == {"cancelled"}
    moved = [h for h in world.history(instance.id) if h.kind == "moved"]
    assert [(h.node_id, h.to_node_id, h.reason, h.actor) for h in moved] == [
        ("approve_a", "approve_b", "Management A is on leave", "admin")
    ]


def test_other_tenants_ids_are_not_found(world: World) -> None:
    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    other = setup.create_tenant(world.rt, "Other", "other")
    (task,) = world.open_tasks(instance.id)
    for call in (
        lambda: admin.complete_task(world.rt, other.id, task.id, "approve", [], "x"),
        lambda: admin.move(world.rt, other.id, instance.id, "checks", "why", "x"),
        lambda: admin.cancel(world.rt, other.id, instance.id, "why", "x"),
        lambda: admin.post_event(world.rt, other.id, subject.id, "invoice.received"),
    ):
        with pytest.raises(LookupError):
            call()


PARALLEL = minimal_flow(
    nodes=[
        {"id": "start", "type": "start"},
        {"id": "mark", "type": "status_change", "params": {"status": "checking"}},
        {
            "id": "a",
            "type": "assign_role",
            "params": {
                "title": "Check A",
                "assignee": {"role": "Accountant"},
                "outcomes": [{"port": "ok", "label": "OK"}],
            },
        },
        {
            "id": "b",
            "type": "assign_role",
            "params": {
                "title": "Check B",
                "assignee": {"role": "Deputy"},
                "outcomes": [{"port": "ok", "label": "OK"}],
            },
        },
        {"id": "both", "type": "join"},
        {"id": "end", "type": "end", "params": {"status": "approved"}},
    ],
    edges=[
        {"id": "e1", "source": "start", "source_port": "next", "target": "mark"},
        {"id": "e2", "source": "mark", "source_port": "next", "target": "a"},
        {"id": "e3", "source": "mark", "source_port": "next", "target": "b"},
        {"id": "e4", "source": "a", "source_port": "ok", "target": "both"},
        {"id": "e5", "source": "b", "source_port": "ok", "target": "both"},
        {"id": "e6", "source": "both", "source_port": "next", "target": "end"},
    ],
)


def test_parallel_branches_and_a_join(world: World) -> None:
    publish_dict(world, PARALLEL)
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "minimal", subject.id, "tester")
    tasks = world.open_tasks(instance.id)
    assert sorted(t.title for t in tasks) == ["Check A", "Check B"]
    admin.complete_task(world.rt, world.tenant, tasks[0].id, "ok", [], "x")
    assert world.instance(instance.id).status == "running"
    admin.complete_task(world.rt, world.tenant, tasks[1].id, "ok", [], "y")
    assert world.instance(instance.id).status == "completed"
    assert world.subject_row(subject.id).status == "approved"
    # The join waited for both: the instance ended once, at its end node.
    ends = [(h.kind, h.node_id) for h in world.history(instance.id) if h.kind.endswith("ed")]
    assert [end for end in ends if end[0] in ("ended", "instance_completed")] == [
        ("instance_completed", "end")
    ]


def test_a_stale_writer_gets_a_conflict_and_applies_nothing(world: World) -> None:

    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    with world.rt.db.read() as session:
        stale = load_instance(session, instance.id, lock=False)
    assert stale is not None
    admin.move(world.rt, world.tenant, instance.id, "checks", "recheck", "admin")
    history_before = len(world.history(instance.id))

    def late_cancel() -> None:
        with world.rt.transaction() as (session, out):
            step_instance(world.rt, session, out, stale, eng.Cancel(reason="late"), "admin")

    with pytest.raises(Conflict):
        late_cancel()
    assert world.instance(instance.id).status == "running"
    assert len(world.history(instance.id)) == history_before


def test_concurrent_move_completion_and_timer_one_wins(world: World) -> None:
    """Three actors on one instance at once: each either applies whole or is refused."""
    world.publish("invoice-approval")
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "invoice-approval", subject.id, "tester")
    (task,) = world.open_tasks(instance.id)
    world.runner.clock.advance(3 * DAY)
    (timer_id,) = work.claim_due_timers(world.rt)
    barrier = threading.Barrier(3)
    results: dict[str, str] = {}

    def attempt(name: str, action: Any) -> None:
        barrier.wait()
        try:
            action()
            results[name] = "applied"
        except (Conflict, Refusal) as exc:
            results[name] = type(exc).__name__
        except Exception as exc:
            results[name] = f"unexpected {exc!r}"
            raise

    actions = {
        "move": lambda: admin.move(world.rt, world.tenant, instance.id, "checks", "why", "admin"),
        "complete": lambda: admin.complete_task(
            world.rt, world.tenant, task.id, "approve", [], "carla"
        ),
        "timer": lambda: work.fire_timers(world.rt, [timer_id]),
    }
    threads = [threading.Thread(target=attempt, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.runner.drain()
    rows = world.history(instance.id)
    kinds = [h.kind for h in rows]
    completed, moved = "task_completed" in kinds, "moved" in kinds
    assert results["timer"] == "applied"  # a timer retries its lost races itself
    assert (results["complete"] == "applied") == completed
    assert (results["move"] == "applied") == moved
    # Nothing half-applied: a completion always comes with the flow going on from its
    # outcome (approve leads to the status change `payable`).
    assert completed == any(h.kind == "status_changed" and h.node_id == "payable" for h in rows)
    open_tasks = world.open_tasks(instance.id)
    if completed and moved:
        # Applied one after the other: the move found the task done and moved on from there.
        (move_row,) = [h for h in rows if h.kind == "moved"]
        assert kinds.index("task_completed") < kinds.index("moved")
        assert move_row.node_id == "wait_paid"
        assert len(open_tasks) == 1
        return
    if completed:
        assert open_tasks == []
        assert world.subject_row(subject.id).status == "payable"
    elif moved:
        assert len(open_tasks) == 1
        assert open_tasks[0].id != task.id
    else:
        assert [t.id for t in open_tasks] == [task.id]


def test_a_schedule_starts_the_flow_for_every_subject_its_filter_selects(world: World) -> None:
    """D6: every 2 weeks on Tuesday 16:00, for debtors the filter selects; one query."""
    from procedo.runtime.schedules import run_due_schedules, run_now
    from tests.receivables_helpers import overdue_debtor

    version = world.publish("dunning-level-1")
    base = {"name": "X", "email": "x@example.nl", "problematic": False, "dunning_notices": 0}
    # Overdue as of the first run (Tuesday 6 January): 9, 3 and 30 days.
    run_day = dt.date(2026, 1, 6)
    overdue_debtor(world.rt, world.tenant, "due", base, 9, run_day)
    overdue_debtor(world.rt, world.tenant, "recent", base, 3, run_day)
    overdue_debtor(world.rt, world.tenant, "problem", {**base, "problematic": True}, 30, run_day)
    with world.rt.db.read() as session:
        schedule = session.get(m.FlowSchedule, version.id)
        assert schedule is not None
    # The clock starts on Monday 5 January 2026; the first run is Tuesday 16:00 Amsterdam.
    assert schedule.next_run_at == dt.datetime(2026, 1, 6, 15, 0, tzinfo=dt.UTC)
    assert run_due_schedules(world.rt) == 0
    world.runner.clock.set(schedule.next_run_at)
    assert run_due_schedules(world.rt) == 1
    world.runner.drain()
    (task,) = world.open_tasks()
    assert world.subject_row(task.subject_id).key == "due"
    with world.rt.db.read() as session:
        after = session.get(m.FlowSchedule, version.id)
        assert after is not None
    assert after.next_run_at == dt.datetime(2026, 1, 20, 15, 0, tzinfo=dt.UTC)  # two weeks on
    run_now(world.rt, version.id)
    # Its instance is still open (the task waits): no second one for the same debtor.
    assert run_due_schedules(world.rt) == 0


def test_two_tasks_of_one_instance_completed_in_one_transaction(world: World) -> None:
    """Approve selected with both parallel tasks of one instance: later steps see earlier ones."""
    publish_dict(world, PARALLEL)
    subject = world.subject("invoice", "INV-1", GOOD_INVOICE)
    instance = admin.start(world.rt, world.tenant, "minimal", subject.id, "tester")
    items = [(t.id, "ok", ()) for t in world.open_tasks(instance.id)]
    admin.complete_tasks(world.rt, world.tenant, items, "x")
    assert world.instance(instance.id).status == "completed"
    assert world.subject_row(subject.id).status == "approved"
    with world.rt.db.read() as session:
        left = session.scalar(
            sa.select(sa.func.count())
            .select_from(m.Token)
            .where(m.Token.instance_id == instance.id)
        )
    assert left == 0


def test_a_batch_of_events_is_handled_together_and_a_bad_one_holds_up_no_other(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.publish("invoice-approval")
    bad = world.subject("invoice", "INV-BAD", GOOD_INVOICE)
    good = [world.subject("invoice", f"INV-{n}", GOOD_INVOICE) for n in range(3)]
    events = [
        admin.post_event(world.rt, world.tenant, s.id, "invoice.received").id
        for s in (good[0], bad, *good[1:])
    ]
    real = work._start_triggered

    def failing_for_bad(rt: Any, session: Any, out: Any, event: Any, subject: Any) -> None:
        if subject.id == bad.id:
            raise RuntimeError("this event cannot be handled")
        real(rt, session, out, event, subject)

    monkeypatch.setattr(work, "_start_triggered", failing_for_bad)
    with pytest.raises(RuntimeError, match="cannot be handled"):
        work.dispatch_events(world.rt, events)
    with world.rt.db.read() as session:
        done = dict(session.execute(sa.select(m.Event.subject_id, m.Event.status)).all())
        started = set(session.scalars(sa.select(m.Instance.subject_id)))
    assert started == {s.id for s in good}
    assert done == {**{s.id: "done" for s in good}, bad.id: "pending"}  # retried later
