"""M5: staff accept (perhaps adjusted) or decline an arrangement outside the bounds in Procedo;
the review task completes and the shipped flow confirms it, reminds and breaks it as one
within the bounds, or tells the debtor it was declined."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.db import models as m
from tests.api_helpers import office, ok
from tests.portal_helpers import Debtor, debtor_with_link, events
from tests.test_portal_plans import (
    BOUNDS,
    _eventually,
    _fields,
    _outbox,
    _post,
    _publish,
    _statuses,
    _sweep_on,
    _tasks,
)

TODAY = dt.date.today()


def _proposed_outside(backend: Backend, base_url: str, flow: bool = True) -> tuple[Debtor, str]:
    """A debtor who proposed 6 instalments (the bounds allow 3); the arrangement's id."""
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "De Korst", "email": "k@x.example"}
    )
    if flow:
        _publish(debtor, "payment-arrangement")
    ok(debtor.acme.http.put("/portal/settings", json={**BOUNDS, "promise_grace_days": 2}))
    first = TODAY + dt.timedelta(days=7)
    _post(debtor, "arrangement", {"instalments": "6", "first_date": first.isoformat()})
    if flow:
        _eventually(
            "no review task",
            lambda: "Review the payment arrangement of De Korst" in _tasks(backend, debtor),
        )
    (arrangement,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert arrangement["status"] == "review"
    return debtor, arrangement["id"]


def _history(backend: Backend, debtor: Debtor, kind: str) -> list[m.History]:
    with backend.runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(m.History).where(
                    m.History.subject_id == uuid.UUID(debtor.id), m.History.kind == kind
                )
            )
        )


def _decide(debtor: Debtor, arrangement: str, verb: str, body: dict[str, Any]) -> Any:
    return debtor.acme.http.post(f"/portal/arrangements/{arrangement}/{verb}", json=body)


def test_accepting_adjusted_runs_it_as_one_within_the_bounds(
    backend: Backend, base_url: str
) -> None:
    debtor, arrangement = _proposed_outside(backend, base_url)
    first = TODAY + dt.timedelta(days=10)
    body = {"instalments": 3, "first_date": first.isoformat()}
    accepted = ok(_decide(debtor, arrangement, "accept", body))
    assert accepted["status"] == "active"
    assert accepted["decided_by"] == debtor.acme.email
    assert accepted["decided_at"] is not None
    plan = [(i["due_date"], i["amount"]) for i in accepted["instalments"]]
    assert plan[0] == (first.isoformat(), "130.86")
    assert [a for _d, a in plan] == ["130.86", "130.86", "130.88"]
    # What an arrangement within the bounds gets: invoices in the plan, the debtor's fields.
    assert set(_statuses(backend, debtor).values()) == {"payment_plan"}
    fields = _fields(debtor)
    assert fields["arrangement_status"] == "active"
    assert fields["next_instalment_date"] == first.isoformat()
    assert f"1. {first.isoformat()}: 130.86 EUR" in fields["arrangement_plan"]
    # The review task is done and the flow confirms the agreed plan.
    _eventually(
        "no confirmation after the review",
        lambda: _outbox(backend, debtor) == ["arrangement-in-review", "arrangement-confirmed"],
    )
    assert _tasks(backend, debtor) == []
    (row,) = _history(backend, debtor, "portal.arrangement_accepted")
    assert row.actor == debtor.acme.email
    assert row.data["adjusted"] is True
    assert len(row.data["proposed"]) == 6
    assert [e.name for e in events(backend, "portal.arrangement_accepted")] == [
        "portal.arrangement_accepted"
    ]
    # Deciding twice: 409, naming the state it is in.
    again = _decide(debtor, arrangement, "accept", {})
    assert again.status_code == 409
    assert "is active" in again.json()["detail"]
    declined = _decide(debtor, arrangement, "decline", {"reason": "changed my mind"})
    assert declined.status_code == 409
    # A missed instalment breaks it as it breaks one within the bounds.
    assert _sweep_on(backend, first + dt.timedelta(days=3)) == 1
    assert _fields(debtor)["arrangement_status"] == "broken"
    assert set(_statuses(backend, debtor).values()) == {"open"}


