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

from procedo.api import taskops
from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.db.portal import PortalReaction
from procedo.portal import links, plans, review, settings
from procedo.portal.settings import PortalSettingsIn, PortalSettingsOut
from procedo.runtime.context import Runtime


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
    """A payment arrangement: ``status`` review, active, broken, completed, replaced or
    declined; ``decided_*``: staff's decision on one that was in review."""

    id: uuid.UUID
    status: str
    amount: Decimal
    currency: str
    open_items: list[str]
    exceeded: list[str]
    created_at: dt.datetime
    ended_at: dt.datetime | None
    instalments: list[InstalmentOut]
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None


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


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    """Accept as proposed, or with another number of instalments or first date (2 to 60,
    today to a year on); the plan is then made again as the portal makes it."""

    instalments: int | None = None
    first_date: dt.date | None = None


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True):
    """Why staff declined (kept in the debtor's history; not sent to the debtor)."""

    reason: str


def _decide(
    rt: Runtime, caller: Caller, arrangement_id: uuid.UUID, decision: review.Decision
) -> ArrangementOut:
    caller.internal()
    debtor_id, since = review.arrangement_debtor(rt, caller.tenant_id, arrangement_id)
    # The review task's people decide (an admin always may); without a task, any member.
    tasks = review.review_tasks(rt, caller.tenant_id, debtor_id, since)
    mine = (taskops.may_work_on(rt, caller.tenant_id, t, caller.email) for t in tasks)
    if tasks and caller.access != "admin" and not any(mine):
        raise ApiError(403, "the review task of this arrangement is not yours to do")
    try:
        review.decide(rt, caller.tenant_id, arrangement_id, decision, caller.actor)
    except review.Invalid as invalid:
        raise ApiError(422, str(invalid)) from None
    with rt.db.read() as session:
        _promises, arrangements = plans.activity(session, caller.tenant_id, debtor_id)
    (found,) = [a for a in arrangements if a.id == arrangement_id]
    return msgspec.convert(found, ArrangementOut, from_attributes=True)


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

    @post("/arrangements/{arrangement_id:uuid}/accept", sync_to_thread=True, status_code=200)
    def accept_arrangement(
        self,
        arrangement_id: FromPath[uuid.UUID],
        data: JSONBody[AcceptIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> ArrangementOut:
        """Accept an arrangement in review (M5), as proposed or adjusted: it runs as one
        within the bounds; its review task is completed ``agreed``. 409 once decided."""
        decision = review.Decision(True, data.instalments, data.first_date)
        return _decide(rt, caller, arrangement_id, decision)

    @post("/arrangements/{arrangement_id:uuid}/decline", sync_to_thread=True, status_code=200)
    def decline_arrangement(
        self,
        arrangement_id: FromPath[uuid.UUID],
        data: JSONBody[DeclineIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> ArrangementOut:
        """Decline an arrangement in review with a reason; its review task is completed
        ``declined`` (the flow tells the debtor). 409 once decided."""
        decision = review.Decision(False, reason=data.reason)
        return _decide(rt, caller, arrangement_id, decision)
