"""Storing a UBL document as an invoice subject and announcing it to the flows.

One call per document: parse (nothing is stored when that fails), complete the
supplier fields from the tenant's own supplier record, upsert the subject under
its key (supplier + number) and, when it is new, post ``invoice.received`` in
the same transaction. A document sent twice changes nothing the second time; a
changed one with the same key replaces the fields (flows waiting on the invoice
see the change) but starts no second approval.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.runtime import setup
from procedo.runtime.context import Runtime
from procedo.ubl import Parsed, parse

INVOICE_RECEIVED = "invoice.received"
RECEIVED_STATUS = "received"


def ingest(rt: Runtime, tenant_id: uuid.UUID, xml_bytes: bytes, actor: str) -> m.Subject:
    """Parse and store one invoice or credit note; raises UblError before storing anything."""
    parsed = parse(xml_bytes)
    try:
        return _store(rt, tenant_id, parsed, actor)
    except sa.exc.IntegrityError:
        # The same document arrived twice at once and the other copy was stored first:
        # now it exists, so this copy is an update that starts nothing.
        return _store(rt, tenant_id, parsed, actor)


def _store(rt: Runtime, tenant_id: uuid.UUID, parsed: Parsed, actor: str) -> m.Subject:
    with rt.db.read() as session:
        existing = session.scalar(
            sa.select(m.Subject.id).where(
                m.Subject.tenant_id == tenant_id,
                m.Subject.type == "invoice",
                m.Subject.key == parsed.key,
            )
        )
        apply_supplier_record(session, tenant_id, parsed)
    return setup.upsert_subject(
        rt,
        tenant_id,
        "invoice",
        parsed.key,
        parsed.fields,
        status=RECEIVED_STATUS if existing is None else None,
        created_event=(INVOICE_RECEIVED, {"source": "ubl", "by": actor}),
    )


def apply_supplier_record(session: Session, tenant_id: uuid.UUID, parsed: Parsed) -> None:
    """``supplier.trusted`` and the invoice email from the tenant's ``supplier`` subject.

    Trust is the tenant's judgement, never the document's; the tenant's known
    address also wins over one in the document (a forged invoice names its own).
    """
    supplier: dict[str, Any] = parsed.fields["supplier"]
    keys = [k for k in (supplier["kvk"], supplier["vat"]) if k]
    if not keys:
        return
    rows = session.scalars(
        sa.select(m.Subject).where(
            m.Subject.tenant_id == tenant_id,
            m.Subject.type == "supplier",
            m.Subject.key.in_(keys),
        )
    ).all()
    record = min(rows, key=lambda row: keys.index(row.key), default=None)
    if record is None:
        return
    supplier["trusted"] = record.fields.get("trusted") is True
    if record.fields.get("email"):
        supplier["email"] = record.fields["email"]
