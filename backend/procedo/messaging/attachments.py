"""Invoice documents attached to email: what the system keeps of an open item, and limits.

An open item may have one document (``open_item_documents``, db/sms.py): its PDF, or
the UBL invoice it was sent as. Attached to an email is the PDF, or for a UBL invoice
the PDF it embeds (``cac:AdditionalDocumentReference/cac:Attachment/
cbc:EmbeddedDocumentBinaryObject``, read with the hardened UBL reader), else the UBL
file itself: an e-invoice is a copy too.

A flow started by an event naming an open item (``portal.copy_requested`` names
``open_item_id``) sees ``vars.event.document`` when that item has one, so an email
node with ``attach: invoice_document`` decides on it when it is entered, and leaves
on ``no_document`` when there is none (M4: a task for an employee instead).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.db.receivables import OpenItem
from procedo.db.sms import OpenItemDocument
from procedo.ubl.xml import CAC, CBC, CREDIT_NOTE, INVOICE, UblError, parse_xml

# A message with more would be refused by many mail servers (base64 adds a third).
MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
PDF: Final = "application/pdf"
UBL: Final = "application/xml"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DocumentError(ValueError):
    """A document that cannot be stored or attached; the message says why and what to do."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


def _too_large(size: int, what: str) -> DocumentError:
    return DocumentError(
        f"{what} has {size:,} bytes; at most {MAX_ATTACHMENT_BYTES:,} can be attached to an email"
    )


def kind_of(content: bytes) -> str:
    """The media type of a document to store, by its own bytes; DocumentError otherwise."""
    if content.startswith(b"%PDF-"):
        return PDF
    try:
        root = parse_xml(content)
    except UblError as exc:
        raise DocumentError(f"the document is neither a PDF nor a UBL invoice: {exc}") from exc
    if root.tag not in (INVOICE, CREDIT_NOTE):
        raise DocumentError("the XML is not a UBL invoice or credit note")
    return UBL


def store_document(
    session: Session,
    tenant_id: uuid.UUID,
    open_item_id: uuid.UUID,
    content: bytes,
    filename: str = "",
    now: dt.datetime | None = None,
) -> OpenItemDocument:
    """Keep (or replace) the open item's document; refused whole if too large or unknown."""
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise _too_large(len(content), "the document")
    media_type = kind_of(content)
    item = session.get(OpenItem, open_item_id)
    if item is None or item.tenant_id != tenant_id:
        raise DocumentError(f"no open item {open_item_id} in this tenant")
    default = f"{item.number}.{'pdf' if media_type == PDF else 'xml'}"
    name = _SAFE_NAME.sub("_", filename.strip())[:200] or default
    row = session.get(OpenItemDocument, open_item_id)
    if row is None:
        row = OpenItemDocument(open_item_id=open_item_id, tenant_id=tenant_id)
        session.add(row)
    row.filename, row.media_type, row.size, row.content = name, media_type, len(content), content
    row.created_at = now or dt.datetime.now(dt.UTC)
    return row


def embedded_pdf(xml: bytes) -> Attachment | None:
    """The first PDF a UBL invoice embeds, or None; the XML is read the hardened way."""
    try:
        root = parse_xml(xml)
    except UblError:
        return None
    path = f"{{{CAC}}}AdditionalDocumentReference/{{{CAC}}}Attachment"
    for attachment in root.iterfind(path):
        binary = attachment.find(f"{{{CBC}}}EmbeddedDocumentBinaryObject")
        if binary is None or (binary.get("mimeCode") or "").lower() != PDF:
            continue
        try:
            content = base64.b64decode("".join((binary.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        if content.startswith(b"%PDF-"):
            name = _SAFE_NAME.sub("_", binary.get("filename") or "")[:200] or "invoice.pdf"
            return Attachment(name, PDF, content)
    return None


def event_variables(
    session: Session, tenant_id: uuid.UUID, data: Mapping[str, Any]
) -> dict[str, Any]:
    """``vars.event`` of a flow started by an event: its data, and the named item's document."""
    found = dict(data)
    document = _describe(session, tenant_id, data.get("open_item_id"))
    if document is not None:
        found["document"] = document
    return found


def _describe(session: Session, tenant_id: uuid.UUID, item: object) -> dict[str, Any] | None:
    try:
        item_id = uuid.UUID(str(item)) if item else None
    except ValueError:
        return None
    if item_id is None:
        return None
    row = session.execute(
        sa.select(
            OpenItemDocument.filename, OpenItemDocument.media_type, OpenItemDocument.size
        ).where(OpenItemDocument.open_item_id == item_id, OpenItemDocument.tenant_id == tenant_id)
    ).first()
    if row is None:
        return None
    return {"open_item_id": str(item_id), "name": row[0], "media_type": row[1], "bytes": row[2]}


def check_size(document: Mapping[str, Any], node: str) -> None:
    """Refuse at the node a document known to be too large (the outbox checks again)."""
    size = document.get("bytes")
    if isinstance(size, int) and size > MAX_ATTACHMENT_BYTES:
        raise _too_large(size, f"the invoice document of node '{node}'")


def attachment_for(session: Session, tenant_id: uuid.UUID, open_item_id: str) -> Attachment:
    """What an email carries for the item: its PDF (a UBL's embedded one) or its UBL file."""
    try:
        item_id = uuid.UUID(open_item_id)
    except ValueError as exc:
        raise DocumentError(f"'{open_item_id}' names no open item") from exc
    row = session.get(OpenItemDocument, item_id)
    if row is None or row.tenant_id != tenant_id:
        raise DocumentError("the open item has no document (any more): nothing to attach")
    if row.size > MAX_ATTACHMENT_BYTES:
        raise _too_large(row.size, f"the document {row.filename}")
    if row.media_type == UBL:
        pdf = embedded_pdf(row.content)
        if pdf is not None:
            return pdf
    return Attachment(row.filename, row.media_type, row.content)


# -- Demo documents ---------------------------------------------------------------------------


def invoice_pdf(number: str, debtor: str, amount: str, due: dt.date) -> bytes:
    """A one-page invoice as a PDF (the demo's documents, and tests)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creator("Procedo demo")
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 12, f"Invoice {number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in (f"To: {debtor}", f"Amount: EUR {amount}", f"Due: {due.isoformat()}"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def ubl_with_pdf(number: str, pdf: bytes) -> bytes:
    """A UBL invoice (only what identifies it) embedding ``pdf`` the way PEPPOL does."""
    encoded = base64.b64encode(pdf).decode()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        f'xmlns:cac="{CAC}" xmlns:cbc="{CBC}">'
        f"<cbc:ID>{number}</cbc:ID>"
        "<cac:AdditionalDocumentReference>"
        f"<cbc:ID>{number}</cbc:ID>"
        "<cac:Attachment>"
        f'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="{number}.pdf">'
        f"{encoded}</cbc:EmbeddedDocumentBinaryObject>"
        "</cac:Attachment>"
        "</cac:AdditionalDocumentReference>"
        "</Invoice>"
    ).encode()
