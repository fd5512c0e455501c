"""Payment arrangements (M5) and promises to pay (M3): recorded, kept up to date, ended.

A reaction on the portal records its arrangement or promise in the same transaction
(``take``); the debtor's stored fields the flows read are set there too, before the
reaction's event starts them:

- ``promised_payment_date``, ``promise_check_date`` (the promised date plus the
  tenant's grace days) and ``promise_followup`` (the tenant's ``broken_promise``
  setting, ``task`` or ``continue``): while ``promise_check_date`` is today or later,
  the shipped dunning filters and procedure waits leave the debtor alone;
- ``arrangement_status`` (``review``, ``active``, ``broken``, ``completed``),
  ``next_instalment_date``, ``next_instalment_amount`` and ``arrangement_plan`` (the
  plan as lines of text, for the confirmation). An active arrangement's invoices get
  the item status ``payment_plan`` (the computed ``payment_plan_items`` counts them).

Payments reduce instalments: after a batch of payments is matched,
``after_payments`` spreads what the arrangement's invoices lost of their open amount
over its instalments, oldest first (so it is right however the money came in).
``sweep`` (the scheduler, every few minutes) breaks an arrangement whose instalment
is unpaid ``promise_grace_days`` after its due date (``portal.arrangement_broken``,
invoices back to ``open``) and ends promises whose check date has passed (kept or
broken; what staff see of that is the flow's business).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.portal_plans import ArrangementInstalment, PaymentArrangement, PaymentPromise
from procedo.db.receivables import OpenItem
from procedo.portal import settings as portal_settings
from procedo.runtime.context import Outgoing, Runtime

ZERO = Decimal("0.00")
# Fields of the debtor the portal keeps (declared in subject_types/debtor.json).
ARRANGEMENT_FIELDS = (
    "arrangement_status",
    "next_instalment_date",
    "next_instalment_amount",
    "arrangement_plan",
)


def raise_event(
    session: Session,
    out: Outgoing,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    name: str,
    data: dict[str, Any],
    now: dt.datetime,
) -> None:
    event = m.Event(tenant_id=tenant_id, subject_id=debtor_id, name=name, data=data, created_at=now)
    session.add(event)
    session.flush()
    out.add("event", event.id)


def set_fields(
    session: Session, debtor_id: uuid.UUID, values: dict[str, Any], now: dt.datetime
) -> None:
    """Merge ``values`` into the debtor's stored fields (None removes one); a new version."""
    fields = session.execute(
        sa.select(m.Subject.fields).where(m.Subject.id == debtor_id).with_for_update()
    ).scalar_one()
    merged = {k: v for k, v in {**fields, **values}.items() if v is not None}
    if merged == fields:
        return
    session.execute(
        sa.update(m.Subject)
        .where(m.Subject.id == debtor_id)
        .values(fields=merged, version=m.Subject.version + 1, updated_at=now)
    )


def _mark_items(
    session: Session, debtor_id: uuid.UUID, numbers: Sequence[str], old: str, new: str
) -> None:
    session.execute(
        sa.update(OpenItem)
        .where(
            OpenItem.debtor_id == debtor_id,
            OpenItem.number.in_(list(numbers)),
            OpenItem.status == old,
        )
        .values(status=new)
    )


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def take_promise(
    session: Session,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    reaction_id: uuid.UUID,
    data: dict[str, Any],
    now: dt.datetime,
) -> PaymentPromise:
    """Record a promise (a newer one replaces the running one) and pause the debtor's dunning."""
    session.execute(
        sa.update(PaymentPromise)
        .where(PaymentPromise.debtor_id == debtor_id, PaymentPromise.status == "active")
        .values(status="replaced", ended_at=now)
    )
    promise = PaymentPromise(
        tenant_id=tenant_id,
        debtor_id=debtor_id,
        reaction_id=reaction_id,
        status="active",
        pay_on=dt.date.fromisoformat(data["pay_on"]),
        check_on=dt.date.fromisoformat(data["check_on"]),
        amount=Decimal(data["amount"]),
        currency=data["currency"],
        open_items=list(data["open_items"]),
        created_at=now,
    )
    session.add(promise)
    followup = portal_settings.read(session, tenant_id).broken_promise
    set_fields(
        session,
        debtor_id,
        {
            "promised_payment_date": data["pay_on"],
            "promise_check_date": data["check_on"],
            "promise_followup": followup,
        },
        now,
    )
    return promise


