"""Partnerships (grants to a partner tenant) and what a partner sees and may change (E7)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from procedo.api import partners
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import SubjectOut, subject_out
from procedo.db import models as m

Status = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
FlowKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    partner: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    flows: Annotated[list[FlowKey], msgspec.Meta(min_length=1, max_length=100)]
    statuses: Annotated[list[Status], msgspec.Meta(min_length=1, max_length=100)]


class GrantOut(msgspec.Struct):
    id: uuid.UUID
    partner: str
    flows: list[str]
    statuses: list[str]
    created_by: str
    created_at: dt.datetime


class SharedOut(msgspec.Struct):
    id: uuid.UUID
    tenant: str
    flow: str
    status: str
    subject: SubjectOut
    # The statuses you may set on this instance's subject.
    may_set: list[str]


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Status


def _shared_out(row: partners.SharedRow) -> SharedOut:
    return SharedOut(
        row.instance.id,
        row.tenant,
        row.flow,
        row.instance.status,
        subject_out(row.subject),
        row.statuses,
    )


class PartnershipController(Controller):
    path = "/partnerships"
    tags = ["partnerships"]

    @get("/", sync_to_thread=True)
    def list_grants(self, caller: CallerDep, rt: RuntimeDep) -> list[GrantOut]:
        """The grants this tenant gave (admin)."""
        caller.require()
        with rt.db.read() as session:
            rows = session.execute(
                sa.select(m.Partnership, m.Tenant.slug)
                .join(m.Tenant, m.Tenant.id == m.Partnership.partner_tenant_id)
                .where(m.Partnership.tenant_id == caller.tenant_id)
                .order_by(m.Partnership.created_at)
            ).all()
        return [
            GrantOut(g.id, slug, g.flows, g.statuses, g.created_by, g.created_at)
            for g, slug in rows
        ]

    @post("/", sync_to_thread=True)
    def grant(self, data: JSONBody[GrantIn], caller: CallerDep, rt: RuntimeDep) -> GrantOut:
        """Let a partner tenant set these statuses on instances of these flows (admin)."""
        caller.require()
        row = partners.grant(
            rt, caller.tenant_id, data.partner, data.flows, data.statuses, caller.actor
        )
        return GrantOut(
            row.id, data.partner, row.flows, row.statuses, row.created_by, row.created_at
        )

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
        """Instances other tenants share with yours, and the statuses you may set on them."""
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
        partners.set_status(rt, caller.tenant_id, instance_id, data.status, caller.actor)
        rows = partners.shared_instances(rt, caller.tenant_id, instance_id=instance_id)
        if not rows:  # revoked in the meantime
            raise ApiError(404, f"no instance {instance_id} is shared with you")
        return _shared_out(rows[0])
