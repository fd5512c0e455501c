"""Ad hoc client requests (K3): staff ask a client for documents or data outside any flow.

The request is a ``client_requests`` row like a flow's, with no run (``instance_id``
and ``token_id`` empty): the client gets an email with a link to the same client page,
answers there, and what arrives is kept with the client. Reminders every N days and
the due date are kept by the scheduler's ``sweep`` (no flow timer holds them).
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.clientpage import requests
from procedo.db import models as m
from procedo.db.client_requests import ClientRequest
from procedo.ids import new_id
from procedo.nodes.client_request import EMAIL, LANGUAGES
from procedo.portal import links
from procedo.runtime.context import Refusal, Runtime

NODE: Final = ""  # no flow node asked it
DAY: Final = dt.timedelta(days=1)


@dataclass(frozen=True)
class Item:
    label: str
    kind: Literal["document", "field"] = "document"
    mandatory: bool = True


def ask(
    rt: Runtime,
    tenant_id: uuid.UUID,
    client_id: uuid.UUID,
    title: str,
    items: Sequence[Item],
    message: str,
    due_on: dt.date | None,
    reminder_days: int,
    actor: str,
) -> uuid.UUID:
    """Open the request and mail the client's primary contact a link; answers its id.

    NotFound when the subject is not a client of this tenant; Refusal when the client
    has no email address to send the link to.
    """
    with rt.transaction() as (session, out):
        client = links.debtor(session, tenant_id, client_id, scope="client")
        fields: dict[str, Any] = client.fields or {}
        address = fields.get("email")
        if not isinstance(address, str) or not EMAIL.match(address):
            raise Refusal(
                "the client has no email address to send the link to; fill in its 'email' field"
            )
        contact = fields.get("contact")
        name = contact.get("name") if isinstance(contact, dict) else None
        language = fields.get("language")
        now = rt.clock.now()
        zone, _days = rt.tenant_calendar(session, tenant_id)
        request = ClientRequest(
            id=new_id(),
            tenant_id=tenant_id,
            client_id=client_id,
            instance_id=None,
            token_id=None,
            node_id=NODE,
            kind="documents",
            title=title,
            items=[
                {"id": f"item_{n}", "kind": i.kind, "label": i.label, "mandatory": i.mandatory}
                for n, i in enumerate(items, start=1)
            ],
            answers={},
            contact_email=address,
            contact_name=name if isinstance(name, str) else "",
            language=language if language in LANGUAGES else "nl",
            mode="",
            on_behalf_of="",
            status="open",
            reminder_days=reminder_days,
            reminders=0,
            # The end of the due day in the office's time zone.
            deadline_at=dt.datetime.combine(due_on + DAY, dt.time(), ZoneInfo(zone))
            if due_on is not None
            else None,
            created_at=now,
            closed_at=None,
            decided_by="",
            reason="",
            submission={},
        )
        session.add(request)
        body = "".join(f"<p>{html.escape(part)}</p>" for part in message.split("\n\n") if part)
        row = requests.send_link(
            session, None, request, title, body.replace("\n", "<br>"), now, "0"
        )
        out.add("outbox", row["id"])
        _history(session, request, actor, "client_request_opened", now, {"to": row["recipients"]})
        return request.id


def sweep(rt: Runtime) -> int:
    """Remind the clients of open ad hoc requests every N days, and mark those past their
    due date overdue (no more reminders). Returns how many requests changed."""
    changed = 0
    now = rt.clock.now()
    with rt.transaction() as (session, out):
        for request in session.scalars(
            sa.select(ClientRequest)
            .where(ClientRequest.status == "open", ClientRequest.instance_id.is_(None))
            .with_for_update(skip_locked=True)
        ).all():
            if request.deadline_at is not None and _aware(request.deadline_at) <= now:
                request.status, request.closed_at = "overdue", now
                _history(session, request, "system", "client_request_overdue", now, {})
                changed += 1
            elif request.reminder_days and now >= _aware(request.created_at) + DAY * (
                request.reminder_days * (request.reminders + 1)
            ):
                note = requests.remind(session, out, None, request, now)
                _history(session, request, "system", note["kind"], now, note["data"])
                changed += 1
    return changed


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives the stored UTC moment back without its zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _history(
    session: Session,
    request: ClientRequest,
    actor: str,
    kind: str,
    now: dt.datetime,
    data: dict[str, Any],
) -> None:
    session.add(
        m.History(
            tenant_id=request.tenant_id,
            instance_id=None,
            subject_id=request.client_id,
            at=now,
            actor=actor,
            kind=kind,
            node_id=NODE,
            data={"request": str(request.id), "adhoc": True, **data},
        )
    )
