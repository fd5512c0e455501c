"""Imports over HTTP: the CSV exports of an ERP and CAMT.053 bank statements, as uploads.

``POST /imports/debtors``, ``/imports/open-items`` and ``/imports/bank`` take a
``multipart/form-data`` upload (the file in ``file``; ``skip_bad=true`` for the CSV
files) and run the functions ``procedo import`` runs (``receivables/imports.py``,
``receivables/camt.py``, ``receivables/payments.py``), so both say the same about the
same file. The answer is a report: what was stored and updated, and every problem with
its line, column (or XML element), code and values; a refused file stores nothing and
is answered with the report under a 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

import msgspec
from litestar import Controller, Request, Response, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException

from procedo.api.caller import Caller, CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.flow.problems import Problem
from procedo.receivables.camt import MAX_BYTES as MAX_STATEMENT_BYTES
from procedo.receivables.csvfile import CsvProblem
from procedo.runtime.context import Runtime

MAX_CSV_BYTES: Final = 100 * 1024 * 1024
# The form's own bytes around the file (boundaries, part headers, skip_bad).
FORM_OVERHEAD: Final = 64 * 1024
# A file with a million bad rows would make a report of a hundred megabytes: the first
# ones show what is wrong, and problem_count says how many there are.
SHOWN_PROBLEMS: Final = 1000
_YES: Final = ("true", "1", "on", "yes")
_NO: Final = ("false", "0", "off", "no", "")

Kind = Literal["debtors", "open_items", "bank"]


class ImportProblem(msgspec.Struct, omit_defaults=True):
    code: str  # csv.date, csv.unknown_debtor ..., camt.doctype, camt.missing ...
    message: str  # in English; code and params say the same for other languages
    line: int | None = None
    column: int | None = None
    path: str | None = None  # the CSV column's name, or the statement's element
    params: dict[str, str | int] = msgspec.field(default_factory=dict)


class ImportOut(msgspec.Struct):
    status: int
    detail: str
    kind: Kind
    refused: bool  # true: nothing of the file was stored
    stored: int  # rows (payments) written, new and updated
    created: int
    updated: int
    skipped: int  # bad rows left out with skip_bad; for a statement, entries not paid in
    problem_count: int
    problems: list[ImportProblem]
    # A bank statement's: its version and how its payments were placed.
    version: str | None = None
    matched: int | None = None
    unmatched: int | None = None
    already_stored: int | None = None


def _too_large(limit: int, what: str, command: str) -> ApiError:
    return ApiError(
        413,
        f"the upload is larger than {limit // (1024 * 1024)} MB ({limit:,} bytes), the most "
        f"{what} may have over HTTP; split it, or import it on the server with "
        f"`{command}`",
    )


async def _upload(
    request: Request[Any, Any, Any], limit: int, what: str, command: str
) -> tuple[UploadFile, bool]:
    """The uploaded file and skip_bad, or a 4xx naming what to send instead."""
    media_type, _options = request.content_type
    if media_type != "multipart/form-data":
        raise ApiError(
            415, f"send the file as multipart/form-data in the field 'file' (was '{media_type}')"
        )
    try:
        form = await request.form()
    except HTTPException as exc:
        if exc.status_code == 413:
            raise _too_large(limit, what, command) from None
        raise ApiError(400, "the multipart/form-data body cannot be read; send it again") from None
    files: list[UploadFile] = []
    skip_bad: bool | None = None
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(value)
                if name != "file":
                    raise ApiError(400, f"the file goes in the field 'file' (was '{name}')")
            elif name == "skip_bad" and skip_bad is None:
                said = str(value).strip().lower()
                if said not in _YES + _NO:
                    raise ApiError(400, f"skip_bad: true or false (was '{value}')")
                skip_bad = said in _YES
            else:
                raise ApiError(400, f"unknown or repeated form field '{name}'; send file, skip_bad")
        if len(files) != 1:
            raise ApiError(400, "send one file in the form field 'file'")
        upload = files[0]
        size = upload.file.seek(0, 2)
        upload.file.seek(0)
        if size > limit:
            raise _too_large(limit, what, command)
        return upload, bool(skip_bad)
    except ApiError:
        for upload in files:
            await upload.close()
        raise


def _csv_problem(problem: CsvProblem) -> ImportProblem:
    return ImportProblem(
        code=f"csv.{problem.code}",
        message=problem.message,
        line=problem.line,
        column=problem.column,
        path=problem.name,
        params=problem.params,
    )


def _camt_problem(problem: Problem) -> ImportProblem:
    return ImportProblem(
        code=problem.code,
        message=problem.message,
        line=problem.line,
        column=problem.column,
        path=problem.path,
    )


def _answer(out: ImportOut) -> Response[ImportOut]:
    return Response(out, status_code=out.status)


def _import_csv(
    rt: Runtime, caller: Caller, kind: Kind, upload: UploadFile, skip_bad: bool
) -> ImportOut:
    from procedo.receivables.imports import import_debtors, import_open_items

    importer: Callable[..., Any] = import_debtors if kind == "debtors" else import_open_items
    report = importer(rt.db.engine, caller.tenant_id, upload.file, skip_bad=skip_bad)
    count = len(report.problems)
    what = "debtors" if kind == "debtors" else "open items"
    if report.refused:
        status = 422
        detail = (
            f"nothing stored: {count} bad row(s); fix them, or send skip_bad=true "
            "to store the other rows"
        )
    else:
        status = 200
        skipped = f", {count} bad row(s) skipped" if count else ""
        detail = f"{report.stored} {what} stored ({report.updated} updated){skipped}"
    return ImportOut(
        status=status,
        detail=detail,
        kind=kind,
        refused=report.refused,
        stored=report.stored,
        created=report.created,
        updated=report.updated,
        skipped=0 if report.refused else count,
        problem_count=count,
        problems=[_csv_problem(p) for p in report.problems[:SHOWN_PROBLEMS]],
    )


def _import_bank(rt: Runtime, caller: Caller, data: bytes) -> ImportOut:
    from procedo.receivables.camt import CamtError, read_statement
    from procedo.receivables.payments import from_statement, record_payments

    try:
        statement = read_statement(data)
    except CamtError as exc:
        count = len(exc.problems)
        return ImportOut(
            status=exc.status,
            detail=f"the statement was refused, nothing stored: {exc.problems[0].message}"
            + (f" (and {count - 1} more problems)" if count > 1 else ""),
            kind="bank",
            refused=True,
            stored=0,
            created=0,
            updated=0,
            skipped=0,
            problem_count=count,
            problems=[_camt_problem(p) for p in exc.problems[:SHOWN_PROBLEMS]],
        )
    recorded = record_payments(rt, caller.tenant_id, from_statement(statement), caller.actor)
    stored = len(recorded.payments)
    return ImportOut(
        status=200,
        detail=(
            f"{stored} payments stored ({recorded.matched} matched, "
            f"{stored - recorded.matched} unmatched), {recorded.already} already stored"
        ),
        kind="bank",
        refused=False,
        stored=stored,
        created=stored,
        updated=0,
        skipped=statement.skipped,
        problem_count=0,
        problems=[],
        version=statement.version,
        matched=recorded.matched,
        unmatched=stored - recorded.matched,
        already_stored=recorded.already,
    )


class ImportController(Controller):
    path = "/imports"
    tags = ["imports"]

    @post("/debtors", request_max_body_size=MAX_CSV_BYTES + FORM_OVERHEAD)
    async def import_debtors(
        self, request: Request[Any, Any, Any], caller: CallerDep, rt: RuntimeDep
    ) -> Response[ImportOut]:
        """A debtors CSV (multipart field `file`, 100 MB at most; `skip_bad`), as the command.

        Upserts by number (docs/receivables.md). A file with bad rows stores nothing
        (422, every problem with line and column) unless `skip_bad=true`: then the
        good rows are stored and the bad ones reported (200).
        """
        return await self._csv(request, caller, rt, "debtors")

    @post("/open-items", request_max_body_size=MAX_CSV_BYTES + FORM_OVERHEAD)
    async def import_open_items(
        self, request: Request[Any, Any, Any], caller: CallerDep, rt: RuntimeDep
    ) -> Response[ImportOut]:
        """An open items CSV (multipart field `file`, 100 MB at most; `skip_bad`).

        Upserts by invoice number; each row's debtor must exist. As for debtors, a
        file with bad rows stores nothing (422) unless `skip_bad=true`.
        """
        return await self._csv(request, caller, rt, "open_items")

    @post("/bank", request_max_body_size=MAX_STATEMENT_BYTES + FORM_OVERHEAD)
    async def import_bank(
        self, request: Request[Any, Any, Any], caller: CallerDep, rt: RuntimeDep
    ) -> Response[ImportOut]:
        """A CAMT.053 bank statement (multipart field `file`, 50 MB at most).

        Taken whole or not at all, as `procedo import bank`: hostile or unreadable
        XML (a DOCTYPE, entities) 400, too large 413, not a usable statement 422,
        each problem with its line and element; sent again, nothing stored twice.
        """
        caller.require("designer", "member")
        upload, skip_bad = await _upload(
            request, MAX_STATEMENT_BYTES, "a bank statement", "procedo import bank FILE"
        )
        try:
            if skip_bad:
                raise ApiError(
                    400,
                    "skip_bad applies to CSV files; a bank statement is taken whole or not at all",
                )
            data = await upload.read()
        finally:
            await upload.close()
        return _answer(await sync_to_thread(_import_bank, rt, caller, data))

    async def _csv(
        self, request: Request[Any, Any, Any], caller: Caller, rt: Runtime, kind: Kind
    ) -> Response[ImportOut]:
        caller.require("designer")
        command = "procedo import " + ("debtors" if kind == "debtors" else "open-items") + " FILE"
        upload, skip_bad = await _upload(request, MAX_CSV_BYTES, "a CSV file", command)
        try:
            out = await sync_to_thread(_import_csv, rt, caller, kind, upload, skip_bad)
        finally:
            await upload.close()
        return _answer(out)
