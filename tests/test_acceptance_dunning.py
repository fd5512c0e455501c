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

Runs on SQLite and on PostgreSQL. The separate worker and scheduler processes
of tests/cluster.py read the system clock, so eight weeks cannot pass for them
in a test: the handlers here are the ones those processes run (LocalRunner).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.db import models as m
from procedo.runtime.context import Runtime
from procedo.runtime.local import LocalRunner
from procedo.runtime.schedules import run_due_schedules
from tests.api_helpers import live_server, ok
from tests.cluster import SinkHandler, smtp_sink, wait_until
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
    runner: LocalRunner
    tenant_id: Any
    admin: httpx.Client
    approver: httpx.Client
    caller: httpx.Client
    bystander: httpx.Client
    debtors: dict[str, str]  # key -> subject id

    @property
    def rt(self) -> Runtime:
        return self.runner.rt

    def walk_until(self, local: dt.datetime) -> None:
        """Let time pass an hour at a time, as the scheduler process would see it."""
        until = local.astimezone(dt.UTC)
        clock = self.runner.clock
        while clock.now() < until:
            clock.set(min(clock.now() + dt.timedelta(hours=1), until))
            run_due_schedules(self.rt)
            self.runner.drain()
            self.runner.fire_due_timers()
            self.runner.drain()

    def sent_to(self) -> list[tuple[str, str]]:
        """(recipient, subject line) of every email that left, in order."""
        return [(email.recipients[0], email.subject) for email in self.runner.sender.sent]


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture
def office(db_url: str) -> Iterator[Office]:
    runner = LocalRunner(db_url, start=START)
    rt = runner.rt
    made = accounts.create_tenant(rt, "Mahnwesen GmbH", "admin@dunning.example")
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, made.tenant.id)
        assert tenant is not None
        tenant.timezone, tenant.country = "Europe/Berlin", "DE"
    with live_server(rt) as base:
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
        yield Office(
            runner,
            made.tenant.id,
            admin,
            people[APPROVER],
            people[CALLER],
            people[BYSTANDER],
            debtors,
        )
        for client in (admin, *people.values()):
            client.close()


@pytest.fixture
def sink() -> Iterator[tuple[SinkHandler, int]]:
    controller, handler, port = smtp_sink()
    yield handler, port
    controller.stop()


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
    of.runner.drain()
    assert ok(of.approver.get("/approvals")) == []


def _level(subject_line: str) -> int:
    return int(subject_line.split("level ")[1].rstrip(")"))