def _plan_text(instalments: Iterable[ArrangementInstalment], currency: str) -> str:
    return "\n".join(
        f"{i.number}. {i.due_date.isoformat()}: {money(i.amount)} {currency}" for i in instalments
    )


def take_arrangement(
    session: Session,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    reaction_id: uuid.UUID,
    data: dict[str, Any],
    now: dt.datetime,
) -> PaymentArrangement:
    """Record a proposed arrangement with its plan: active within the bounds, else for review."""
    running = session.scalars(
        sa.select(PaymentArrangement).where(
            PaymentArrangement.debtor_id == debtor_id,
            PaymentArrangement.status.in_(("active", "review")),
        )
    ).all()
    for old in running:
        if old.status == "active":
            _mark_items(session, debtor_id, old.open_items, "payment_plan", "open")
        old.status, old.ended_at = "replaced", now
    within = bool(data["within_bounds"])
    arrangement = PaymentArrangement(
        tenant_id=tenant_id,
        debtor_id=debtor_id,
        reaction_id=reaction_id,
        status="active" if within else "review",
        amount=Decimal(data["amount"]),
        currency=data["currency"],
        open_items=list(data["open_items"]),
        exceeded=list(data["exceeded"]),
        created_at=now,
    )
    session.add(arrangement)
    session.flush()
    instalments = [
        ArrangementInstalment(
            tenant_id=tenant_id,
            arrangement_id=arrangement.id,
            number=n,
            due_date=dt.date.fromisoformat(step["due_date"]),
            amount=Decimal(step["amount"]),
            paid_amount=ZERO,
        )
        for n, step in enumerate(data["plan"], start=1)
    ]
    session.add_all(instalments)
    if within:
        _mark_items(session, debtor_id, arrangement.open_items, "open", "payment_plan")
    first = instalments[0]
    set_fields(
        session,
        debtor_id,
        {
            "arrangement_status": arrangement.status,
            "next_instalment_date": first.due_date.isoformat() if within else None,
            "next_instalment_amount": money(first.amount) if within else None,
            "arrangement_plan": _plan_text(instalments, arrangement.currency),
        },
        now,
    )
    session.flush()
    return arrangement


