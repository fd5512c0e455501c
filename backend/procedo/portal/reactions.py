"""What a debtor does on the portal: each reaction checked, stored with the debtor, and announced.

A reaction is one transaction: its ``portal_reactions`` row, a row in the debtor's
history and a subject event (``portal.copy_requested``, ``portal.paid_reported``,
``portal.arrangement_proposed``, ``portal.promise_made``) that starts the tenant's
flows for it, dispatched after the commit like every event (runtime/admin.py).
Anything wrong refuses the whole reaction with a message key: nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.portal import PortalReaction
from procedo.db.receivables import CENT, OpenItem
from procedo.ids import new_id
from procedo.portal import links, plans
from procedo.portal.settings import PortalSettingsOut, Reaction
from procedo.runtime.context import Outgoing, Runtime

MAX_PROOF: Final = 5 * 1024 * 1024
MAX_NOTE: Final = 1000
# The first bytes of the files a proof may be: PDF, PNG, JPEG.
MAGIC: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EVENTS: Final[dict[Reaction, str]] = {
    "copy": "copy_requested",
    "paid": "paid_reported",
    "arrangement": "arrangement_proposed",
    "promise": "promise_made",
}
# Sanity limits of the form itself; the tenant's bounds only decide "within bounds or not".
MAX_INSTALMENTS: Final = 60
HORIZON_DAYS: Final = 366
# Reactions a debtor may leave a day: each starts flows, so a stuck key or a script
# posting the form must not flood the tenant's worklists.
DAILY_LIMIT: Final = 20


class Refused(ValueError):
    """A reaction that cannot be taken; ``key`` names the message in portal/texts.py."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    number: str
    issue_date: dt.date
    due_date: dt.date
    open_amount: Decimal
    currency: str


@dataclass(frozen=True)
class Proof:
    content: bytes
    media_type: str


@dataclass
class Parsed:
    kind: Reaction
    item: Item | None
    data: dict[str, Any] = field(default_factory=dict)
    proof: Proof | None = None


def open_items(session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID) -> list[Item]:
    """The debtor's items not paid, with an amount open, oldest due first: all the page shows."""
    rows = session.execute(
        sa.select(
            OpenItem.id,
            OpenItem.number,
            OpenItem.issue_date,
            OpenItem.due_date,
            OpenItem.open_amount,
            OpenItem.currency,
        )
        .where(
            OpenItem.tenant_id == tenant_id,
            OpenItem.debtor_id == debtor_id,
            OpenItem.status != "paid",
            OpenItem.open_amount != 0,
        )
        .order_by(OpenItem.due_date, OpenItem.number)
    ).all()
    return [Item(*row) for row in rows]


def today(rt: Runtime, session: Session, tenant_id: uuid.UUID) -> dt.date:
    timezone, _days = rt.tenant_calendar(session, tenant_id)
    return rt.clock.now().astimezone(ZoneInfo(timezone)).date()


def proof_of(content: bytes) -> Proof:
    """A proof upload, refused when too large or not a PDF, PNG or JPEG by its own bytes."""
    if len(content) > MAX_PROOF:
        raise Refused("too_large")
    for magic, media_type in MAGIC:
        if content.startswith(magic):
            return Proof(content, media_type)
    raise Refused("wrong_type")


def _item(form: Mapping[str, str], items: Sequence[Item]) -> Item:
    # Only the debtor's own open items can be named: another debtor's or tenant's id,
    # a paid item or a made-up value is the same refusal.
    wanted = form.get("item", "")
    for item in items:
        if str(item.id) == wanted:
            return item
    raise Refused("bad_item")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Refused("bad_date") from None


def _note(form: Mapping[str, str]) -> str:
    note = form.get("note", "").strip()
    if len(note) > MAX_NOTE or any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t" for c in note
    ):
        raise Refused("bad_note")
    return note.replace("\r\n", "\n")


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def plan(total: Decimal, count: int, first: dt.date) -> list[tuple[dt.date, Decimal]]:
    """Monthly instalments from ``first``, equal to the cent; the last takes what is left."""
    share = (total / count).quantize(CENT, rounding="ROUND_DOWN")
    dates = [_months_after(first, n) for n in range(count)]
    amounts = [share] * (count - 1) + [total - share * (count - 1)]
    return list(zip(dates, amounts, strict=True))


