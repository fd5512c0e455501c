"""A scheduled flow that would fail at every run is refused when saved (issue 12, items 5 and 9).

Its time zone must exist and its filter must become SQL; decimal literals in any
rule must be numbers SQL and the rule's text form can hold.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from procedo.flow.codec import decode_flow
from procedo.flow.problems import Problem
from procedo.flow.validate import check_flow
from procedo.rules.check import check_rule
from procedo.rules.model import (
    AnyOf,
    Compare,
    DateTimeValue,
    DecimalValue,
    ListValue,
    Rule,
    StringValue,
)
from procedo.rules.sql import MAX_SQL_COMPARES, UnsupportedInSql, sql_problems, to_sql
from tests.conftest import dumps, minimal_flow


def scheduled(**trigger: Any) -> dict[str, Any]:
    """The minimal flow on a schedule for invoices above 250 whose status is 'received'."""
    schedule: dict[str, Any] = {
        "kind": "schedule",
        "every": "week",
        "weekday": "monday",
        "filter": {
            "kind": "all",
            "rules": [
                compare("subject.status", {"type": "string", "value": "received"}, "="),
                compare("subject.currency", {"type": "string", "value": "EUR"}, "="),
                compare("subject.payable_amount", {"type": "decimal", "value": 250}),
            ],
        },
    }
    return minimal_flow(trigger=schedule | trigger)


def problems_of(flow: dict[str, Any]) -> list[Problem]:
    return check_flow(decode_flow(dumps(flow))).problems


def compare(field: str, value: Any, op: str = ">") -> dict[str, Any]:
    return {"kind": "compare", "field": field, "op": op, "value": value}


def test_the_scheduled_example_is_valid() -> None:
    assert problems_of(scheduled()) == []
    assert problems_of(scheduled(timezone="America/Curacao")) == []


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        ("Europe/Amsterdm", "did you mean 'Europe/Amsterdam'?"),
        ("Mars/Olympus", "Europe/Amsterdam"),
        ("../../etc/passwd", "Europe/Amsterdam"),
        ("localtime", "Europe/Amsterdam"),  # the server's zone, not a place
        ("x" * 5000, "Europe/Amsterdam"),
    ],
)
def test_an_unknown_time_zone_is_a_problem_at_the_trigger(zone: str, hint: str) -> None:
    (problem,) = problems_of(scheduled(timezone=zone))
    assert (problem.code, problem.path) == ("trigger.timezone.unknown", "$.trigger.timezone")
    assert hint in problem.message


def test_a_filter_on_instance_variables_cannot_select_subjects() -> None:
    flow = scheduled()
    rules = flow["trigger"]["filter"]["rules"]
    rules[1] = compare("vars.attempts", {"type": "decimal", "value": 2})
    (problem,) = problems_of(flow)
    assert problem.code == "rule.sql.unsupported"
    assert problem.path == "$.trigger.filter.rules[1]"
    assert "vars.attempts" in problem.message
    assert "one query" in problem.message


def test_vars_in_other_rules_stay_allowed() -> None:
    """Only a schedule's filter becomes SQL; an event trigger's rule is evaluated in Python."""
    flow = scheduled()
    flow["trigger"] = {
        "kind": "event",
        "event": "invoice.received",
        "when": compare("vars.attempts", {"type": "decimal", "value": 2}),
    }
    assert problems_of(flow) == []


@pytest.mark.parametrize("number", ["1e1000", "1e1000000", "-1e101", "1e-101", "NaN", "Infinity"])
def test_a_decimal_beyond_what_rules_hold_is_a_problem(number: str) -> None:
    flow = scheduled()
    flow["trigger"]["filter"]["rules"][2]["value"]["value"] = number
    (problem,) = problems_of(flow)
    assert problem.code == "rule.value.number"
    assert problem.path == "$.trigger.filter.rules[2].value.value"
    assert "subject.payable_amount" in problem.message


def test_decimal_literals_are_checked_in_every_rule_and_list() -> None:
    plain = Compare(field="vars.total", op="<", value=DecimalValue(value=Decimal("1e1000")))
    (problem,) = check_rule(plain, None, "$.when")
    assert (problem.code, problem.path) == ("rule.value.number", "$.when.value.value")
    listed = Compare(
        field="vars.total",
        op="in",
        value=ListValue(
            items=[DecimalValue(value=Decimal(1)), DecimalValue(value=Decimal("sNaN"))]
        ),
    )
    (problem,) = check_rule(listed, None, "$.when")
    assert problem.path == "$.when.value.items[1].value"
    within = Decimal("9" * 100)  # a hundred digits are fine
    fine = Compare(field="vars.total", op="<", value=DecimalValue(value=within))
    assert check_rule(fine, None) == []


def test_sql_refuses_huge_exponents_as_unsupported_not_overflow() -> None:
    """abs(Decimal('1e1000000')) raises decimal.Overflow, which no caller expected."""
    rule = Compare(field="subject.total", op=">", value=DecimalValue(value=Decimal("1e1000000")))
    with pytest.raises(UnsupportedInSql):
        to_sql(rule)
    edge = Compare(field="subject.total", op=">", value=DecimalValue(value=Decimal("9.99e999")))
    to_sql(edge)  # the largest exponent SQL holds still compiles


def test_a_filter_too_large_for_one_statement_is_a_problem() -> None:
    many: Rule = AnyOf(
        rules=[
            Compare(field="subject.name", op="=", value=StringValue(value=str(n)))
            for n in range(MAX_SQL_COMPARES + 1)
        ]
    )
    (problem,) = sql_problems(many, "$.trigger.filter")
    assert (problem.code, problem.path) == ("rule.sql.unsupported", "$.trigger.filter")
    assert f"at most {MAX_SQL_COMPARES}" in problem.message
    assert sql_problems(AnyOf(rules=many.rules[:MAX_SQL_COMPARES]), "$") == []


def test_a_filter_with_more_values_than_a_statement_holds_is_a_problem() -> None:
    names = [StringValue(value=str(n)) for n in range(33_000)]
    rule = Compare(field="subject.name", op="in", value=ListValue(items=names))
    (problem,) = sql_problems(rule, "$.trigger.filter")
    assert "65535" in problem.message


def test_a_valid_filter_has_no_sql_problems() -> None:
    moment = DateTimeValue(value=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    rule = Compare(field="subject.due", op="<", value=moment)
    assert sql_problems(rule) == []
