"""Issue 16's acceptance: eight weeks of scheduled dunning (D6, D7, D8) over HTTP.

A tenant in Europe/Berlin with the shipped flows and eight debtors, their
invoices and a payment. The calendar is simulated: the runtime's clock moves an
hour at a time from Monday 5 October 2026 to Monday 30 November 2026, across the
change to winter time on 25 October, and at each hour the scheduler's passes
run (due schedules, due timers, the outbox). People act over HTTP: the
administrator publishes, a dunning approver approves and rejects D6's actions
from the approval list (one rejected, the rest in bulk), a debtor pays.

Checked: each run selects exactly the expected debtors at the expected local
hour; D6's mails wait for approval, D7's leave at once; debtors without an email
address get letters, as PDFs; nobody gets a level twice; paying moves a debtor
out; the history says who approved what; phone-call tasks filter by type.

Runs embedded on SQLite and on PostgreSQL (the handlers run inline, LocalRunner,
an hour at a time), and distributed: `procedo serve`, a worker and a scheduler
as separate processes on PostgreSQL + Redis, all reading the simulated moment
from one clock file (tests/cluster.py ``on_a_calendar``), with emails going to an
SMTP sink. There the calendar steps to the moments that matter (each due
schedule slot or timer, and each moment people act) rather than every hour: a
scheduler runs a due slot when the clock reaches it, so the runs are the same.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from procedo.api import accounts
from procedo.db import models as m
from procedo.runtime.context import Runtime
from procedo.runtime.local import LocalRunner
from procedo.runtime.schedules import run_due_schedules
from tests.api_helpers import live_server, ok
from tests.cluster import SinkHandler, on_a_calendar, smtp_sink
from tests.conftest import EXAMPLES
from tests.receivables_helpers import add_open_items

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 10, 5, 6, 0, tzinfo=dt.UTC)  # Monday 08:00 in Berlin
END = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
APPROVER = "ilse@dunning.example"
CALLER = "hans@dunning.example"
BYSTANDER = "otto@dunning.example"

# key: (name, email, problematic, invoice due date, amount)
DEBTORS: dict[str, tuple[str, str, bool, dt.date, str]] = {
    "A": ("Albers GmbH", "buchhaltung@albers.example", False, dt.date(2026, 9, 25), "1500.00"),
    "B": ("Bauer KG", "", False, dt.date(2026, 9, 20), "800.00"),
    "C": ("Clausen AG", "ap@clausen.example", False, dt.date(2026, 10, 1), "500.00"),
    "D": ("Dorn OHG", "kasse@dorn.example", False, dt.date(2026, 9, 15), "2000.00"),
    "E": ("Engel e.K.", "info@engel.example", False, dt.date(2026, 9, 20), "900.00"),
    "F": ("Fischer GmbH", "fi@fischer.example", True, dt.date(2026, 8, 1), "700.00"),
    "G": ("Graf AG", "rechnung@graf.example", False, dt.date(2026, 9, 1), "9000.00"),
    "H": ("Hahn GmbH", "", False, dt.date(2026, 10, 20), "1200.00"),
}


def _berlin(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=BERLIN)


# Every run that selects someone: (flow, local start, debtors). Any other instance fails.
EXPECTED_RUNS: list[tuple[str, dt.datetime, list[str]]] = [
    # D6, Tuesday 16:00 every two weeks: no notices yet, oldest invoice > 6 days overdue.
    ("dunning-level-1", _berlin(2026, 10, 6, 16), ["A", "B", "D", "E", "G"]),
    # D7, Friday 12:00: one notice 8+ days ago (those of 7 October); D paid on the 12th.
    ("dunning-level-2", _berlin(2026, 10, 16, 12), ["A", "B", "G"]),
    # C is 19 days overdue now; E's first approval was rejected: no notice, so again.
    ("dunning-level-1", _berlin(2026, 10, 20, 16), ["C", "E"]),
    # Winter time from 25 October: still 12:00 in Berlin (11:00 UTC).
    ("dunning-level-2", _berlin(2026, 10, 30, 12), ["C", "E"]),
    # D8, Monday 09:00 every two weeks: two notices, 14+ days since, debt 300-4000 (not G).
    ("dunning-phone-call", _berlin(2026, 11, 2, 9), ["A", "B"]),
    ("dunning-level-1", _berlin(2026, 11, 3, 16), ["H"]),
    ("dunning-level-2", _berlin(2026, 11, 13, 12), ["H"]),
    ("dunning-phone-call", _berlin(2026, 11, 16, 9), ["C", "E"]),
    ("dunning-phone-call", _berlin(2026, 11, 30, 9), ["H"]),
]

# The levels each debtor received, in order, and how (email or letter).
EXPECTED_NOTICES = {
    "A": [(1, "email"), (2, "email")],
    "B": [(1, "letter"), (2, "letter")],
    "C": [(1, "email"), (2, "email")],
    "D": [(1, "email")],
    "E": [(1, "email"), (2, "email")],
    "F": [],
    "G": [(1, "email"), (2, "email")],
    "H": [(1, "letter"), (2, "letter")],
}


@dataclass
class Office:
    """The tenant's people over HTTP, and how time passes and work gets done in this setup."""

    rt: Runtime
    tenant_id: Any
    admin: httpx.Client
    approver: httpx.Client
    caller: httpx.Client
    bystander: httpx.Client
    debtors: dict[str, str]  # key -> subject id
    # Let time pass to a moment (Berlin), the scheduler's passes running on the way.
    walk_until: Callable[[dt.datetime], None]
    # Wait until what people just did has been handled (messages, emails).
    settle: Callable[[], None]
    # (recipient, subject line) of every email that left, in order.
    sent_to: Callable[[], list[tuple[str, str]]]


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@dataclass
class Staff:
    tenant_id: Any
    admin: httpx.Client
    people: dict[str, httpx.Client]
    debtors: dict[str, str]


