"""The rule tree: conditions as typed data, never code.

A rule is a tree of groups (``all``, ``any``, ``not``) over comparisons of a
dotted field path with a typed literal. The same tree is checked against a
subject type's fields on save, evaluated in Python for one instance, and
(later) compiled to SQL for set-based selection.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, TypeAlias

import msgspec

# Field paths start with a namespace: ``subject`` (the business object's fields
# and its ``status``) or ``vars`` (the instance's variables).
FIELD_PATH_PATTERN = r"^(subject|vars)(\.[A-Za-z][A-Za-z0-9_]*)+$"
FieldPath = Annotated[
    str,
    msgspec.Meta(
        pattern=FIELD_PATH_PATTERN,
        description="Dotted path such as subject.payable_amount or vars.attempts",
        examples=["subject.payable_amount", "subject.supplier.kvk"],
    ),
]

MAX_RULE_DEPTH = 64
# A decimal literal has at most this many digits and an exponent within ±this: the
# rule's text form writes numbers as plain digits, and SQL must hold them (rules/sql.py).
MAX_DECIMAL_DIGITS = 100


class _Literal(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    pass


class DecimalValue(_Literal, tag="decimal", frozen=True):
    value: Decimal


class DateValue(_Literal, tag="date", frozen=True):
    value: dt.date


class DateTimeValue(_Literal, tag="datetime", frozen=True):
    value: dt.datetime


# How far ``today`` may be moved, in days, either way: a hundred years.
MAX_TODAY_DAYS = 36_600


class TodayValue(_Literal, tag="today", frozen=True):
    """The tenant's date when the rule is evaluated, moved by ``days`` (today - 14: -14).

    Compares like a date literal (rules/today.py says which date it is).
    """

    days: Annotated[int, msgspec.Meta(ge=-MAX_TODAY_DAYS, le=MAX_TODAY_DAYS)] = 0

    @property
    def value(self) -> dt.date:
        from procedo.rules.today import today

        return today() + dt.timedelta(days=self.days)


class StringValue(_Literal, tag="string", frozen=True):
    value: str


class BoolValue(_Literal, tag="bool", frozen=True):
    value: bool


ScalarValue: TypeAlias = (
    DecimalValue | DateValue | DateTimeValue | TodayValue | StringValue | BoolValue
)


class ListValue(_Literal, tag="list", frozen=True):
    items: list[ScalarValue]


Value: TypeAlias = ScalarValue | ListValue

CompareOp = Literal[
    "=", "!=", "<", ">", "<=", ">=", "contains", "in", "between", "is_empty", "is_set"
]
# Operators that take no value, and those whose value is a list.
UNARY_OPS: frozenset[str] = frozenset({"is_empty", "is_set"})
LIST_OPS: frozenset[str] = frozenset({"in", "between"})
ORDER_OPS: frozenset[str] = frozenset({"<", ">", "<=", ">=", "between"})


class _Rule(msgspec.Struct, frozen=True, tag_field="kind", forbid_unknown_fields=True):
    pass


class Compare(_Rule, tag="compare", frozen=True):
    field: FieldPath
    op: CompareOp
    value: Value | None = None


class All(_Rule, tag="all", frozen=True):
    rules: list[Rule]


class AnyOf(_Rule, tag="any", frozen=True):
    rules: list[Rule]


class Not(_Rule, tag="not", frozen=True):
    rule: Rule


Rule: TypeAlias = All | AnyOf | Not | Compare


def decimal_problem(number: Decimal) -> str | None:
    """Why a decimal literal is unusable (NaN, infinite, too large or precise), or None."""
    if not number.is_finite():
        return f"{number} is not a number; write a number such as 500 or -3.5"
    parts = number.as_tuple()
    exponent = parts.exponent
    assert isinstance(exponent, int)  # finite
    if abs(exponent) > MAX_DECIMAL_DIGITS or len(parts.digits) > MAX_DECIMAL_DIGITS:
        return (
            f"the number {number} is too large or too precise; write it with at most "
            f"{MAX_DECIMAL_DIGITS} digits"
        )
    return None


def has_today(rule: Rule) -> bool:
    """Whether a comparison of the rule names ``today`` (its answer moves with the date)."""
    for compare in compares(rule):
        value = compare.value
        items = value.items if isinstance(value, ListValue) else [value]
        if any(isinstance(item, TodayValue) for item in items):
            return True
    return False


def literal_python(value: Value) -> object:
    """The Python value a literal stands for (a list literal becomes a list)."""
    if isinstance(value, ListValue):
        return [item.value for item in value.items]
    return value.value


def depth(rule: Rule) -> int:
    """Nesting depth of a rule tree, computed without recursion."""
    deepest = 0
    stack: list[tuple[Rule, int]] = [(rule, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, All | AnyOf):
            stack.extend((child, level + 1) for child in node.rules)
        elif isinstance(node, Not):
            stack.append((node.rule, level + 1))
    return deepest


def compares(rule: Rule) -> list[Compare]:
    """Every comparison in a rule tree, in reading order."""
    found: list[Compare] = []
    stack: list[Rule] = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare):
            found.append(node)
        elif isinstance(node, Not):
            stack.append(node.rule)
        else:
            stack.extend(reversed(node.rules))
    return found
