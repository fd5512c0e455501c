"""Storing a UBL document as an invoice subject and announcing it to the flows.

One call per document: parse (nothing is stored when that fails), complete the
supplier fields from the tenant's own supplier record, upsert the subject under
its key (supplier + number) and, when it is new, post ``invoice.received`` in
the same transaction. A document sent twice changes nothing the second time; a
changed one with the same key replaces the fields (flows waiting on the invoice
see the change) but starts no second approval. ``ingest_many`` does the same for
a batch, with the new invoices written in one transaction.

A document a supplier sent instead of an invoice (an image, a PDF, XML of
another kind: ``UblError.kind``) is not refused: it is recorded as an invoice
subject with ``document_type`` ``not_an_invoice``, every check false and the
finding in ``conversion_problem``, so ``invoice.received`` starts the conversion
check (E6). Hostile or unreadable input (over the size limit, a DOCTYPE,
malformed XML) and incomplete invoices are still refused with nothing stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db import models as m
from procedo.db.bulk import insert_rows
from procedo.ids import new_id
from procedo.runtime import setup
from procedo.runtime.context import Runtime
from procedo.ubl import Parsed, UblError, parse
from procedo.ubl.fields import NOT_AN_INVOICE, not_an_invoice_fields

_TABLES = m.Base.metadata.tables
# The bulk insert talks to the driver directly, so its errors are the driver's own.
_DUPLICATE = (sa.exc.IntegrityError, sqlite3.IntegrityError, psycopg.errors.IntegrityError)
INVOICE_RECEIVED = "invoice.received"
RECEIVED_STATUS = "received"


def ingest(rt: Runtime, tenant_id: uuid.UUID, xml_bytes: bytes, actor: str) -> m.Subject:
    """Parse and store one invoice or credit note; raises UblError before storing anything.

    A document of another kind (``UblError.kind``) is recorded as a conversion problem.
    """
    try:
        parsed = parse(xml_bytes)
    except UblError as exc:
        if not exc.kind:
            raise
        return record_not_an_invoice(rt, tenant_id, xml_bytes, exc, actor)[0]
    try:
        return _store(rt, tenant_id, parsed, actor)[0]
    except sa.exc.IntegrityError:
        # The same document arrived twice at once and the other copy was stored first:
        # now it exists, so this copy is an update that starts nothing.
        return _store(rt, tenant_id, parsed, actor)[0]


def record_not_an_invoice(
    rt: Runtime, tenant_id: uuid.UUID, data: bytes, error: UblError, actor: str
) -> tuple[m.Subject, bool]:
    """A document sent instead of an invoice, as a conversion problem; and whether it is new.

    Keyed by its SHA-256, so the same file sent twice is one record and starts one
    conversion check. Only its kind, size and digest are kept, never its content.
    """
    digest = hashlib.sha256(data).hexdigest()
    key = f"{NOT_AN_INVOICE.replace('_', '-')}/{digest}"
    problem = "; ".join(p.message for p in error.problems)
    note = f"Received instead of an invoice: {error.kind}, {len(data):,} bytes, SHA-256 {digest}."
    fields = not_an_invoice_fields(problem, note)
    try:
        return _upsert(rt, tenant_id, key, fields, actor)
    except sa.exc.IntegrityError:  # a copy stored at the same moment: now it is not new
        return _upsert(rt, tenant_id, key, fields, actor)


def _upsert(
    rt: Runtime, tenant_id: uuid.UUID, key: str, fields: dict[str, Any], actor: str
) -> tuple[m.Subject, bool]:
    with rt.db.read() as session:
        existing = _existing_id(session, tenant_id, key)
    subject = setup.upsert_subject(
        rt,
        tenant_id,
        "invoice",
        key,
        fields,
        status=RECEIVED_STATUS if existing is None else None,
        created_event=(INVOICE_RECEIVED, {"source": "ubl", "by": actor}),
    )
    return subject, existing is None


def _existing_id(session: Session, tenant_id: uuid.UUID, key: str) -> uuid.UUID | None:
    return session.scalar(
        sa.select(m.Subject.id).where(
            m.Subject.tenant_id == tenant_id,
            m.Subject.type == "invoice",
            m.Subject.key == key,
        )
    )


def _store(rt: Runtime, tenant_id: uuid.UUID, parsed: Parsed, actor: str) -> tuple[m.Subject, bool]:
    """The stored subject, and whether it is new."""
    with rt.db.read() as session:
        existing = _existing_id(session, tenant_id, parsed.key)
        apply_supplier_record(session, tenant_id, parsed)
    subject = setup.upsert_subject(
        rt,
        tenant_id,
        "invoice",
        parsed.key,
        parsed.fields,
        status=RECEIVED_STATUS if existing is None else None,
        created_event=(INVOICE_RECEIVED, {"source": "ubl", "by": actor}),
    )
    return subject, existing is None


def apply_supplier_record(session: Session, tenant_id: uuid.UUID, parsed: Parsed) -> None:
    """``supplier.trusted`` and the invoice email from the tenant's ``supplier`` subject.

    Trust is the tenant's judgement, never the document's; the tenant's known
    address also wins over one in the document (a forged invoice names its own).
    The record is the supplier subject keyed by the KvK number, else the VAT number.
    """
    _apply_record(parsed, _supplier_records(session, tenant_id, [parsed]))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one document of a batch: stored (new or not), or refused."""

    key: str = ""
    subject_id: uuid.UUID | None = None
    created: bool = False
    error: UblError | None = None


