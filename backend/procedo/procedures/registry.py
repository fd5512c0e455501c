"""The tenant's procedure registrations as administrators manage them (P5): the list with
what each flow is and how many debtors it runs for, the primaries' order, the default,
and the checks that keep at most one primary per debtor when a registration changes.

The API (api/resources/procedures.py) turns ``Invalid`` into 422 and ``Conflict`` into
409; both messages start with the field they are about.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.procedures import Procedure
from procedo.procedures.assign import DEBTOR, registered
from procedo.rules.model import Rule
from procedo.rules.text import format_rule

RUNNING = ("pending", "running")
STEP = 10  # priorities are spaced so one can be put between two by hand


class Invalid(Exception):
    """The request names something that cannot be (422)."""


class Conflict(Exception):
    """The request is sound but the tenant's state refuses it now (409)."""


@dataclass
class Listed:
    row: Procedure
    name: str
    version: int | None
    subject_type: str | None
    stop_when: dict[str, Any] | None
    running: int


def text_of(rule: dict[str, Any] | None) -> str | None:
    """A stored rule as the expression text the rule editor shows."""
    if rule is None:
        return None
    try:
        return format_rule(msgspec.convert(rule, Rule))
    except (ValueError, msgspec.ValidationError):
        return None


def running_counts(session: Session, tenant_id: uuid.UUID) -> dict[str, int]:
    """Per flow key, how many debtors an instance of it runs for now."""
    rows = session.execute(
        sa.select(m.Flow.key, sa.func.count(sa.distinct(m.Instance.subject_id)))
        .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .where(m.Instance.tenant_id == tenant_id, m.Instance.status.in_(RUNNING))
        .group_by(m.Flow.key)
    )
    return {row[0]: int(row[1]) for row in rows}


