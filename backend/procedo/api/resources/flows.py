"""Flows: drafts with optimistic concurrency, validation, publishing, versions, export, import."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody

from procedo.api import flowstore
from procedo.api.bodies import MAX_FLOW_BODY, flow_document
from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.api.paging import Limit, Offset
from procedo.api.params import MAX_NUMBER, VersionNumber
from procedo.catalogue import PortInfo
from procedo.db import models as m
from procedo.flow.codec import decode_flow
from procedo.flow.labels import labels_of
from procedo.flow.problems import FlowError, Problem
from procedo.flow.validate import check_flow
from procedo.messaging.library import tenant_flow_problems

FlowKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
JSON = "application/json"


class FlowSummary(msgspec.Struct):
    key: str
    name: str
    latest_version: int | None
    has_draft: bool
    open_instances: int
    updated_at: dt.datetime
    updated_by: str
    # The name per UI language (the draft's, else the latest version's), when it has them.
    labels: dict[str, str] | None = None


class FlowOut(msgspec.Struct):
    key: str
    name: str
    # The flow document (procedo.flow/1): the draft, or the latest version's.
    draft: msgspec.Raw
    revision: int
    latest_version: int | None
    has_draft: bool
    updated_at: dt.datetime
    updated_by: str


class Problems(msgspec.Struct):
    problems: list[Problem]
    # Each node's output ports as its type derives them from its params (a condition's
    # branches, a task's outcomes): the designer draws these, never a copy of the rules.
    # Empty when the document does not decode.
    ports: dict[str, list[PortInfo]] = {}


class DuplicateIn(msgspec.Struct, forbid_unknown_fields=True):
    key: FlowKey
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class VersionOut(msgspec.Struct):
    number: int
    published_at: dt.datetime
    published_by: str
    active: bool


class ImportOut(msgspec.Struct):
    key: str
    created: bool
    revision: int


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _flow_out(session: Any, row: m.Flow) -> FlowOut:
    latest = flowstore.latest_version(session, row.id)
    # Embedded as stored: amounts keep their exact digits (no float on the way).
    document = msgspec.Raw(flowstore.current_document(session, row).encode())
    return FlowOut(
        key=row.key,
        name=row.name,
        draft=document,
        revision=row.revision,
        latest_version=latest.number if latest else None,
        has_draft=row.draft is not None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _with_etag(out: FlowOut, status: int = 200) -> Response[FlowOut]:
    return Response(out, status_code=status, headers={"ETag": _etag(out.revision)})


_REVISION = re.compile(r"[0-9]{1,10}")


def _if_match(request: Request[Any, Any, Any]) -> int:
    header = request.headers.get("if-match")
    if not header:
        raise ApiError(
            428, "send If-Match with the ETag of the draft you edited (from GET /flows/{key})"
        )
    value = header.strip().removeprefix("W/").strip('"')
    # ASCII digits only (str.isdigit() accepts '²', which int() refuses), and a revision
    # the column can hold.
    if not _REVISION.fullmatch(value) or int(value) > MAX_NUMBER:
        raise ApiError(400, f'If-Match {header!r} is not an ETag of this API (like "3")')
    return int(value)


class FlowController(Controller):
    path = "/flows"
    tags = ["flows"]

    @get("/", sync_to_thread=True)
    def list_flows(
        self, caller: CallerDep, rt: RuntimeDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[FlowSummary]:
        caller.internal()
        latest = (
            sa.select(sa.func.max(m.FlowVersion.number))
            .where(m.FlowVersion.flow_id == m.Flow.id)
            .scalar_subquery()
        )
        open_count = (
            sa.select(sa.func.count(m.Instance.id))
            .join(m.FlowVersion, m.FlowVersion.id == m.Instance.flow_version_id)
            .where(
                m.FlowVersion.flow_id == m.Flow.id,
                m.Instance.status.in_(flowstore.OPEN_STATUSES),
            )
            .scalar_subquery()
        )
        # The latest version's document, for its labels: read only where no draft has them.
        latest_document = (
            sa.select(m.FlowVersion.document)
            .where(m.FlowVersion.flow_id == m.Flow.id)
            .order_by(m.FlowVersion.number.desc())
            .limit(1)
            .scalar_subquery()
        )
        document = sa.case((m.Flow.draft.is_(None), latest_document), else_=sa.null())
        query = (
            sa.select(m.Flow, latest, open_count, document)
            .where(m.Flow.tenant_id == caller.tenant_id)
            .order_by(m.Flow.key)
            .limit(limit)
            .offset(offset)
        )
        with rt.db.read() as session:
            rows = session.execute(query).all()
        return [
            FlowSummary(
                key=flow.key,
                name=flow.name,
                latest_version=number,
                has_draft=flow.draft is not None,
                open_instances=count or 0,
                updated_at=flow.updated_at,
                updated_by=flow.updated_by,
                labels=labels_of(flow.draft or published),
            )
            for flow, number, count, published in rows
        ]

    @post("/", sync_to_thread=True, request_max_body_size=MAX_FLOW_BODY)
    def create_flow(
        self, request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, rt: RuntimeDep
    ) -> Response[FlowOut]:
        """A new flow from a flow document, kept as its draft (problems allowed until publish)."""
        caller.require("designer")
        try:
            row = flowstore.create_flow(
                rt, caller.tenant_id, flow_document(request, body), caller.actor
            )
        except flowstore.KeyTaken as taken:
            raise ApiError(409, str(taken)) from taken
        with rt.db.read() as session:
            return _with_etag(_flow_out(session, row), 201)

    @post("/validate", sync_to_thread=True, status_code=200, request_max_body_size=MAX_FLOW_BODY)
    def validate_flow(
        self, request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, rt: RuntimeDep
    ) -> Problems:
        """Every problem of a flow document, with node, edge or path; nothing is stored."""
        caller.internal()
        try:
            flow = decode_flow(flow_document(request, body))
        except FlowError as exc:
            return Problems(exc.problems)
        with rt.db.read() as session:
            known = rt.subject_types(session, caller.tenant_id)
            # Email nodes naming a template: the tenant's library has it, and it fits.
            named = tenant_flow_problems(session, caller.tenant_id, flow, known)
        checked = check_flow(flow, rt.registry, known)
        ports = {
            node_id: [PortInfo(p.name, p.label, p.optional) for p in node.ports]
            for node_id, node in checked.nodes.items()
        }
        return Problems(checked.problems + named, ports)

    @post("/import", sync_to_thread=True, status_code=200, request_max_body_size=MAX_FLOW_BODY)
    def import_flow(
        self, request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, rt: RuntimeDep
    ) -> Response[ImportOut]:
        """A flow file (5 MB at most): a new flow (201), or a new draft of its key (200).

        The file must be valid; on any problem nothing is stored (422 lists them all).
        """
        caller.require("designer")
        row, created = flowstore.import_flow(
            rt, caller.tenant_id, flow_document(request, body), caller.actor
        )
        return Response(
            ImportOut(row.key, created, row.revision),
            status_code=201 if created else 200,
            headers={"ETag": _etag(row.revision)},
        )

    @get("/{key:str}", sync_to_thread=True)
    def get_flow(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> Response[FlowOut]:
        """The flow with its draft; the ETag is what PUT .../draft needs in If-Match."""
        caller.internal()
        with rt.db.read() as session:
            return _with_etag(
                _flow_out(session, flowstore.find_flow(session, caller.tenant_id, key))
            )

    @put("/{key:str}/draft", sync_to_thread=True, request_max_body_size=MAX_FLOW_BODY)
    def save_draft(
        self,
        key: FromPath[str],
        request: Request[Any, Any, Any],
        body: RawBody,
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> Response[FlowOut]:
        """Save the draft; If-Match must carry the ETag you read, or 409 says who changed it."""
        caller.require("designer")
        document = flow_document(request, body)
        with rt.db.read() as session:
            flowstore.find_flow(session, caller.tenant_id, key)  # 404 before 428
        revision = _if_match(request)
        try:
            row = flowstore.save_draft(rt, caller.tenant_id, key, document, revision, caller.actor)
        except flowstore.StaleDraft as stale:
            raise ApiError(
                409,
                f"the draft changed since you read it: {stale.changed_by} saved revision "
                f"{stale.revision} at {stale.changed_at.isoformat()}; reload it and apply "
                "your change again",
                changed_by=stale.changed_by,
                changed_at=stale.changed_at.isoformat(),
            ) from None
        with rt.db.read() as session:
            return _with_etag(_flow_out(session, row))

    @delete("/{key:str}", sync_to_thread=True)
    def delete_flow(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> None:
        """Delete a flow that was never published."""
        caller.require("designer")
        flowstore.delete_flow(rt, caller.tenant_id, key)

    @post("/{key:str}/duplicate", sync_to_thread=True)
    def duplicate_flow(
        self, key: FromPath[str], data: JSONBody[DuplicateIn], caller: CallerDep, rt: RuntimeDep
    ) -> Response[FlowOut]:
        """A new flow with a copy of this one's draft (or latest version)."""
        caller.require("designer")
        try:
            row = flowstore.duplicate(rt, caller.tenant_id, key, data.key, data.name, caller.actor)
        except flowstore.KeyTaken as taken:
            raise ApiError(409, str(taken)) from taken
        with rt.db.read() as session:
            return _with_etag(_flow_out(session, row), 201)

    @post("/{key:str}/publish", sync_to_thread=True)
    def publish_flow(self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep) -> VersionOut:
        """Validate the draft and make it the next immutable version; 422 lists the problems."""
        caller.require("designer")
        version = flowstore.publish(rt, caller.tenant_id, key, caller.actor)
        return VersionOut(version.number, version.published_at, version.published_by, True)

    @get("/{key:str}/versions", sync_to_thread=True)
    def list_versions(
        self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep
    ) -> list[VersionOut]:
        caller.internal()
        with rt.db.read() as session:
            flow = flowstore.find_flow(session, caller.tenant_id, key)
            versions = session.scalars(
                sa.select(m.FlowVersion)
                .where(m.FlowVersion.flow_id == flow.id)
                .order_by(m.FlowVersion.number)
            ).all()
        return [VersionOut(v.number, v.published_at, v.published_by, v.active) for v in versions]

    @get("/{key:str}/versions/{number:int}", sync_to_thread=True, media_type=JSON)
    def get_version(
        self, key: FromPath[str], number: VersionNumber, caller: CallerDep, rt: RuntimeDep
    ) -> Response[bytes]:
        """One version's flow document (canonical JSON)."""
        caller.internal()
        with rt.db.read() as session:
            flow = flowstore.find_flow(session, caller.tenant_id, key)
            document = flowstore.find_version(session, flow, number).document
        return Response(document.encode(), media_type=JSON)

    @get("/{key:str}/versions/{number:int}/counts", sync_to_thread=True)
    def version_counts(
        self, key: FromPath[str], number: VersionNumber, caller: CallerDep, rt: RuntimeDep
    ) -> dict[str, int]:
        """How many instances wait at each node of this version."""
        caller.internal()
        with rt.db.read() as session:
            flow = flowstore.find_flow(session, caller.tenant_id, key)
            version = flowstore.find_version(session, flow, number)
            rows = session.execute(
                sa.select(m.Token.node_id, sa.func.count(sa.distinct(m.Token.instance_id)))
                .join(m.Instance, m.Instance.id == m.Token.instance_id)
                .where(
                    m.Instance.flow_version_id == version.id,
                    m.Instance.tenant_id == caller.tenant_id,
                    m.Instance.status == "running",
                )
                .group_by(m.Token.node_id)
            ).all()
        return {node: count for node, count in rows}  # noqa: C416 (rows are Row tuples)

    @get("/{key:str}/export/all", sync_to_thread=True, media_type=JSON)
    def export_all_versions(
        self, key: FromPath[str], caller: CallerDep, rt: RuntimeDep
    ) -> Response[bytes]:
        """Every published version, oldest first: a JSON array of canonical flow files.

        Each element is the flow file ``export?version=N`` gives for that version.
        """
        caller.internal()
        with rt.db.read() as session:
            flow = flowstore.find_flow(session, caller.tenant_id, key)
            documents = session.scalars(
                sa.select(m.FlowVersion.document)
                .where(m.FlowVersion.flow_id == flow.id)
                .order_by(m.FlowVersion.number)
            ).all()
        body = "[\n" + ",\n".join(document.rstrip("\n") for document in documents) + "\n]\n"
        return Response(
            body.encode(),
            media_type=JSON,
            headers={"Content-Disposition": f'attachment; filename="{key}-versions.json"'},
        )

    @get("/{key:str}/export", sync_to_thread=True, media_type=JSON)
    def export_flow(
        self,
        key: FromPath[str],
        caller: CallerDep,
        rt: RuntimeDep,
        version: Annotated[
            int | None,
            QueryParameter(ge=1, le=MAX_NUMBER, description="a version; default: the draft"),
        ] = None,
    ) -> Response[bytes]:
        """The canonical flow file: import it anywhere and export it again, byte for byte."""
        caller.internal()
        with rt.db.read() as session:
            flow = flowstore.find_flow(session, caller.tenant_id, key)
            if version is None:
                document, name = flowstore.current_document(session, flow), key
            else:
                document = flowstore.find_version(session, flow, version).document
                name = f"{key}-v{version}"
        return Response(
            document.encode(),
            media_type=JSON,
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
