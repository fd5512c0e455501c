"""Staff decide on an arrangement outside the bounds (M5): accept it, perhaps adjusted, or decline.

Accepting makes it what an arrangement within the bounds is from the start (plans.py):
``active``, its invoices in ``payment_plan``, the debtor's fields set, payments spread
over it, broken by the portal pass after a missed instalment. Staff may change the
number of instalments and the first date within the portal form's own limits; the plan
is then made again as the portal makes it (monthly, equal to the cent). Declining ends
it (``declined``) with a reason for the file. Either is one transaction with a row in
the debtor's history (who, when, what) and an event (``portal.arrangement_accepted`` or
``portal.arrangement_declined``); then the open review tasks of the proposal are
completed with the outcome ``agreed`` or ``declined``, so the tenant's flow goes on as
for an arrangement within the bounds (confirmation, reminders) or tells the debtor.
A second decision is refused (409) naming the state the arrangement is in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.portal_plans import ArrangementInstalment, PaymentArrangement
from procedo.portal import links, plans, reactions
from procedo.runtime import admin
from procedo.runtime.context import NotFound, Outgoing, Refusal, Runtime

# The outcome ports of the review task the decision completes (payment-arrangement.json).
PORTS: Final = {True: "agreed", False: "declined"}
MAX_REASON: Final = 1000


class Invalid(ValueError):
    """A decision that cannot be taken as asked; the message says what to change (422)."""


@dataclass(frozen=True)
class Decision:
    accept: bool
    instalments: int | None = None
    first_date: dt.date | None = None
    reason: str = ""


def _locked(
    session: Session, tenant_id: uuid.UUID, arrangement_id: uuid.UUID
) -> PaymentArrangement:
    arrangement = session.scalars(
        sa.select(PaymentArrangement)
        .where(PaymentArrangement.id == arrangement_id, PaymentArrangement.tenant_id == tenant_id)
        .with_for_update()
    ).first()
    if arrangement is None:
        raise NotFound(f"no payment arrangement {arrangement_id} in this tenant")
    if arrangement.status != "review":
        when = f" on {arrangement.decided_at:%Y-%m-%d %H:%M} UTC" if arrangement.decided_at else ""
        by = f" by {arrangement.decided_by}" if arrangement.decided_by else ""
        raise Refusal(
            f"the arrangement is {arrangement.status}{by}{when}, not in review: "
            "only an arrangement in review can be accepted or declined"
        )
    return arrangement


def _reason(text: str) -> str:
    reason = text.strip().replace("\r\n", "\n")
    if not reason:
        raise Invalid("a reason is required to decline an arrangement")
    if len(reason) > MAX_REASON:
        raise Invalid(f"the reason is too long: at most {MAX_REASON} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t" for c in reason):
        raise Invalid("the reason contains control characters")
    return reason


def _schedule(
    arrangement: PaymentArrangement,
    current: list[ArrangementInstalment],
    decision: Decision,
    today: dt.date,
) -> list[tuple[dt.date, Any]] | None:
    """The new plan when staff changed it, None to keep the proposed one; Invalid if unusable."""
    count = decision.instalments if decision.instalments is not None else len(current)
    first = decision.first_date or current[0].due_date
    if count == len(current) and first == current[0].due_date:
        if first < today:
            raise Invalid(
                f"the first instalment was due on {first.isoformat()}, before today "
                f"({today.isoformat()}): choose a new first date"
            )
        return None
    if not 2 <= count <= reactions.MAX_INSTALMENTS:
        raise Invalid(f"instalments must be between 2 and {reactions.MAX_INSTALMENTS}")
    latest = today + dt.timedelta(days=reactions.HORIZON_DAYS)
    if not today <= first <= latest:
        raise Invalid(
            f"the first date must be between today ({today.isoformat()}) and {latest.isoformat()}"
        )
    return list(reactions.plan(arrangement.amount, count, first))


def _accept(
    session: Session,
    out: Outgoing,
    arrangement: PaymentArrangement,
    decision: Decision,
    today: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    current = plans.instalments_of(session, arrangement.id)
    proposed = [(i.due_date.isoformat(), plans.money(i.amount)) for i in current]
    schedule = _schedule(arrangement, current, decision, today)
    if schedule is not None:
        session.execute(
            sa.delete(ArrangementInstalment).where(
                ArrangementInstalment.arrangement_id == arrangement.id
            )
        )
        session.add_all(
            ArrangementInstalment(
                tenant_id=arrangement.tenant_id,
                arrangement_id=arrangement.id,
                number=n,
                due_date=due,
                amount=amount,
                paid_amount=plans.ZERO,
            )
            for n, (due, amount) in enumerate(schedule, start=1)
        )
        session.flush()
    plans.activate(session, out, arrangement, now)
    agreed = plans.instalments_of(session, arrangement.id)
    return {
        "plan": [
            {"due_date": i.due_date.isoformat(), "amount": plans.money(i.amount)} for i in agreed
        ],
        "adjusted": schedule is not None,
        "proposed": [{"due_date": d, "amount": a} for d, a in proposed],
    }


def decide(
    rt: Runtime,
    tenant_id: uuid.UUID,
    arrangement_id: uuid.UUID,
    decision: Decision,
    actor: str,
) -> None:
    """Accept or decline an arrangement in review; then its review tasks are completed."""
    reason = "" if decision.accept else _reason(decision.reason)
    now = rt.clock.now()
    with rt.transaction() as (session, out):
        arrangement = _locked(session, tenant_id, arrangement_id)
        today = reactions.today(rt, session, tenant_id)
        if decision.accept:
            data = _accept(session, out, arrangement, decision, today, now)
            kind = "arrangement_accepted"
        else:
            plans.decline(session, arrangement, now)
            arrangement.decision_reason = reason
            data, kind = {"reason": reason}, "arrangement_declined"
        arrangement.decided_at, arrangement.decided_by = now, actor
        data = {"arrangement": str(arrangement.id), **data}
        links.log(session, tenant_id, arrangement.debtor_id, f"portal.{kind}", now, actor, data)
        plans.raise_event(
            session, out, tenant_id, arrangement.debtor_id, f"portal.{kind}", data, now
        )
        since, debtor_id = arrangement.created_at, arrangement.debtor_id
    for task_id in review_tasks(rt, tenant_id, debtor_id, since):
        # Completed by someone else meanwhile, or its flow moved on: nothing more to do.
        with contextlib.suppress(Refusal):
            admin.complete_task(rt, tenant_id, task_id, PORTS[decision.accept], (), actor)


def review_tasks(
    rt: Runtime, tenant_id: uuid.UUID, debtor_id: uuid.UUID, since: dt.datetime
) -> list[uuid.UUID]:
    """The debtor's open tasks with the review's outcomes, opened since the proposal."""
    with rt.db.read() as session:
        rows = session.execute(
            sa.select(m.Task.id, m.Task.outcomes).where(
                m.Task.tenant_id == tenant_id,
                m.Task.subject_id == debtor_id,
                m.Task.status == "open",
                m.Task.created_at >= since,
            )
        ).all()
    wanted = set(PORTS.values())
    return [
        task_id
        for task_id, outcomes in rows
        if wanted <= {str(o.get("port")) if isinstance(o, dict) else str(o) for o in outcomes}
    ]


def arrangement_debtor(
    rt: Runtime, tenant_id: uuid.UUID, arrangement_id: uuid.UUID
) -> tuple[uuid.UUID, dt.datetime]:
    """The debtor and creation time of the tenant's arrangement (404 otherwise)."""
    with rt.db.read() as session:
        row = session.execute(
            sa.select(PaymentArrangement.debtor_id, PaymentArrangement.created_at).where(
                PaymentArrangement.id == arrangement_id, PaymentArrangement.tenant_id == tenant_id
            )
        ).first()
    if row is None:
        raise NotFound(f"no payment arrangement {arrangement_id} in this tenant")
    return row[0], row[1]
