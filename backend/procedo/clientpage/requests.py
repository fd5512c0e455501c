"""Requests to clients (K3) and returns put to them (K4): opened by a step, answered on the page.

A ``client_request`` or ``file_return`` node asks through a ``ClientRequestAction``
effect; ``apply`` turns it into rows in the step's transaction: the request, a link
to the client page (the portal's link mechanism, scope ``client``) and an email to
the contact carrying it. What the client sends is stored here; when everything
mandatory is in (or the client decides on a return), the node's waiting position
is resumed in the same transaction and ``client_request.completed`` is raised on
the client, so a phase waiting for its open requests looks again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import engine as eng
from procedo.clientpage import filing
from procedo.clientpage.texts import TEXTS
from procedo.clientpage.uploads import Refused, content_type, safe_name
from procedo.db import models as m
from procedo.db.client_requests import ClientRequest, ClientRequestFile
from procedo.ids import new_id
from procedo.nodetypes import ClientRequestAction, EventReceived
from procedo.portal import links
from procedo.portal.placeholders import placeholder
from procedo.runtime import test_runs
from procedo.runtime.buffer import buffer
from procedo.runtime.client_requests_gate import CLIENT_REQUEST_COMPLETED
from procedo.runtime.context import Outgoing, Runtime
from procedo.runtime.effects import message_row, outbox_row
from procedo.runtime.rows import InstanceRow
from procedo.runtime.steps import lock_instance, step_instance

CLIENT_ACTOR: Final = "client (client page)"
COMPLETED_EVENT: Final = CLIENT_REQUEST_COMPLETED
# The events the waiting node hears (EventReceived): it continues on the matching port.
SIGNALS: Final = {
    "complete": "client_request.completed",
    "approved": "client_request.approved",
    "declined": "client_request.declined",
}
MAX_ANSWER: Final = 1000
# At most this many uploads per request (a script posting the form must not fill the disk).
MAX_FILES_PER_REQUEST: Final = 50


def apply(
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    node_id: str,
    token: uuid.UUID | None,
    effect: ClientRequestAction,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The effect as rows; answers the history notes of the step.

    ``token`` is the node's waiting position; None when the node did not wait (a return
    filed at once), and then the request is the one this node opened in this step.
    """
    opened: dict[tuple[uuid.UUID, str], ClientRequest] = session.info.setdefault(
        "client_requests_opened", {}
    )
    if effect.action == "open":
        note, made = _open(session, out, instance, node_id, token, effect, now)
        opened[(instance.id, node_id)] = made
        return [note]
    request: ClientRequest | None
    if token is None:
        request = opened.get((instance.id, node_id))
    else:
        request = session.scalar(
            sa.select(ClientRequest)
            .where(ClientRequest.token_id == token, ClientRequest.instance_id == instance.id)
            .order_by(ClientRequest.created_at.desc())
        )
    if request is None:
        return []
    if effect.action == "remind" and request.status == "open":
        return [remind(session, out, instance, request, now)]
    if effect.action == "overdue" and request.status == "open":
        request.status, request.closed_at = "overdue", now
        return [_note("client_request_overdue", node_id, request)]
    if effect.action == "submit" and request.status in ("approved", "informed"):
        return [_submit(request, now)]
    return []


def _note(what: str, node_id: str, request: ClientRequest, **data: Any) -> dict[str, Any]:
    return {"kind": what, "node_id": node_id, "data": {"request": str(request.id), **data}}


