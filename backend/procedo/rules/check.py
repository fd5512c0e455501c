"""Checks a rule tree against a subject type's declared fields, on save."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from procedo.nodetypes import ParamProblem
from procedo.rules.model import (
    LIST_OPS,
    MAX_RULE_DEPTH,
    ORDER_OPS,
    UNARY_OPS,
    All,
    AnyOf,
    BoolValue,
    Compare,
    DateTimeValue,
    DateValue,
    DecimalValue,
    ListValue,
    Not,
    Rule,
    ScalarValue,
    StringValue,
    TodayValue,
    decimal_problem,
    depth,
)
from procedo.subjects import ORDERED_TYPES, TEXT_TYPES, SubjectType

# Which literal types may be compared with which field types.
_FITS: dict[type[ScalarValue], frozenset[str]] = {
    DecimalValue: frozenset({"decimal", "integer"}),
    DateValue: frozenset({"date", "datetime"}),
    DateTimeValue: frozenset({"datetime"}),
    TodayValue: frozenset({"date", "datetime"}),
    StringValue: TEXT_TYPES | {"list"},
    BoolValue: frozenset({"bool"}),
}
_LITERAL_NAMES = {
    DecimalValue: "decimal",
    DateValue: "date",
    DateTimeValue: "datetime",
    TodayValue: "date (today)",
    StringValue: "string",
    BoolValue: "bool",
}


def walk(rule: Rule, path: str = "$") -> Iterator[tuple[Compare, str]]:
    """Every comparison with its JSON path, without recursion."""
    stack: list[tuple[Rule, str]] = [(rule, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, Compare):
            yield node, where
        elif isinstance(node, Not):
            stack.append((node.rule, f"{where}.rule"))
        elif isinstance(node, All | AnyOf):
            stack.extend(
                (child, f"{where}.rules[{i}]") for i, child in reversed(list(enumerate(node.rules)))
            )


def check_rule(rule: Rule, subject_type: SubjectType | None, path: str = "$") -> list[ParamProblem]:
    if depth(rule) > MAX_RULE_DEPTH:
        return [
            ParamProblem(
                code="rule.too_deep",
                message=f"the rule nests more than {MAX_RULE_DEPTH} groups; flatten it",
                path=path,
            )
        ]
    problems: list[ParamProblem] = []
    for compare, where in walk(rule, path):
        problems.extend(_check_compare(compare, subject_type, where))
    return problems


def _check_compare(
    compare: Compare, subject_type: SubjectType | None, path: str
) -> list[ParamProblem]:
    def problem(code: str, message: str, at: str = path) -> ParamProblem:
        return ParamProblem(code=code, message=f"{compare.field}: {message}", path=at)

    op, value = compare.op, compare.value
    if op in UNARY_OPS:
        if value is not None:
            return [
                problem(
                    "rule.value.unexpected", f"'{op}' takes no value; remove it", f"{path}.value"
                )
            ]
    elif value is None:
        return [problem("rule.value.missing", f"'{op}' needs a value to compare with")]
    elif op in LIST_OPS and not isinstance(value, ListValue):
        return [problem("rule.value.shape", f"'{op}' needs a list value", f"{path}.value")]
    elif op == "between" and isinstance(value, ListValue) and len(value.items) != 2:
        return [problem("rule.value.shape", "'between' needs exactly two values: low and high")]
    elif op not in LIST_OPS and isinstance(value, ListValue):
        return [problem("rule.value.shape", f"'{op}' compares with one value, not a list")]

    items: list[ScalarValue] = []
    if isinstance(value, ListValue):
        items = value.items
    elif value is not None:
        items = [value]
    for index, item in enumerate(items):
        wrong = decimal_problem(item.value) if isinstance(item, DecimalValue) else None
        if wrong is not None:
            at = f"{path}.value.items[{index}]" if isinstance(value, ListValue) else f"{path}.value"
            return [problem("rule.value.number", wrong, f"{at}.value")]

    namespace, _, name = compare.field.partition(".")
    if namespace != "subject" or subject_type is None:
        return []  # instance variables are not declared; nothing more to check
    field = subject_type.field(name)
    if field is None:
        known = [f.name for f in subject_type.fields] + ["status"]
        close = difflib.get_close_matches(name, known, n=3)
        hint = (
            f"did you mean {', '.join('subject.' + c for c in close)}?"
            if close
            else (f"see the fields of subject type '{subject_type.name}'")
        )
        return [
            problem("rule.field.unknown", f"'{subject_type.name}' has no field '{name}'; {hint}")
        ]
    if op in ORDER_OPS and field.type not in ORDERED_TYPES:
        return [
            problem("rule.op.invalid", f"'{op}' needs a number or date field, not {field.type}")
        ]
    if op == "contains" and field.type not in TEXT_TYPES | {"list"}:
        return [
            problem("rule.op.invalid", f"'contains' needs a text or list field, not {field.type}")
        ]
    for item in items:
        if field.type not in _FITS[type(item)]:
            literal = _LITERAL_NAMES[type(item)]
            return [
                problem(
                    "rule.type.mismatch",
                    f"a {field.type} field cannot be compared with a {literal} value",
                    f"{path}.value",
                )
            ]
    return []
