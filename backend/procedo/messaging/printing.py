"""Letters from the outbox to paper: the letterhead, a letter's PDF, print batches.

A letter node queues an outbox row of kind ``letter`` (status ``ready``). Its PDF is
drawn the first time someone downloads it or a batch takes it in, then kept, so a
reprint is the letter that went out. A batch takes every letter still waiting, draws
the ones without a PDF in one go, and is marked printed when it left the printer;
its letters then count as sent.

A letter whose text prints ``subject.portal_url`` gets its short link when it is drawn
(links.fill; with a QR code beside it). The PDF kept then holds a credential, so it
is kept sealed with the server's key, bound to the tenant (secretbox), and opened
only to be downloaded or printed.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Final

import msgspec
import sqlalchemy as sa
from pypdf import PdfReader, PdfWriter
from sqlalchemy.orm import Session

from procedo import formats
from procedo.db import letters as dbl
from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.messaging import letters
from procedo.messaging.channel import default_language
from procedo.messaging.epc import EpcError, iban_is_valid
from procedo.messaging.library import render_named
from procedo.messaging.secretbox import SecretError, server_box
from procedo.portal.links import SHORT_URL
from procedo.receivables.references import compact, is_rf
from procedo.runtime.outbox import with_links
from procedo.templates import TemplateError

OPEN_STATUSES: Final = ("open", "dispute", "promise", "payment_plan")


class PrintProblem(ValueError):
    """Bad letterhead input or a batch that cannot be made; says what to do."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class LetterheadIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    iban: Annotated[str, msgspec.Meta(max_length=42)] = ""
    bic: Annotated[str, msgspec.Meta(max_length=11)] = ""
    footer: Annotated[str, msgspec.Meta(max_length=300)] = ""


class LetterheadOut(msgspec.Struct):
    name: str
    address: str
    iban: str
    bic: str
    footer: str
    configured: bool


def read_letterhead(session: Session, tenant_id: uuid.UUID) -> letters.Letterhead:
    row = session.get(dbl.Letterhead, tenant_id)
    if row is None:
        tenant = session.get(m.Tenant, tenant_id)
        return letters.Letterhead(name=tenant.name if tenant else "")
    return letters.Letterhead(row.name, row.address, row.iban, row.bic, row.footer)


def letterhead_out(session: Session, tenant_id: uuid.UUID) -> LetterheadOut:
    head = read_letterhead(session, tenant_id)
    configured = session.get(dbl.Letterhead, tenant_id) is not None
    return LetterheadOut(head.name, head.address, head.iban, head.bic, head.footer, configured)


def save_letterhead(session: Session, tenant_id: uuid.UUID, body: LetterheadIn, by: str) -> None:
    iban = compact(body.iban)
    if iban and not iban_is_valid(iban):
        raise PrintProblem("$.iban", f"IBAN {body.iban!r} is not valid: check the digits")
    row = session.get(dbl.Letterhead, tenant_id) or dbl.Letterhead(tenant_id=tenant_id)
    row.name, row.address, row.iban = body.name.strip(), body.address.strip(), iban
    row.bic, row.footer = compact(body.bic), body.footer.strip()
    row.updated_at, row.updated_by = dt.datetime.now(dt.UTC), by
    session.add(row)


def _payment(session: Session, subject: m.Subject) -> letters.Payment | None:
    """A debtor's open debt and the reference of its oldest open item, for the QR code."""
    if subject.type != "debtor":
        return None
    items = session.execute(
        sa.select(OpenItem.open_amount, OpenItem.payment_reference)
        .where(OpenItem.debtor_id == subject.id, OpenItem.status.in_(OPEN_STATUSES))
        .order_by(OpenItem.due_date, OpenItem.number)
    ).all()
    total = sum((amount for amount, _ in items), Decimal("0"))
    if total <= 0:
        return None
    references = [ref for _, ref in items if ref and is_rf(ref)]
    return letters.Payment(total, references[0] if len(items) == 1 and references else "")


def letter_of(session: Session, row: m.Outbox, now: dt.datetime) -> letters.Letter:
    """What the letter says and to whom: the outbox row and its subject as it is now.

    A placeholder of the portal's link becomes a new short link (``portal_url``).
    """
    subject = instance = None
    if row.instance_id is not None:
        instance = session.get(m.Instance, row.instance_id)
        subject = session.get(m.Subject, instance.subject_id) if instance else None
    fields = subject.fields if subject else {}
    texts = [row.subject, row.body]
    language = str(fields.get("language") or "") or default_language(session, row.tenant_id)
    if row.text_template:
        # A template of the library, for the debtor as it is now, in its language.
        try:
            run = (subject.id, instance.variables) if subject and instance else None
            rendered = render_named(session, row.tenant_id, row.text_template, run, now, "p")
        except TemplateError as exc:
            raise PrintProblem(f"letter {row.id}", f"{exc}") from exc
        texts, language = [rendered.subject, rendered.html], rendered.language
    title, body = with_links(session, row, texts, now)
    found = SHORT_URL.search(title + body) if [title, body] != texts else None
    name = str(fields.get("name") or (subject.key if subject else ""))
    recipient = "\n".join([name, str(fields.get("address") or "")])
    return letters.Letter(
        recipient=recipient,
        subject=title,
        body=body,
        date=formats.long_date(row.created_at.date(), language),
        language=language,
        customer=subject.key if subject else "",
        payment=_payment(session, subject) if subject else None,
        portal_url=found[0] if found else "",
    )


