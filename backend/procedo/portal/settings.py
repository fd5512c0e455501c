"""What a tenant lets its debtors do on the portal (M6), with bounds and its own texts.

No row means the defaults below. Read by the page on every request (one row by
primary key) and by the reactions, which check the bounds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db.portal import PortalSettings

Reaction = Literal["copy", "paid", "arrangement", "promise"]
ALL_REACTIONS: tuple[Reaction, ...] = ("copy", "paid", "arrangement", "promise")
Language = Literal["nl", "de", "en"]
# What follows a promise not kept by its check date: a task for staff, or nothing (the
# pause lapses and the tenant's standard dunning and procedures go on).
BrokenPromise = Literal["task", "continue"]


class Texts(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The tenant's words on the page; empty: Procedo's own. Shown as text, never as HTML."""

    intro: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    new_link: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class PortalSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    reactions: list[Reaction] = msgspec.field(default_factory=lambda: list(ALL_REACTIONS))
    max_instalments: Annotated[int, msgspec.Meta(ge=1, le=60)] = 3
    # A decimal string, as payments take it ("50.00").
    min_instalment_amount: Annotated[str, msgspec.Meta(pattern=r"^\d{1,12}(\.\d{1,2})?$")] = "50.00"
    max_term_days: Annotated[int, msgspec.Meta(ge=1, le=1830)] = 90
    promise_grace_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 2
    broken_promise: BrokenPromise = "task"
    link_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 30
    texts: dict[Language, Texts] = {}


class PortalSettingsOut(PortalSettingsIn, kw_only=True):
    updated_at: dt.datetime | None = None
    updated_by: str = ""


DEFAULTS = PortalSettingsIn()


def read(session: Session, tenant_id: uuid.UUID) -> PortalSettingsOut:
    row = session.get(PortalSettings, tenant_id)
    if row is None:
        return msgspec.convert(msgspec.to_builtins(DEFAULTS), PortalSettingsOut)
    return PortalSettingsOut(
        reactions=list(row.reactions),
        max_instalments=row.max_instalments,
        min_instalment_amount=str(row.min_instalment_amount),
        max_term_days=row.max_term_days,
        promise_grace_days=row.promise_grace_days,
        broken_promise=msgspec.convert(row.broken_promise, BrokenPromise),
        link_days=row.link_days,
        texts=msgspec.convert(row.texts, dict[Language, Texts]),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def save(
    session: Session, tenant_id: uuid.UUID, data: PortalSettingsIn, actor: str, now: dt.datetime
) -> PortalSettingsOut:
    """Replace the tenant's settings (a PUT: what is not sent is the default)."""
    values = {
        "reactions": [r for r in ALL_REACTIONS if r in data.reactions],  # each once, in order
        "max_instalments": data.max_instalments,
        "min_instalment_amount": Decimal(data.min_instalment_amount),
        "max_term_days": data.max_term_days,
        "promise_grace_days": data.promise_grace_days,
        "broken_promise": data.broken_promise,
        "link_days": data.link_days,
        "texts": msgspec.to_builtins(data.texts),
        "updated_at": now,
        "updated_by": actor,
    }
    updated = session.execute(
        sa.update(PortalSettings).where(PortalSettings.tenant_id == tenant_id).values(**values)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.add(PortalSettings(tenant_id=tenant_id, **values))
    session.flush()
    return read(session, tenant_id)
