"""Partnerships (grants to a partner tenant) and what a partner sees and may change (E7)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from procedo.api import partners
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.paging import Limit, Offset
from procedo.db import models as m

Status = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
FlowKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# A subject field as its type names it: 'invoice_number', 'supplier.name'.
FieldPath = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=128, pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"),
]


class StatusGrantBody(msgspec.Struct, forbid_unknown_fields=True):
    """A status the partner may set, and the subject states it may set it from."""

    status: Status
    from_: Annotated[list[Status], msgspec.Meta(min_length=1, max_length=50)] = msgspec.field(
        name="from"
    )


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    partner: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    flows: Annotated[list[FlowKey], msgspec.Meta(min_length=1, max_length=100)]
    statuses: Annotated[list[StatusGrantBody], msgspec.Meta(min_length=1, max_length=20)]
    # The subject fields the partner sees; [] shows none.
    fields: Annotated[list[FieldPath], msgspec.Meta(max_length=100)]


class GrantOut(msgspec.Struct):
    id: uuid.UUID
    partner: str
    flows: list[str]
    statuses: list[StatusGrantBody]
    fields: list[str]
    created_by: str
    created_at: dt.datetime


class SharedSubjectOut(msgspec.Struct):
    """A shared subject: only the fields the grants show."""

    id: uuid.UUID
    type: str
    status: str
    fields: dict[str, Any]


class SharedOut(msgspec.Struct):
    id: uuid.UUID
    tenant: str
    flow: str
    status: str
    subject: SharedSubjectOut
    # The statuses you may set on this instance's subject now.
    may_set: list[str]


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Status


def _shared_out(row: partners.SharedRow) -> SharedOut:
    subject = SharedSubjectOut(row.subject.id, row.subject.type, row.subject.status, row.fields)
    return SharedOut(
        row.instance.id, row.tenant, row.flow, row.instance.status, subject, row.statuses
    )


def _grant_out(row: m.Partnership, partner: str) -> GrantOut:
    statuses = [
        StatusGrantBody(s.status, list(s.from_states)) for s in partners.status_grants(row.statuses)
    ]
    return GrantOut(
        row.id, partner, row.flows, statuses, row.fields, row.created_by, row.created_at
    )


class PartnershipController(Controller):
    path = "/partnerships"
    tags = ["partnerships"]

    @get("/", sync_to_thread=True)
    def list_grants(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[GrantOut]:
        """The grants this tenant gave (admin)."""
        caller.require()
        with rt.db.read() as session:
            rows = session.execute(
                sa.select(m.Partnership, m.Tenant.slug)
                .join(m.Tenant, m.Tenant.id == m.Partnership.partner_tenant_id)
                .where(m.Partnership.tenant_id == caller.tenant_id)
                .order_by(m.Partnership.created_at, m.Partnership.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [_grant_out(g, slug) for g, slug in rows]

    @post("/", sync_to_thread=True)
    def grant(self, data: JSONBody[GrantIn], caller: CallerDep, rt: RuntimeDep) -> GrantOut:
        """Let a partner tenant set statuses from named states on these flows' instances (admin)."""
        caller.require()
        statuses = [partners.StatusGrant(s.status, tuple(s.from_)) for s in data.statuses]
        row = partners.grant(
            rt, caller.tenant_id, data.partner, data.flows, statuses, data.fields, caller.actor
        )
        return _grant_out(row, data.partner)

    @delete("/{partnership_id:uuid}", sync_to_thread=True)
    def revoke(
        self, partnership_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        """Revoke a grant: the partner loses it with its next request."""
        caller.require()
        partners.revoke(rt, caller.tenant_id, partnership_id, caller.actor)


class SharedController(Controller):
    path = "/shared"
    tags = ["partnerships"]

    @get("/", sync_to_thread=True)
    def list_shared(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[SharedOut]:
        """Instances you may act on now, with the statuses you may set and the fields you see."""
        caller.require("partner")
        rows = partners.shared_instances(rt, caller.tenant_id, limit, offset)
        return [_shared_out(row) for row in rows]

    @post("/{instance_id:uuid}/status", sync_to_thread=True, status_code=200)
    def set_status(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[StatusIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> SharedOut:
        """Set a status a grant allows (such as 'paid'); the sharing tenant's history keeps it."""
        caller.require("partner")
        row = partners.set_status(rt, caller.tenant_id, instance_id, data.status, caller.actor)
        return _shared_out(row)
