"""Rule trees that no compiler may accept, shared by the Python and SQL compiler tests."""

from __future__ import annotations

from decimal import Decimal

from procedo.rules.model import Compare, DecimalValue, ListValue, Not, Rule, StringValue


def too_deep() -> Rule:
    """65 levels: one more than MAX_RULE_DEPTH."""
    rule: Rule = Compare("subject.x", "is_set")
    for _ in range(65):
        rule = Not(rule)
    return rule


MALFORMED: list[Rule] = [
    Compare("subject.x", "in", StringValue("a")),
    Compare("subject.x", "=", ListValue([])),
    Compare("subject.x", "=", None),
    Compare("subject.x", "is_set", StringValue("a")),
    Compare("subject.x", "between", ListValue([StringValue("a")])),
    Compare("subject.x", "=", DecimalValue(Decimal("NaN"))),
    Compare("total.x", "is_set"),
    Compare("subject.x'y", "is_set"),
]
