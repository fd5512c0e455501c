"""Subjects (invoices, debtors, clients ...): create, update, list, events, timeline."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody
from sqlalchemy.orm import Session

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.views import HistoryOut, SubjectOut, history_out, subject_out
from procedo.db import models as m
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.sql import read_value, with_facts
from procedo.runtime import admin, creation, setup
from procedo.runtime.context import NotFound, Runtime
from procedo.ubl import MAX_BYTES as UBL_MAX_BYTES

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Status = Annotated[str, msgspec.Meta(max_length=64)]
EventName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{0,99}$")]
Search = Annotated[
    str | None, QueryParameter(min_length=1, max_length=100, description="key or name contains")
]

# The fields a person knows a subject by, besides its key: the search box looks in these.
NAME_FIELDS = ("name", "supplier.name", "customer.name", "employee.name", "invoice_number")


def _field_text(path: str) -> sa.ColumnElement[str]:
    """A (possibly nested) field's text: ``fields ->> 'name'``, ``fields #>> '{supplier,name}'``."""
    parts = path.split(".")
    element = m.Subject.fields[tuple(parts)] if len(parts) > 1 else m.Subject.fields[path]
    text: sa.ColumnElement[str] = element.as_string()
    return text


def search_condition(q: str, sqlite: bool) -> sa.ColumnElement[bool]:
    """Key or a name-like field contains ``q`` (case-insensitive, wildcards taken literally).

    On SQLite the raw JSON text is tried first: a cheap scan that drops most rows before
    any field is parsed, so a term that matches little costs far less. Only for terms
    JSON writes as they are (a quote or backslash is escaped there).
    """
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_fields = sa.or_(*(_field_text(f).ilike(pattern, escape="\\") for f in NAME_FIELDS))
    if sqlite and q.isprintable() and '"' not in q and "\\" not in q:
        raw = sa.cast(m.Subject.fields, sa.Text).ilike(pattern, escape="\\")
        in_fields = sa.and_(raw, in_fields)
    return sa.or_(m.Subject.key.ilike(pattern, escape="\\"), in_fields)


class SubjectIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    key: Name
    fields: dict[str, Any] = {}
    status: Status = ""


class SubjectPatch(msgspec.Struct, forbid_unknown_fields=True):
    # Merged into the subject's fields (a field set to null is removed).
    fields: dict[str, Any] | None = None
    status: Status | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    name: EventName
    data: dict[str, Any] = {}


class EventOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    created_at: dt.datetime


class TimelineInstance(msgspec.Struct):
    id: uuid.UUID
    flow: str
    version: int
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    history: list[HistoryOut]


class OpenItemOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    number: str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    currency: str
    status: str


def owned_subject(rt: RuntimeDep, tenant_id: uuid.UUID, subject_id: uuid.UUID) -> m.Subject:
    with rt.db.read() as session:
        subject = session.get(m.Subject, subject_id)
    if subject is None or subject.tenant_id != tenant_id:
        raise NotFound(f"no subject {subject_id} in this tenant")
    return subject


def _add_facts(
    session: Session,
    rt: Runtime,
    tenant_id: uuid.UUID,
    type_name: str | None,
    asked: str,
    rows: list[SubjectOut],
) -> None:
    """The named computed fields, as of today, merged into the page's fields: one query."""
    if type_name is None:
        raise ApiError(400, "facts: name the subjects' type as well (type=...)")
    subject_type = rt.subject_types(session, tenant_id).get(type_name)
    computed = computed_fields(subject_type) if subject_type is not None else []
    by_name = {f.name: f for f in computed}
    names = list(dict.fromkeys(name.strip() for name in asked.split(",") if name.strip()))
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise ApiError(
            400, f"facts: {', '.join(unknown)} is no computed field of {type_name}; one of {known}"
        )
    if not rows or not names:
        return
    timezone, days = rt.tenant_calendar(session, tenant_id)
    table = with_facts(computed, Calendar(rt.clock.now(), timezone, days), names)
    query = sa.select(table.c.id, *(table.c[f"fact_{name}"] for name in names)).where(
        table.c.id.in_([row.id for row in rows])
    )
    values = {
        found[0]: {
            name: _cents(read_value(value, by_name[name].type))
            for name, value in zip(names, found[1:], strict=True)
        }
        for found in session.execute(query)
    }
    for row in rows:
        row.fields = {**row.fields, **values.get(row.id, {})}