def test_declining_tells_the_debtor_and_keeps_the_reason(backend: Backend, base_url: str) -> None:
    debtor, arrangement = _proposed_outside(backend, base_url)
    missing = _decide(debtor, arrangement, "decline", {"reason": "  "})
    assert missing.status_code == 422
    assert "reason is required" in missing.json()["detail"]
    reason = "Six months is too long for this amount; offered three by phone."
    declined = ok(_decide(debtor, arrangement, "decline", {"reason": reason}))
    assert declined["status"] == "declined"
    assert declined["decision_reason"] == reason
    assert declined["ended_at"] is not None
    assert set(_statuses(backend, debtor).values()) == {"open"}
    assert _fields(debtor)["arrangement_status"] == "declined"
    _eventually(
        "the debtor was not told",
        lambda: "arrangement-declined" in _outbox(backend, debtor),
    )
    assert "arrangement-confirmed" not in _outbox(backend, debtor)
    assert _tasks(backend, debtor) == []
    (row,) = _history(backend, debtor, "portal.arrangement_declined")
    assert (row.actor, row.data["reason"]) == (debtor.acme.email, reason)
    again = _decide(debtor, arrangement, "accept", {})
    assert again.status_code == 409
    assert "is declined by" in again.json()["detail"]


def test_an_adjustment_outside_the_sanity_limits_is_refused_and_changes_nothing(
    backend: Backend, base_url: str
) -> None:
    debtor, arrangement = _proposed_outside(backend, base_url, flow=False)
    refused = [
        ({"instalments": 1}, "between 2 and 60"),
        ({"instalments": 61}, "between 2 and 60"),
        ({"first_date": (TODAY - dt.timedelta(days=1)).isoformat()}, "first date must be"),
        ({"first_date": (TODAY + dt.timedelta(days=400)).isoformat()}, "first date must be"),
    ]
    for body, words in refused:
        answer = _decide(debtor, arrangement, "accept", body)
        assert answer.status_code == 422, (body, answer.text)
        assert words in answer.json()["detail"]
    assert _decide(debtor, arrangement, "accept", {"instalments": "three"}).status_code == 400
    (shown,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert (shown["status"], len(shown["instalments"])) == ("review", 6)
    assert set(_statuses(backend, debtor).values()) == {"open"}
    # As proposed (no flow published, so no task): it runs with the debtor's own plan.
    accepted = ok(_decide(debtor, arrangement, "accept", {}))
    assert (accepted["status"], len(accepted["instalments"])) == ("active", 6)
    assert _history(backend, debtor, "portal.arrangement_accepted")[0].data["adjusted"] is False


def test_only_the_tenants_own_staff_may_decide(backend: Backend, base_url: str) -> None:
    debtor, arrangement = _proposed_outside(backend, base_url)
    other = office(backend.runtime, base_url, "Other Office")
    path = f"/portal/arrangements/{arrangement}/accept"
    assert other.http.post(path, json={}).status_code == 404
    unknown = debtor.acme.http.post(f"/portal/arrangements/{uuid.uuid4()}/accept", json={})
    assert unknown.status_code == 404
    # A portal token is no credential on the API.
    api_path = f"{base_url}/api/v1{path}"
    as_bearer = debtor.page.post(
        api_path, json={}, headers={"Authorization": f"Bearer {debtor.token}"}
    )
    assert as_bearer.status_code == 401
    # A member outside the review task's role may not decide.
    rt = backend.runtime
    tenant = debtor.acme.tenant_id
    user, _password = accounts.add_user(rt, tenant, "m@acme.example", access="member")
    _row, token = accounts.create_token(rt, tenant, user.id, "member")
    member = debtor.acme.http.post(path, json={}, headers={"Authorization": f"Bearer {token}"})
    assert member.status_code == 403
    (shown,) = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/plans"))["arrangements"]
    assert shown["status"] == "review"
    assert "Review the payment arrangement of De Korst" in _tasks(backend, debtor)
