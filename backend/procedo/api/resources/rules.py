"""The rule builder's server side: the one rule parser and formatter, and trying a condition.

``/rules/parse`` and ``/rules/format`` are procedo.rules.text behind HTTP, so the
designer's text mode reads and writes exactly what flows store and the runtime
evaluates (no second parser in the browser). ``/rules/match`` counts the subjects
a rule selects.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, post
from litestar.params import JSONBody

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.api.errors import ApiError
from procedo.db import models as m
from procedo.flow.problems import Problem
from procedo.rules.check import check_rule
from procedo.rules.model import Rule
from procedo.rules.sql import UnsupportedInSql, to_sql
from procedo.rules.text import MAX_RULE_TEXT_LENGTH, RuleSyntaxError, format_rule, parse_rule

# A rule's text or tree is small: the text is at most 10,000 characters.
MAX_RULE_BODY = 64 * 1024
SubjectTypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class MatchIn(msgspec.Struct, forbid_unknown_fields=True):
    subject_type: SubjectTypeName
    # A rule tree (docs/rules.md), e.g. {"kind": "compare", "field": "subject.status", ...}.
    rule: dict[str, Any]


class MatchOut(msgspec.Struct):
    matched: int
    total: int


class ParseIn(msgspec.Struct, forbid_unknown_fields=True):
    # Rule text (docs/rules.md), e.g. 'subject.payable_amount > 500'.
    text: Annotated[str, msgspec.Meta(max_length=MAX_RULE_TEXT_LENGTH)]
    # When given, the rule's fields and values are checked against this subject type too.
    subject_type: SubjectTypeName | None = None


class ParseOut(msgspec.Struct):
    # The rule tree, or None when the text cannot be read (then ``problems`` says where).
    rule: Rule | None
    # The canonical text of the rule (what /rules/format gives for it), or None.
    text: str | None
    # ``rule.syntax`` with line and column, or the checks' problems (path inside the rule).
    problems: list[Problem]


class FormatIn(msgspec.Struct, forbid_unknown_fields=True):
    rule: dict[str, Any]


class FormatOut(msgspec.Struct):
    text: str


def _rule_of(value: dict[str, Any]) -> Rule:
    try:
        rule: Rule = msgspec.convert(value, Rule)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"rule: {exc}; send a rule tree as docs/rules.md shows") from None
    return rule


class RuleController(Controller):
    path = "/rules"
    tags = ["rules"]

    @post("/parse", sync_to_thread=True, status_code=200, request_max_body_size=MAX_RULE_BODY)
    def parse_text(self, data: JSONBody[ParseIn], caller: CallerDep, rt: RuntimeDep) -> ParseOut:
        """Rule text as a rule tree with its canonical text, or the problem and where it is."""
        caller.internal()
        try:
            rule = parse_rule(data.text)
        except RuleSyntaxError as exc:
            problem = Problem(
                code="rule.syntax", message=exc.message, line=exc.line, column=exc.column
            )
            return ParseOut(None, None, [problem])
        problems: list[Problem] = []
        if data.subject_type is not None:
            with rt.db.read() as session:
                subject_type = rt.subject_types(session, caller.tenant_id).get(data.subject_type)
            if subject_type is None:
                raise ApiError(422, f"subject_type: unknown subject type '{data.subject_type}'")
            problems = [
                Problem(code=p.code, message=p.message, path=p.path)
                for p in check_rule(rule, subject_type, "$")
            ]
        return ParseOut(rule, format_rule(rule), problems)

    @post("/format", sync_to_thread=True, status_code=200, request_max_body_size=MAX_RULE_BODY)
    def format_text(self, data: JSONBody[FormatIn], caller: CallerDep) -> FormatOut:
        """A rule tree as canonical text: what /rules/parse reads back to the same tree."""
        caller.internal()
        rule = _rule_of(data.rule)
        try:
            return FormatOut(format_rule(rule))
        except ValueError as exc:
            raise ApiError(422, f"rule: {exc}") from None

    @post("/match", sync_to_thread=True, status_code=200, request_max_body_size=MAX_RULE_BODY)
    def match(self, data: JSONBody[MatchIn], caller: CallerDep, rt: RuntimeDep) -> MatchOut:
        """How many of the tenant's subjects of a type the rule selects, of how many."""
        caller.internal()
        rule = _rule_of(data.rule)
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