def test_eight_weeks_of_dunning(office: Office) -> None:
    of = office

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
    assert email["subject"] == "Payment reminder (level 1)"
    assert "Albers GmbH" in email["body"]
    assert "1500.00" in email["body"]
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
        ("buchhaltung@albers.example", "Payment reminder (level 1)"),
        ("kasse@dorn.example", "Payment reminder (level 1)"),
        ("rechnung@graf.example", "Payment reminder (level 1)"),
    ]
    letters = ok(of.admin.get("/letters"))
    assert [letter["subject_key"] for letter in letters] == ["B"]
    pdf = of.admin.get(f"/letters/{letters[0]['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    # Who approved and who rejected is in the debtors' history.
    decided = _decisions(of, "A") + _decisions(of, "E")
    assert decided == [(APPROVER, "approved"), (APPROVER, "rejected")]

    # Monday 12 October: Dorn pays its invoice in full; the payment is matched by number.
    of.walk_until(_berlin(2026, 10, 12, 11))
    payment = {"amount": "2000.00", "paid_on": "2026-10-12", "remittance": "Rechnung R-D"}
    assert ok(of.admin.post("/payments", json=payment), 201)["status"] == "matched"
    of.runner.drain()

    # Friday 16 October 12:00: D7 goes out at once, no approval.
    of.walk_until(_berlin(2026, 10, 16, 12))
    level_2 = [sent for sent in of.sent_to() if sent[1].endswith("(level 2)")]
    assert sorted(level_2) == [
        ("buchhaltung@albers.example", "Payment reminder (level 2)"),
        ("rechnung@graf.example", "Payment reminder (level 2)"),
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


# --- The same workflows on PostgreSQL + Redis with separate worker and scheduler processes.
# Those read the system clock, so no calendar passes: "run now" stands for the slots, on
# debtors whose invoices are overdue today.


@pytest.fixture
def distributed_setup(postgres_db: str, redis_url: str) -> Iterator[Any]:
    from tests.test_acceptance_invoices import distributed

    with distributed(postgres_db, redis_url) as setup:
        yield setup


def test_approval_holds_d6_and_d7_acts_at_once_on_separate_processes(
    distributed_setup: Any, sink: tuple[SinkHandler, int]
) -> None:
    rt, mails = distributed_setup.rt, sink[0]
    made = accounts.create_tenant(rt, "Mahnwesen Verteilt", "admin@verteilt.example")
    with rt.transaction() as (session, _out):
        tenant = session.get(m.Tenant, made.tenant.id)
        assert tenant is not None
        tenant.timezone, tenant.country = "Europe/Berlin", "DE"
        tenant.smtp = {"host": "127.0.0.1", "port": sink[1], "sender": "mahnung@verteilt.example"}
    admin = _client(distributed_setup.url, made.token)
    user, _password = accounts.add_user(rt, made.tenant.id, APPROVER)
    _row, token = accounts.create_token(rt, made.tenant.id, user.id, "acceptance")
    approver = _client(distributed_setup.url, token)
    ok(admin.post("/roles", json={"name": "Dunning approver"}), 201)
    ok(admin.post("/roles/Dunning approver/members", json={"email": APPROVER}), 201)
    for name in ("dunning-level-1", "dunning-level-2"):
        document = (EXAMPLES / f"{name}.json").read_bytes()
        headers = {"Content-Type": "application/json"}
        ok(admin.post("/flows/import", content=document, headers=headers), 201)
        ok(admin.post(f"/flows/{name}/publish"), 201)
    today = dt.datetime.now(BERLIN).date()
    debtors = {
        "A": {"name": "Albers GmbH", "email": "a@albers.example", "problematic": False},
        "B": {"name": "Bauer KG", "problematic": False},
        "D": {"name": "Dorn OHG", "email": "d@dorn.example", "problematic": False},
    }
    for key, fields in debtors.items():
        made_subject = ok(
            admin.post("/subjects", json={"type": "debtor", "key": key, "fields": fields}), 201
        )
        due = today - dt.timedelta(days=20)
        add_open_items(
            rt, made.tenant.id, uuid.UUID(made_subject["id"]), [(f"V-{key}", due, "500.00")]
        )
    # D pays before the run: it is not selected.
    paid = {"amount": "500.00", "paid_on": today.isoformat(), "remittance": "Rechnung V-D"}
    assert ok(admin.post("/payments", json=paid), 201)["status"] == "matched"

    run = ok(admin.post("/schedules/dunning-level-1/run"))
    assert (run["selected"], run["started"]) == (2, 2)

    def pending() -> list[str]:
        return sorted(a["task"]["subject"]["key"] for a in ok(approver.get("/approvals")))

    wait_until(lambda: pending() == ["A", "B"], 30, "two approvals")
    assert mails.received == []  # held until approved
    ok(_decide(approver, ok(approver.get("/approvals")), "approve"))
    wait_until(lambda: len(mails.received) == 1, 30, "the approved reminder")
    (_id, rcpt, line) = mails.received[0]
    assert (rcpt, line) == (("a@albers.example",), "Payment reminder (level 1)")
    (letter,) = ok(admin.get("/letters"))
    assert letter["subject_key"] == "B"
    assert admin.get(f"/letters/{letter['id']}/pdf").content.startswith(b"%PDF")

    # Run again: nobody gets level 1 twice. D7 needs 8 days since the notice: nobody yet.
    assert ok(admin.post("/schedules/dunning-level-1/run"))["started"] == 0
    assert ok(admin.post("/schedules/dunning-level-2/run"))["selected"] == 0
    assert ok(approver.get("/approvals")) == []
    admin.close()
    approver.close()
