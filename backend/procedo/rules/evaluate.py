"""Evaluate a rule tree against one subject instance, in Python.

``compile_rule`` turns a rule tree into a predicate once (literals converted,
field paths split, one closure per node, built without recursion);
``evaluate`` is the one-off form. A compiled predicate calls nested closures,
so its stack depth is bounded by the rule depth, which is limited to
``MAX_RULE_DEPTH``.

Semantics:

* ``subject.a.b`` reads ``subject["a"]["b"]``, or the flat key ``subject["a.b"]``
  when the nested walk finds nothing; ``vars.x`` reads the variables.
* A field value is coerced to the literal's type before comparing: decimal
  (``Decimal(str(v))`` for int, float, str and Decimal; never bool), date
  (ISO text or a date; a datetime compares by its date), datetime (ISO text,
  a datetime, or a date at midnight; naive means UTC), string (str only) and
  bool (bool only). A value that cannot be coerced makes the comparison False.
* A missing or None field: ``is_empty`` is True, ``is_set`` False, ``!=`` True
  and every other operator False. ``is_empty`` is also True for "", [] and {}.
* ``contains``: substring for text (case-sensitive), membership for a list.
  ``in``: the value equals one of the list's items (coerced per item type).
  ``between``: inclusive, ``lo <= value <= hi``.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from procedo.rules.model import (
    FIELD_PATH_PATTERN,
    MAX_RULE_DEPTH,
    All,
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
    depth,
)

__all__ = ["Predicate", "compile_rule", "evaluate"]

Predicate = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
_Getter = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
_Coerce = Callable[[Any], Any]


class _Missing:
    """Marker for a value that cannot be coerced (distinct from None)."""


_FAIL: Final = _Missing()


def evaluate(rule: Rule, subject: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
    """Whether ``subject`` (its fields plus ``status``) and ``variables`` satisfy ``rule``."""
    return _predicate(rule)(subject, variables)


# Rules of published flows are evaluated on every step that passes them: compile each once.
# Keyed by identity (rule trees hold lists, so they do not hash); the rule is kept with its
# predicate so an id is never reused for another rule while cached.
_PREDICATES: dict[int, tuple[Rule, Predicate]] = {}


def _predicate(rule: Rule) -> Predicate:
    cached = _PREDICATES.get(id(rule))
    if cached is not None and cached[0] is rule:
        return cached[1]
    if len(_PREDICATES) >= 10_000:
        _PREDICATES.clear()
    predicate = compile_rule(rule)
    _PREDICATES[id(rule)] = (rule, predicate)
    return predicate


def compile_rule(rule: Rule) -> Predicate:
    """A predicate ``(subject, variables) -> bool`` for ``rule``.

    Raises ValueError for a tree deeper than ``MAX_RULE_DEPTH`` or with a
    malformed comparison (a value of the wrong shape for its operator).
    """
    if depth(rule) > MAX_RULE_DEPTH:
        raise ValueError(f"rule is nested more than {MAX_RULE_DEPTH} levels deep")
    built: list[Predicate] = []
    stack: list[tuple[Rule, bool]] = [(rule, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, Compare):
            built.append(_compile_today(node) if _names_today(node) else _compile_compare(node))
        elif not children_done:
            stack.append((node, True))
            children = [node.rule] if isinstance(node, Not) else node.rules
            stack.extend((child, False) for child in reversed(children))
        elif isinstance(node, Not):
            built.append(_negate(built.pop()))
        else:
            count = len(node.rules)
            parts = tuple(built[len(built) - count :])
            del built[len(built) - count :]
            built.append(_all(parts) if isinstance(node, All) else _any(parts))
    return built[0]


def _names_today(compare: Compare) -> bool:
    value = compare.value
    items = value.items if isinstance(value, ListValue) else [value]
    return any(isinstance(item, TodayValue) for item in items)


def _compile_today(compare: Compare) -> Predicate:
    """A comparison with ``today``: its date is read at each evaluation (rules/today.py)."""
    _compile_compare(compare)  # a malformed comparison is refused now, as any other

    def run(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        return _compile_compare(compare)(subject, variables)

    return run


def _negate(inner: Predicate) -> Predicate:
    def run(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        return not inner(subject, variables)

    return run


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    def run(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        return all(part(subject, variables) for part in parts)

    return run


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    def run(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        return any(part(subject, variables) for part in parts)

    return run


# --------------------------------------------------------------------------- fields


_FIELD_PATH: Final = re.compile(FIELD_PATH_PATTERN)


def _getter(path: str) -> _Getter:
    if not _FIELD_PATH.match(path):
        raise ValueError(f"invalid field path {path!r}: it must match {FIELD_PATH_PATTERN}")
    namespace, _, rest = path.partition(".")
    use_vars = namespace == "vars"
    parts = tuple(rest.split("."))
    if len(parts) == 1:
        key = parts[0]

        def get_one(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
            source = variables if use_vars else subject
            return source.get(key)

        return get_one

    def get_path(subject: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
        current: Any = variables if use_vars else subject
        for part in parts:
            if not isinstance(current, Mapping):
                current = None
                break
            current = current.get(part)
            if current is None:
                break
        if current is None:
            source = variables if use_vars else subject
            return source.get(rest)
        return current

    return get_path


# --------------------------------------------------------------------------- coercion


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return _FAIL
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return _FAIL
    return number if number.is_finite() else _FAIL


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value).date()
            except ValueError:
                return _FAIL
    return _FAIL


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _to_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return _aware(dt.datetime.fromisoformat(value))
        except ValueError:
            return _FAIL
    return _FAIL


def _to_string(value: Any) -> Any:
    return value if isinstance(value, str) else _FAIL


def _to_bool(value: Any) -> Any:
    return value if isinstance(value, bool) else _FAIL


def _literal(item: ScalarValue) -> tuple[_Coerce, Any]:
    """The coercion a literal's type asks for, and the literal's comparable value."""
    coerce: _Coerce
    if isinstance(item, DecimalValue):
        coerce = _to_decimal
    elif isinstance(item, DateTimeValue):
        coerce = _to_datetime
    elif isinstance(item, DateValue | TodayValue):
        coerce = _to_date
    elif isinstance(item, StringValue):
        coerce = _to_string
    elif isinstance(item, BoolValue):
        coerce = _to_bool
    else:
        raise ValueError(f"expected a single value, got {item!r}")
    expected = coerce(item.value)
    if expected is _FAIL:
        raise ValueError(f"invalid {type(item).__name__} literal: {item.value!r}")
    return coerce, expected


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | Mapping):
        return len(value) == 0
    return False


# --------------------------------------------------------------------------- compare


def _compile_compare(compare: Compare) -> Predicate:
    get = _getter(compare.field)
    op, value = compare.op, compare.value

    if op == "is_empty" or op == "is_set":
        if value is not None:
            raise ValueError(f"{op} takes no value, got {value!r}")
        if op == "is_empty":
            return lambda s, v: _is_empty(get(s, v))
        return lambda s, v: get(s, v) is not None

    if op == "in":
        if not isinstance(value, ListValue):
            raise ValueError(f"in needs a list value, got {value!r}")
        return _compile_in(get, value)

    if op == "between":
        if not isinstance(value, ListValue) or len(value.items) != 2:
            raise ValueError(f"between needs a list of two values, got {value!r}")
        return _compile_between(get, value.items[0], value.items[1])

    if value is None or isinstance(value, ListValue):
        raise ValueError(f"{op} needs a single value, got {value!r}")
    coerce, expected = _literal(value)

    if op == "contains":
        return _compile_contains(get, value, coerce, expected)

    if op == "!=":

        def not_equal(s: Mapping[str, Any], v: Mapping[str, Any]) -> bool:
            raw = get(s, v)
            if raw is None:
                return True
            actual = coerce(raw)
            return actual is not _FAIL and bool(actual != expected)

        return not_equal

    compare_values = _ORDER.get(op)
    if compare_values is None:
        raise ValueError(f"unknown operator {op!r}")

    def check(s: Mapping[str, Any], v: Mapping[str, Any]) -> bool:
        raw = get(s, v)
        if raw is None:
            return False
        actual = coerce(raw)
        return actual is not _FAIL and bool(compare_values(actual, expected))

    return check


# Both sides are coerced to the literal's type, so these never mix types.
_ORDER: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compile_in(get: _Getter, value: ListValue) -> Predicate:
    # Items grouped by coercion, so each field value is coerced once per type.
    by_type: dict[_Coerce, set[Any]] = {}
    for item in value.items:
        coerce, expected = _literal(item)
        by_type.setdefault(coerce, set()).add(expected)
    groups = tuple((coerce, frozenset(items)) for coerce, items in by_type.items())

    def check(s: Mapping[str, Any], v: Mapping[str, Any]) -> bool:
        raw = get(s, v)
        if raw is None:
            return False
        for coerce, items in groups:
            actual = coerce(raw)
            if actual is not _FAIL and actual in items:
                return True
        return False

    return check


def _compile_between(get: _Getter, low: ScalarValue, high: ScalarValue) -> Predicate:
    coerce_low, expected_low = _literal(low)
    coerce_high, expected_high = _literal(high)

    def check(s: Mapping[str, Any], v: Mapping[str, Any]) -> bool:
        raw = get(s, v)
        if raw is None:
            return False
        actual_low = coerce_low(raw)
        actual_high = actual_low if coerce_high is coerce_low else coerce_high(raw)
        if actual_low is _FAIL or actual_high is _FAIL:
            return False
        return bool(expected_low <= actual_low) and bool(actual_high <= expected_high)

    return check


def _compile_contains(
    get: _Getter, value: ScalarValue, coerce: _Coerce, expected: Any
) -> Predicate:
    text = value.value if isinstance(value, StringValue) else None

    def check(s: Mapping[str, Any], v: Mapping[str, Any]) -> bool:
        raw = get(s, v)
        if isinstance(raw, str):
            return text is not None and text in raw
        if isinstance(raw, list | tuple):
            for element in raw:
                if element is None:
                    continue
                actual = coerce(element)
                if actual is not _FAIL and actual == expected:
                    return True
        return False

    return check
