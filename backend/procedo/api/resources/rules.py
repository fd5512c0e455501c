"""Trying a condition on the tenant's subjects: how many it selects (for the rule builder)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, post
from litestar.params import JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.db import models as m
from procedo.rules.check import check_rule
from procedo.rules.model import Rule
from procedo.rules.sql import UnsupportedInSql, to_sql


class MatchIn(msgspec.Struct, forbid_unknown_fields=True):
    subject_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    # A rule tree (docs/rules.md), e.g. {"kind": "compare", "field": "subject.status", ...}.
    rule: dict[str, Any]


class MatchOut(msgspec.Struct):
    matched: int
    total: int


class RuleController(Controller):
    path = "/rules"
    tags = ["rules"]

    @post("/match", sync_to_thread=True, status_code=200)
    def match(self, data: JSONBody[MatchIn], caller: CallerDep, rt: RuntimeDep) -> MatchOut:
        """How many of the tenant's subjects of a type the rule selects, of how many."""
        caller.internal()
        try:
            rule = msgspec.convert(data.rule, Rule)
        except msgspec.ValidationError as exc:
            raise ApiError(422, f"rule: {exc}") from None
        with rt.db.read() as session:
            subject_type = rt.subject_types(session, caller.tenant_id).get(data.subject_type)
            if subject_type is None:
                raise ApiError(422, f"subject_type: unknown subject type '{data.subject_type}'")
            problems = check_rule(rule, subject_type, "$.rule")
            if problems:
                raise ApiError(422, "; ".join(f"{p.path}: {p.message}" for p in problems))
            try:
                condition = to_sql(rule)
            except (UnsupportedInSql, ValueError) as exc:
                raise ApiError(422, f"rule: {exc}") from None
            of_type = sa.and_(
                m.Subject.tenant_id == caller.tenant_id, m.Subject.type == data.subject_type
            )
            total = session.scalar(sa.select(sa.func.count()).where(of_type)) or 0
            matched = session.scalar(sa.select(sa.func.count()).where(of_type, condition)) or 0
        return MatchOut(matched, total)
