"""Staff's side of the debtor portal: its settings (admin), a debtor's links and reactions.

The debtor's page itself is not here: it lives at ``/portal/{token}`` outside the
API (procedo/portal/page.py) and takes no staff credential.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.db.portal import PortalReaction
from procedo.portal import links, plans, settings
from procedo.portal.settings import PortalSettingsIn, PortalSettingsOut


class LinkOut(msgspec.Struct):
    """A new link: ``url`` carries the token, shown this once (only its hash is kept)."""

    id: uuid.UUID
    url: str
    expires_at: dt.datetime


class ReactionOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    open_item_id: uuid.UUID | None
    data: dict[str, Any]
    proof_type: str | None
    created_at: dt.datetime


class InstalmentOut(msgspec.Struct):
    number: int
    due_date: dt.date
    amount: Decimal
    paid_amount: Decimal
    paid_at: dt.datetime | None


class ArrangementOut(msgspec.Struct):
    """A payment arrangement: ``status`` review, active, broken, completed or replaced."""

    id: uuid.UUID
    status: str
    amount: Decimal
    currency: str
    open_items: list[str]
    exceeded: list[str]
    created_at: dt.datetime
    ended_at: dt.datetime | None
    instalments: list[InstalmentOut]


class PromiseOut(msgspec.Struct):
    """A promise to pay: ``status`` active, kept, broken or replaced."""

    id: uuid.UUID
    status: str
    pay_on: dt.date
    check_on: dt.date
    amount: Decimal
    currency: str
    open_items: list[str]
    created_at: dt.datetime
    ended_at: dt.datetime | None


class PlansOut(msgspec.Struct):
    promises: list[PromiseOut]
    arrangements: list[ArrangementOut]


class PortalAdminController(Controller):
    path = "/portal"
    tags = ["portal"]

    @get("/settings", sync_to_thread=True)
    def show_settings(self, caller: CallerDep, rt: RuntimeDep) -> PortalSettingsOut:
        """What debtors may do on the portal, its bounds, link lifetime and texts (admin)."""
        caller.require()
        with rt.db.read() as session:
            return settings.read(session, caller.tenant_id)

    @put("/settings", sync_to_thread=True, status_code=200)
    def set_settings(
        self, data: JSONBody[PortalSettingsIn], caller: CallerDep, rt: RuntimeDep
    ) -> PortalSettingsOut:
        """Replace the portal settings; a field left out is its default (admin)."""
        caller.require()
        with rt.db.transaction() as session:
            return settings.save(session, caller.tenant_id, data, caller.actor, rt.clock.now())

    @post("/debtors/{subject_id:uuid}/links", sync_to_thread=True, status_code=201)
    def make_link(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> LinkOut:
        """A new portal link for the debtor, to send by hand (designer); 404 for a non-debtor."""
        caller.internal()
        caller.require("designer")
        with rt.db.transaction() as session:
            minted = links.mint(session, caller.tenant_id, subject_id, rt.clock.now(), caller.actor)
        return LinkOut(minted.link_id, minted.url, minted.expires_at)

    @delete("/debtors/{subject_id:uuid}/links", sync_to_thread=True)
    def revoke_links(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        """Revoke every link of the debtor at once (designer); said in its history."""
        caller.internal()
        caller.require("designer")
        with rt.db.transaction() as session:
            links.revoke_all(session, caller.tenant_id, subject_id, rt.clock.now(), caller.actor)

    @get("/debtors/{subject_id:uuid}/reactions", sync_to_thread=True)
    def list_reactions(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> list[ReactionOut]:
        """The debtor's reactions on the portal, newest first (without the proof's bytes)."""
        caller.internal()
        with rt.db.read() as session:
            links.debtor(session, caller.tenant_id, subject_id)
            rows = session.execute(
                sa.select(
                    PortalReaction.id,
                    PortalReaction.kind,
                    PortalReaction.open_item_id,
                    PortalReaction.data,
                    PortalReaction.proof_type,
                    PortalReaction.created_at,
                )
                .where(
                    PortalReaction.tenant_id == caller.tenant_id,
                    PortalReaction.debtor_id == subject_id,
                )
                .order_by(PortalReaction.created_at.desc(), PortalReaction.id.desc())
            ).all()
        return [ReactionOut(*row) for row in rows]

    @get("/debtors/{subject_id:uuid}/plans", sync_to_thread=True)
    def list_plans(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> PlansOut:
        """The debtor's promises to pay and payment arrangements with their instalments."""
        caller.internal()
        with rt.db.read() as session:
            links.debtor(session, caller.tenant_id, subject_id)
            promises, arrangements = plans.activity(session, caller.tenant_id, subject_id)
        return PlansOut(
            promises=[msgspec.convert(p, PromiseOut, from_attributes=True) for p in promises],
            arrangements=[
                msgspec.convert(a, ArrangementOut, from_attributes=True) for a in arrangements
            ],
        )