def _cents(value: Any) -> Any:
    """An amount as the facts endpoint gives it (SQL's sum can carry ten places)."""
    return value.quantize(Decimal("0.01")) if isinstance(value, Decimal) else value


class SubjectController(Controller):
    path = "/subjects"
    tags = ["subjects"]

    @get("/", sync_to_thread=True)
    def list_subjects(
        self,
        caller: CallerDep,
        rt: RuntimeDep,
        type_name: Annotated[str | None, QueryParameter(name="type")] = None,
        status: FromQuery[str | None] = None,
        key: FromQuery[str | None] = None,
        q: Search = None,
        facts: Annotated[
            str | None,
            QueryParameter(
                description="computed fields of the type to include in fields, comma-separated",
                max_length=1000,
            ),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Response[list[SubjectOut]]:
        """Subjects by type and key (the order of an index, so a page is a range of it).

        ``q``: the key or a name-like field contains it. Without ``q`` the answer's
        ``X-Total-Count`` header counts every subject the filters select (an index count);
        with it, ask one row more than you show to know whether there are more.
        """
        caller.internal()
        where = [m.Subject.tenant_id == caller.tenant_id]
        if type_name is not None:
            where.append(m.Subject.type == type_name)
        if status is not None:
            where.append(m.Subject.status == status)
        if key is not None:
            where.append(m.Subject.key == key)
        if q is not None:
            if "\x00" in q:  # PostgreSQL refuses NUL in any text
                raise ApiError(400, "q: a search cannot hold the NUL character; remove it")
            where.append(search_condition(q, rt.db.is_sqlite))
        query = (
            sa.select(m.Subject)
            .where(*where)
            .order_by(m.Subject.type, m.Subject.key)
            .limit(limit)
            .offset(offset)
        )
        headers: dict[str, str] = {}
        with rt.db.read() as session:
            rows = [subject_out(s) for s in session.scalars(query)]
            if facts is not None:
                _add_facts(session, rt, caller.tenant_id, type_name, facts, rows)
            if q is None:
                total = session.scalar(sa.select(sa.func.count()).where(*where))
                headers["X-Total-Count"] = str(total)
        return Response(rows, headers=headers)

    @post("/", sync_to_thread=True)
    def create_subject(
        self, data: JSONBody[SubjectIn], caller: CallerDep, rt: RuntimeDep
    ) -> SubjectOut:
        caller.require("designer")
        with rt.db.read() as session:
            known = rt.subject_types(session, caller.tenant_id)
            taken = session.scalar(
                sa.select(m.Subject.id).where(
                    m.Subject.tenant_id == caller.tenant_id,
                    m.Subject.type == data.type,
                    m.Subject.key == data.key,
                )
            )
            # K5: flows that start on creation (a VAT flow for a new client).
            created = creation.created_event(session, caller.tenant_id, data.type, caller.actor)
        if data.type not in known:
            raise ApiError(
                422, f"type: unknown subject type '{data.type}'; one of {', '.join(sorted(known))}"
            )
        if taken is not None:
            raise ApiError(
                409, f"a {data.type} '{data.key}' exists already: PATCH /subjects/{taken}"
            )
        subject = setup.upsert_subject(
            rt, caller.tenant_id, data.type, data.key, data.fields, data.status, created
        )
        return subject_out(subject)

    @post("/invoices", sync_to_thread=True, request_max_body_size=UBL_MAX_BYTES + 1024)
    def ingest_invoice(
        self, request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, rt: RuntimeDep
    ) -> SubjectOut:
        """A UBL 2.1 / PEPPOL BIS 3.0 invoice or credit note (application/xml, 5 MB at most).

        Stored as an invoice subject (the same document again changes nothing new);
        `invoice.received` starts the flows on it. What a supplier sent instead of an
        invoice (an image, a PDF, other XML; any of these media types) is stored as a
        conversion problem (`document_type` `not_an_invoice`, docs/ubl.md) for the
        conversion check. Refused documents (hostile, unreadable, incomplete) store nothing.
        """
        caller.require("designer")
        media_type, _options = request.content_type
        sent_instead = media_type in ("application/pdf", "application/octet-stream")
        if media_type not in ("application/xml", "text/xml") and not (
            sent_instead or media_type.startswith("image/")
        ):
            raise ApiError(415, f"send the invoice as application/xml (was '{media_type}')")
        from procedo.ubl.ingest import ingest  # the UBL model loads only when used

        return subject_out(ingest(rt, caller.tenant_id, body, caller.actor))

    @get("/{subject_id:uuid}", sync_to_thread=True)
    def get_subject(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> SubjectOut:
        caller.internal()
        return subject_out(owned_subject(rt, caller.tenant_id, subject_id))

    @patch("/{subject_id:uuid}", sync_to_thread=True)
    def update_subject(
        self,
        subject_id: FromPath[uuid.UUID],
        data: JSONBody[SubjectPatch],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> SubjectOut:
        """Change fields or status; flows that wait on the subject see the change."""
        caller.require("designer")
        subject = owned_subject(rt, caller.tenant_id, subject_id)
        fields = dict(subject.fields)
        for name, value in (data.fields or {}).items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        updated = setup.upsert_subject(
            rt, caller.tenant_id, subject.type, subject.key, fields, data.status
        )
        return subject_out(updated)

    @post("/{subject_id:uuid}/events", sync_to_thread=True, status_code=202)
    def post_event(
        self,
        subject_id: FromPath[uuid.UUID],
        data: JSONBody[EventIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> EventOut:
        """Post an event (payment.received ...): flows start or resume on it shortly."""
        caller.require("designer")
        event = admin.post_event(rt, caller.tenant_id, subject_id, data.name, data.data)
        return EventOut(event.id, event.name, event.created_at)

    @get("/{subject_id:uuid}/open-items", sync_to_thread=True)
    def open_items(
        self,
        subject_id: FromPath[uuid.UUID],
        caller: CallerDep,
        rt: RuntimeDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[OpenItemOut]:
        """A debtor's invoices and credit notes: the open ones first, each by due date."""
        caller.internal()
        owned_subject(rt, caller.tenant_id, subject_id)
        settled = sa.case((OpenItem.status == "paid", 1), else_=0)
        with rt.db.read() as session:
            items = session.scalars(
                sa.select(OpenItem)
                .where(OpenItem.debtor_id == subject_id, OpenItem.tenant_id == caller.tenant_id)
                .order_by(settled, OpenItem.due_date, OpenItem.number)
                .limit(limit)
                .offset(offset)
            ).all()
        return [
            OpenItemOut(
                i.id,
                i.kind,
                i.number,
                i.issue_date,
                i.due_date,
                i.amount,
                i.open_amount,
                i.currency,
                i.status,
            )
            for i in items
        ]

    @get("/{subject_id:uuid}/timeline", sync_to_thread=True)
    def timeline(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> list[TimelineInstance]:
        """Every instance that ran on the subject, oldest first, each with its history (P6)."""
        caller.internal()
        owned_subject(rt, caller.tenant_id, subject_id)
        with rt.db.read() as session:
            instances = session.execute(
                sa.select(m.Instance, m.Flow.key, m.FlowVersion.number)
                .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
                .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
                .where(
                    m.Instance.subject_id == subject_id,
                    m.Instance.tenant_id == caller.tenant_id,
                )
                .order_by(m.Instance.started_at, m.Instance.id)
            ).all()
            rows = session.scalars(
                sa.select(m.History)
                .where(m.History.subject_id == subject_id, m.History.tenant_id == caller.tenant_id)
                .order_by(m.History.seq)
            ).all()
        by_instance: dict[uuid.UUID | None, list[HistoryOut]] = {}
        for row in rows:
            by_instance.setdefault(row.instance_id, []).append(history_out(row))
        return [
            TimelineInstance(
                id=instance.id,
                flow=key,
                version=number,
                status=instance.status,
                started_at=instance.started_at,
                ended_at=instance.ended_at,
                history=by_instance.get(instance.id, []),
            )
            for instance, key, number in instances
        ]
