"""Staff's side of the client page: a client's requests, what arrived, the decisions (K3, K4).

The client's page itself lives at ``/client/{token}`` outside the API
(procedo/clientpage/page.py) and takes no staff credential.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.clientpage import adhoc
from procedo.db.client_requests import ClientRequest, ClientRequestFile
from procedo.portal import links
from procedo.runtime.context import Refusal


class FileOut(msgspec.Struct):
    id: uuid.UUID
    item_id: str
    filename: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class RequestOut(msgspec.Struct):
    """A request with what is asked, what arrived, and for a return the client's decision."""

    id: uuid.UUID
    kind: str
    title: str
    status: str
    instance_id: uuid.UUID | None
    node_id: str
    items: list[dict[str, Any]]
    answers: dict[str, Any]
    files: list[FileOut]
    contact_email: str
    contact_name: str
    mode: str
    on_behalf_of: str
    reminders: int
    deadline_at: dt.datetime | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    decided_by: str
    decided_at: dt.datetime | None
    reason: str
    submission: dict[str, Any]


class AskItemIn(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: Literal["document", "field"] = "document"
    mandatory: bool = True


class AskIn(msgspec.Struct, forbid_unknown_fields=True):
    """An ad hoc request: what to ask (documents to upload, fields to fill), the email's
    subject line and message, the due date (optional) and the reminder interval."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    items: Annotated[list[AskItemIn], msgspec.Meta(min_length=1, max_length=30)]
    message: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    due_on: dt.date | None = None
    reminder_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 7


class LinkOut(msgspec.Struct):
    """A new link: ``url`` carries the token, shown this once (only its hash is kept)."""

    id: uuid.UUID
    url: str
    expires_at: dt.datetime


def _text(value: str, where: str) -> str:
    """A one-line text for the client (it goes into the email's subject line too)."""
    text = value.strip()
    if not text:
        raise ApiError(422, f"{where} is empty")
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        raise ApiError(422, f"{where} may not hold line breaks or control characters")
    return text


def _out(session: Session, found: list[ClientRequest]) -> list[RequestOut]:
    """The requests as staff read them, with their files (not their bytes)."""
    files: dict[uuid.UUID, list[FileOut]] = {}
    if found:
        rows = session.execute(
            sa.select(
                ClientRequestFile.request_id,
                ClientRequestFile.id,
                ClientRequestFile.item_id,
                ClientRequestFile.filename,
                ClientRequestFile.content_type,
                ClientRequestFile.size,
                ClientRequestFile.uploaded_at,
            )
            .where(ClientRequestFile.request_id.in_([r.id for r in found]))
            .order_by(ClientRequestFile.uploaded_at)
        )
        for request_id, ident, item, name, media_type, size, at in rows:
            files.setdefault(request_id, []).append(
                FileOut(ident, item, name, media_type, size, at)
            )
    return [
        RequestOut(
            id=r.id,
            kind=r.kind,
            title=r.title,
            status=r.status,
            instance_id=r.instance_id,
            node_id=r.node_id,
            items=list(r.items),
            answers=dict(r.answers),
            files=files.get(r.id, []),
            contact_email=r.contact_email,
            contact_name=r.contact_name,
            mode=r.mode,
            on_behalf_of=r.on_behalf_of,
            reminders=r.reminders,
            deadline_at=r.deadline_at,
            created_at=r.created_at,
            closed_at=r.closed_at,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            reason=r.reason,
            submission=dict(r.submission),
        )
        for r in found
    ]


class ClientRequestController(Controller):
    path = "/clients/{subject_id:uuid}"
    tags = ["client requests"]

    @get("/requests", sync_to_thread=True)
    def list_requests(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> list[RequestOut]:
        """The client's requests, open first then newest first, with files (not their bytes)."""
        caller.internal()
        with rt.db.read() as session:
            links.debtor(session, caller.tenant_id, subject_id, scope="client")
            found = list(
                session.scalars(
                    sa.select(ClientRequest)
                    .where(
                        ClientRequest.tenant_id == caller.tenant_id,
                        ClientRequest.client_id == subject_id,
                    )
                    .order_by(
                        (ClientRequest.status != "open"),
                        ClientRequest.created_at.desc(),
                        ClientRequest.id.desc(),
                    )
                    .limit(200)
                )
            )
            return _out(session, found)

    @post("/requests", sync_to_thread=True, status_code=201)
    def ask_client(
        self,
        subject_id: FromPath[uuid.UUID],
        data: JSONBody[AskIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> RequestOut:
        """Ask the client for documents or data outside any flow (ad hoc): the client's
        primary contact gets an email with a link to the client page, reminders every
        ``reminder_days`` until it is all in, and it is overdue after ``due_on``."""
        caller.internal()
        title = _text(data.title, "title")
        items = [
            adhoc.Item(_text(i.label, f"items[{n}].label"), i.kind, i.mandatory)
            for n, i in enumerate(data.items)
        ]
        if data.due_on is not None:
            with rt.db.read() as session:
                zone, _days = rt.tenant_calendar(session, caller.tenant_id)
            if data.due_on < rt.clock.now().astimezone(ZoneInfo(zone)).date():
                raise ApiError(422, "due_on is in the past; give a day from today on")
        try:
            made = adhoc.ask(
                rt,
                caller.tenant_id,
                subject_id,
                title,
                items,
                data.message.strip(),
                data.due_on,
                data.reminder_days,
                caller.actor,
            )
        except Refusal as refused:
            raise ApiError(422, str(refused)) from refused
        with rt.db.read() as session:
            row = session.get(ClientRequest, made)
            assert row is not None
            (out,) = _out(session, [row])
        return out

    @get("/files/{file_id:uuid}", sync_to_thread=True)
    def download(
        self,
        subject_id: FromPath[uuid.UUID],
        file_id: FromPath[uuid.UUID],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> Response[bytes]:
        """A file the client uploaded, as an attachment (never shown inline)."""
        caller.internal()
        with rt.db.read() as session:
            row = session.execute(
                sa.select(
                    ClientRequestFile.filename,
                    ClientRequestFile.content_type,
                    ClientRequestFile.content,
                )
                .join(ClientRequest, ClientRequest.id == ClientRequestFile.request_id)
                .where(
                    ClientRequestFile.id == file_id,
                    ClientRequestFile.tenant_id == caller.tenant_id,
                    ClientRequest.client_id == subject_id,
                )
            ).first()
        if row is None:
            raise ApiError(404, f"no file {file_id} of client {subject_id}")
        filename, content_type, content = row
        ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
        return Response(
            content,
            media_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'},
        )

    @post("/links", sync_to_thread=True, status_code=201)
    def make_link(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> LinkOut:
        """A new link to the client's page, to send by hand (designer)."""
        caller.internal()
        caller.require("designer")
        with rt.db.transaction() as session:
            minted = links.mint(
                session, caller.tenant_id, subject_id, rt.clock.now(), caller.actor, "client"
            )
        return LinkOut(minted.link_id, minted.url, minted.expires_at)

    @delete("/links", sync_to_thread=True)
    def revoke_links(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> None:
        """Revoke every link to the client's page at once (designer); said in its history."""
        caller.internal()
        caller.require("designer")
        with rt.db.transaction() as session:
            links.revoke_all(
                session, caller.tenant_id, subject_id, rt.clock.now(), caller.actor, "client"
            )
