"""Collection procedures over HTTP: which flows are procedures (P5: registered, ordered,
the default), the pass that starts them, a debtor's timeline (P6), and an open item's
status (a dispute starts the dispute procedure). See docs/procedures.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.db import models as m
from procedo.db.procedures import Procedure
from procedo.db.receivables import ITEM_STATUSES, OpenItem
from procedo.flow.problems import Problem
from procedo.procedures import assign, registry
from procedo.procedures import timeline as tl
from procedo.rules.check import check_rule
from procedo.rules.model import Rule
from procedo.runtime.context import NotFound, Runtime
from procedo.runtime.steps import history, raise_subject_event

FlowKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
BODY_LIMIT = 64 * 1024


class ProcedureIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["primary", "secondary"]
    # None: a registration keeps its place; a new primary comes after the others.
    priority: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    rule: Rule | None = None
    default: bool = False


class ProcedureOut(msgspec.Struct):
    flow_key: str
    kind: str
    priority: int
    rule: dict[str, Any] | None
    default: bool
    updated_at: dt.datetime
    updated_by: str
    # The flow: its name, newest published version and subject type (None: unpublished).
    name: str = ""
    version: int | None = None
    subject_type: str | None = None
    # The rule and the flow's stop_when as the rule editor writes them.
    rule_text: str | None = None
    stop_when: dict[str, Any] | None = None
    stop_text: str | None = None
    # How many debtors an instance of the flow runs for now.
    running: int = 0


class CandidateOut(msgspec.Struct):
    flow_key: str
    name: str
    version: int


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every primary procedure with a rule, once each, first assigned first."""

    flows: Annotated[list[FlowKey], msgspec.Meta(max_length=1000)]


class DefaultIn(msgspec.Struct, forbid_unknown_fields=True):
    """The primary that becomes the default; the one before it needs a rule to stay."""

    flow_key: FlowKey
    previous_rule: Rule | None = None


class ReconcileIn(msgspec.Struct, forbid_unknown_fields=True):
    subjects: Annotated[list[uuid.UUID], msgspec.Meta(max_length=1000)] | None = None


class StartedOut(msgspec.Struct):
    subject_id: uuid.UUID
    flow_key: str


class ItemStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["open", "dispute", "promise", "payment_plan", "outsourced", "paid"]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ItemStatusOut(msgspec.Struct):
    id: uuid.UUID
    number: str
    debtor_id: uuid.UUID
    status: str
    open_amount: Decimal
    started: list[StartedOut]


def _out(row: Procedure) -> ProcedureOut:
    return ProcedureOut(
        row.flow_key,
        row.kind,
        row.priority,
        row.rule,
        row.is_default,
        row.updated_at,
        row.updated_by,
        rule_text=registry.text_of(row.rule),
    )


def _listed(item: registry.Listed) -> ProcedureOut:
    out = _out(item.row)
    out.name, out.version, out.subject_type = item.name, item.version, item.subject_type
    out.stop_when, out.stop_text = item.stop_when, registry.text_of(item.stop_when)
    out.running = item.running
    return out


def _listing(session: Session, tenant_id: uuid.UUID) -> list[ProcedureOut]:
    return [_listed(item) for item in registry.listing(session, tenant_id)]


def _check_rule(rt: Runtime, session: Session, tenant_id: uuid.UUID, rule: Rule, path: str) -> None:
    """422 naming the first problem of a rule over the debtor's fields and facts."""
    debtor = rt.subject_types(session, tenant_id).get(assign.DEBTOR)
    problems = check_rule(rule, debtor, path)
    if problems:
        first = problems[0]
        raise ApiError(
            422,
            f"{first.path}: {first.message}",
            problems=[Problem(code=p.code, message=p.message, path=p.path) for p in problems],
        )


@contextmanager
def _refusals() -> Iterator[None]:
    """The registry's refusals as HTTP answers."""
    try:
        yield
    except registry.Invalid as exc:
        raise ApiError(422, str(exc)) from exc
    except registry.Conflict as exc:
        raise ApiError(409, str(exc)) from exc


