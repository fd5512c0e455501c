"""An accounting office's standard roles (K1), and renaming or removing a role safely.

Every new tenant starts with the six roles of a Dutch accounting office. Their
names are what flows name (``{"role": "Accountant"}``); each has a label per
language for the screens.

Renaming: published versions never change, so the rename follows where it can.
Drafts naming the old name are rewritten; a flow whose current document is a
published version naming it gets a draft with the new name, and the answer lists
those flows: publishing them completes the rename. Until then their runs still
name the old role, which has no members any more (its members moved with the
rename), so the answer says so. Open tasks of the role move with it.

Removing: refused while any flow (a draft or a published version still in use)
or an open task names the role; the refusal names them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.model import Flow
from procedo.runtime.context import NotFound, Refusal, Runtime

# name -> labels (nl, de, en). The names are the Dutch ones the office uses.
STANDARD_ROLES: Final[dict[str, dict[str, str]]] = {
    "Relatiebeheerder": {
        "nl": "Relatiebeheerder",
        "de": "Mandantenbetreuer",
        "en": "Relationship manager",
    },
    "Accountant": {"nl": "Accountant", "de": "Wirtschaftsprüfer", "en": "Accountant"},
    "Fiscaal": {"nl": "Fiscaal medewerker", "de": "Steuerberater", "en": "Tax adviser"},
    "Administratie": {
        "nl": "Administratief medewerker",
        "de": "Buchhaltung",
        "en": "Bookkeeper",
    },
    "Salaris": {"nl": "Salarisadministrateur", "de": "Lohnbuchhaltung", "en": "Payroll"},
    "Secretariaat": {"nl": "Secretariaat", "de": "Sekretariat", "en": "Office support"},
}


def add_standard_roles(session: Session, tenant_id: uuid.UUID) -> None:
    """The six roles, in the transaction that makes the tenant."""
    for name, labels in STANDARD_ROLES.items():
        session.add(m.Role(tenant_id=tenant_id, name=name, label=labels["en"]))


def labels_of(name: str) -> dict[str, str]:
    """A standard role's labels per language; a role of the office's own has none."""
    return dict(STANDARD_ROLES.get(name, {}))


def _role_values(value: Any) -> Iterator[str]:
    """Every role a node's params name: any ``role`` key, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "role" and isinstance(inner, str):
                yield inner
            else:
                yield from _role_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _role_values(inner)


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {
            key: new if key == "role" and inner == old else _renamed(inner, old, new)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_renamed(inner, old, new) for inner in value]
    return value


def names_role(flow: Flow, role: str) -> bool:
    return any(role in _role_values(node.params) for node in flow.nodes)


def rename_in_flow(flow: Flow, old: str, new: str) -> Flow:
    import msgspec

    nodes = [
        msgspec.structs.replace(node, params=_renamed(node.params, old, new)) for node in flow.nodes
    ]
    return msgspec.structs.replace(flow, nodes=nodes)


@dataclass(frozen=True)
class RoleUse:
    """Where a role is named: flows by key, and how many open tasks it holds."""

    drafts: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    open_tasks: int = 0

    @property
    def flows(self) -> list[str]:
        return sorted(set(self.drafts) | set(self.published))


def _latest_versions(session: Session, tenant_id: uuid.UUID) -> dict[uuid.UUID, m.FlowVersion]:
    """Each flow's newest version: the one new runs start on."""
    newest = (
        sa.select(m.FlowVersion.flow_id, sa.func.max(m.FlowVersion.number).label("number"))
        .where(m.FlowVersion.tenant_id == tenant_id)
        .group_by(m.FlowVersion.flow_id)
        .subquery()
    )
    versions = session.scalars(
        sa.select(m.FlowVersion).join(
            newest,
            sa.and_(
                m.FlowVersion.flow_id == newest.c.flow_id,
                m.FlowVersion.number == newest.c.number,
            ),
        )
    )
    return {v.flow_id: v for v in versions}


