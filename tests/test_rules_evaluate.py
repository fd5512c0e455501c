"""Evaluating rule trees against one subject in Python."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procedo.rules.evaluate import compile_rule, evaluate
from procedo.rules.model import (
    All,
    AnyOf,
    BoolValue,
    Compare,
    CompareOp,
    DateTimeValue,
    DateValue,
    DecimalValue,
    ListValue,
    Not,
    ScalarValue,
    StringValue,
)
from procedo.rules.text import parse_rule
from tests.rule_cases import MALFORMED, too_deep

C = Compare
CET = dt.timezone(dt.timedelta(hours=1))


def check(text: str, subject: dict[str, Any], variables: dict[str, Any] | None = None) -> bool:
    rule = parse_rule(text)
    result = evaluate(rule, subject, variables or {})
    assert compile_rule(rule)(subject, variables or {}) is result
    return result


# --------------------------------------------------------------------------- decimals


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("subject.x == 500", 500, True),
        ("subject.x == 500", "500.00", True),
        ("subject.x == 500", Decimal("500.000"), True),
        ("subject.x == 500", 500.0, True),
        ("subject.x == 0.1", 0.1, True),  # Decimal(str(0.1)), not the binary fraction
        ("subject.x == 500", 501, False),
        ("subject.x != 500", 501, True),
        ("subject.x != 500", "500", False),
        ("subject.x < 500", 499.99, True),
        ("subject.x < 500", 500, False),
        ("subject.x <= 500", 500, True),
        ("subject.x > -3.5", "-3.4", True),
        ("subject.x >= -3.5", "-3.50", True),
        ("subject.x > 500", " 600 ", True),
        ("subject.x == 1", True, False),  # bool never counts as a number
        ("subject.x != 1", True, False),
        ("subject.x == 0", False, False),
        ("subject.x > 1", "lots", False),
        ("subject.x != 1", "lots", False),
        ("subject.x > 1", "NaN", False),
        ("subject.x < 1", "-Infinity", False),
        ("subject.x == 1", [1], False),
        ("subject.x == 1", {"a": 1}, False),
        ("subject.x.between(300, 4000)", 300, True),
        ("subject.x.between(300, 4000)", "4000.00", True),
        ("subject.x.between(300, 4000)", 4000.01, False),
        ("subject.x.between(300, 4000)", 299, False),
        ("subject.x.between(300, 4000)", "abc", False),
        ("subject.x in [1, 2.5]", "2.50", True),
        ("subject.x in [1, 2.5]", 3, False),
    ],
)
def test_decimal_comparisons(text: str, value: Any, expected: bool) -> None:
    assert check(text, {"x": value}) is expected


# --------------------------------------------------------------------------- strings, bools


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ('subject.x == "EUR"', "EUR", True),
        ('subject.x == "EUR"', "eur", False),
        ('subject.x != "EUR"', "USD", True),
        ('subject.x == "5"', 5, False),  # a number is not text
        ('subject.x != "5"', 5, False),
        ('subject.x < "b"', "a", True),
        ('subject.x.contains("BV")', "Acme BV", True),
        ('subject.x.contains("bv")', "Acme BV", False),  # case-sensitive
        ('subject.x.contains("")', "anything", True),
        ('subject.x.contains("a")', ["a", "b"], True),
        ('subject.x.contains("a")', ["ab"], False),
        ('subject.x.contains("a")', 5, False),
        ('subject.x.contains("a")', {"a": 1}, False),
        ("subject.x.contains(2)", [1, "2", None], True),
        ("subject.x.contains(2)", "123", False),
        ('subject.x in ["EUR", "USD"]', "USD", True),
        ('subject.x in ["EUR", "USD"]', "GBP", False),
        ('subject.x in ["5", 5]', 5, True),  # coerced per item type
        ('subject.x in ["a", true]', True, True),
        ('subject.x in ["a", 1]', True, False),
        ("subject.x in []", "a", False),
        ('subject.x.between("b", "d")', "c", True),
        ("subject.x == true", True, True),
        ("subject.x == true", "true", False),
        ("subject.x == true", 1, False),
        ("subject.x != true", False, True),
        ("subject.x == false", False, True),
    ],
)
def test_string_and_bool_comparisons(text: str, value: Any, expected: bool) -> None:
    assert check(text, {"x": value}) is expected


# --------------------------------------------------------------------------- dates and times


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ('subject.d == date("2024-01-31")', dt.date(2024, 1, 31), True),
        ('subject.d == date("2024-01-31")', "2024-01-31", True),
        ('subject.d == date("2024-01-31")', dt.datetime(2024, 1, 31, 23, 59), True),
        ('subject.d == date("2024-01-31")', "2024-01-31T23:59:00+05:00", True),
        ('subject.d < date("2024-01-31")', "2024-01-30", True),
        ('subject.d < date("2024-01-31")', "2024-01-31", False),
        ('subject.d >= date("2024-01-31")', dt.date(2024, 2, 1), True),
        ('subject.d == date("2024-01-31")', "31-01-2024", False),
        ('subject.d != date("2024-01-31")', "not a date", False),
        ('subject.d == date("2024-01-31")', 20240131, False),
        ('subject.d.between(date("2024-01-01"), date("2024-01-31"))', "2024-01-31", True),
        ('subject.d.between(date("2024-01-01"), date("2024-01-31"))', "2024-02-01", False),
        ('subject.d in [date("2024-01-01"), date("2024-12-25")]', "2024-12-25", True),
        ('subject.t == timestamp("2024-01-31T10:00:00+01:00")', "2024-01-31T09:00:00Z", True),
        (
            'subject.t == timestamp("2024-01-31T10:00:00+01:00")',
            dt.datetime(2024, 1, 31, 10, tzinfo=CET),
            True,
        ),
        # naive values and literals are UTC
        ('subject.t == timestamp("2024-01-31T09:00:00+00:00")', "2024-01-31T09:00:00", True),
        ('subject.t == timestamp("2024-01-31T09:00:00")', "2024-01-31T10:00:00+01:00", True),
        (
            'subject.t < timestamp("2024-01-31T10:00:00+01:00")',
            dt.datetime(2024, 1, 31, 8, 59),
            True,
        ),
        ('subject.t > timestamp("2024-01-31T10:00:00+01:00")', "2024-01-31T09:00:01Z", True),
        ('subject.t == timestamp("2024-01-31T00:00:00Z")', dt.date(2024, 1, 31), True),
        ('subject.t == timestamp("2024-01-31T00:00:00Z")', "2024-01-31", True),
        ('subject.t == timestamp("2024-01-31T00:00:00Z")', "yesterday", False),
        ('subject.t != timestamp("2024-01-31T00:00:00Z")', 1706659200, False),
    ],
)
def test_date_and_datetime_comparisons(text: str, value: Any, expected: bool) -> None:
    field = "d" if text.startswith("subject.d") else "t"
    assert check(text, {field: value}) is expected


# --------------------------------------------------------------------------- missing values

ALL_OPS: list[tuple[CompareOp, Any]] = [
    ("=", DecimalValue(Decimal(1))),
    ("!=", DecimalValue(Decimal(1))),
    ("<", DecimalValue(Decimal(1))),
    (">", DecimalValue(Decimal(1))),
    ("<=", DecimalValue(Decimal(1))),
    (">=", DecimalValue(Decimal(1))),
    ("contains", StringValue("a")),
    ("in", ListValue([StringValue("a")])),
    ("between", ListValue([DecimalValue(Decimal(1)), DecimalValue(Decimal(2))])),
    ("is_empty", None),
    ("is_set", None),
]
MISSING_RESULT = {"is_empty": True, "is_set": False, "!=": True}


@pytest.mark.parametrize(("op", "value"), ALL_OPS)
@pytest.mark.parametrize(
    "subject", [{}, {"x": None}, {"other": 1}], ids=["absent", "none", "other"]
)
def test_missing_or_none_field(op: CompareOp, value: Any, subject: dict[str, Any]) -> None:
    rule = Compare(field="subject.x", op=op, value=value)
    assert evaluate(rule, subject, {}) is MISSING_RESULT.get(op, False)


@pytest.mark.parametrize(
    ("value", "empty"),
    [("", True), ([], True), ({}, True), (" ", False), (0, False), (False, False), ("a", False)],
)
def test_is_empty_and_is_set(value: Any, empty: bool) -> None:
    assert check("subject.x.isEmpty()", {"x": value}) is empty
    assert check("subject.x.isSet()", {"x": value}) is True


# --------------------------------------------------------------------------- paths


def test_nested_and_flat_paths() -> None:
    nested = {"supplier": {"kvk": "123", "address": {"city": "Delft"}}}
    flat = {"supplier.kvk": "123", "supplier.address.city": "Delft"}
    for subject in (nested, flat):
        assert check('subject.supplier.kvk == "123"', subject)
        assert check('subject.supplier.address.city == "Delft"', subject)
        assert check("subject.supplier.vat.isEmpty()", subject)
    mixed = {"supplier": {"address.city": "Delft"}}
    assert not check('subject.supplier.address.city == "Delft"', mixed)
    assert check(
        'subject.supplier.address.city == "Delft"', {"supplier": {"address": None}, **flat}
    )


def test_path_through_a_non_mapping_is_missing() -> None:
    assert check("subject.supplier.kvk.isEmpty()", {"supplier": "Acme"})
    assert check("subject.supplier.kvk.isEmpty()", {"supplier": ["kvk"]})
    assert not check("subject.supplier.kvk.isSet()", {"supplier": 5})


def test_status_and_vars() -> None:
    subject = {"status": "open", "attempts": 9}
    variables = {"attempts": 2, "reminder": {"sent": True}}
    assert check('subject.status == "open"', subject, variables)
    assert check("vars.attempts < 3", subject, variables)
    assert not check("subject.attempts < 3", subject, variables)
    assert check("vars.reminder.sent == true", subject, variables)
    assert check("vars.missing.isEmpty()", subject, variables)


# --------------------------------------------------------------------------- groups


def test_groups() -> None:
    yes = C("subject.x", "is_set")
    no = C("subject.y", "is_set")
    subject = {"x": 1}
    assert evaluate(All([]), subject, {}) is True
    assert evaluate(AnyOf([]), subject, {}) is False
    assert evaluate(All([yes, yes]), subject, {}) is True
    assert evaluate(All([yes, no]), subject, {}) is False
    assert evaluate(AnyOf([no, yes]), subject, {}) is True
    assert evaluate(AnyOf([no, no]), subject, {}) is False
    assert evaluate(Not(no), subject, {}) is True
    assert evaluate(Not(Not(no)), subject, {}) is False


def test_a_realistic_rule() -> None:
    rule = parse_rule(
        "subject.payable_amount.between(300, 4000) "
        '&& subject.currency in ["EUR", "USD"] '
        '&& !(subject.supplier.kvk == "00000000") '
        '&& (subject.due_date < date("2024-02-01") || vars.attempts >= 3)'
    )
    predicate = compile_rule(rule)
    subject = {
        "payable_amount": "1250.00",
        "currency": "EUR",
        "supplier": {"kvk": "12345678"},
        "due_date": "2024-03-01",
        "status": "open",
    }
    assert predicate(subject, {"attempts": 3})
    assert not predicate(subject, {"attempts": 2})
    assert not predicate({**subject, "currency": "GBP"}, {"attempts": 3})


# --------------------------------------------------------------------------- compile


def test_compile_rule_refuses_too_deep_and_malformed_trees() -> None:
    with pytest.raises(ValueError, match="nested more than 64"):
        compile_rule(too_deep())
    for bad in MALFORMED:
        with pytest.raises(ValueError):  # noqa: PT011 - messages differ per case
            compile_rule(bad)


def test_literals_built_in_python_are_coerced() -> None:
    # msgspec does not check types on construction; the evaluator copes.
    rule = C("subject.x", "=", DecimalValue(5))  # type: ignore[arg-type]
    assert evaluate(rule, {"x": "5.0"}, {})


# --------------------------------------------------------------------------- totality

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
        st.sampled_from(["2024-01-31", "2024-01-31T10:00:00+01:00", "12.50", "NaN", "1e999"]),
        st.dates(),
        st.datetimes(timezones=st.one_of(st.none(), st.just(dt.UTC))),
        st.decimals(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from("xyz"), children)
    ),
    max_leaves=6,
)
literals: st.SearchStrategy[ScalarValue] = st.one_of(
    st.builds(DecimalValue, st.decimals(allow_nan=False, allow_infinity=False)),
    st.builds(StringValue, st.text(max_size=4)),
    st.builds(BoolValue, st.booleans()),
    st.builds(DateValue, st.dates()),
    st.builds(DateTimeValue, st.datetimes(timezones=st.one_of(st.none(), st.just(dt.UTC)))),
)
compares = st.one_of(
    st.builds(
        C,
        st.sampled_from(["subject.x", "subject.x.y", "vars.x"]),
        st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "contains"]),
        literals,
    ),
    st.builds(
        C,
        st.just("subject.x"),
        st.just("in"),
        st.builds(ListValue, st.lists(literals, max_size=3)),
    ),
    st.builds(
        C,
        st.just("subject.x"),
        st.just("between"),
        st.builds(ListValue, st.lists(literals, min_size=2, max_size=2)),
    ),
    st.builds(C, st.just("subject.x"), st.sampled_from(["is_empty", "is_set"])),
)


@given(compares, st.dictionaries(st.sampled_from(["x", "x.y"]), json_values), json_values)
def test_evaluation_is_total(rule: Compare, subject: dict[str, Any], x: Any) -> None:
    result = evaluate(Not(AnyOf([rule, All([])])), subject, {"x": x})
    assert result is False
    assert evaluate(rule, subject, {"x": x}) in (True, False)
    assert evaluate(Not(rule), subject, {"x": x}) is not evaluate(rule, subject, {"x": x})
