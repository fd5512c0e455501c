"""Delivering queued emails: claim the row, send outside the transaction, record the result.

Retries (SMTP 4xx, time-outs, refused connections) wait ``mail.backoff(attempt)``
in the row itself (``next_attempt_at``), where the scheduler picks them up again:
no broker message is ever delayed for long. A 5xx is a permanent failure, kept
in the history. If a worker dies between sending and recording, the sweeper
sends again with the same Message-ID, so the receiver can tell it is a retry.

SMS rows (kind ``sms``) take the same claim, backoff and history, through the
tenant's SMS provider (``messaging/sms.py``) instead of its SMTP server.

Portal links: a message's texts hold placeholders where ``subject.portal_url`` was
printed (portal/placeholders.py); each attempt puts a new link in their place in what
leaves, never in the row, which keeps the placeholders (a resend gets a new link).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import mail
from procedo.db import models as m
from procedo.messaging import attachments, channel, handovers, library, sms
from procedo.portal import links as portal_links
from procedo.portal.placeholders import PLACEHOLDER
from procedo.runtime import test_runs
from procedo.runtime.context import Runtime
from procedo.runtime.steps import history
from procedo.templates import TemplateError

log = logging.getLogger("procedo.outbox")


class Sender(Protocol):
    def __call__(self, tenant: m.Tenant, email: mail.OutgoingEmail) -> mail.Delivery: ...


def smtp_sender(tenant: m.Tenant, email: mail.OutgoingEmail) -> mail.Delivery:
    """Send through the SMTP server of ``tenant.smtp`` (the settings before migration 0012)."""
    try:
        settings = mail.SmtpSettings.from_dict(tenant.smtp)
    except mail.SmtpSettingsError as exc:
        return mail.Delivery(outcome="failed", detail=str(exc))
    return mail.deliver(settings, email)


def _through_settings(
    settings: mail.SmtpSettings | mail.SmtpSettingsError, email: mail.OutgoingEmail
) -> mail.Delivery:
    if isinstance(settings, mail.SmtpSettingsError):
        return mail.Delivery(outcome="failed", detail=str(settings))
    return mail.deliver(settings, email)


def deliver_all(rt: Runtime, outbox_ids: Sequence[uuid.UUID], sender: Sender | None = None) -> None:
    """Each email in its own claim; one that raises holds up no other (of any tenant).

    The first failure is raised after the rest were tried, so the broker retries the
    message; the emails sent meanwhile are claimed and are not sent twice.
    """
    failed: Exception | None = None
    for outbox_id in outbox_ids:
        try:
            deliver(rt, outbox_id, sender)
        except Exception as exc:
            log.exception("email %s could not be handled; the others go on", outbox_id)
            failed = failed or exc
    if failed is not None:
        raise failed


def deliver(rt: Runtime, outbox_id: uuid.UUID, sender: Sender | None = None) -> None:
    """Send one queued email or SMS; ``sender`` None: through the tenant's email settings.

    The settings (db/messaging.py, the password decrypted) are read in the claiming
    transaction and used for this one send; tenants that never saved any fall back
    to ``tenants.smtp``.
    """
    now = rt.clock.now()
    rendered: library.Rendered | None = None
    with rt.transaction() as (session, _out):
        claimed = session.execute(
            sa.update(m.Outbox)
            .where(m.Outbox.id == outbox_id, m.Outbox.status.in_(("pending", "enqueued")))
            .values(status="sending", attempts=m.Outbox.attempts + 1, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return  # already sent, or being sent: a duplicate message
        row = session.get(m.Outbox, outbox_id)
        assert row is not None
        attempts, instance_id = row.attempts, row.instance_id
        if row.kind == "sms":
            ready: _Ready | mail.Delivery = _sms_of(session, row, now)
        else:
            ready, rendered = _email_of(session, row, sender, now)
    result = ready.send() if isinstance(ready, _Ready) else ready
    _record(rt, outbox_id, attempts, instance_id, result, rendered)


class _Ready:
    """A message ready to leave, sent outside the transaction."""

    def __init__(self, send: Callable[[], mail.Delivery]) -> None:
        self.send = send


def with_links(
    session: Session, row: m.Outbox, texts: Sequence[str], now: dt.datetime
) -> list[str]:
    """The texts of the row's message with a new portal link for each placeholder.

    A test run's message (to its consultant, not the debtor) keeps the placeholders.
    """
    if not any(PLACEHOLDER.search(text) for text in texts):
        return list(texts)
    instance = session.get(m.Instance, row.instance_id) if row.instance_id else None
    if instance is not None and instance.variables.get(test_runs.FLAG):
        return list(texts)
    subject_id = row.subject_id or (instance.subject_id if instance is not None else None)
    subject = session.get(m.Subject, subject_id) if subject_id is not None else None
    if subject is not None and subject.tenant_id != row.tenant_id:
        subject = None  # never a link into another tenant
    filled, _ids = portal_links.fill(session, row.tenant_id, subject, texts, now)
    return filled


def _email_of(
    session: Session, row: m.Outbox, sender: Sender | None, now: dt.datetime
) -> tuple[_Ready | mail.Delivery, library.Rendered | None]:
    """The claimed email as it will leave (template rendered, document attached), or why not."""
    tenant = session.get(m.Tenant, row.tenant_id)
    assert tenant is not None
    session.expunge(tenant)
    settings: mail.SmtpSettings | mail.SmtpSettingsError
    try:
        settings = channel.smtp_settings(session, tenant)
    except mail.SmtpSettingsError as exc:
        settings = exc
    email = mail.OutgoingEmail(
        message_id=row.message_id,
        recipients=tuple(row.recipients),
        subject=row.subject,
        body_html=row.body,
        reply_to=channel.reply_to(session, row.tenant_id),
    )
    rendered: library.Rendered | None = None
    if row.kind == "email" and row.template == handovers.TEMPLATE:
        # Hand-overs collected for one account manager: listed as the email leaves.
        rendered = handovers.render(session, row)
        if rendered is None:
            return mail.Delivery(outcome="failed", detail="not sent: it lists nobody"), None
        email = msgspec.structs.replace(
            email, subject=rendered.subject, body_html=rendered.html, body_text=rendered.text
        )
    elif row.kind == "email" and row.template:
        # A template of the library: rendered at each attempt, for the subject and the
        # template as they are then; one that cannot be rendered fails, saying why.
        try:
            rendered = library.render_for_outbox(session, row, now)
        except TemplateError as exc:
            return mail.Delivery(outcome="failed", detail=f"not sent: {exc}"), None
        email = msgspec.structs.replace(
            email, subject=rendered.subject, body_html=rendered.html, body_text=rendered.text
        )
    # The links the message carries, new for this attempt; the row keeps the placeholders.
    texts = [email.subject, email.body_html, email.body_text or ""]
    subject_line, html, text = with_links(session, row, texts, now)
    email = msgspec.structs.replace(
        email, subject=subject_line, body_html=html, body_text=text or None
    )
    if row.attach_item is not None:
        # The invoice document, read as the message leaves; missing or too large fails it.
        try:
            found = attachments.attachment_for(session, row.tenant_id, str(row.attach_item))
        except attachments.DocumentError as exc:
            return mail.Delivery(outcome="failed", detail=f"not sent: {exc}"), rendered
        files = ((found.filename, found.media_type, found.content),)
        email = msgspec.structs.replace(email, attachments=files)
    if sender is None:
        return _Ready(lambda: _through_settings(settings, email)), rendered
    return _Ready(lambda: sender(tenant, email)), rendered


def _sms_of(session: Session, row: m.Outbox, now: dt.datetime) -> _Ready | mail.Delivery:
    """The claimed SMS with the tenant's provider, or why it cannot leave (settings missing)."""
    try:
        provider = sms.provider_for(session, row.tenant_id)
    except sms.SmsSettingsError as exc:
        return mail.Delivery(outcome="failed", detail=str(exc))
    message = sms.SmsMessage(
        message_id=row.message_id,
        to=row.recipients[0] if row.recipients else "",
        text=with_links(session, row, [row.body], now)[0],
        sender=sms.sender_of(session, row.tenant_id),
    )
    return _Ready(lambda: provider.send(message))