@contextmanager
def _staffed(rt: Runtime, base: str, smtp: dict[str, Any] | None = None) -> Iterator[Staff]:
    """The tenant in Berlin, its people, the published flows, the debtors and invoices."""
    made = accounts.create_tenant(rt, "Mahnwesen GmbH", "admin@dunning.example")
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, made.tenant.id)
        assert tenant is not None
        tenant.timezone, tenant.country = "Europe/Berlin", "DE"
        if smtp is not None:
            tenant.smtp = smtp
    admin = _client(base, made.token)
    people = {}
    for email in (APPROVER, CALLER, BYSTANDER):
        user, _password = accounts.add_user(rt, made.tenant.id, email)
        _row, token = accounts.create_token(rt, made.tenant.id, user.id, "acceptance")
        people[email] = _client(base, token)
    for role, email in (("Dunning approver", APPROVER), ("Collections", CALLER)):
        ok(admin.post("/roles", json={"name": role}), 201)
        ok(admin.post(f"/roles/{role}/members", json={"email": email}), 201)
    for name in ("dunning-level-1", "dunning-level-2", "dunning-phone-call"):
        document = (EXAMPLES / f"{name}.json").read_bytes()
        headers = {"Content-Type": "application/json"}
        ok(admin.post("/flows/import", content=document, headers=headers), 201)
        ok(admin.post(f"/flows/{name}/publish"), 201)
    debtors = {}
    for key, (name, email, problematic, due, amount) in DEBTORS.items():
        fields: dict[str, Any] = {"name": name, "problematic": problematic}
        if email:
            fields["email"] = email
        made_subject = ok(
            admin.post("/subjects", json={"type": "debtor", "key": key, "fields": fields}),
            201,
        )
        debtors[key] = made_subject["id"]
        subject_id = uuid.UUID(made_subject["id"])
        add_open_items(rt, made.tenant.id, subject_id, [(f"R-{key}", due, amount)])
    try:
        yield Staff(made.tenant.id, admin, people, debtors)
    finally:
        for client in (admin, *people.values()):
            client.close()


def _office(rt: Runtime, staff: Staff, **setup: Any) -> Office:
    people = staff.people
    return Office(
        rt,
        staff.tenant_id,
        staff.admin,
        people[APPROVER],
        people[CALLER],
        people[BYSTANDER],
        staff.debtors,
        **setup,
    )


