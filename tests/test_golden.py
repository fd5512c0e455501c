"""Golden traces: each example flow, driven through a scenario under a fake clock.

The history of every run is kept in tests/golden/<scenario>.txt; a change in the
path taken, the people asked, the emails or the timing shows up as a diff.
Regenerate after an intended change with UPDATE_GOLDEN=1. Each scenario runs on
SQLite and on PostgreSQL and must give the same trace on both.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procedo.runtime import admin
from procedo.runtime.trial import describe
from tests.client_page_helpers import answer
from tests.receivables_helpers import add_open_items, pay
from tests.runtime_helpers import GOOD_INVOICE, World, make_world

GOLDEN = Path(__file__).parent / "golden"
DAY = dt.timedelta(days=1)
# Ids of client requests and links, and the filing stub's reference made from one.
VARYING = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|STUB-[0-9A-F]{12}")

DEBTOR: dict[str, Any] = {
    "name": "Bakkerij Jansen",
    "email": "info@jansen.example",
    "problematic": False,
    "dunning_notices": 0,
    "debt_amount": "812.40",
    "oldest_due_date": "2026-01-02",
    "promised_payment_date": "2026-01-08",
    "paid": False,
}
# As the portal leaves a debtor who promised to pay on 8 January with 2 grace days.
PROMISED = {**DEBTOR, "promise_check_date": "2026-01-10", "promise_followup": "task"}
# The debtor's invoice: its debt and whether it "paid" are computed from it.
PROMISED_ITEMS = [("P-1", dt.date(2026, 1, 2), "812.40")]
COLLECTION_ITEMS = [
    ("A-1", dt.date(2026, 1, 1), "100.00"),
    ("A-2", dt.date(2026, 1, 12), "50.00"),
]
CLIENT: dict[str, Any] = {
    "name": "Schildersbedrijf Visser",
    "email": "admin@visser.example",
    "contact": {"name": "Mieke Visser"},
    "period": "2025-12",
    "products": ["Aangifte BTW"],
    "vat_period": "monthly",
}


def invoice(**changes: Any) -> dict[str, Any]:
    fields = {**GOOD_INVOICE, "supplier": dict(GOOD_INVOICE["supplier"])}
    for key, value in changes.items():
        if key.startswith("supplier_"):
            fields["supplier"][key.removeprefix("supplier_")] = value
        else:
            fields[key] = value
    return fields


# scenario: (flow, subject type, fields, actions)
SCENARIOS: dict[str, tuple[str, str, dict[str, Any], list[tuple[Any, ...]]]] = {
    "invoice-approval.no-order-rejected": (
        "invoice-approval",
        "invoice",
        invoice(order_reference=""),
        [],
    ),
    "invoice-approval.bad-tax-rejected": (
        "invoice-approval",
        "invoice",
        invoice(
            checks={"period_ok": True, "tax_ok": False, "lines_sum_ok": True, "payable_ok": True}
        ),
        [],
    ),
    "invoice-approval.trusted-auto-approved-paid": (
        "invoice-approval",
        "invoice",
        invoice(payable_amount="99.95", supplier_trusted=True),
        [("status", "paid")],
    ),
    "invoice-approval.kvk-a-approved-paid": (
        "invoice-approval",
        "invoice",
        invoice(supplier_kvk="12345678"),
        [("complete", "approve"), ("advance", DAY), ("status", "paid")],
    ),
    "invoice-approval.kvk-b-rejected": (
        "invoice-approval",
        "invoice",
        invoice(supplier_kvk="87654321"),
        [("complete", "reject")],
    ),
    "invoice-approval.escalated-to-deputy": (
        "invoice-approval",
        "invoice",
        invoice(),
        [("advance", 8 * DAY), ("complete", "approve")],
    ),
    "invoice-approval.moved-back-to-checks": (
        "invoice-approval",
        "invoice",
        invoice(supplier_kvk="12345678"),
        [("move", "checks", "supplier sent a corrected invoice"), ("complete", "approve")],
    ),
    "vat-return.filed": (
        "vat-return",
        "client",
        CLIENT,
        [
            ("client", "upload"),
            ("complete", "complete"),
            ("complete", "complete"),
            ("client", "approve"),
            ("complete", "complete"),
        ],
    ),
    # No approval within 5 business days: the relationship manager's phase asks by phone.
    "vat-return.chased-by-phone": (
        "vat-return",
        "client",
        CLIENT,
        [
            ("client", "upload"),
            ("complete", "complete"),
            ("complete", "complete"),
            ("advance", 10 * DAY),
            ("complete", "complete"),
            ("complete", "complete"),
        ],
    ),
    "promise-to-pay.kept": (
        "promise-to-pay",
        "debtor",
        PROMISED,
        [
            ("open_items", PROMISED_ITEMS),
            ("advance", 2 * DAY),
            ("pay", "P-1", "812.40"),
            ("advance", 4 * DAY),
        ],
    ),
    "promise-to-pay.broken": (
        "promise-to-pay",
        "debtor",
        PROMISED,
        [("open_items", PROMISED_ITEMS), ("advance", 6 * DAY), ("complete", "done")],
    ),
    # Dunning flows print the debt (812.40) computed from the debtor's invoice, and mark
    # what they send (mark=dunning_notice, mark=call) so the debtor's counts see it.
    "dunning-level-1.email": (
        "dunning-level-1",
        "debtor",
        DEBTOR,
        [("open_items", PROMISED_ITEMS), ("complete", "approve")],
    ),
    "dunning-level-1.letter-without-email": (
        "dunning-level-1",
        "debtor",
        {**DEBTOR, "email": ""},
        [("open_items", PROMISED_ITEMS), ("complete", "approve")],
    ),
    "dunning-level-2.notice": (
        "dunning-level-2",
        "debtor",
        DEBTOR,
        [("open_items", PROMISED_ITEMS)],
    ),
    "dunning-phone-call.reached": (
        "dunning-phone-call",
        "debtor",
        DEBTOR,
        [("open_items", PROMISED_ITEMS), ("complete", "reached")],
    ),
    # The debtor's open invoices ("open_items", before it starts) make its D.I.P.: 4 on the
    # start day (Mon 5 January), A-2 leading from 13 January once A-1 is paid.
    "collection-procedure.all-steps": (
        "collection-procedure",
        "debtor",
        DEBTOR,
        [
            ("open_items", COLLECTION_ITEMS),
            ("advance", 15 * DAY),
            ("complete", "done"),
            ("advance", 7 * DAY),
            ("complete", "done"),
            ("advance", 20 * DAY),
            ("complete", "done"),
        ],
    ),
    # A promise on the portal checked after Mon 12 January holds the first reminder (due at
    # D.I.P. 7, Thu 8 January) back until the promise lapses: Tue 13 January.
    "collection-procedure.promise-holds-it": (
        "collection-procedure",
        "debtor",
        {**DEBTOR, "promise_check_date": "2026-01-12"},
        [("open_items", COLLECTION_ITEMS), ("advance", 9 * DAY)],
    ),
    "collection-procedure.paid-stops-it": (
        "collection-procedure",
        "debtor",
        DEBTOR,
        [
            ("open_items", COLLECTION_ITEMS),
            ("advance", 10 * DAY),
            ("pay", "A-1", "100.00"),
            ("pay", "A-2", "50.00"),
        ],
    ),
    # P3: entering at D.I.P. 30 lands on the 21-day step; nothing before it is replayed.
    "collection-procedure.enters-late": (
        "collection-procedure",
        "debtor",
        DEBTOR,
        [
            ("open_items", [("A-1", dt.date(2025, 12, 6), "100.00")]),
            ("advance", 3 * DAY),
            ("complete", "done"),
            ("advance", 12 * DAY),
            ("complete", "done"),
        ],
    ),
    # P2: paying the oldest invoice after the reminder lets A-2 lead: the first call waits
    # for A-2's D.I.P. 15 (27 January) instead of A-1's (16 January); no reminder again.
    "collection-procedure.oldest-paid": (
        "collection-procedure",
        "debtor",
        DEBTOR,
        [
            ("open_items", COLLECTION_ITEMS),
            ("advance", 5 * DAY),
            ("pay", "A-1", "100.00"),
            ("advance", 20 * DAY),
            ("complete", "done"),
        ],
    ),
}


def play(
    world: World,
    flow: str,
    subject_type: str,
    fields: dict[str, Any],
    actions: list[tuple[Any, ...]],
) -> list[str]:
    world.publish(flow)
    subject = world.subject(
        subject_type, "S-1", fields, "received" if subject_type == "invoice" else ""
    )
    for kind, *args in actions:  # the debtor's invoices, there before the flow starts
        if kind == "open_items":
            add_open_items(world.rt, world.tenant, subject.id, args[0])
    instance = admin.start(world.rt, world.tenant, _key(flow), subject.id, "tester")
    runner = world.runner
    runner.drain()
    for action in actions:
        kind, *args = action
        if kind == "complete":
            (task,) = world.open_tasks(instance.id)[:1]
            ticked = [c["id"] for c in task.checkpoints]
            admin.complete_task(world.rt, world.tenant, task.id, args[0], ticked, "reviewer")
        elif kind == "advance":
            runner.advance(args[0])
        elif kind == "status":
            current = world.subject_row(subject.id)
            world.subject(subject_type, "S-1", current.fields, args[0])
        elif kind == "fields":
            current = world.subject_row(subject.id)
            world.subject(subject_type, "S-1", {**current.fields, **args[0]})
        elif kind == "client":  # the client's answer on the client page
            answer(world.rt, instance.id, args[0])
        elif kind == "event":
            admin.post_event(world.rt, world.tenant, subject.id, args[0])
        elif kind == "move":
            admin.move(world.rt, world.tenant, instance.id, args[0], args[1], "admin")
        elif kind == "pay":
            pay(world.rt, world.tenant, args[0], args[1])
        runner.drain()
    zone = ZoneInfo("Europe/Amsterdam")
    lines = [VARYING.sub("<id>", describe(row, zone)) for row in world.history(instance.id)]
    lines.append(
        f"final: instance {world.instance(instance.id).status}, "
        f"subject status {world.subject_row(subject.id).status!r}"
    )
    return lines


def _key(flow_file: str) -> str:
    return {"vat-return": "vat-return-monthly"}.get(flow_file, flow_file)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_trace(name: str, db_url: str) -> None:
    trace = "\n".join(play(make_world(db_url), *SCENARIOS[name])) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(trace)
    assert path.exists(), f"no golden trace yet: run with UPDATE_GOLDEN=1 and review {path}"
    assert trace == path.read_text()


def test_no_golden_trace_keeps_a_failure() -> None:
    """A scenario of a shipped example ends the way it says; a failed run is a bug to fix.

    The dunning flows once printed a portal link every debtor lacked, and their
    traces recorded the failure as expected.
    """
    for path in sorted(GOLDEN.glob("*.txt")):
        lines = path.read_text().splitlines()
        failures = [line for line in lines if line.split()[4:5] == ["failed"]]
        assert not failures, f"{path.name} records a failure: {failures}"
        assert lines[-1].startswith("final: instance "), path.name
        assert not lines[-1].startswith("final: instance failed"), f"{path.name}: {lines[-1]}"