def _open(
    session: Session,
    out: Outgoing,
    instance: InstanceRow,
    node_id: str,
    token: uuid.UUID | None,
    effect: ClientRequestAction,
    now: dt.datetime,
) -> tuple[dict[str, Any], ClientRequest]:
    informs = effect.kind == "filing" and effect.mode in ("automatic", "information")
    request = ClientRequest(
        id=new_id(),
        tenant_id=instance.tenant_id,
        client_id=instance.subject_id,
        instance_id=instance.id,
        token_id=token,
        node_id=node_id,
        kind=effect.kind,
        title=effect.title,
        items=[
            {"id": i.id, "kind": i.kind, "label": i.label, "mandatory": i.mandatory}
            for i in effect.items
        ],
        answers={},
        contact_email=effect.contact_email,
        contact_name=effect.contact_name,
        language=effect.language,
        mode=effect.mode,
        on_behalf_of=effect.on_behalf_of,
        status="informed" if informs else "open",
        reminder_days=effect.reminder_days,
        reminders=0,
        deadline_at=effect.deadline_at,
        created_at=now,
        closed_at=now if informs else None,
        decided_by="",
        reason="",
        submission={},
    )
    session.add(request)
    if effect.mode == "automatic":  # filed without asking: the client gets no message
        return _note("client_request_opened", node_id, request, kind=effect.kind, to=[]), request
    row = send_link(session, instance, request, effect.subject, effect.body, now, "0")
    out.add("outbox", row["id"])
    note = _note("client_request_opened", node_id, request, kind=effect.kind, to=row["recipients"])
    return note, request


def send_link(
    session: Session,
    instance: InstanceRow | None,
    request: ClientRequest,
    subject: str,
    body: str,
    now: dt.datetime,
    nth: str,
) -> dict[str, Any]:
    """An email to the request's contact with a link to the client page, made as the
    message leaves (each message its own; the row keeps a placeholder, never the link);
    a test run's goes to its consultant, with the placeholder. ``instance`` is None for a
    request staff asked outside a flow (clientpage/adhoc.py)."""
    words = TEXTS.get(request.language, TEXTS["nl"])
    url = html.escape(placeholder("client"))
    linked = f'{body}\n<p><a href="{url}">{html.escape(words["email_link"])}</a></p>\n<p>{url}</p>'
    message_id = f"<{request.id}.{nth}@procedo>"
    if instance is None:
        recipients = [request.contact_email]
        row = message_row(
            request.tenant_id,
            None,
            message_id,
            recipients,
            subject,
            linked,
            now,
            subject_id=request.client_id,
        )
    else:
        row = outbox_row(instance, message_id, [request.contact_email], subject, linked, now)
        row = test_runs.redirect(instance, row)
    buffer(session).insert(m.Outbox, row)
    return row


def remind(
    session: Session,
    out: Outgoing,
    instance: InstanceRow | None,
    request: ClientRequest,
    now: dt.datetime,
) -> dict[str, Any]:
    request.reminders += 1
    words = TEXTS.get(request.language, TEXTS["nl"])
    subject = f"{words['email_reminder']}: {request.title}"
    body = f"<p>{html.escape(words['intro'])}</p>"
    row = send_link(session, instance, request, subject, body, now, f"r{request.reminders}")
    out.add("outbox", row["id"])
    return _note(
        "client_request_reminded",
        request.node_id,
        request,
        to=row["recipients"],
        reminder=request.reminders,
    )


def _submit(request: ClientRequest, now: dt.datetime) -> dict[str, Any]:
    provider = filing.provider()
    receipt = provider.submit(
        filing.Filing(
            request_id=request.id,
            tenant_id=request.tenant_id,
            client_id=request.client_id,
            title=request.title,
            on_behalf_of=request.on_behalf_of,
            approved_by=request.decided_by,
            at=now,
        )
    )
    request.submission = {
        "provider": receipt.provider,
        "reference": receipt.reference,
        "status": receipt.status,
        "at": now.isoformat(),
    }
    return _note(
        "return_submitted",
        request.node_id,
        request,
        provider=receipt.provider,
        reference=receipt.reference,
        status=receipt.status,
    )


# --- The client's side ------------------------------------------------------------------


