"""The outbox as staff read it: what Procedo sent or will send, to whom, and how it went.

Read-only for the tenant's staff (admin, designer), except resending a failed
email, which an administrator may do (recorded in the history). Portal links are
cut from what is shown, as from what is kept once sent (runtime/outbox.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
import sqlalchemy as sa
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from procedo import mail
from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import models as m
from procedo.portal import links as portal_links
from procedo.runtime.context import NotFound
from procedo.runtime.steps import history

State: TypeAlias = Literal["queued", "sent", "failed", "ready"]
# The stored statuses behind each state a person reads: a message being handed to the
# server is still queued; a letter is ready until it is printed.
STORED: dict[State, tuple[str, ...]] = {
    "queued": ("pending", "enqueued", "sending"),
    "sent": ("sent",),
    "failed": ("failed",),
    "ready": ("ready",),
}
_STATE_OF: dict[str, State] = {
    stored: state for state, stored_ones in STORED.items() for stored in stored_ones
}
Search: TypeAlias = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=200, description="part of a recipient or subject line"),
]


class OutboxItem(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str  # email, letter, sms
    status: State
    recipients: list[str]
    subject: str
    # A library template's name: the message is rendered from it when it leaves.
    template: str
    attempts: int
    # While queued after a failed try: why, and when the next try is.
    last_error: str | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    instance_id: uuid.UUID | None
    flow: str | None
    flow_name: str | None
    subject_id: uuid.UUID | None
    subject_key: str | None
    subject_type: str | None


class OutboxMessage(OutboxItem, kw_only=True):
    """One message with its body: the HTML as sent (or as queued) and its plain text."""

    body: str
    text: str


_LIST = (
    sa.select(
        m.Outbox.id,
        m.Outbox.kind,
        m.Outbox.status,
        m.Outbox.recipients,
        m.Outbox.subject,
        m.Outbox.template,
        m.Outbox.attempts,
        m.Outbox.last_error,
        m.Outbox.next_attempt_at,
        m.Outbox.created_at,
        m.Outbox.sent_at,
        m.Outbox.instance_id,
        m.Flow.key.label("flow"),
        m.Flow.name.label("flow_name"),
        m.Subject.id.label("subject_id"),
        m.Subject.key.label("subject_key"),
        m.Subject.type.label("subject_type"),
    )
    .outerjoin(m.Instance, m.Instance.id == m.Outbox.instance_id)
    .outerjoin(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
    .outerjoin(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
    .outerjoin(m.Subject, m.Subject.id == m.Instance.subject_id)
)


def _item(row: Any) -> OutboxItem:
    state = _STATE_OF.get(row.status, "queued")
    return OutboxItem(
        id=row.id,
        kind=row.kind,
        status=state,
        recipients=[str(r) for r in row.recipients or []],
        subject=portal_links.redact(row.subject),
        template=row.template,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if state == "queued" else None,
        created_at=row.created_at,
        sent_at=row.sent_at,
        instance_id=row.instance_id,
        flow=row.flow,
        flow_name=row.flow_name,
        subject_id=row.subject_id,
        subject_key=row.subject_key,
        subject_type=row.subject_type,
    )


def _matching(text: str) -> sa.ColumnElement[bool]:
    """A recipient or the subject line contains ``text`` (any case; % and _ are just text)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    pattern = f"%{escaped}%"
    recipients = sa.func.lower(sa.cast(m.Outbox.recipients, sa.String))
    return sa.or_(
        recipients.like(pattern, escape="\\"),
        sa.func.lower(m.Outbox.subject).like(pattern, escape="\\"),
    )


def _staff(caller: Caller) -> None:
    # Messages to debtors and clients: for the office's staff, not for every member.
    caller.internal()
    caller.require("designer")