class ProcedureController(Controller):
    path = "/procedures"
    tags = ["procedures"]

    @get("/", sync_to_thread=True)
    def procedures(self, caller: CallerDep, rt: RuntimeDep) -> list[ProcedureOut]:
        """The tenant's procedures: primaries in the order they are assigned, then secondaries."""
        caller.internal()
        with rt.db.read() as session:
            return _listing(session, caller.tenant_id)

    @get("/candidates", sync_to_thread=True)
    def candidates(self, caller: CallerDep, rt: RuntimeDep) -> list[CandidateOut]:
        """Published debtor flows that could be registered (none is yet)."""
        caller.internal()
        with rt.db.read() as session:
            return [CandidateOut(*c) for c in registry.candidates(session, caller.tenant_id)]

    @put("/order", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def set_order(
        self, data: JSONBody[OrderIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[ProcedureOut]:
        """The order in which primary rules are tried (the default stays last)."""
        caller.require("designer")
        with rt.transaction() as (session, _), _refusals():
            registry.set_order(session, caller.tenant_id, data.flows)
            session.flush()
            return _listing(session, caller.tenant_id)

    @put("/default", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def set_default(
        self, data: JSONBody[DefaultIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[ProcedureOut]:
        """Make a primary the default: it runs for debtors no primary rule picks."""
        caller.require("designer")
        with rt.transaction() as (session, _), _refusals():
            if data.previous_rule is not None:
                _check_rule(rt, session, caller.tenant_id, data.previous_rule, "$.previous_rule")
            now = rt.clock.now()
            before = registry.set_default(
                session, caller.tenant_id, data.flow_key, data.previous_rule
            )
            for row in (session.get(Procedure, (caller.tenant_id, data.flow_key)), before):
                if row is not None:
                    row.updated_at, row.updated_by = now, caller.actor
            session.flush()
            return _listing(session, caller.tenant_id)

    @put("/{key:str}", sync_to_thread=True, request_max_body_size=BODY_LIMIT)
    def register(
        self,
        key: FromPath[FlowKey],
        data: JSONBody[ProcedureIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> ProcedureOut:
        """Make a debtor flow a primary procedure (by rule and priority, or the default) or a
        secondary one (started when its rule holds)."""
        caller.require("designer")
        if data.kind == "secondary" and (data.rule is None or data.default):
            raise ApiError(422, "$.rule: a secondary procedure starts on a rule; give one")
        if data.kind == "primary" and data.default == (data.rule is not None):
            raise ApiError(
                422, "$.rule: a primary procedure has a rule, or is the default without one"
            )
        with rt.transaction() as (session, _), _refusals():
            flow = session.scalar(
                sa.select(m.Flow).where(m.Flow.tenant_id == caller.tenant_id, m.Flow.key == key)
            )
            if flow is None:
                raise NotFound(f"no flow '{key}' in this tenant; save it first")
            registry.check_flow(session, caller.tenant_id, key)
            if data.rule is not None:
                _check_rule(rt, session, caller.tenant_id, data.rule, "$.rule")
            if data.default:
                others = session.scalars(
                    sa.select(Procedure).where(
                        Procedure.tenant_id == caller.tenant_id,
                        Procedure.is_default.is_(True),
                        Procedure.flow_key != key,
                    )
                ).all()
                if others:
                    raise ApiError(
                        409,
                        f"$.default: '{others[0].flow_key}' is the default primary procedure; "
                        "make this one the default with PUT /procedures/default",
                    )
            row = session.get(Procedure, (caller.tenant_id, key))
            if row is None:
                row = Procedure(tenant_id=caller.tenant_id, flow_key=key)
                priority = registry.last_priority(session, caller.tenant_id)
            else:
                registry.check_kind_change(session, row, data.kind)
                priority = row.priority
            row.kind = data.kind
            row.priority = data.priority if data.priority is not None else priority
            row.rule = msgspec.to_builtins(data.rule) if data.rule is not None else None
            row.is_default = data.default
            row.updated_at = rt.clock.now()
            row.updated_by = caller.actor
            session.add(row)
            session.flush()
            listed = {item.row.flow_key: item for item in registry.listing(session, row.tenant_id)}
            return _listed(listed[key])

    @delete("/{key:str}", sync_to_thread=True)
    def unregister(self, key: FromPath[FlowKey], caller: CallerDep, rt: RuntimeDep) -> None:
        """The flow is no procedure any more; its running secondary instances stay (409 while
        it is the primary procedure of debtors)."""
        caller.require("designer")
        with rt.transaction() as (session, _), _refusals():
            row = session.get(Procedure, (caller.tenant_id, key))
            if row is None:
                raise NotFound(f"'{key}' is no procedure of this tenant")
            registry.check_removable(session, row)
            session.delete(row)

    @post("/reconcile", sync_to_thread=True, status_code=200, request_max_body_size=BODY_LIMIT)
    def reconcile(
        self, data: JSONBody[ReconcileIn], caller: CallerDep, rt: RuntimeDep
    ) -> list[StartedOut]:
        """Start the primary procedure of each debtor in procedure that has none, and the
        secondary ones whose rule holds; for the named debtors, or all."""
        caller.require("designer")
        done = assign.reconcile(rt, caller.tenant_id, data.subjects)
        return [StartedOut(subject, key) for subject, key in done.started]

    @get("/subjects/{subject_id:uuid}", sync_to_thread=True)
    def timeline(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> tl.Timeline:
        """A debtor's procedures, past and running: steps with their D.I.P., the leading
        invoice, and why the debtor stands where it stands (or why no primary runs)."""
        caller.internal()
        return tl.timeline(rt, caller.tenant_id, subject_id)


class OpenItemController(Controller):
    path = "/open-items"
    tags = ["procedures"]

    @put("/{item_id:uuid}/status", sync_to_thread=True, request_max_body_size=BODY_LIMIT)
    def set_status(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[ItemStatusIn],
        caller: CallerDep,
        rt: RuntimeDep,
    ) -> ItemStatusOut:
        """Set an invoice's status (a dispute, its resolution): the debtor's facts change,
        waiting flows look again, and the procedures whose rules now hold start."""
        caller.internal()
        assert data.status in ITEM_STATUSES
        with rt.transaction() as (session, out):
            item = session.get(OpenItem, item_id, with_for_update=True)
            if item is None or item.tenant_id != caller.tenant_id:
                raise NotFound(f"no open item {item_id} in this tenant")
            before = item.status
            started: list[StartedOut] = []
            if before != data.status:
                item.status = data.status
                subject = session.get(m.Subject, item.debtor_id)
                assert subject is not None
                now = rt.clock.now()
                row = {
                    "kind": "open_item_status",
                    "actor": caller.actor,
                    "reason": data.reason or None,
                    "data": {"open_item": item.number, "from": before, "to": data.status},
                }
                history(session, None, subject.id, caller.tenant_id, now, [row])
                raise_subject_event(session, out, subject, subject.status, now)
                session.flush()
                done = assign.reconcile_in(rt, session, out, caller.tenant_id, [subject.id])
                started = [StartedOut(s, k) for s, k in done.started]
            return ItemStatusOut(
                item.id, item.number, item.debtor_id, item.status, item.open_amount, started
            )