def ingest_many(
    rt: Runtime, tenant_id: uuid.UUID, documents: Sequence[bytes], actor: str
) -> list[Outcome]:
    """``ingest`` for a batch (an access point's delivery): new invoices in one transaction.

    The new subjects and their ``invoice.received`` events are written with one
    bulk insert each; documents already stored, or repeated in the batch, go
    through ``ingest`` one by one (they start nothing). Refused documents are
    reported in their place and store nothing; the others are stored regardless.
    """
    outcomes: list[Outcome] = [Outcome()] * len(documents)
    parsed: dict[int, Parsed] = {}
    for index, document in enumerate(documents):
        try:
            parsed[index] = parse(document)
        except UblError as exc:
            if exc.kind:  # sent instead of an invoice: a conversion problem, one at a time
                subject, new = record_not_an_invoice(rt, tenant_id, document, exc, actor)
                outcomes[index] = Outcome(key=subject.key, subject_id=subject.id, created=new)
            else:
                outcomes[index] = Outcome(error=exc)
    with rt.db.read() as session:
        existing = _existing_keys(session, tenant_id, {p.key for p in parsed.values()})
        records = _supplier_records(session, tenant_id, parsed.values())
    fresh: dict[str, int] = {}
    later: list[int] = []
    for index, item in parsed.items():
        _apply_record(item, records)
        if item.key in existing or item.key in fresh:
            later.append(index)
        else:
            fresh[item.key] = index
    try:
        created = _insert_new(rt, tenant_id, [parsed[i] for i in fresh.values()], actor)
    except _DUPLICATE:  # a copy stored meanwhile: take these one at a time
        created = {}
        later = sorted([*later, *fresh.values()])
    for key, index in fresh.items():
        if key in created:
            outcomes[index] = Outcome(key=key, subject_id=created[key], created=True)
    for index in later:
        subject, new = _store(rt, tenant_id, parsed[index], actor)
        outcomes[index] = Outcome(key=subject.key, subject_id=subject.id, created=new)
    return outcomes


def _existing_keys(session: Session, tenant_id: uuid.UUID, keys: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(keys)
    for first in range(0, len(ordered), 500):
        found.update(
            session.scalars(
                sa.select(m.Subject.key).where(
                    m.Subject.tenant_id == tenant_id,
                    m.Subject.type == "invoice",
                    m.Subject.key.in_(ordered[first : first + 500]),
                )
            )
        )
    return found


def _supplier_records(
    session: Session, tenant_id: uuid.UUID, items: Iterable[Parsed]
) -> dict[str, dict[str, Any]]:
    keys = sorted(
        {k for p in items for k in (p.fields["supplier"]["kvk"], p.fields["supplier"]["vat"]) if k}
    )
    records: dict[str, dict[str, Any]] = {}
    for first in range(0, len(keys), 500):
        rows = session.execute(
            sa.select(m.Subject.key, m.Subject.fields).where(
                m.Subject.tenant_id == tenant_id,
                m.Subject.type == "supplier",
                m.Subject.key.in_(keys[first : first + 500]),
            )
        )
        records.update((key, fields) for key, fields in rows)
    return records


def _apply_record(parsed: Parsed, records: dict[str, dict[str, Any]]) -> None:
    supplier: dict[str, Any] = parsed.fields["supplier"]
    record = records.get(supplier["kvk"]) if supplier["kvk"] else None
    if record is None and supplier["vat"]:
        record = records.get(supplier["vat"])
    if record is None:
        return
    supplier["trusted"] = record.get("trusted") is True
    if record.get("email"):
        supplier["email"] = record["email"]


def _insert_new(
    rt: Runtime, tenant_id: uuid.UUID, items: Sequence[Parsed], actor: str
) -> dict[str, uuid.UUID]:
    if not items:
        return {}
    now = rt.clock.now()
    ids = {item.key: new_id() for item in items}
    subjects = [
        {
            "id": ids[item.key],
            "tenant_id": tenant_id,
            "type": "invoice",
            "key": item.key,
            "status": RECEIVED_STATUS,
            "fields": item.fields,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]
    event_ids = [new_id() for _ in items]
    events = [
        {
            "id": event_id,
            "tenant_id": tenant_id,
            "subject_id": ids[item.key],
            "name": INVOICE_RECEIVED,
            "data": {"source": "ubl", "by": actor},
            "created_at": now,
        }
        for item, event_id in zip(items, event_ids, strict=True)
    ]
    with rt.transaction() as (session, out):
        insert_rows(session, _TABLES["subjects"], subjects)
        insert_rows(session, _TABLES["events"], events)
        for event_id in event_ids:
            out.add("event", event_id)
    return ids