def role_use(session: Session, tenant_id: uuid.UUID, role: str) -> RoleUse:
    """Drafts, versions in use (the newest, or one with runs going) and open tasks naming it."""
    flows = session.scalars(sa.select(m.Flow).where(m.Flow.tenant_id == tenant_id)).all()
    in_use = list(_latest_versions(session, tenant_id).values())
    in_use += session.scalars(
        sa.select(m.FlowVersion).where(
            m.FlowVersion.id.in_(
                sa.select(m.Instance.flow_version_id)
                .where(
                    m.Instance.tenant_id == tenant_id,
                    m.Instance.status.in_(("pending", "running", "failed")),
                )
                .distinct()
            )
        )
    ).all()
    keys = {flow.id: flow.key for flow in flows}
    drafts = [
        f.key for f in flows if f.draft is not None and names_role(decode_flow(f.draft), role)
    ]
    published = sorted(
        {keys[v.flow_id] for v in in_use if names_role(decode_flow(v.document), role)}
    )
    open_tasks = session.scalar(
        sa.select(sa.func.count())
        .select_from(m.Task)
        .where(m.Task.tenant_id == tenant_id, m.Task.role == role, m.Task.status == "open")
    )
    return RoleUse(drafts, published, int(open_tasks or 0))


def _find(session: Session, tenant_id: uuid.UUID, name: str) -> m.Role:
    role = session.scalar(
        sa.select(m.Role).where(m.Role.tenant_id == tenant_id, m.Role.name == name)
    )
    if role is None:
        raise NotFound(f"no role '{name}' in this tenant")
    return role


@dataclass(frozen=True)
class Renamed:
    name: str
    label: str
    drafts_updated: list[str]
    # Flows whose published version still names the old role: publish them (their
    # draft has the new name) to finish the rename.
    to_publish: list[str]


def change_role(
    rt: Runtime,
    tenant_id: uuid.UUID,
    name: str,
    new_name: str | None,
    label: str | None,
    by: str,
) -> Renamed:
    """Relabel a role and/or rename it (flows follow as the module says)."""
    with rt.transaction() as (session, _out):
        role = _find(session, tenant_id, name)
        if label is not None:
            role.label = label
        if new_name is None or new_name == name:
            return Renamed(role.name, role.label, [], [])
        taken = session.scalar(
            sa.select(m.Role.id).where(m.Role.tenant_id == tenant_id, m.Role.name == new_name)
        )
        if taken is not None:
            raise Refusal(f"a role '{new_name}' exists already; choose another name")
        role.name = new_name
        if label is None and role.label == name:
            role.label = new_name
        drafts_updated, to_publish = _follow(rt, session, tenant_id, name, new_name, by)
        # Open tasks are the role's work; their candidates were resolved when they opened.
        session.execute(
            sa.update(m.Task)
            .where(m.Task.tenant_id == tenant_id, m.Task.role == name, m.Task.status == "open")
            .values(role=new_name)
        )
        return Renamed(role.name, role.label, drafts_updated, to_publish)


def _follow(
    rt: Runtime, session: Session, tenant_id: uuid.UUID, old: str, new: str, by: str
) -> tuple[list[str], list[str]]:
    latest = _latest_versions(session, tenant_id)
    drafts_updated: list[str] = []
    to_publish: list[str] = []
    for flow in session.scalars(sa.select(m.Flow).where(m.Flow.tenant_id == tenant_id)):
        version = latest.get(flow.id)
        published_names = version is not None and names_role(decode_flow(version.document), old)
        if flow.draft is not None:
            document = decode_flow(flow.draft)
        elif published_names:
            assert version is not None
            document = decode_flow(version.document)
        else:
            continue
        if names_role(document, old):
            flow.draft = encode_flow(rename_in_flow(document, old, new)).decode()
            flow.revision += 1
            flow.updated_by = by
            flow.updated_at = rt.clock.now()
            drafts_updated.append(flow.key)
        if published_names:
            to_publish.append(flow.key)
    return sorted(drafts_updated), sorted(to_publish)


def remove_role(rt: Runtime, tenant_id: uuid.UUID, name: str) -> None:
    """Delete a role and its members; refused while a flow or an open task needs it."""
    with rt.transaction() as (session, _out):
        role = _find(session, tenant_id, name)
        use = role_use(session, tenant_id, name)
        reasons = []
        if use.flows:
            reasons.append(f"flows {', '.join(use.flows)} name it (change them first)")
        if use.open_tasks:
            reasons.append(f"{use.open_tasks} open task(s) are for it (complete or reassign them)")
        if reasons:
            raise Refusal(f"role '{name}' is still needed: " + "; ".join(reasons))
        session.execute(sa.delete(m.RoleMember).where(m.RoleMember.role_id == role.id))
        session.delete(role)
