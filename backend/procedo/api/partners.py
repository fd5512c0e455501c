"""Partnerships (E7): a tenant lets a partner tenant set named statuses on named flows' instances.

A grant names, for some flows, each status the partner may set and the subject
statuses it may set it from ("paid" from "payable"), and the subject fields the
partner sees. Nothing else: an instance is shared only while it runs, its
subject is in one of those states and none of its tasks is open (its people are
still deciding), and the partner sees the subject's granted fields only.

Grants are read on every partner request, so revoking works at once. Every
partner action is written to the granting tenant's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.api import tenancy
from procedo.db import models as m
from procedo.runtime.context import NotFound, Refusal, Runtime
from procedo.runtime.steps import anyone_listens, history, raise_subject_event
from procedo.subjects import SubjectType


class StatusGrant(NamedTuple):
    """The partner may set ``status`` on a subject whose status is one of ``from_states``."""

    status: str
    from_states: tuple[str, ...]

    def stored(self) -> dict[str, Any]:
        return {"status": self.status, "from": list(self.from_states)}


def status_grants(stored: Sequence[Any]) -> list[StatusGrant]:
    """A grant's ``statuses`` column as StatusGrants.

    Grants made before migration 0008 named no states; it stored them with
    ``from: []``, so they allow nothing until an admin grants again.
    """
    return [StatusGrant(s["status"], tuple(s.get("from", ()))) for s in stored]


def grant(
    rt: Runtime,
    tenant_id: uuid.UUID,
    partner_slug: str,
    flows: Sequence[str],
    statuses: Sequence[StatusGrant],
    fields: Sequence[str],
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
        types = _subject_types_of(rt, session, tenant_id, flows)
        _check_statuses(statuses, types)
        _check_fields(fields, types)
        merged: dict[str, set[str]] = {}
        for s in statuses:
            merged.setdefault(s.status, set()).update(s.from_states)
        now = rt.clock.now()
        row = m.Partnership(
            tenant_id=tenant_id,
            partner_tenant_id=partner.id,
            flows=sorted(set(flows)),
            statuses=[
                StatusGrant(status, tuple(sorted(froms))).stored()
                for status, froms in sorted(merged.items())
            ],
            fields=sorted(set(fields)),
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


def _subject_types_of(
    rt: Runtime, session: Session, tenant_id: uuid.UUID, flows: Sequence[str]
) -> list[SubjectType]:
    """The subject types the flows work on: their published versions' and their drafts'."""
    names = set(
        session.scalars(
            sa.select(m.FlowVersion.subject_type)
            .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
            .where(m.Flow.tenant_id == tenant_id, m.Flow.key.in_(flows))
        )
    )
    drafts = session.scalars(
        sa.select(m.Flow.draft).where(
            m.Flow.tenant_id == tenant_id, m.Flow.key.in_(flows), m.Flow.draft.is_not(None)
        )
    )
    for draft in drafts:
        try:
            names.add(msgspec.json.decode(draft or "{}").get("subject_type", ""))
        except (msgspec.DecodeError, AttributeError):
            continue  # a draft that does not parse names no type; its versions still do
    known = rt.subject_types(session, tenant_id)
    return [known[name] for name in sorted(names) if name in known]


def _check_statuses(statuses: Sequence[StatusGrant], types: list[SubjectType]) -> None:
    """Statuses the flows' subject types declare (when they declare any), so a typo is caught."""
    declared = [set(t.statuses) for t in types if t.statuses]
    if not declared:
        return
    for index, grant_ in enumerate(statuses):
        named = [("status", grant_.status)] + [("from", s) for s in grant_.from_states]
        for place, status in named:
            if not any(status in d for d in declared):
                choices = ", ".join(sorted(set().union(*declared)))
                raise Refusal(
                    f"statuses[{index}].{place}: '{status}' is not a status of "
                    f"{', '.join(t.name for t in types)}; use one of: {choices}"
                )


def _check_fields(fields: Sequence[str], types: list[SubjectType]) -> None:
    for index, path in enumerate(fields):
        if types and not any(t.field(path) is not None for t in types):
            raise Refusal(
                f"fields[{index}]: {', '.join(t.name for t in types)} has no field '{path}'; "
                "name fields as the subject type does, such as 'supplier.name'"
            )


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
                    "fields": row.fields,
                },
            }
        ],
    )


@dataclass
class Allowed:
    """What a partner's grants allow on one flow of one tenant, merged over its grants."""

    may_set: dict[str, set[str]] = field(default_factory=dict)  # status -> from which states
    fields: set[str] = field(default_factory=set)

    def add(self, partnership: m.Partnership) -> None:
        for s in status_grants(partnership.statuses):
            self.may_set.setdefault(s.status, set()).update(s.from_states)
        self.fields.update(partnership.fields)

    def from_states(self) -> set[str]:
        return set().union(*self.may_set.values()) if self.may_set else set()

    def settable(self, current: str) -> list[str]:
        return sorted(status for status, froms in self.may_set.items() if current in froms)

    def describe(self) -> str:
        return "; ".join(
            f"'{status}' from {', '.join(repr(s) for s in sorted(froms)) or 'no state'}"
            for status, froms in sorted(self.may_set.items())
        )


class SharedRow(NamedTuple):
    instance: m.Instance
    flow: str
    subject: m.Subject
    tenant: str
    statuses: list[str]
    # The subject's fields the grants show, nested as in the subject.
    fields: dict[str, Any]