def _draw(
    session: Session, tenant_id: uuid.UUID, rows: Sequence[m.Outbox], now: dt.datetime
) -> None:
    """Draw the PDFs of letters that have none yet, all in one document, then split it.

    ``now``: the runtime's clock, where a portal link a letter prints starts its life."""
    todo = [row for row in rows if row.document is None]
    if not todo:
        return
    head = read_letterhead(session, tenant_id)
    try:
        drawing = [letter_of(session, r, now) for r in todo]
        document, ranges = letters.render_with_pages(drawing, head)
    except EpcError as exc:
        raise PrintProblem("letterhead.iban", f"{exc}") from exc
    reader = PdfReader(io.BytesIO(document))
    for row, drawn, (first, count) in zip(todo, drawing, ranges, strict=True):
        writer = PdfWriter()
        for index in range(first, first + count):
            writer.add_page(reader.pages[index])
        out = io.BytesIO()
        writer.write(out)
        pdf = out.getvalue()
        row.document = _sealed(pdf, tenant_id) if drawn.portal_url else pdf
        if row.text_template and not (drawn.portal_url and drawn.portal_url in drawn.subject):
            row.subject = drawn.subject  # lists show the line it was printed with


def _sealed(pdf: bytes, tenant_id: uuid.UUID) -> bytes:
    """A PDF holding a portal link is kept encrypted: the link is a credential."""
    try:
        return server_box().seal_bytes(pdf, str(tenant_id))
    except SecretError as exc:  # distributed without PROCEDO_SECRET_KEY
        raise PrintProblem("letter", f"{exc}") from exc


def _opened(document: bytes, tenant_id: uuid.UUID) -> bytes:
    """A kept PDF as it was drawn: sealed ones (a portal link in them) opened."""
    if document.startswith(b"%PDF"):
        return document
    try:
        return server_box().open_bytes(document, str(tenant_id))
    except SecretError as exc:
        raise PrintProblem("letter", f"{exc}: set the key it was drawn with again") from exc


def letter_document(
    session: Session, tenant_id: uuid.UUID, letter_id: uuid.UUID, now: dt.datetime
) -> bytes:
    row = _letter(session, tenant_id, letter_id)
    _draw(session, tenant_id, [row], now)
    assert row.document is not None
    return _opened(row.document, tenant_id)


def _letter(session: Session, tenant_id: uuid.UUID, letter_id: uuid.UUID) -> m.Outbox:
    row = session.get(m.Outbox, letter_id)
    if row is None or row.tenant_id != tenant_id or row.kind != "letter":
        raise LookupError(f"no letter {letter_id} in this tenant")
    return row


def create_batch(
    session: Session, tenant_id: uuid.UUID, by: str, now: dt.datetime
) -> dbl.PrintBatch:
    """Every letter waiting for print, in one batch, each with its PDF drawn."""
    rows = session.scalars(
        sa.select(m.Outbox)
        .where(
            m.Outbox.tenant_id == tenant_id,
            m.Outbox.kind == "letter",
            m.Outbox.status == "ready",
            m.Outbox.batch_id.is_(None),
        )
        .order_by(m.Outbox.created_at, m.Outbox.id)
        .with_for_update()
    ).all()
    if not rows:
        raise PrintProblem("letters", "no letters are waiting for print")
    _draw(session, tenant_id, rows, now)
    batch = dbl.PrintBatch(tenant_id=tenant_id, letters=len(rows), created_by=by)
    session.add(batch)
    session.flush()
    for row in rows:
        row.batch_id = batch.id
    return batch


def batch_document(session: Session, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> bytes:
    """The batch's letters as one PDF to print, in the order they were queued."""
    _batch(session, tenant_id, batch_id)
    documents = session.scalars(
        sa.select(m.Outbox.document)
        .where(m.Outbox.batch_id == batch_id, m.Outbox.tenant_id == tenant_id)
        .order_by(m.Outbox.created_at, m.Outbox.id)
    ).all()
    writer = PdfWriter()
    for document in documents:
        if document is not None:
            writer.append(PdfReader(io.BytesIO(_opened(document, tenant_id))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def mark_printed(
    session: Session, tenant_id: uuid.UUID, batch_id: uuid.UUID, by: str
) -> dbl.PrintBatch:
    """The batch left the printer: its letters count as sent from now on."""
    batch = _batch(session, tenant_id, batch_id)
    if batch.printed_at is None:
        now = dt.datetime.now(dt.UTC)
        batch.printed_at, batch.printed_by = now, by
        session.execute(
            sa.update(m.Outbox)
            .where(m.Outbox.batch_id == batch_id, m.Outbox.status == "ready")
            .values(status="sent", sent_at=now)
        )
    return batch


def _batch(session: Session, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> dbl.PrintBatch:
    batch = session.get(dbl.PrintBatch, batch_id)
    if batch is None or batch.tenant_id != tenant_id:
        raise LookupError(f"no print batch {batch_id} in this tenant")
    return batch
