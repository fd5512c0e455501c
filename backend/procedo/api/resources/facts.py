"""A subject's computed facts as of now: ``GET /subjects/{id}/facts`` (docs/receivables.md).

The values ``facts.python`` computes for the subject today, in the tenant's time
zone: what a running flow and the debtor page see. Amounts come as decimal
strings, dates as ``YYYY-MM-DD``, absent facts as null.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.db import models as m
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.runtime.context import NotFound


class FactsOut(msgspec.Struct):
    subject_id: uuid.UUID
    type: str
    key: str
    today: dt.date
    facts: dict[str, Any]


class SubjectFactsController(Controller):
    path = "/subjects/{subject_id:uuid}/facts"
    tags = ["subjects"]

    @get("/", sync_to_thread=True)
    def subject_facts(
        self, subject_id: FromPath[uuid.UUID], caller: CallerDep, rt: RuntimeDep
    ) -> FactsOut:
        """Every computed field the subject's type declares, with its value today."""
        caller.internal()
        with rt.db.read() as session:
            subject = session.get(m.Subject, subject_id)
            if subject is None or subject.tenant_id != caller.tenant_id:
                raise NotFound(f"no subject {subject_id} in this tenant")
            timezone, days = rt.tenant_calendar(session, caller.tenant_id)
            subject_type = rt.subject_types(session, caller.tenant_id).get(subject.type)
            computed = computed_fields(subject_type) if subject_type is not None else []
            calendar = Calendar(rt.clock.now(), timezone, days)
            values = load_facts(
                session.connection(), computed, subject.id, subject.fields, calendar
            )
        return FactsOut(subject.id, subject.type, subject.key, calendar.today, values)
