"""Partnerships (E7): a tenant lets a partner tenant set named statuses on named flows' instances.

Grants are read on every partner request, so revoking works at once. Every
partner action is written to the granting tenant's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.api import tenancy
from procedo.db import models as m
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.steps import anyone_listens, history, raise_subject_event


def grant(
    rt: Runtime,
    tenant_id: uuid.UUID,
    partner_slug: str,
    flows: Sequence[str],
    statuses: Sequence[str],
    actor: str,
) -> m.Partnership:
    with rt.transaction() as (session, _out):
        partner = session.scalar(sa.select(m.Tenant).where(m.Tenant.slug == partner_slug))
        if partner is None or partner.id == tenant_id:
            raise Refusal(f"partner: no other tenant '{partner_slug}'")
        known = set(
            session.scalars(
                sa.select(m.Flow.key).where(m.Flow.tenant_id == tenant_id, m.Flow.key.in_(flows))
            )
        )
        unknown = sorted(set(flows) - known)
        if unknown:
            raise Refusal(f"flows: no flow {', '.join(unknown)} in this tenant")
        now = rt.clock.now()
        row = m.Partnership(
            tenant_id=tenant_id,
            partner_tenant_id=partner.id,
            flows=sorted(set(flows)),
            statuses=sorted(set(statuses)),
            created_by=actor,
            created_at=now,
        )
        session.add(row)
        session.flush()
        _audit(session, tenant_id, row, "partnership_granted", actor, partner_slug)
        return row


def revoke(rt: Runtime, tenant_id: uuid.UUID, partnership_id: uuid.UUID, actor: str) -> None:
    with rt.transaction() as (session, _out):
        row = session.get(m.Partnership, partnership_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"no partnership {partnership_id} in this tenant")
        partner = session.get(m.Tenant, row.partner_tenant_id)
        _audit(
            session, tenant_id, row, "partnership_revoked", actor, partner.slug if partner else ""
        )
        session.delete(row)


def _audit(
    session: Session, tenant_id: uuid.UUID, row: m.Partnership, kind: str, actor: str, slug: str
) -> None:
    history(
        session,
        None,
        None,
        tenant_id,
        row.created_at if kind == "partnership_granted" else m.utcnow(),
        [
            {
                "kind": kind,
                "actor": actor,
                "data": {
                    "partnership": str(row.id),
                    "partner": slug,
                    "flows": row.flows,
                    "statuses": row.statuses,
                },
            }
        ],
    )


class SharedRow(NamedTuple):
    instance: m.Instance
    flow: str
    subject: m.Subject
    tenant: str
    statuses: list[str]


def shared_instances(
    rt: Runtime,
    partner_tenant_id: uuid.UUID,
    limit: int = 100,
    offset: int = 0,
    instance_id: uuid.UUID | None = None,
) -> list[SharedRow]:
    """Instances of the flows the partner's grants name, with the statuses it may set.

    Reads other tenants' rows on purpose: the grants below decide which.
    """
    with tenancy.all_tenants(), rt.db.read() as session:
        return _shared_instances(session, partner_tenant_id, limit, offset, instance_id)


def _shared_instances(
    session: Session,
    partner_tenant_id: uuid.UUID,
    limit: int,
    offset: int,
    instance_id: uuid.UUID | None,
) -> list[SharedRow]:
    grants = session.scalars(
        sa.select(m.Partnership).where(m.Partnership.partner_tenant_id == partner_tenant_id)
    ).all()
    if not grants:
        return []
    allowed: dict[tuple[uuid.UUID, str], set[str]] = {}
    for g in grants:
        for flow in g.flows:
            allowed.setdefault((g.tenant_id, flow), set()).update(g.statuses)
    query = (
        sa.select(m.Instance, m.Flow.key, m.Subject, m.Tenant.slug)
        .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .join(m.Subject, m.Subject.id == m.Instance.subject_id)
        .join(m.Tenant, m.Tenant.id == m.Instance.tenant_id)
        .where(
            sa.or_(
                *(
                    sa.and_(m.Instance.tenant_id == tenant, m.Flow.key == flow)
                    for tenant, flow in allowed
                )
            )
        )
        .order_by(m.Instance.started_at.desc(), m.Instance.id)
        .limit(limit)
        .offset(offset)
    )
    if instance_id is not None:
        query = query.where(m.Instance.id == instance_id)
    rows = session.execute(query).all()
    return [
        SharedRow(i, key, subject, slug, sorted(allowed[(i.tenant_id, key)]))
        for i, key, subject, slug in rows
    ]


def set_status(
    rt: Runtime, partner_tenant_id: uuid.UUID, instance_id: uuid.UUID, status: str, actor: str
) -> None:
    """Set the instance subject's status, if a grant allows exactly that; history keeps it."""
    with tenancy.all_tenants(), rt.transaction() as (session, out):
        instance = session.get(m.Instance, instance_id)
        flow_key = None
        if instance is not None:
            flow_key = session.scalar(
                sa.select(m.Flow.key)
                .join(m.FlowVersion, m.FlowVersion.flow_id == m.Flow.id)
                .where(m.FlowVersion.id == instance.flow_version_id)
            )
        grants = (
            session.scalars(
                sa.select(m.Partnership).where(
                    m.Partnership.tenant_id == instance.tenant_id,
                    m.Partnership.partner_tenant_id == partner_tenant_id,
                )
            ).all()
            if instance is not None
            else []
        )
        shared = [g for g in grants if flow_key in g.flows]
        if instance is None or not shared:
            raise NotFound(f"no instance {instance_id} is shared with you")
        allowed = sorted({s for g in shared for s in g.statuses})
        if status not in allowed:
            raise Refusal(
                f"status '{status}' is not yours to set here; you may set: {', '.join(allowed)}"
            )
        subject = session.get(m.Subject, instance.subject_id)
        assert subject is not None
        partner = session.get(m.Tenant, partner_tenant_id)
        now = rt.clock.now()
        old = subject.status
        history(
            session,
            instance,
            subject.id,
            instance.tenant_id,
            now,
            [
                {
                    "kind": "partner_status_set",
                    "actor": f"{actor} ({partner.slug if partner else 'partner'})",
                    "data": {"from": old, "to": status},
                }
            ],
        )
        if old == status:
            return
        subject.status = status
        subject.version += 1
        subject.updated_at = now
        session.flush()
        if anyone_listens(session, subject):
            raise_subject_event(session, out, subject, old, now)
