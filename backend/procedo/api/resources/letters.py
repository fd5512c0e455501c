"""Letters for print: the tenant's letterhead, each letter's PDF, print batches.

Reading and printing needs designer access (the back office that prints); the
letterhead, with the bank details the QR codes pay to, is for administrators.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
import sqlalchemy as sa
from litestar import Controller, Response, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.db import letters as dbl
from procedo.db import models as m
from procedo.flow.problems import Problem
from procedo.messaging import printing
from procedo.messaging.printing import LetterheadIn, LetterheadOut, PrintProblem

PDF = "application/pdf"
LetterStatus = Annotated[str, msgspec.Meta(pattern="^(ready|sent)$")]


class LetterOut(msgspec.Struct):
    id: uuid.UUID
    subject_key: str | None
    subject_id: uuid.UUID | None
    instance_id: uuid.UUID | None
    title: str
    status: str
    batch_id: uuid.UUID | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class BatchOut(msgspec.Struct):
    id: uuid.UUID
    letters: int
    created_at: dt.datetime
    created_by: str
    printed_at: dt.datetime | None
    printed_by: str | None


def _refused(exc: PrintProblem) -> ApiError:
    problem = Problem(code="letters.print", message=str(exc), path=exc.path)
    return ApiError(422, f"{exc.path}: {exc}", problems=[problem])


def _pdf(content: bytes, name: str) -> Response[bytes]:
    disposition = f'attachment; filename="{name}.pdf"'
    return Response(content, media_type=PDF, headers={"Content-Disposition": disposition})


def _batch_out(batch: dbl.PrintBatch) -> BatchOut:
    return BatchOut(
        batch.id,
        batch.letters,
        batch.created_at,
        batch.created_by,
        batch.printed_at,
        batch.printed_by,
    )


class LetterheadController(Controller):
    path = "/settings/letterhead"
    tags = ["letters"]

    @get("/", sync_to_thread=True)
    def show(self, caller: CallerDep, rt: RuntimeDep) -> LetterheadOut:
        """The letter paper: the tenant's name and address, bank details for QR codes."""
        caller.require("designer")
        with rt.db.read() as session:
            return printing.letterhead_out(session, caller.tenant_id)

    @put("/", sync_to_thread=True, status_code=200, request_max_body_size=16_384)
    def set_letterhead(
        self, data: JSONBody[LetterheadIn], caller: CallerDep, rt: RuntimeDep
    ) -> LetterheadOut:
        caller.require()
        try:
            with rt.db.transaction() as session:
                printing.save_letterhead(session, caller.tenant_id, data, caller.actor)
        except PrintProblem as exc:
            raise _refused(exc) from exc
        with rt.db.read() as session:
            return printing.letterhead_out(session, caller.tenant_id)


class LetterController(Controller):
    path = "/letters"
    tags = ["letters"]

    @get("/", sync_to_thread=True)
    def list_letters(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        status: FromQuery[LetterStatus | None] = None,
        batch: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[LetterOut]:
        """Letters, newest first: `ready` ones wait for print, `sent` ones were printed."""
        caller.require("designer")
        query = (
            sa.select(m.Outbox, m.Subject.key, m.Subject.id)
            .outerjoin(m.Instance, m.Instance.id == m.Outbox.instance_id)
            .outerjoin(m.Subject, m.Subject.id == m.Instance.subject_id)
            .where(m.Outbox.tenant_id == caller.tenant_id, m.Outbox.kind == "letter")
        )
        if status is not None:
            query = query.where(m.Outbox.status == status)
        if batch is not None:
            query = query.where(m.Outbox.batch_id == batch)
        query = query.order_by(m.Outbox.created_at.desc(), m.Outbox.id).limit(limit)
        with rt.db.read() as session:
            rows = session.execute(query.offset(offset)).all()
            return [
                LetterOut(
                    row.id,
                    key,
                    subject_id,
                    row.instance_id,
                    row.subject,
                    row.status,
                    row.batch_id,
                    row.created_at,
                    row.sent_at,
                )
                for row, key, subject_id in rows
            ]

    @get("/{letter_id:uuid}/pdf", sync_to_thread=True, media_type=PDF)
    def letter_pdf(
        self, letter_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> Response[bytes]:
        """The letter as a PDF; drawn on first download and kept, so a reprint is the same."""
        caller.require("designer")
        try:
            with rt.db.transaction() as session:
                content = printing.letter_document(
                    session, caller.tenant_id, letter_id, rt.clock.now()
                )
        except LookupError as exc:
            raise NotFoundException(str(exc)) from exc
        except PrintProblem as exc:
            raise _refused(exc) from exc
        return _pdf(content, f"letter-{letter_id}")

    @get("/batches", sync_to_thread=True)
    def list_batches(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[BatchOut]:
        caller.require("designer")
        query = (
            sa.select(dbl.PrintBatch)
            .where(dbl.PrintBatch.tenant_id == caller.tenant_id)
            .order_by(dbl.PrintBatch.created_at.desc(), dbl.PrintBatch.id)
            .limit(limit)
            .offset(offset)
        )
        with rt.db.read() as session:
            return [_batch_out(batch) for batch in session.scalars(query)]

    @post("/batches", sync_to_thread=True, status_code=201)
    def create_batch(self, caller: CallerDep, rt: RuntimeDep) -> BatchOut:
        """Put every letter waiting for print in a new batch (422 when none waits)."""
        caller.require("designer")
        try:
            with rt.db.transaction() as session:
                batch = printing.create_batch(
                    session, caller.tenant_id, caller.actor, rt.clock.now()
                )
                return _batch_out(batch)
        except PrintProblem as exc:
            raise _refused(exc) from exc

    @get("/batches/{batch_id:uuid}/pdf", sync_to_thread=True, media_type=PDF)
    def batch_pdf(
        self, batch_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> Response[bytes]:
        """The batch as one PDF to print."""
        caller.require("designer")
        try:
            with rt.db.read() as session:
                content = printing.batch_document(session, caller.tenant_id, batch_id)
        except LookupError as exc:
            raise NotFoundException(str(exc)) from exc
        return _pdf(content, f"print-batch-{batch_id}")

    @post("/batches/{batch_id:uuid}/printed", sync_to_thread=True, status_code=200)
    def mark_printed(
        self, batch_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> BatchOut:
        """The batch left the printer: its letters count as sent."""
        caller.require("designer")
        try:
            with rt.db.transaction() as session:
                return _batch_out(
                    printing.mark_printed(session, caller.tenant_id, batch_id, caller.actor)
                )
        except LookupError as exc:
            raise NotFoundException(str(exc)) from exc