def latest_versions(session: Session, tenant_id: uuid.UUID) -> dict[str, m.FlowVersion]:
    """Each flow's newest published version, by flow key."""
    newest = (
        sa.select(m.FlowVersion.flow_id, sa.func.max(m.FlowVersion.number).label("n"))
        .where(m.FlowVersion.tenant_id == tenant_id)
        .group_by(m.FlowVersion.flow_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(m.Flow.key, m.FlowVersion)
        .join(m.FlowVersion, m.FlowVersion.flow_id == m.Flow.id)
        .join(
            newest,
            sa.and_(newest.c.flow_id == m.FlowVersion.flow_id, newest.c.n == m.FlowVersion.number),
        )
        .where(m.Flow.tenant_id == tenant_id)
    )
    return {row[0]: row[1] for row in rows}


def listing(session: Session, tenant_id: uuid.UUID) -> list[Listed]:
    """The registrations in assignment order, each with its flow and its debtors."""
    rows = registered(session, tenant_id)
    names = {
        row[0]: row[1]
        for row in session.execute(
            sa.select(m.Flow.key, m.Flow.name).where(m.Flow.tenant_id == tenant_id)
        )
    }
    versions = latest_versions(session, tenant_id)
    counts = running_counts(session, tenant_id)
    out = []
    for row in rows:
        version = versions.get(row.flow_key)
        stop = json.loads(version.document).get("stop_when") if version is not None else None
        out.append(
            Listed(
                row,
                names.get(row.flow_key, row.flow_key),
                version.number if version is not None else None,
                version.subject_type if version is not None else None,
                stop if isinstance(stop, dict) else None,
                counts.get(row.flow_key, 0),
            )
        )
    return out


def check_flow(session: Session, tenant_id: uuid.UUID, key: str) -> None:
    """A procedure is a published debtor flow (else the pass could not start it)."""
    version = latest_versions(session, tenant_id).get(key)
    if version is None:
        raise Invalid(f"flow_key: '{key}' has no published version; publish it first")
    if version.subject_type != DEBTOR:
        raise Invalid(
            f"flow_key: '{key}' runs on {version.subject_type}; procedures run on debtors"
        )


def check_kind_change(session: Session, row: Procedure, kind: str) -> None:
    """A registration running for debtors keeps its kind: a primary turned secondary would
    let the pass give those debtors a second primary, and the other way round too."""
    if row.kind == kind:
        return
    running = running_counts(session, row.tenant_id).get(row.flow_key, 0)
    if running:
        raise Conflict(
            f"kind: '{row.flow_key}' runs for {running} debtor(s) as a {row.kind} procedure; "
            "it can change kind once none run it"
        )


def check_removable(session: Session, row: Procedure) -> None:
    """A primary running for debtors stays registered: unregistered, the pass would no
    longer see those debtors as having one and would start another."""
    running = running_counts(session, row.tenant_id).get(row.flow_key, 0)
    if row.kind == "primary" and running:
        raise Conflict(
            f"flow_key: '{row.flow_key}' is the primary procedure of {running} debtor(s); "
            "removed, the pass would start another one for them. Cancel those instances or "
            "let them end first"
        )


def last_priority(session: Session, tenant_id: uuid.UUID, but: str | None = None) -> int:
    """A priority after every ruled primary's."""
    top = session.scalar(
        sa.select(sa.func.max(Procedure.priority)).where(
            Procedure.tenant_id == tenant_id,
            Procedure.kind == "primary",
            Procedure.is_default.is_(False),
            Procedure.flow_key != (but or ""),
        )
    )
    return (top or 0) + STEP


def set_order(session: Session, tenant_id: uuid.UUID, keys: list[str]) -> None:
    """The ruled primaries in the order given (the default always comes last)."""
    rows = {
        p.flow_key: p
        for p in registered(session, tenant_id)
        if p.kind == "primary" and not p.is_default
    }
    for place, key in enumerate(keys):
        if keys.index(key) != place:
            raise Invalid(f"$.flows[{place}]: '{key}' is named twice")
        if key not in rows:
            raise Invalid(
                f"$.flows[{place}]: '{key}' is no primary procedure with a rule in this tenant"
            )
    missing = sorted(set(rows) - set(keys))
    if missing:
        raise Invalid(f"$.flows: missing {', '.join(missing)}; name every ruled primary once")
    for place, key in enumerate(keys, start=1):
        rows[key].priority = place * STEP


def set_default(
    session: Session, tenant_id: uuid.UUID, key: str, previous_rule: Rule | None
) -> Procedure | None:
    """Make a primary the default (its rule is no longer used, so it is dropped). The
    default before it keeps its place among the primaries by ``previous_rule``, placed
    last. Returns that previous default, if any."""
    row = session.get(Procedure, (tenant_id, key))
    if row is None or row.kind != "primary":
        raise Invalid(f"$.flow_key: '{key}' is no primary procedure of this tenant")
    if row.is_default:
        return None
    before = session.scalars(
        sa.select(Procedure).where(Procedure.tenant_id == tenant_id, Procedure.is_default)
    ).first()
    if before is not None:
        if previous_rule is None:
            raise Invalid(
                f"$.previous_rule: '{before.flow_key}' is the default now; give it a rule "
                "to stay a primary procedure"
            )
        before.is_default = False
        before.rule = msgspec.to_builtins(previous_rule)
        before.priority = last_priority(session, tenant_id, but=key)
    row.is_default = True
    row.rule = None
    return before


def candidates(session: Session, tenant_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """Published debtor flows not registered yet: (key, name, version), by name."""
    taken = {p.flow_key for p in registered(session, tenant_id)}
    names = {
        row[0]: row[1]
        for row in session.execute(
            sa.select(m.Flow.key, m.Flow.name).where(m.Flow.tenant_id == tenant_id)
        )
    }
    found = [
        (key, names.get(key, key), version.number)
        for key, version in latest_versions(session, tenant_id).items()
        if version.subject_type == DEBTOR and key not in taken
    ]
    return sorted(found, key=lambda c: (c[1].lower(), c[0]))
