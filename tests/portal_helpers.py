"""A tenant with a debtor, its open items and a portal link, for the portal tests."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import undefer

from procedo.api.server import Backend
from procedo.db import models as m
from procedo.db.portal import PortalLink, PortalReaction
from procedo.db.receivables import OpenItem
from tests.api_helpers import Office, office, ok


@dataclass
class Debtor:
    acme: Office
    id: str
    items: dict[str, uuid.UUID]
    url: str
    token: str
    page: httpx.Client  # no staff credential: what the debtor's browser has


def debtor_with_link(
    backend: Backend,
    base_url: str,
    tenant: str = "Acme Portal",
    key: str = "D1",
    fields: dict[str, Any] | None = None,
    items: tuple[tuple[str, str], ...] = (
        ("2026-0001", "100.00"),
        ("2026-0002", "250.50"),
        ("2026-0003", "42.10"),
    ),
    acme: Office | None = None,
) -> Debtor:
    acme = acme or office(backend.runtime, base_url, tenant)
    body = {"type": "debtor", "key": key, "fields": fields or {"name": "Bakkerij De Korst"}}
    debtor = str(ok(acme.http.post("/subjects", json=body), 201)["id"])
    made = {number: add_item(backend, acme, debtor, number, amount) for number, amount in items}
    link = ok(acme.http.post(f"/portal/debtors/{debtor}/links"), 201)
    token = link["url"].rsplit("/", 1)[1]
    page = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    return Debtor(acme, debtor, made, link["url"], token, page)


def add_item(
    backend: Backend,
    acme: Office,
    debtor: str,
    number: str,
    amount: str,
    status: str = "open",
    due: dt.date = dt.date(2026, 10, 1),
) -> uuid.UUID:
    ident = uuid.uuid4()
    row = {
        "id": ident,
        "tenant_id": acme.tenant_id,
        "debtor_id": uuid.UUID(debtor),
        "number": number,
        "issue_date": dt.date(2026, 9, 1),
        "due_date": due,
        "amount": Decimal(amount),
        "open_amount": Decimal("0.00") if status == "paid" else Decimal(amount),
        "status": status,
    }
    with backend.runtime.db.transaction() as session:
        session.execute(sa.insert(OpenItem), [row])
    return ident


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def counts(backend: Backend) -> dict[str, int]:
    """Rows of every table a portal request could write, by table."""
    tables = {
        "reactions": PortalReaction,
        "links": PortalLink,
        "events": m.Event,
        "items": OpenItem,
        "subjects": m.Subject,
        "history": m.History,
        "instances": m.Instance,
    }
    with backend.runtime.db.read() as session:
        return {
            name: int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }


def reactions(backend: Backend) -> list[PortalReaction]:
    with backend.runtime.db.read() as session:
        query = sa.select(PortalReaction).options(undefer(PortalReaction.proof))
        return list(session.scalars(query.order_by(PortalReaction.created_at)))


def events(backend: Backend, prefix: str = "portal.") -> list[m.Event]:
    with backend.runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(m.Event)
                .where(m.Event.name.startswith(prefix))
                .order_by(m.Event.created_at)
            )
        )