def _allowed(
    session: Session, partner_tenant_id: uuid.UUID, tenant_id: uuid.UUID | None = None
) -> dict[tuple[uuid.UUID, str], Allowed]:
    query = sa.select(m.Partnership).where(m.Partnership.partner_tenant_id == partner_tenant_id)
    if tenant_id is not None:
        query = query.where(m.Partnership.tenant_id == tenant_id)
    allowed: dict[tuple[uuid.UUID, str], Allowed] = {}
    for partnership in session.scalars(query):
        for flow in partnership.flows:
            allowed.setdefault((partnership.tenant_id, flow), Allowed()).add(partnership)
    return allowed


def _no_open_task() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(m.Task.instance_id == m.Instance.id, m.Task.status == "open")


def shown_fields(values: dict[str, Any], paths: set[str]) -> dict[str, Any]:
    """Only the dotted ``paths`` of a subject's fields, nested as they are stored."""
    shown: dict[str, Any] = {}
    for path in sorted(paths):
        *parents, leaf = path.split(".")
        source: Any = values
        for part in parents:
            source = source.get(part) if isinstance(source, dict) else None
        if not isinstance(source, dict) or leaf not in source:
            continue
        target = shown
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = source[leaf]
    return shown


def shared_instances(
    rt: Runtime,
    partner_tenant_id: uuid.UUID,
    limit: int = 100,
    offset: int = 0,
    instance_id: uuid.UUID | None = None,
) -> list[SharedRow]:
    """The instances the partner may act on now, the statuses it may set, the fields it sees.

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
    allowed = {
        key: grants
        for key, grants in _allowed(session, partner_tenant_id).items()
        if grants.from_states()
    }
    if not allowed:
        return []
    query = (
        sa.select(m.Instance, m.Flow.key, m.Subject, m.Tenant.slug)
        .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .join(m.Subject, m.Subject.id == m.Instance.subject_id)
        .join(m.Tenant, m.Tenant.id == m.Instance.tenant_id)
        .where(
            sa.or_(
                *(
                    sa.and_(
                        m.Instance.tenant_id == tenant,
                        m.Flow.key == flow,
                        m.Subject.status.in_(sorted(grants.from_states())),
                    )
                    for (tenant, flow), grants in allowed.items()
                )
            ),
            m.Instance.status == "running",
            _no_open_task(),
        )
        .order_by(m.Instance.started_at.desc(), m.Instance.id)
        .limit(limit)
        .offset(offset)
    )
    if instance_id is not None:
        query = query.where(m.Instance.id == instance_id)
    rows = session.execute(query).all()
    shared = []
    for instance, key, subject, slug in rows:
        grants = allowed[(instance.tenant_id, key)]
        shared.append(
            SharedRow(
                instance,
                key,
                subject,
                slug,
                grants.settable(subject.status),
                shown_fields(subject.fields, grants.fields),
            )
        )
    return shared


def set_status(
    rt: Runtime, partner_tenant_id: uuid.UUID, instance_id: uuid.UUID, status: str, actor: str
) -> SharedRow:
    """Set the instance subject's status, if a grant allows it from its state now.

    Returns the instance as the partner sees it right after the change.
    """
    with tenancy.all_tenants(), rt.transaction() as (session, out):
        # Locked (PostgreSQL) before its subject, as a step does: the state checked
        # below is the state changed, whatever a worker does meanwhile.
        instance = session.get(m.Instance, instance_id, with_for_update=True)
        flow_key = None
        if instance is not None:
            flow_key = session.scalar(
                sa.select(m.Flow.key)
                .join(m.FlowVersion, m.FlowVersion.flow_id == m.Flow.id)
                .where(m.FlowVersion.id == instance.flow_version_id)
            )
        grants = (
            _allowed(session, partner_tenant_id, instance.tenant_id).get(
                (instance.tenant_id, flow_key or "")
            )
            if instance is not None
            else None
        )
        if instance is None or grants is None:
            raise NotFound(f"no instance {instance_id} is shared with you")
        if status not in grants.may_set:
            raise Refusal(
                f"status '{status}' is not yours to set here; you may set: {grants.describe()}"
            )
        subject = session.get(m.Subject, instance.subject_id, with_for_update=True)
        assert subject is not None
        open_task = session.scalar(
            sa.select(m.Task.id).where(m.Task.instance_id == instance.id, m.Task.status == "open")
        )
        if (
            instance.status != "running"
            or subject.status not in grants.may_set[status]
            or open_task is not None
        ):
            # The subject's own status is not said: the partner sees only what grants show.
            raise Refusal(
                f"instance {instance_id} is not in a state your grant applies to: you may set "
                f"{grants.describe()}, while it runs and none of its tasks is open; "
                "GET /shared lists the instances you may act on now"
            )
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
        if old != status:
            subject.status = status
            subject.version += 1
            subject.updated_at = now
            session.flush()
            if anyone_listens(session, subject):
                raise_subject_event(session, out, subject, old, now)
        owner = session.get(m.Tenant, instance.tenant_id)
        return SharedRow(
            instance,
            flow_key or "",
            subject,
            owner.slug if owner else "",
            grants.settable(subject.status),
            shown_fields(subject.fields, grants.fields),
        )
