"""M5 payment arrangements and M3 promises to pay: recorded, paid off, broken, and the
shipped flows (docs/examples/payment-arrangement.json, promise-to-pay.json) on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.portal import plans
from tests.api_helpers import ok
from tests.portal_helpers import Debtor, csrf_of, debtor_with_link, events

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
BOUNDS = {"max_instalments": 3, "min_instalment_amount": "100.00", "max_term_days": 90}


def _post(debtor: Debtor, reaction: str, data: dict[str, str]) -> Any:
    csrf = csrf_of(debtor.page.get(f"/portal/{debtor.token}").text)
    answer = debtor.page.post(f"/portal/{debtor.token}/{reaction}", data={"csrf": csrf, **data})
    assert answer.status_code == 303, answer.text
    return answer


def _fields(debtor: Debtor) -> dict[str, Any]:
    return dict(ok(debtor.acme.http.get(f"/subjects/{debtor.id}"))["fields"])


def _statuses(backend: Backend, debtor: Debtor) -> dict[str, str]:
    with backend.runtime.db.read() as session:
        rows = session.execute(
            sa.select(OpenItem.number, OpenItem.status).where(
                OpenItem.debtor_id == uuid.UUID(debtor.id)
            )
        )
        return {row.number: row.status for row in rows}


def _sweep_on(backend: Backend, day: dt.date) -> int:
    """The scheduler's portal pass as if it ran at noon (UTC) on ``day``."""
    clock = FakeClock(dt.datetime.combine(day, dt.time(12), dt.UTC))
    return plans.sweep(dataclasses.replace(backend.runtime, clock=clock))


def _eventually(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def _publish(debtor: Debtor, name: str) -> None:
    flow = (EXAMPLES / f"{name}.json").read_bytes()
    headers = {"Content-Type": "application/json"}
    ok(debtor.acme.http.post("/flows/import", content=flow, headers=headers), 201)
    ok(debtor.acme.http.post(f"/flows/{name}/publish"), 201)


def _outbox(backend: Backend, debtor: Debtor) -> list[str]:
    """The debtor's messages: the library template each names (the shipped flows' do),
    else its subject line."""
    with backend.runtime.db.read() as session:
        rows = session.execute(
            sa.select(m.Outbox.template, m.Outbox.subject)
            .join(m.Instance, m.Instance.id == m.Outbox.instance_id)
            .where(m.Instance.subject_id == uuid.UUID(debtor.id))
            .order_by(m.Outbox.created_at)
        )
        return [template or subject for template, subject in rows]


def _tasks(backend: Backend, debtor: Debtor) -> list[str]:
    with backend.runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(m.Task.title)
                .join(m.Instance, m.Instance.id == m.Task.instance_id)
                .where(m.Instance.subject_id == uuid.UUID(debtor.id), m.Task.status == "open")
            )
        )