def channel_of(kind: str) -> str:
    """The history's name for an outbox row's channel: ``sms``, else ``email``."""
    return "sms" if kind == "sms" else "email"


def _record(
    rt: Runtime,
    outbox_id: uuid.UUID,
    attempts: int,
    instance_id: uuid.UUID | None,
    result: mail.Delivery,
    rendered: library.Rendered | None,
) -> None:
    """The attempt's outcome on the row: sent, failed (in the history), or pending again."""
    with rt.transaction() as (session, _out):
        row = session.get(m.Outbox, outbox_id)
        assert row is not None
        done = rt.clock.now()
        final = result.outcome != "retry" or attempts >= mail.MAX_ATTEMPTS
        if rendered is not None and final:
            # What was sent (or refused) is kept; the column holds 500 characters of the subject.
            # It was rendered with placeholders: the message had links, the record has none.
            row.subject = portal_links.redact(rendered.subject)[:500]
            row.body = portal_links.redact(rendered.html)
        elif final:
            # Rows hold placeholders, not links; redacting again guards rows of older releases.
            row.subject, row.body = portal_links.redact(row.subject), portal_links.redact(row.body)
        if result.outcome == "retry" and attempts < mail.MAX_ATTEMPTS:
            row.status, row.next_attempt_at = "pending", done + mail.backoff(attempts)
            row.last_error = result.detail
            return
        row.status = "sent" if result.outcome == "sent" else "failed"
        row.last_error = None if result.outcome == "sent" else result.detail
        row.sent_at = done if result.outcome == "sent" else None
        instance = session.get(m.Instance, instance_id) if instance_id else None
        history(
            session,
            instance,
            instance.subject_id if instance else None,
            row.tenant_id,
            done,
            [
                {
                    "kind": channel_of(row.kind)
                    + ("_sent" if result.outcome == "sent" else "_failed"),
                    "data": {
                        "to": row.recipients,
                        "subject": row.subject,
                        "message_id": row.message_id,
                        "detail": result.detail,
                        "attempts": attempts,
                    },
                }
            ],
        )


def claim_due(rt: Runtime, limit: int = 500) -> list[uuid.UUID]:
    """Emails due for a (first or next) attempt, marked `enqueued`."""
    now = rt.clock.now()
    with rt.transaction() as (session, _out):
        query = (
            sa.select(m.Outbox.id)
            .where(m.Outbox.status == "pending", m.Outbox.next_attempt_at <= now)
            .order_by(m.Outbox.next_attempt_at)
            .limit(limit)
        )
        if not rt.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                sa.update(m.Outbox)
                .where(m.Outbox.id.in_(ids))
                .values(status="enqueued")
                .execution_options(synchronize_session=False)
            )
    return ids