def _open_of(session: Session, debtor_id: uuid.UUID, numbers: Sequence[str]) -> Decimal:
    """What is still open of the named invoices of the debtor."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OpenItem.open_amount), 0)).where(
            OpenItem.debtor_id == debtor_id,
            OpenItem.number.in_(list(numbers)),
            OpenItem.status != "paid",
        )
    )
    return Decimal(total or 0)


def instalments_of(session: Session, arrangement_id: uuid.UUID) -> list[ArrangementInstalment]:
    return list(
        session.scalars(
            sa.select(ArrangementInstalment)
            .where(ArrangementInstalment.arrangement_id == arrangement_id)
            .order_by(ArrangementInstalment.number)
        )
    )


def _settle(
    session: Session, out: Outgoing, arrangement: PaymentArrangement, now: dt.datetime
) -> ArrangementInstalment | None:
    """Spread what was paid over the instalments, oldest first; the first unpaid, or None
    once all are paid (the arrangement is completed then, and says so)."""
    paid = max(
        arrangement.amount - _open_of(session, arrangement.debtor_id, arrangement.open_items), ZERO
    )
    instalments = instalments_of(session, arrangement.id)
    pending: ArrangementInstalment | None = None
    for instalment in instalments:
        share = min(instalment.amount, paid)
        paid -= share
        if share != instalment.paid_amount:
            instalment.paid_amount = share
        full = share == instalment.amount
        if full and instalment.paid_at is None:
            instalment.paid_at = now
        elif not full:
            instalment.paid_at = None
            pending = pending or instalment
    values: dict[str, Any]
    if pending is None:
        arrangement.status, arrangement.ended_at = "completed", now
        values = {"arrangement_status": "completed"}
        values |= {"next_instalment_date": None, "next_instalment_amount": None}
        raise_event(
            session,
            out,
            arrangement.tenant_id,
            arrangement.debtor_id,
            "portal.arrangement_completed",
            {"arrangement": str(arrangement.id), "amount": money(arrangement.amount)},
            now,
        )
    else:
        values = {
            "next_instalment_date": pending.due_date.isoformat(),
            "next_instalment_amount": money(pending.amount - pending.paid_amount),
        }
    set_fields(session, arrangement.debtor_id, values, now)
    return pending


def activate(
    session: Session, out: Outgoing, arrangement: PaymentArrangement, now: dt.datetime
) -> None:
    """An arrangement staff accepted after review runs as one within the bounds would."""
    arrangement.status = "active"
    _mark_items(session, arrangement.debtor_id, arrangement.open_items, "open", "payment_plan")
    plan = _plan_text(instalments_of(session, arrangement.id), arrangement.currency)
    set_fields(
        session,
        arrangement.debtor_id,
        {"arrangement_status": "active", "arrangement_plan": plan},
        now,
    )
    _settle(session, out, arrangement, now)  # what was paid since the proposal counts


def decline(session: Session, arrangement: PaymentArrangement, now: dt.datetime) -> None:
    """Staff declined an arrangement in review: it ends; its invoices were never in a plan."""
    arrangement.status, arrangement.ended_at = "declined", now
    values: dict[str, Any] = {"arrangement_status": "declined"}
    values |= {"next_instalment_date": None, "next_instalment_amount": None}
    set_fields(session, arrangement.debtor_id, values, now)


def after_payments(
    session: Session,
    out: Outgoing,
    tenant_id: uuid.UUID,
    debtor_ids: Iterable[uuid.UUID],
    now: dt.datetime,
) -> None:
    """Payments were matched to these debtors' items: their arrangements and promises follow."""
    wanted = list(debtor_ids)
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for arrangement in session.scalars(
            sa.select(PaymentArrangement).where(
                PaymentArrangement.tenant_id == tenant_id,
                PaymentArrangement.debtor_id.in_(chunk),
                PaymentArrangement.status == "active",
            )
        ):
            _settle(session, out, arrangement, now)
        for promise in session.scalars(
            sa.select(PaymentPromise).where(
                PaymentPromise.tenant_id == tenant_id,
                PaymentPromise.debtor_id.in_(chunk),
                PaymentPromise.status == "active",
            )
        ):
            if _open_of(session, promise.debtor_id, promise.open_items) <= 0:
                promise.status, promise.ended_at = "kept", now


class _Tenants:
    """Each tenant's date and grace days, read once per sweep."""

    def __init__(self, rt: Runtime, session: Session) -> None:
        self.rt = rt
        self.session = session
        self._today: dict[uuid.UUID, dt.date] = {}
        self._grace: dict[uuid.UUID, int] = {}

    def today(self, tenant_id: uuid.UUID) -> dt.date:
        if tenant_id not in self._today:
            timezone, _days = self.rt.tenant_calendar(self.session, tenant_id)
            self._today[tenant_id] = self.rt.clock.now().astimezone(ZoneInfo(timezone)).date()
        return self._today[tenant_id]

    def grace(self, tenant_id: uuid.UUID) -> int:
        if tenant_id not in self._grace:
            read = portal_settings.read(self.session, tenant_id)
            self._grace[tenant_id] = read.promise_grace_days
        return self._grace[tenant_id]