@pytest.fixture
def office(db_url: str) -> Iterator[Office]:
    """Embedded: the handlers inline, the clock moved an hour at a time."""
    runner = LocalRunner(db_url, start=START)

    def walk_until(local: dt.datetime) -> None:
        until = local.astimezone(dt.UTC)
        clock = runner.clock
        while clock.now() < until:
            clock.set(min(clock.now() + dt.timedelta(hours=1), until))
            run_due_schedules(runner.rt)
            runner.drain()
            runner.fire_due_timers()
            runner.drain()

    def sent_to() -> list[tuple[str, str]]:
        return [(email.recipients[0], email.subject) for email in runner.sender.sent]

    with live_server(runner.rt) as base, _staffed(runner.rt, base) as staff:
        yield _office(runner.rt, staff, walk_until=walk_until, settle=runner.drain, sent_to=sent_to)


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
    smtp = {"host": "127.0.0.1", "port": port, "sender": "mahnung@dunning.example"}
    with on_a_calendar(postgres_db, redis_url, START, tmp_path) as calendar:

        def sent_to() -> list[tuple[str, str]]:
            return [(recipients[0], line) for _id, recipients, line in mails.received]

        with _staffed(calendar.rt, calendar.url, smtp) as staff:
            yield _office(
                calendar.rt,
                staff,
                walk_until=calendar.walk_to,
                settle=calendar.settle,
                sent_to=sent_to,
            )