def _one(rt: RuntimeDep, caller: Caller, message_id: uuid.UUID) -> OutboxMessage:
    with rt.db.read() as session:
        row = session.execute(
            _LIST.add_columns(m.Outbox.body).where(
                m.Outbox.tenant_id == caller.tenant_id, m.Outbox.id == message_id
            )
        ).first()
    if row is None:
        raise NotFound(f"no message {message_id} in this tenant's outbox")
    body = portal_links.redact(row.body)
    item = msgspec.structs.asdict(_item(row))
    return OutboxMessage(**item, body=body, text=mail.html_to_text(body))


class OutboxController(Controller):
    path = "/outbox"
    tags = ["outbox"]

    @get("/", sync_to_thread=True)
    def list_messages(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        status: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        subject_id: FromQuery[uuid.UUID | None] = None,
        instance_id: FromQuery[uuid.UUID | None] = None,
        q: Search = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[OutboxItem]:
        """Emails and letters, newest first (designer or admin).

        `status`: queued, sent, failed or ready (a letter waiting to be printed);
        `kind`: email, letter or sms; `q`: part of a recipient or of the subject line.
        """
        _staff(caller)
        # The page's ids first (one sort over the outbox alone), then their flow and subject.
        page = sa.select(m.Outbox.id).where(m.Outbox.tenant_id == caller.tenant_id)
        if status is not None:
            if status not in STORED:
                raise ApiError(400, f"status: one of {', '.join(STORED)} (was '{status}')")
            page = page.where(m.Outbox.status.in_(STORED[status]))
        if kind is not None:
            if kind not in ("email", "letter", "sms"):
                raise ApiError(400, f"kind: email, letter or sms (was '{kind}')")
            page = page.where(m.Outbox.kind == kind)
        if subject_id is not None:
            runs = sa.select(m.Instance.id).where(
                m.Instance.tenant_id == caller.tenant_id, m.Instance.subject_id == subject_id
            )
            page = page.where(m.Outbox.instance_id.in_(runs))
        if instance_id is not None:
            page = page.where(m.Outbox.instance_id == instance_id)
        if q is not None:
            page = page.where(_matching(q))
        newest_first = (m.Outbox.created_at.desc(), m.Outbox.id.desc())
        with rt.db.read() as session:
            ids = list(session.scalars(page.order_by(*newest_first).limit(limit).offset(offset)))
            if not ids:
                return []
            rows = session.execute(_LIST.where(m.Outbox.id.in_(ids)).order_by(*newest_first)).all()
        return [_item(row) for row in rows]

    @get("/{message_id:uuid}", sync_to_thread=True)
    def get_message(
        self, message_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> OutboxMessage:
        """One message with its body (designer or admin)."""
        _staff(caller)
        return _one(rt, caller, message_id)

    @post("/{message_id:uuid}/resend", sync_to_thread=True, status_code=200)
    def resend(
        self, message_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> OutboxMessage:
        """Send a failed email or SMS again now, with the settings as they are now (admin).

        The history of its instance keeps who asked; 409 unless it is a failed email or SMS.
        """
        caller.require()
        with rt.transaction() as (session, out):
            row = session.scalar(
                sa.select(m.Outbox).where(
                    m.Outbox.tenant_id == caller.tenant_id, m.Outbox.id == message_id
                )
            )
            if row is None:
                raise NotFound(f"no message {message_id} in this tenant's outbox")
            if row.kind not in ("email", "sms") or row.status != "failed":
                state = _STATE_OF.get(row.status, row.status)
                raise ApiError(
                    409,
                    f"only a failed email or SMS can be sent again; this {row.kind} is {state}",
                )
            now = rt.clock.now()
            row.status, row.attempts, row.next_attempt_at = "pending", 0, now
            error, row.last_error = row.last_error, None
            instance = session.get(m.Instance, row.instance_id) if row.instance_id else None
            history(
                session,
                instance,
                instance.subject_id if instance else None,
                row.tenant_id,
                now,
                [
                    {
                        "kind": f"{row.kind}_resent",
                        "actor": caller.actor,
                        "data": {
                            "to": row.recipients,
                            "subject": portal_links.redact(row.subject),
                            "message_id": row.message_id,
                            "error": error,
                        },
                    }
                ],
            )
            out.add("outbox", row.id)
        return _one(rt, caller, message_id)