def sweep(rt: Runtime) -> int:
    """Break arrangements with a missed instalment; end promises past their check date.

    Returns how many arrangements and promises changed state.
    """
    changed = 0
    now = rt.clock.now()
    with rt.transaction() as (session, out):
        tenants = _Tenants(rt, session)
        for arrangement in session.scalars(
            sa.select(PaymentArrangement).where(PaymentArrangement.status == "active")
        ).all():
            pending = _settle(session, out, arrangement, now)
            if pending is None:
                changed += 1
                continue
            grace = dt.timedelta(days=tenants.grace(arrangement.tenant_id))
            if pending.due_date + grace < tenants.today(arrangement.tenant_id):
                _break(session, out, arrangement, pending, now)
                changed += 1
        for promise in session.scalars(
            sa.select(PaymentPromise).where(PaymentPromise.status == "active")
        ).all():
            if promise.check_on >= tenants.today(promise.tenant_id):
                continue
            paid = _open_of(session, promise.debtor_id, promise.open_items) <= 0
            promise.status, promise.ended_at = ("kept" if paid else "broken"), now
            changed += 1
    return changed


def _break(
    session: Session,
    out: Outgoing,
    arrangement: PaymentArrangement,
    missed: ArrangementInstalment,
    now: dt.datetime,
) -> None:
    arrangement.status, arrangement.ended_at = "broken", now
    _mark_items(session, arrangement.debtor_id, arrangement.open_items, "payment_plan", "open")
    set_fields(
        session,
        arrangement.debtor_id,
        {
            "arrangement_status": "broken",
            "next_instalment_date": None,
            "next_instalment_amount": None,
        },
        now,
    )
    raise_event(
        session,
        out,
        arrangement.tenant_id,
        arrangement.debtor_id,
        "portal.arrangement_broken",
        {
            "arrangement": str(arrangement.id),
            "instalment": missed.number,
            "due_date": missed.due_date.isoformat(),
            "amount": money(missed.amount),
            "paid_amount": money(missed.paid_amount),
        },
        now,
    )


@dataclass(frozen=True)
class InstalmentView:
    number: int
    due_date: dt.date
    amount: Decimal
    paid_amount: Decimal
    paid_at: dt.datetime | None


@dataclass(frozen=True)
class ArrangementView:
    id: uuid.UUID
    status: str
    amount: Decimal
    currency: str
    open_items: list[str]
    exceeded: list[str]
    created_at: dt.datetime
    ended_at: dt.datetime | None
    instalments: list[InstalmentView]
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None


@dataclass(frozen=True)
class PromiseView:
    id: uuid.UUID
    status: str
    pay_on: dt.date
    check_on: dt.date
    amount: Decimal
    currency: str
    open_items: list[str]
    created_at: dt.datetime
    ended_at: dt.datetime | None


def activity(
    session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID
) -> tuple[list[PromiseView], list[ArrangementView]]:
    """The debtor's promises and arrangements, newest first, each arrangement with its plan."""
    promises = [
        PromiseView(
            p.id,
            p.status,
            p.pay_on,
            p.check_on,
            p.amount,
            p.currency,
            list(p.open_items),
            p.created_at,
            p.ended_at,
        )
        for p in session.scalars(
            sa.select(PaymentPromise)
            .where(PaymentPromise.tenant_id == tenant_id, PaymentPromise.debtor_id == debtor_id)
            .order_by(PaymentPromise.created_at.desc(), PaymentPromise.id.desc())
        )
    ]
    arrangements = session.scalars(
        sa.select(PaymentArrangement)
        .where(PaymentArrangement.tenant_id == tenant_id, PaymentArrangement.debtor_id == debtor_id)
        .order_by(PaymentArrangement.created_at.desc(), PaymentArrangement.id.desc())
    ).all()
    plans: dict[uuid.UUID, list[InstalmentView]] = defaultdict(list)
    if arrangements:
        for i in session.scalars(
            sa.select(ArrangementInstalment)
            .where(ArrangementInstalment.arrangement_id.in_([a.id for a in arrangements]))
            .order_by(ArrangementInstalment.number)
        ):
            plans[i.arrangement_id].append(
                InstalmentView(i.number, i.due_date, i.amount, i.paid_amount, i.paid_at)
            )
    return promises, [
        ArrangementView(
            a.id,
            a.status,
            a.amount,
            a.currency,
            list(a.open_items),
            list(a.exceeded),
            a.created_at,
            a.ended_at,
            plans[a.id],
            a.decided_at,
            a.decided_by,
            a.decision_reason,
        )
        for a in arrangements
    ]