def test_an_arrangement_within_the_bounds_is_recorded_paid_off_and_broken(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "De Korst", "email": "k@x.example"}
    )
    ok(debtor.acme.http.put("/portal/settings", json={**BOUNDS, "promise_grace_days": 2}))
    first = dt.date.today() + dt.timedelta(days=7)
    _post(debtor, "arrangement", {"instalments": "3", "first_date": first.isoformat()})

    shown = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))
    (arrangement,) = shown["arrangements"]
    assert arrangement["status"] == "active"
    assert arrangement["amount"] == "392.60"
    plan = [(i["due_date"], i["amount"], i["paid_amount"]) for i in arrangement["instalments"]]
    assert [p[1] for p in plan] == ["130.86", "130.86", "130.88"]
    assert plan[0][0] == first.isoformat()
    assert {p[2] for p in plan} == {"0.00"}
    # The invoices are in the payment plan: dunning and procedures count them apart.
    assert set(_statuses(backend, debtor).values()) == {"payment_plan"}
    fields = _fields(debtor)
    assert fields["arrangement_status"] == "active"
    assert fields["next_instalment_date"] == first.isoformat()
    assert fields["next_instalment_amount"] == "130.86"
    assert f"1. {first.isoformat()}: 130.86 EUR" in fields["arrangement_plan"]
    facts = ok(debtor.acme.http.get(f"/subjects/{debtor.id}/facts"))["facts"]
    assert facts["payment_plan_items"] == 3

    # 140.00 on the first invoice: the first instalment is paid, 9.14 of the second.
    body = {"amount": "140.00", "paid_on": dt.date.today().isoformat(), "remittance": "2026-0002"}
    ok(debtor.acme.http.post("/payments", json=body), 201)
    (arrangement,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    paid = [(i["paid_amount"], i["paid_at"] is not None) for i in arrangement["instalments"]]
    assert paid == [("130.86", True), ("9.14", False), ("0.00", False)]
    second = arrangement["instalments"][1]["due_date"]
    assert _fields(debtor)["next_instalment_date"] == second
    assert _fields(debtor)["next_instalment_amount"] == "121.72"

    # Within the grace days after the second due date nothing breaks; after them it does.
    due = dt.date.fromisoformat(second)
    assert _sweep_on(backend, due + dt.timedelta(days=2)) == 0
    assert _sweep_on(backend, due + dt.timedelta(days=3)) == 1
    (arrangement,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert arrangement["status"] == "broken"
    assert "paid" not in set(_statuses(backend, debtor).values()) - {"paid"}
    assert set(_statuses(backend, debtor).values()) <= {"open", "paid"}
    assert _fields(debtor)["arrangement_status"] == "broken"
    assert "next_instalment_date" not in _fields(debtor)
    (broken,) = events(backend, "portal.arrangement_broken")
    assert broken.data["instalment"] == 2
    assert broken.data["paid_amount"] == "9.14"


def test_paying_everything_completes_the_arrangement(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url, items=(("2026-0001", "300.00"),))
    ok(debtor.acme.http.put("/portal/settings", json=BOUNDS))
    first = dt.date.today() + dt.timedelta(days=3)
    _post(debtor, "arrangement", {"instalments": "2", "first_date": first.isoformat()})
    body = {"amount": "300.00", "paid_on": dt.date.today().isoformat(), "remittance": "2026-0001"}
    ok(debtor.acme.http.post("/payments", json=body), 201)
    (arrangement,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert arrangement["status"] == "completed"
    assert [i["paid_amount"] for i in arrangement["instalments"]] == ["150.00", "150.00"]
    assert _fields(debtor)["arrangement_status"] == "completed"
    assert [e.name for e in events(backend, "portal.arrangement_")] == [
        "portal.arrangement_proposed",
        "portal.arrangement_completed",
    ]


def test_an_arrangement_outside_the_bounds_waits_for_review(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    ok(debtor.acme.http.put("/portal/settings", json=BOUNDS))
    first = dt.date.today() + dt.timedelta(days=7)
    _post(debtor, "arrangement", {"instalments": "6", "first_date": first.isoformat()})
    (arrangement,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert arrangement["status"] == "review"
    assert arrangement["exceeded"] == ["max_instalments", "min_instalment_amount", "max_term_days"]
    assert len(arrangement["instalments"]) == 6
    assert set(_statuses(backend, debtor).values()) == {"open"}  # no plan agreed yet
    assert _fields(debtor)["arrangement_status"] == "review"
    # A new proposal within the bounds replaces it.
    _post(debtor, "arrangement", {"instalments": "2", "first_date": first.isoformat()})
    shown = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert [a["status"] for a in shown] == ["active", "replaced"]


def test_a_promise_pauses_until_its_check_date_and_ends_kept_or_broken(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    paying = (("2027-0001", "100.00"), ("2027-0002", "250.50"))
    other = debtor_with_link(backend, base_url, key="D2", items=paying, acme=debtor.acme)
    ok(debtor.acme.http.put("/portal/settings", json={"promise_grace_days": 2}))
    pay_on = dt.date.today() + dt.timedelta(days=3)
    for who in (debtor, other):
        _post(who, "promise", {"pay_on": pay_on.isoformat()})
    check_on = pay_on + dt.timedelta(days=2)
    fields = _fields(debtor)
    assert fields["promised_payment_date"] == pay_on.isoformat()
    assert fields["promise_check_date"] == check_on.isoformat()
    assert fields["promise_followup"] == "task"
    # The second debtor pays everything; the first does not.
    for number, amount in paying:
        body = {"amount": amount, "paid_on": dt.date.today().isoformat(), "remittance": number}
        ok(debtor.acme.http.post("/payments", json=body), 201)
    (kept,) = ok(other.acme.http.get(f"/portal/debtors/{other.id}/plans"))["promises"]
    assert kept["status"] == "kept"  # at once, as the payment came in
    assert _sweep_on(backend, check_on) == 0  # the check day itself still belongs to the promise
    assert _sweep_on(backend, check_on + dt.timedelta(days=1)) == 1  # the first debtor's
    states = {
        who.id: [
            p["status"]
            for p in ok(who.acme.http.get(f"/portal/debtors/{who.id}/plans"))["promises"]
        ]
        for who in (debtor, other)
    }
    assert states == {debtor.id: ["broken"], other.id: ["kept"]}


def test_the_shipped_flows_confirm_at_once_and_review_outside_the_bounds(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "De Korst", "email": "k@x.example"}
    )
    for name in ("payment-arrangement", "promise-to-pay"):
        _publish(debtor, name)
    ok(debtor.acme.http.put("/portal/settings", json=BOUNDS))
    first = dt.date.today() + dt.timedelta(days=20)
    _post(debtor, "arrangement", {"instalments": "3", "first_date": first.isoformat()})
    _eventually(
        "the arrangement was not confirmed",
        lambda: "arrangement-confirmed" in _outbox(backend, debtor),
    )
    assert _tasks(backend, debtor) == []
    _post(debtor, "arrangement", {"instalments": "6", "first_date": first.isoformat()})
    _eventually(
        "no review task",
        lambda: "Review the payment arrangement of De Korst" in _tasks(backend, debtor),
    )
    assert "arrangement-in-review" in _outbox(backend, debtor)


def test_the_shipped_promise_flow_opens_a_task_when_the_check_finds_no_payment(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "De Korst", "email": "k@x.example"}
    )
    _publish(debtor, "promise-to-pay")
    pay_on = dt.date.today() + dt.timedelta(days=3)
    _post(debtor, "promise", {"pay_on": pay_on.isoformat()})
    _eventually(
        "the promise was not confirmed",
        lambda: "promise-noted" in _outbox(backend, debtor),
    )
    timer = _eventually("the flow does not wait", lambda: _pending_timer(backend, debtor))
    # The wait is for the day after the check date (3 + 2 grace days), at 09:00.
    assert timer.date() == pay_on + dt.timedelta(days=3)
    assert _tasks(backend, debtor) == []
    _fire_now(backend, debtor)  # five days pass without a payment
    _eventually(
        "no task for the broken promise",
        lambda: "De Korst did not keep the promise to pay" in _tasks(backend, debtor),
    )


def _pending_timer(backend: Backend, debtor: Debtor) -> dt.datetime | None:
    with backend.runtime.db.read() as session:
        return session.scalar(
            sa.select(m.Timer.due_at)
            .join(m.Instance, m.Instance.id == m.Timer.instance_id)
            .where(m.Instance.subject_id == uuid.UUID(debtor.id), m.Timer.status == "pending")
        )


def _fire_now(backend: Backend, debtor: Debtor) -> None:
    with backend.runtime.db.transaction() as session:
        ids = sa.select(m.Instance.id).where(m.Instance.subject_id == uuid.UUID(debtor.id))
        session.execute(
            sa.update(m.Timer)
            .where(m.Timer.instance_id.in_(ids), m.Timer.status == "pending")
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )


def test_a_refused_proposal_or_promise_records_nothing(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    before = _fields(debtor)
    csrf = csrf_of(debtor.page.get(f"/portal/{debtor.token}").text)
    today = dt.date.today()
    refused = [
        ("arrangement", {"instalments": "61", "first_date": today.isoformat()}),
        ("arrangement", {"instalments": "<script>", "first_date": today.isoformat()}),
        (
            "arrangement",
            {"instalments": "3", "first_date": (today - dt.timedelta(days=1)).isoformat()},
        ),
        ("promise", {"pay_on": (today + dt.timedelta(days=400)).isoformat()}),
        ("promise", {"pay_on": "<script>alert(1)</script>"}),
        ("promise", {"pay_on": today.isoformat(), "note": "x\x00y"}),
    ]
    for reaction, form in refused:
        answer = debtor.page.post(f"/portal/{debtor.token}/{reaction}", data={"csrf": csrf, **form})
        assert answer.status_code in (400, 422), (reaction, form, answer.status_code)
        assert "<script>" not in answer.text
    shown = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))
    assert shown == {"promises": [], "arrangements": []}
    assert _fields(debtor) == before
    assert set(_statuses(backend, debtor).values()) == {"open"}


def test_a_portal_token_does_not_read_the_staff_view(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    path = f"{base_url}/api/v1/portal/debtors/{debtor.id}/plans"
    as_bearer = debtor.page.get(path, headers={"Authorization": f"Bearer {debtor.token}"})
    assert as_bearer.status_code == 401
    as_cookie = debtor.page.get(path, headers={"Cookie": f"procedo_session={debtor.token}"})
    assert as_cookie.status_code == 401


def test_the_shipped_arrangement_flow_reminds_before_an_instalment_and_ends_when_paid(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "De Korst", "email": "k@x.example"}
    )
    _publish(debtor, "payment-arrangement")
    ok(debtor.acme.http.put("/portal/settings", json=BOUNDS))
    # The first instalment is due tomorrow: its reminder (3 days before) is due at once.
    first = dt.date.today() + dt.timedelta(days=1)
    _post(debtor, "arrangement", {"instalments": "3", "first_date": first.isoformat()})
    _eventually(
        "no instalment reminder",
        lambda: _outbox(backend, debtor) == ["arrangement-confirmed", "instalment-reminder"],
    )
    for number, amount in (
        ("2026-0001", "100.00"),
        ("2026-0002", "250.50"),
        ("2026-0003", "42.10"),
    ):
        body = {"amount": amount, "paid_on": dt.date.today().isoformat(), "remittance": number}
        ok(debtor.acme.http.post("/payments", json=body), 201)

    def ended() -> bool:
        with backend.runtime.db.read() as session:
            statuses = session.scalars(
                sa.select(m.Instance.status).where(m.Instance.subject_id == uuid.UUID(debtor.id))
            ).all()
        return list(statuses) == ["completed"]

    _eventually("the flow did not end once all was paid", ended)
    assert _tasks(backend, debtor) == []