def _approvals(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {item["task"]["subject"]["key"]: item for item in ok(client.get("/approvals"))}


def _decide(client: httpx.Client, items: list[dict[str, Any]], decision: str) -> Any:
    tasks = [item["task"]["id"] for item in items]
    return client.post("/approvals/decide", json={"tasks": tasks, "decision": decision})


def _approve_round(of: Office, expected: list[str], reject: str | None = None) -> None:
    """The approver's list holds exactly ``expected``; one is rejected, the rest in bulk."""
    pending = _approvals(of.approver)
    assert sorted(pending) == expected
    assert ok(of.bystander.get("/approvals")) == []  # not in the approvers' role
    refused = _decide(of.bystander, list(pending.values()), "approve")
    assert refused.status_code == 403, refused.text
    if reject is not None:
        ok(_decide(of.approver, [pending.pop(reject)], "reject"))
    answer = ok(_decide(of.approver, list(pending.values()), "approve"))
    assert answer == {"decided": len(pending), "decision": "approve"}
    of.settle()
    assert ok(of.approver.get("/approvals")) == []


# An email's row has the subject it left with (the library's, in German); a letter's
# names its template until it is printed.
LEVELS = {
    "Zahlungserinnerung": 1,
    "Mahnung": 2,
    "(template payment-reminder)": 1,
    "(template dunning-notice)": 2,
}


def _level(subject_line: str) -> int:
    return LEVELS[subject_line]


def test_eight_weeks_of_dunning(office: Office) -> None:
    _eight_weeks(office)


def test_eight_weeks_of_dunning_on_separate_processes(office_on_processes: Office) -> None:
    _eight_weeks(office_on_processes)


def _eight_weeks(of: Office) -> None:

    # Tuesday 6 October, 16:00 in Berlin (14:00 UTC): D6 selects; nothing leaves yet.
    of.walk_until(_berlin(2026, 10, 6, 18))
    assert of.sent_to() == []
    pending = _approvals(of.approver)
    assert sorted(pending) == ["A", "B", "D", "E", "G"]
    # The approval list shows what would go out: A's email, B's letter (no address).
    albers = pending["A"]
    assert albers["flow"] == {"key": "dunning-level-1", "name": "Dunning level 1: reminder"}
    (email,) = [action for action in albers["actions"] if action["kind"] == "email"]
    assert email["to"] == ["buchhaltung@albers.example"]
    # From the library's standard template, in German (the tenant's language), as it will go.
    assert email["subject"] == "Zahlungserinnerung"
    assert "Guten Tag Albers GmbH" in email["body"]
    assert "1.500,00 €" in email["body"]
    assert {"kind": "set_field", "node": "level", "field": "dunning_level", "value": "1"} in (
        albers["actions"]
    )
    assert [action["kind"] for action in pending["B"]["actions"]] == ["set_field", "letter"]
    assert pending["B"]["task"]["kind"] == "approval"

    # Wednesday 10:00: E rejected, the other four approved together; now they go out.
    of.walk_until(_berlin(2026, 10, 7, 10))
    assert of.sent_to() == []
    _approve_round(of, ["A", "B", "D", "E", "G"], reject="E")
    assert sorted(of.sent_to()) == [
        ("buchhaltung@albers.example", "Zahlungserinnerung"),
        ("kasse@dorn.example", "Zahlungserinnerung"),
        ("rechnung@graf.example", "Zahlungserinnerung"),
    ]
    letters = ok(of.admin.get("/letters"))
    assert [letter["subject_key"] for letter in letters] == ["B"]
    pdf = of.admin.get(f"/letters/{letters[0]['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    printed = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Zahlungserinnerung" in printed  # the library's text, in German
    assert "Guten Tag" in printed
    # Who approved and who rejected is in the debtors' history.
    decided = _decisions(of, "A") + _decisions(of, "E")
    assert decided == [(APPROVER, "approved"), (APPROVER, "rejected")]

    # Monday 12 October: Dorn pays its invoice in full; the payment is matched by number.
    of.walk_until(_berlin(2026, 10, 12, 11))
    payment = {"amount": "2000.00", "paid_on": "2026-10-12", "remittance": "Rechnung R-D"}
    assert ok(of.admin.post("/payments", json=payment), 201)["status"] == "matched"
    of.settle()

    # Friday 16 October 12:00: D7 goes out at once, no approval.
    of.walk_until(_berlin(2026, 10, 16, 12))
    level_2 = [sent for sent in of.sent_to() if sent[1] == "Mahnung"]
    assert sorted(level_2) == [
        ("buchhaltung@albers.example", "Mahnung"),
        ("rechnung@graf.example", "Mahnung"),
    ]
    assert ok(of.approver.get("/approvals")) == []

    # Tuesday 20 October: C and E (again) wait for approval; approved on Wednesday.
    of.walk_until(_berlin(2026, 10, 21, 10))
    _approve_round(of, ["C", "E"])

    # Across the change to winter time to Tuesday 3 November: H by letter, approved.
    of.walk_until(_berlin(2026, 11, 4, 10))
    _approve_round(of, ["H"])
    # D8's phone calls are tasks of type phone call for the collections role.
    calls = ok(of.caller.get("/tasks", params={"scope": "roles", "type": "phone_call"}))
    assert sorted(task["subject"]["key"] for task in calls) == ["A", "B"]
    assert ok(of.caller.get("/tasks", params={"scope": "roles", "type": "approval"})) == []
    every = ok(of.admin.get("/tasks", params={"scope": "all", "type": "phone_call"}))
    assert {task["kind"] for task in every} == {"phone_call"}
    assert len(every) == 2

    of.walk_until(END)
    assert _runs(of) == sorted(EXPECTED_RUNS)
    assert _notices(of) == EXPECTED_NOTICES


def _timeline(of: Office, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(of.admin.get(f"/subjects/{of.debtors[key]}/timeline"))
    return items


def _decisions(of: Office, key: str) -> list[tuple[str, str]]:
    return [
        (row["actor"], row["data"]["decision"])
        for instance in _timeline(of, key)
        for row in instance["history"]
        if row["kind"] == "approval_decided"
    ]


def _runs(of: Office) -> list[tuple[str, dt.datetime, list[str]]]:
    """Instances by flow and local start, read from the debtors' timelines."""
    runs: dict[tuple[str, dt.datetime], list[str]] = defaultdict(list)
    for key in DEBTORS:
        for instance in _timeline(of, key):
            started = dt.datetime.fromisoformat(instance["started_at"]).astimezone(BERLIN)
            runs[(instance["flow"], started)].append(key)
    return sorted((flow, at, sorted(keys)) for (flow, at), keys in runs.items())


def _notices(of: Office) -> dict[str, list[tuple[int, str]]]:
    """The dunning notices each debtor received, in order, from the outbox."""
    query = (
        sa.select(m.Subject.key, m.Outbox.kind, m.Outbox.subject)
        .join(m.Instance, m.Instance.id == m.Outbox.instance_id)
        .join(m.Subject, m.Subject.id == m.Instance.subject_id)
        .where(m.Outbox.tenant_id == of.tenant_id)
        .order_by(m.Outbox.created_at, m.Outbox.id)
    )
    found: dict[str, list[tuple[int, str]]] = {key: [] for key in DEBTORS}
    with of.rt.db.read() as session:
        for key, kind, subject in session.execute(query):
            found[key].append((_level(subject), kind))
    # Nobody got a level twice (the dict comparison says it too; this names who).
    twice = {
        key: c
        for key, c in ((k, Counter(v)) for k, v in found.items())
        if max(c.values(), default=1) > 1
    }
    assert twice == {}
    return found