def _months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def parse(
    kind: Reaction,
    form: Mapping[str, str],
    items: Sequence[Item],
    settings: PortalSettingsOut,
    now: dt.date,
    proof: bytes | None = None,
) -> Parsed:
    """Check a reaction's form against the debtor's items and the tenant's settings."""
    if kind not in settings.reactions:
        raise Refused("not_offered")
    note = _note(form)
    data: dict[str, Any] = {"note": note} if note else {}
    if kind in ("copy", "paid"):
        item = _item(form, items)
        data |= {"open_item": item.number, "open_item_id": str(item.id)}
        parsed = Parsed(kind, item, data)
        if kind == "paid":
            paid_on = form.get("paid_on", "").strip()
            if paid_on:
                day = _date(paid_on)
                if day > now or day < now - dt.timedelta(days=HORIZON_DAYS):
                    raise Refused("date_future" if day > now else "bad_date")
                data["paid_on"] = day.isoformat()
            if proof:
                parsed.proof = proof_of(proof)
                data |= {"proof": parsed.proof.media_type, "proof_bytes": len(proof)}
        return parsed
    if not items or sum(i.open_amount for i in items) <= 0:
        raise Refused("nothing_open")
    total = sum((i.open_amount for i in items), Decimal("0.00"))
    currency = items[0].currency
    numbers = [i.number for i in items]
    if kind == "promise":
        pay_on = _date(form.get("pay_on", ""))
        if not now <= pay_on <= now + dt.timedelta(days=settings.max_term_days):
            raise Refused("date_range")
        check_on = pay_on + dt.timedelta(days=settings.promise_grace_days)
        data |= {
            "pay_on": pay_on.isoformat(),
            "check_on": check_on.isoformat(),
            "amount": _money(total),
            "currency": currency,
            "open_items": numbers,
        }
        return Parsed(kind, None, data)
    try:
        count = int(form.get("instalments", "").strip())
    except ValueError:
        raise Refused("bad_number") from None
    if not 2 <= count <= MAX_INSTALMENTS:
        raise Refused("bad_number")
    first = _date(form.get("first_date", ""))
    if not now <= first <= now + dt.timedelta(days=HORIZON_DAYS):
        raise Refused("date_range")
    schedule = plan(total, count, first)
    exceeded = []
    if count > settings.max_instalments:
        exceeded.append("max_instalments")
    if min(amount for _, amount in schedule) < Decimal(settings.min_instalment_amount):
        exceeded.append("min_instalment_amount")
    if (schedule[-1][0] - now).days > settings.max_term_days:
        exceeded.append("max_term_days")
    data |= {
        "instalments": count,
        "first_date": first.isoformat(),
        "amount": _money(total),
        "currency": currency,
        "open_items": numbers,
        "plan": [{"due_date": d.isoformat(), "amount": _money(a)} for d, a in schedule],
        "within_bounds": not exceeded,
        "exceeded": exceeded,
    }
    return Parsed(kind, None, data)


def record(
    session: Session, out: Outgoing, link: links.Link, parsed: Parsed, now: dt.datetime
) -> PortalReaction:
    """Store the reaction, note it in the debtor's history and raise its event."""
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(PortalReaction)
        .where(
            PortalReaction.debtor_id == link.debtor_id,
            PortalReaction.created_at > now - dt.timedelta(days=1),
        )
    )
    if (recent or 0) >= DAILY_LIMIT:
        raise Refused("too_many")
    kind = EVENTS[parsed.kind]
    reaction = PortalReaction(
        id=new_id(),
        tenant_id=link.tenant_id,
        debtor_id=link.debtor_id,
        link_id=link.id,
        open_item_id=parsed.item.id if parsed.item else None,
        kind=kind,
        data=parsed.data,
        proof=parsed.proof.content if parsed.proof else None,
        proof_type=parsed.proof.media_type if parsed.proof else None,
        created_at=now,
    )
    session.add(reaction)
    session.flush()
    # The promise or arrangement itself, and the debtor's fields the flows read, are in
    # place before the event starts them.
    if parsed.kind == "promise":
        plans.take_promise(session, link.tenant_id, link.debtor_id, reaction.id, parsed.data, now)
    elif parsed.kind == "arrangement":
        plans.take_arrangement(
            session, link.tenant_id, link.debtor_id, reaction.id, parsed.data, now
        )
    data = {"reaction": str(reaction.id), **parsed.data}
    links.log(
        session, link.tenant_id, link.debtor_id, f"portal.{kind}", now, links.PORTAL_ACTOR, data
    )
    event = m.Event(
        tenant_id=link.tenant_id,
        subject_id=link.debtor_id,
        name=f"portal.{kind}",
        data=data,
        created_at=now,
    )
    session.add(event)
    session.flush()
    out.add("event", event.id)
    return reaction