def open_requests(session: Session, tenant_id: uuid.UUID, client_id: uuid.UUID) -> list[Any]:
    """The client's requests still open, oldest first: what the page lists."""
    return list(
        session.scalars(
            sa.select(ClientRequest)
            .where(
                ClientRequest.tenant_id == tenant_id,
                ClientRequest.client_id == client_id,
                ClientRequest.status == "open",
            )
            .order_by(ClientRequest.created_at, ClientRequest.id)
        )
    )


def received_items(session: Session, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Per request, the items a file arrived for."""
    found: dict[uuid.UUID, set[str]] = {}
    if request_ids:
        rows = session.execute(
            sa.select(ClientRequestFile.request_id, ClientRequestFile.item_id).where(
                ClientRequestFile.request_id.in_(request_ids)
            )
        )
        for request_id, item_id in rows:
            found.setdefault(request_id, set()).add(item_id)
    return found


class Problem(Exception):
    """What the client sent is not taken; ``key`` names the page's words, ``status`` the code."""

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.key = key
        self.status = status


@dataclass(frozen=True)
class Upload:
    item_id: str
    filename: str
    content: bytes


def _own_open_request(session: Session, link: links.Link, request_id: uuid.UUID) -> ClientRequest:
    """The link's client's request by id, locked; another client's or tenant's is unknown.

    Its run's instance is locked first, as every step locks it before its other rows:
    a step of the same run (a reminder, staff moving the flow) holding the instance and
    about to write the request would otherwise deadlock with the client's post.
    """
    mine = (
        ClientRequest.id == request_id,
        ClientRequest.tenant_id == link.tenant_id,
        ClientRequest.client_id == link.debtor_id,
    )
    instance_id = session.execute(sa.select(ClientRequest.instance_id).where(*mine)).first()
    if instance_id is None:
        raise Problem("unknown_item", 404)
    if instance_id[0] is not None:
        lock_instance(session, instance_id[0])
    request = session.scalar(sa.select(ClientRequest).where(*mine).with_for_update())
    if request is None:
        raise Problem("unknown_item", 404)
    if request.status != "open":
        raise Problem("not_open", 409)
    return request


def _clean_text(value: str) -> str:
    text = value.strip()
    if len(text) > MAX_ANSWER or any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise Problem("bad_text")
    return text


def receive(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    link: links.Link,
    request_id: uuid.UUID,
    uploads: Sequence[Upload],
    fields: dict[str, str],
    now: dt.datetime,
) -> None:
    """Store the client's files and fields for a documents request; complete it when all
    mandatory items are in. Nothing is stored when any part is refused."""
    request = _own_open_request(session, link, request_id)
    if request.kind != "documents":
        raise Problem("unknown_item", 404)
    items = {item["id"]: item for item in request.items}
    checked: list[tuple[Upload, str]] = []
    for upload in uploads:
        item = items.get(upload.item_id)
        if item is None or item["kind"] != "document":
            raise Problem("unknown_item")
        try:
            checked.append((upload, content_type(upload.content)))
        except Refused as refused:
            status = {"too_large": 413, "wrong_type": 415, "hostile_xml": 415}.get(refused.key, 422)
            raise Problem(refused.key, status) from refused
    answers: dict[str, str] = {}
    for item_id, value in fields.items():
        item = items.get(item_id)
        if item is None or item["kind"] != "field":
            raise Problem("unknown_item")
        if value.strip():
            answers[item_id] = _clean_text(value)
    if not checked and not answers:
        raise Problem("nothing_sent")
    stored = session.scalar(
        sa.select(sa.func.count())
        .select_from(ClientRequestFile)
        .where(ClientRequestFile.request_id == request.id)
    )
    if int(stored or 0) + len(checked) > MAX_FILES_PER_REQUEST:
        raise Problem("too_large", 413)
    for upload, media_type in checked:
        session.add(
            ClientRequestFile(
                id=new_id(),
                tenant_id=request.tenant_id,
                request_id=request.id,
                item_id=upload.item_id,
                filename=safe_name(upload.filename, media_type),
                content_type=media_type,
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
                content=upload.content,
                uploaded_at=now,
            )
        )
    if answers:
        request.answers = {
            **request.answers,
            **{key: {"value": value, "at": now.isoformat()} for key, value in answers.items()},
        }
    session.flush()
    _history(
        session,
        request,
        "client_request_received",
        now,
        {
            "files": [u.item_id for u, _ in checked],
            "fields": sorted(answers),
            "link": str(link.id),
        },
    )
    have = received_items(session, [request.id]).get(request.id, set()) | set(request.answers)
    missing = [i["id"] for i in request.items if i["mandatory"] and i["id"] not in have]
    if not missing:
        _close(rt, session, out, request, "complete", now)


def decide(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    link: links.Link,
    request_id: uuid.UUID,
    approve: bool,
    name: str,
    reason: str,
    now: dt.datetime,
) -> None:
    """The client approves or declines a return: who (the name typed, the contact the link
    went to) and when and why are kept; the waiting node continues on approved/declined."""
    request = _own_open_request(session, link, request_id)
    if request.kind != "filing":
        raise Problem("unknown_item", 404)
    who = _clean_text(name)[:200]
    why = _clean_text(reason)
    if not who:
        raise Problem("name_missing")
    if not approve and not why:
        raise Problem("reason_missing")
    request.decided_by = f"{who} <{request.contact_email}>"
    request.decided_at = now
    request.reason = why
    _history(
        session,
        request,
        "return_approved" if approve else "return_declined",
        now,
        {"by": request.decided_by, "reason": why, "link": str(link.id)},
    )
    _close(rt, session, out, request, "approved" if approve else "declined", now)


def _history(
    session: Session, request: ClientRequest, kind: str, now: dt.datetime, data: dict[str, Any]
) -> None:
    session.add(
        m.History(
            tenant_id=request.tenant_id,
            instance_id=request.instance_id,
            subject_id=request.client_id,
            at=now,
            actor=CLIENT_ACTOR,
            kind=kind,
            node_id=request.node_id,
            data={"request": str(request.id), **data},
        )
    )


def _close(
    rt: Runtime,
    session: Session,
    out: Outgoing,
    request: ClientRequest,
    status: str,
    now: dt.datetime,
) -> None:
    """Close the request, raise ``client_request.completed`` on the client, resume the node."""
    request.status, request.closed_at = status, now
    event = m.Event(
        id=new_id(),
        tenant_id=request.tenant_id,
        subject_id=request.client_id,
        name=COMPLETED_EVENT,
        data={
            "request": str(request.id),
            "instance_id": str(request.instance_id),
            "kind": request.kind,
            "status": status,
        },
        created_at=now,
    )
    session.add(event)
    session.flush()
    out.add("event", event.id)
    if request.instance_id is None or request.token_id is None:
        return
    instance = lock_instance(session, request.instance_id)
    if instance is None or instance.status != "running":
        return
    signal = EventReceived(SIGNALS[status], {"request": str(request.id), "by": request.decided_by})
    try:
        step_instance(
            rt, session, out, instance, eng.Resume(str(request.token_id), signal), CLIENT_ACTOR
        )
    except eng.StaleEvent:
        pass  # the flow moved on meanwhile (cancelled, moved by staff): the answer stays kept
    except eng.NodeFailed:
        pass  # the instance is failed with the node's error; what arrived stays kept


# --- Staff's side -------------------------------------------------------------------------


def open_count(session: Session, instance_id: uuid.UUID) -> int:
    """Requests of the instance still waiting for the client, at positions the flow still
    holds (a request whose node was left by a move or cancel no longer holds anything)."""
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(ClientRequest)
        .join(m.Token, m.Token.id == ClientRequest.token_id)
        .where(ClientRequest.instance_id == instance_id, ClientRequest.status == "open")
    )
    return int(count or 0)
