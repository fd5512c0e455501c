"""Issue 17's acceptance: collection procedures with D.I.P., the worksheet, a dispute (P1-P6).

A tenant in Amsterdam with the shipped procedures: the standard one with a worksheet
(primary, the default), the step-by-step one (primary for debtors whose custom_1 is
'step') and the dispute procedure (secondary: an invoice in dispute). The calendar is
simulated from Monday 5 January 2026; people act over HTTP (a credit controller on
the worksheet, the administrator on invoices), a debtor pays by bank.

Jansen has four invoices, due 1, 3, 10 and 20 January. Its D.I.P. reaches 7 on the
8th (the reminder goes out by itself) and 15 on the 16th (a first call on the
worksheet). Paying the oldest on the 18th lets the one due the 3rd lead: the second
call comes on the 24th (D.I.P. 21 of that one), not the 22nd, and the first call is
not proposed again. A dispute on the 20th starts the dispute procedure beside the
primary one. Bakker runs step by step: its second call waits until the first is
logged. Late enters at D.I.P. 30 and starts at the 21-day step.

The walk runs embedded (SQLite and PostgreSQL, the handlers inline, LocalRunner) and
distributed: `procedo serve`, a worker and a scheduler as separate processes on
PostgreSQL + Redis reading one simulated clock file (tests/cluster.py
``on_a_calendar``), emails to an SMTP sink. There the calendar steps to each due
timer and to the moments people act, and the scheduler's passes (facts, procedures)
run at each step, as they would every 5 minutes on the system clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.runtime.context import Runtime
from procedo.runtime.local import LocalRunner
from tests.api_helpers import live_server, ok
from tests.cluster import SinkHandler, on_a_calendar, smtp_sink
from tests.conftest import EXAMPLES
from tests.receivables_helpers import add_open_items, pay

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)  # Monday 09:00 in Amsterdam
CONTROLLER = "carla@credit.example"
MANAGER = "max@credit.example"
REP = "rep@credit.example"
FLOWS = ("collection-worksheet", "collection-step-by-step", "dispute-procedure")


def _day(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=AMSTERDAM)


@dataclass
class Office:
    rt: Runtime
    tenant_id: Any
    admin: httpx.Client
    controller: httpx.Client
    debtors: dict[str, str]
    # Let time pass to a moment (Amsterdam), every timer firing on the way.
    walk_until: Callable[[dt.datetime], None]
    # Wait until what people just did has been handled (messages, emails).
    settle: Callable[[], None]
    # (recipient, subject line) of every email that left, in order.
    sent: Callable[[], list[tuple[str, str]]]

    def worksheet(self, **filters: str) -> list[dict[str, Any]]:
        return list(ok(self.controller.get("/worksheet", params=filters)))

    def proposals(self, key: str) -> list[str]:
        """The titles proposed for one debtor now."""
        return [i["title"] for i in self.worksheet() if i["subject_key"] == key]

    def item(self, key: str) -> dict[str, Any]:
        (found,) = [i for i in self.worksheet() if i["subject_key"] == key]
        return found

    def facts(self, key: str) -> dict[str, Any]:
        return dict(ok(self.admin.get(f"/subjects/{self.debtors[key]}/facts"))["facts"])

    def timeline(self, key: str) -> dict[str, Any]:
        return dict(ok(self.admin.get(f"/procedures/subjects/{self.debtors[key]}")))

    def item_id(self, number: str) -> str:
        with self.rt.db.read() as session:
            return str(session.scalar(sa.select(OpenItem.id).where(OpenItem.number == number)))


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _rule(field: str, op: str, kind: str, value: Any) -> dict[str, Any]:
    return {"kind": "compare", "field": field, "op": op, "value": {"type": kind, "value": value}}


@dataclass
class Staff:
    tenant_id: Any
    admin: httpx.Client
    controller: httpx.Client
    debtors: dict[str, str]


@contextmanager
def _staffed(rt: Runtime, base: str, smtp: dict[str, Any] | None = None) -> Iterator[Staff]:
    """The tenant, its people, the published procedures, the debtors and invoices."""
    made = accounts.create_tenant(rt, "Credit Control BV", "admin@credit.example")
    if smtp is not None:
        with rt.transaction() as (session, _out):
            tenant = session.get(m.Tenant, made.tenant.id)
            assert tenant is not None
            tenant.smtp = smtp
    admin = _client(base, made.token)
    people = {}
    for email in (CONTROLLER, MANAGER):
        user, _password = accounts.add_user(rt, made.tenant.id, email)
        _row, token = accounts.create_token(rt, made.tenant.id, user.id, "acceptance")
        people[email] = _client(base, token)
    for role, email in (("Collections", CONTROLLER), ("Sales manager", MANAGER)):
        ok(admin.post("/roles", json={"name": role}), 201)
        ok(admin.post(f"/roles/{role}/members", json={"email": email}), 201)
    headers = {"Content-Type": "application/json"}
    for name in FLOWS:
        document = (EXAMPLES / f"{name}.json").read_bytes()
        ok(admin.post("/flows/import", content=document, headers=headers), 201)
        ok(admin.post(f"/flows/{name}/publish"), 201)
    procedures = {
        "collection-worksheet": {"kind": "primary", "default": True},
        "collection-step-by-step": {
            "kind": "primary",
            "priority": 10,
            "rule": _rule("subject.custom_1", "=", "string", "step"),
        },
        "dispute-procedure": {
            "kind": "secondary",
            "rule": _rule("subject.disputed_invoices", ">", "decimal", "0"),
        },
    }
    for key, body in procedures.items():
        ok(admin.put(f"/procedures/{key}", json=body))
    debtors: dict[str, str] = {}
    invoices = {
        "JANSEN": [
            ("J-1", dt.date(2026, 1, 1), "100.00"),
            ("J-2", dt.date(2026, 1, 3), "200.00"),
            ("J-3", dt.date(2026, 1, 10), "300.00"),
            ("J-4", dt.date(2026, 1, 20), "400.00"),
        ],
        "BAKKER": [("B-1", dt.date(2026, 1, 2), "150.00")],
        "LATE": [("L-1", dt.date(2025, 12, 6), "500.00")],
    }
    fields = {
        "JANSEN": {"name": "Jansen", "email": "ap@jansen.example", "sales_rep_email": REP},
        "BAKKER": {"name": "Bakker", "email": "ap@bakker.example", "custom_1": "step"},
        "LATE": {"name": "Laat", "email": "ap@laat.example"},
    }
    for key, values in fields.items():
        body = {"type": "debtor", "key": key, "fields": values}
        debtors[key] = ok(admin.post("/subjects", json=body), 201)["id"]
        add_open_items(rt, made.tenant.id, uuid.UUID(debtors[key]), invoices[key])
    try:
        yield Staff(made.tenant.id, admin, people[CONTROLLER], debtors)
    finally:
        for client in (admin, *people.values()):
            client.close()


@pytest.fixture
def office(db_url: str) -> Iterator[Office]:
    """Embedded: the handlers inline; the clock skips from timer to timer."""
    runner = LocalRunner(db_url, start=START)

    def walk_until(local: dt.datetime) -> None:
        runner.advance(local.astimezone(dt.UTC) - runner.clock.now())

    def sent() -> list[tuple[str, str]]:
        return [(email.recipients[0], email.subject) for email in runner.sender.sent]

    with live_server(runner.rt) as base, _staffed(runner.rt, base) as staff:
        yield Office(
            runner.rt,
            staff.tenant_id,
            staff.admin,
            staff.controller,
            staff.debtors,
            walk_until=walk_until,
            settle=runner.drain,
            sent=sent,
        )


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    controller, handler, port = smtp_sink()
    yield handler, port
    controller.stop()


@pytest.fixture
def office_on_processes(
    postgres_db: str, redis_url: str, tmp_path: Path, sink: tuple[SinkHandler, int]
) -> Iterator[Office]:
    """Distributed: API, worker and scheduler processes on one simulated calendar."""
    mails, port = sink
    smtp = {"host": "127.0.0.1", "port": port, "sender": "incasso@credit.example"}
    with on_a_calendar(postgres_db, redis_url, START, tmp_path) as calendar:

        def sent() -> list[tuple[str, str]]:
            return [(recipients[0], line) for _id, recipients, line in mails.received]

        with _staffed(calendar.rt, calendar.url, smtp) as staff:
            yield Office(
                calendar.rt,
                staff.tenant_id,
                staff.admin,
                staff.controller,
                staff.debtors,
                walk_until=calendar.walk_to,
                settle=calendar.settle,
                sent=sent,
            )


def test_procedures_worksheet_and_dispute_over_a_simulated_calendar(office: Office) -> None:
    _walk(office)


def test_procedures_over_a_simulated_calendar_on_separate_processes(
    office_on_processes: Office,
) -> None:
    _walk(office_on_processes)


def _walk(of: Office) -> None:

    # Monday 5 January: the pass assigns each debtor one primary procedure by its rules.
    started = ok(of.admin.post("/procedures/reconcile", json={}))
    assert sorted((of_key(of, s["subject_id"]), s["flow_key"]) for s in started) == [
        ("BAKKER", "collection-step-by-step"),
        ("JANSEN", "collection-worksheet"),
        ("LATE", "collection-worksheet"),
    ]
    assert ok(of.admin.post("/procedures/reconcile", json={})) == []  # at most one primary
    of.settle()
    # Late entered at D.I.P. 30: it lands on the 21-day step, no reminder replayed.
    assert of.proposals("LATE") == ["Second call: Laat"]
    assert ("ap@laat.example", "Betalingsherinnering") not in of.sent()
    # Bakker, step by step, had its reminder at once; Jansen (D.I.P. 4) nothing yet.
    assert of.sent() == [("ap@bakker.example", "Betalingsherinnering")]
    assert of.proposals("JANSEN") == []

    # Thursday 8 January, D.I.P. 7: the reminder goes out by itself (automatic step).
    of.walk_until(_day(1, 8))
    assert ("ap@jansen.example", "Betalingsherinnering") in of.sent()
    # Tuesday 13 January: 8 days after Bakker's reminder, its first call is proposed.
    of.walk_until(_day(1, 13))
    assert of.proposals("BAKKER") == ["First call: Bakker"]
    # Friday 16 January, D.I.P. 15: Jansen's first call is proposed.
    of.walk_until(_day(1, 16))
    assert of.proposals("JANSEN") == ["First call: Jansen"]
    calls = of.worksheet(role="Collections", action="call")
    assert sorted(i["subject_key"] for i in calls) == ["BAKKER", "JANSEN", "LATE"]
    assert of.worksheet(action="email") == []

    # The controller processes Jansen's and Bakker's calls in bulk, and again: once each.
    chosen = [of.item("JANSEN")["task_id"], of.item("BAKKER")["task_id"]]
    first = ok(of.controller.post("/worksheet/process", json={"tasks": chosen}))
    assert [r["outcome"] for r in first] == ["performed", "performed"]
    again = ok(of.controller.post("/worksheet/process", json={"tasks": chosen}))
    assert [r["outcome"] for r in again] == ["already_done", "already_done"]
    of.settle()
    assert of.facts("JANSEN")["calls"] == 1
    assert of.facts("BAKKER")["calls"] == 1
    done = of.worksheet(state="done")
    assert sorted((i["subject_key"], i["completed_by"]) for i in done) == [
        ("BAKKER", CONTROLLER),
        ("JANSEN", CONTROLLER),
    ]

    # Sunday 18 January: Jansen pays the oldest invoice; the one due the 3rd leads now.
    of.walk_until(_day(1, 18))
    assert of.facts("JANSEN")["oldest_overdue_days"] == 17
    pay(of.rt, of.tenant_id, "J-1", "100.00")
    of.settle()
    assert of.facts("JANSEN")["oldest_overdue_days"] == 15
    assert of.timeline("JANSEN")["leading"]["number"] == "J-2"

    # Tuesday 20 January: J-3 is disputed: the dispute procedure starts beside the primary.
    answer = ok(of.admin.put(f"/open-items/{of.item_id('J-3')}/status", json={"status": "dispute"}))
    assert [s["flow_key"] for s in answer["started"]] == ["dispute-procedure"]
    of.settle()
    assert (REP, "Invoice in dispute: Jansen") in of.sent()
    running = {p["flow_key"]: (p["kind"], p["status"]) for p in of.timeline("JANSEN")["procedures"]}
    assert running == {
        "collection-worksheet": ("primary", "running"),
        "dispute-procedure": ("secondary", "running"),
    }

    # Thursday 22 January would be D.I.P. 21 of the paid invoice: no second call yet.
    of.walk_until(_day(1, 22, 12))
    assert of.proposals("JANSEN") == []
    # Bakker's second call came 6 days after its first was logged (the 16th): skipped.
    assert of.proposals("BAKKER") == ["Second call: Bakker"]
    skipped = ok(
        of.controller.post(
            "/worksheet/skip",
            json={"tasks": [of.item("BAKKER")["task_id"]], "reason": "promised to pay"},
        )
    )
    assert skipped[0]["outcome"] == "skipped"
    # Saturday 24 January, D.I.P. 21 of J-2: the second call, the first not again.
    of.walk_until(_day(1, 24))
    assert of.proposals("JANSEN") == ["Second call: Jansen"]
    titles = [s["data"].get("title") for s in _steps(of, "JANSEN", "task_opened")]
    assert titles == ["First call: Jansen", "Second call: Jansen"]
    ok(of.controller.post("/worksheet/process", json={"tasks": [of.item("JANSEN")["task_id"]]}))

    # Tuesday 27 January, 5 business days on: the sales manager hears of the dispute.
    of.walk_until(_day(1, 27, 12))
    assert (MANAGER, "Dispute unresolved: Jansen") in of.sent()
    # Wednesday 28 January: the dispute is resolved, its procedure stops; the primary runs.
    ok(of.admin.put(f"/open-items/{of.item_id('J-3')}/status", json={"status": "open"}))
    of.settle()
    statuses = {p["flow_key"]: p["status"] for p in of.timeline("JANSEN")["procedures"]}
    assert statuses == {"collection-worksheet": "running", "dispute-procedure": "cancelled"}

    # Thursday 12 February, D.I.P. 40 of J-2: the hand-over; put off to Monday the 16th.
    of.walk_until(_day(2, 12))
    handover = of.item("JANSEN")
    assert handover["action"] == "handover"
    body = {"tasks": [handover["task_id"]], "until": "2026-02-16"}
    assert ok(of.controller.post("/worksheet/postpone", json=body))[0]["outcome"] == "postponed"
    assert of.proposals("JANSEN") == []
    assert [i["subject_key"] for i in of.worksheet(state="postponed")] == ["JANSEN"]
    of.walk_until(_day(2, 16))
    assert of.proposals("JANSEN") == ["Hand Jansen over to the collection agency"]
    ok(of.controller.post("/worksheet/process", json={"tasks": [handover["task_id"]]}))
    of.settle()
    assert ok(of.admin.get(f"/subjects/{of.debtors['JANSEN']}"))["status"] == "handed_over"
    # Undone: the status goes back; the history keeps the hand-over and its undo.
    undone = ok(of.controller.post(f"/worksheet/{handover['task_id']}/undo"))
    assert undone["undone"] == "status"
    assert ok(of.admin.get(f"/subjects/{of.debtors['JANSEN']}"))["status"] == ""
    refused = of.controller.post(f"/worksheet/{handover['task_id']}/undo")
    assert refused.status_code == 409, refused.text
    kinds = [s["kind"] for s in of.timeline("JANSEN")["procedures"][0]["steps"]]
    assert kinds[-3:] == ["status_changed", "instance_completed", "action_undone"]

    # The timeline: both procedures, their steps dated with the D.I.P. of that day.
    line = of.timeline("JANSEN")
    assert [p["flow_key"] for p in line["procedures"]] == [
        "collection-worksheet",
        "dispute-procedure",
    ]
    reminder = next(s for s in line["procedures"][0]["steps"] if s["kind"] == "email_queued")
    assert (reminder["day"], reminder["dip"]) == ("2026-01-08", 7)
    second = [s for s in line["procedures"][0]["steps"] if s["kind"] == "task_opened"][1]
    assert (second["day"], second["dip"]) == ("2026-01-24", 21)


def _steps(of: Office, key: str, kind: str) -> list[dict[str, Any]]:
    (primary,) = [p for p in of.timeline(key)["procedures"] if p["kind"] == "primary"]
    return [s for s in primary["steps"] if s["kind"] == kind]


def of_key(of: Office, subject_id: str) -> str:
    return next(key for key, ident in of.debtors.items() if ident == subject_id)


def test_timeline_says_why_the_debtor_waits(office: Office) -> None:
    of = office
    ok(of.admin.post("/procedures/reconcile", json={"subjects": [of.debtors["JANSEN"]]}))
    of.settle()
    (run,) = of.timeline("JANSEN")["procedures"]
    (position,) = run["current"]
    assert position["node_id"] == "dip7"
    wait = next(r for r in position["reasons"] if r["what"] == "wait")
    assert wait["text"] == "oldest_overdue_days >= 7"
    assert wait["holds"] is False
    assert wait["facts"] == [{"name": "oldest_overdue_days", "value": 4}]
    # Looked at again on the morning D.I.P. 7 is reached.
    assert position["next_look"].startswith("2026-01-08T08:00")
    # Bakker's rule picks the step-by-step procedure; without overdue invoices, none.
    with of.rt.transaction() as (session, _out):
        session.execute(sa.update(OpenItem).values(status="paid", open_amount=0))
    line = of.timeline("BAKKER")
    assert line["procedures"] == []
    assert line["dip"] is None
    assert line["why_not"][0] == {
        "text": "procedure_due_date is set",
        "holds": False,
        "facts": [{"name": "procedure_due_date", "value": None}],
        "what": "in_procedure",
    }
    refused = of.admin.put("/procedures/dispute-procedure", json={"kind": "secondary"})
    assert refused.status_code == 422
    assert "$.rule" in refused.text
    bad_rule = _rule("subject.no_such_fact", ">", "decimal", "0")
    refused = of.admin.put(
        "/procedures/dispute-procedure", json={"kind": "secondary", "rule": bad_rule}
    )
    assert refused.status_code == 422
    assert "no_such_fact" in refused.text
    with of.rt.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Instance)) == 1
