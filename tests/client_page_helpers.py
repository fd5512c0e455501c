"""The client's answers on the client page, given in-process (golden traces, runtime tests).

What the page's form handler does after its checks: in one transaction, the client's
files go to the open documents request of a run, or the client decides on its return.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import sqlalchemy as sa

from procedo.clientpage import requests
from procedo.db.client_requests import ClientRequest
from procedo.portal import links
from procedo.runtime.context import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
Answer = Literal["upload", "approve", "decline"]


def answer(rt: Runtime, instance_id: uuid.UUID, what: Answer) -> None:
    """The client uploads every asked document (a PDF each), or approves or declines the
    run's open return, as the contact the request went to."""
    kind = "documents" if what == "upload" else "filing"
    with rt.transaction() as (session, out):
        request = session.scalar(
            sa.select(ClientRequest).where(
                ClientRequest.instance_id == instance_id,
                ClientRequest.kind == kind,
                ClientRequest.status == "open",
            )
        )
        assert request is not None, f"no open {kind} request of {instance_id}"
        now = rt.clock.now()
        link = links.Link(
            uuid.UUID(int=0), request.tenant_id, request.client_id, "", now + dt.timedelta(1), None
        )
        if what == "upload":
            files = [
                requests.Upload(item["id"], f"{item['id']}.pdf", PDF)
                for item in request.items
                if item["kind"] == "document"
            ]
            requests.receive(rt, session, out, link, request.id, files, {}, now)
        else:
            reason = "" if what == "approve" else "The turnover is too high"
            name = request.contact_name or "Client"
            requests.decide(
                rt, session, out, link, request.id, what == "approve", name, reason, now
            )
