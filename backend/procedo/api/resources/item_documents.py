"""An open item's invoice document: put it (a PDF or UBL invoice, at most 10 MB), read it.

What an email node with ``attach: invoice_document`` sends when a debtor asks for a
copy (M4, docs/messages.md). The body is the file itself; its kind is told by its
own bytes (``%PDF-``, or a UBL invoice read the hardened way), not by a header.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, put
from litestar.params import FromPath, QueryParameter, RawBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.db.receivables import OpenItem
from procedo.db.sms import OpenItemDocument
from procedo.flow.problems import Problem
from procedo.messaging import attachments
from procedo.runtime.context import NotFound


class DocumentOut(msgspec.Struct):
    open_item_id: uuid.UUID
    number: str
    filename: str
    media_type: str
    bytes: int
    created_at: dt.datetime


class OpenItemDocumentController(Controller):
    path = "/open-items"
    tags = ["receivables"]

    @put(
        "/{item_id:uuid}/document",
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=attachments.MAX_ATTACHMENT_BYTES,
    )
    def put_document(
        self,
        item_id: FromPath[uuid.UUID],
        body: RawBody,
        caller: CallerDep,
        rt: RuntimeDep,
        filename: Annotated[
            str, QueryParameter(max_length=200, description="the file's name")
        ] = "",
    ) -> DocumentOut:
        """Keep the item's document (replacing one kept before); 422 if neither PDF nor UBL."""
        caller.require("designer", "member")
        with rt.transaction() as (session, _out):
            item = session.get(OpenItem, item_id)
            if item is None or item.tenant_id != caller.tenant_id:
                raise NotFound(f"no open item {item_id} in this tenant")
            try:
                row = attachments.store_document(
                    session, caller.tenant_id, item_id, body, filename, rt.clock.now()
                )
            except attachments.DocumentError as exc:
                problem = Problem(code="request.document", message=str(exc), path="$")
                raise ApiError(422, str(exc), problems=[problem]) from exc
            return DocumentOut(
                item_id, item.number, row.filename, row.media_type, row.size, row.created_at
            )

    @get("/{item_id:uuid}/document", sync_to_thread=True)
    def get_document(
        self, item_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> Response[bytes]:
        """The item's document as it was stored."""
        caller.internal()
        with rt.db.read() as session:
            row = session.get(OpenItemDocument, item_id)
            if row is None or row.tenant_id != caller.tenant_id:
                raise NotFound(f"no document for open item {item_id} in this tenant")
            content, name, media_type = row.content, row.filename, row.media_type
        disposition = f'attachment; filename="{name}"'
        return Response(
            content, media_type=media_type, headers={"Content-Disposition": disposition}
        )
