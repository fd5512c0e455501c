"""The rule text form: parsing, canonical formatting and the round trip."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procedo.rules.model import (
    MAX_RULE_DEPTH,
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
    depth,
)
from procedo.rules.text import RuleSyntaxError, format_rule, normalize, parse_rule

# --------------------------------------------------------------------------- strategies

# Segments that are CEL or Python keywords still work as field names after a dot.
_KEYWORD_SEGMENTS = ["in", "null", "import", "lambda", "date", "isSet", "contains", "status"]
segments = st.one_of(
    st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z").filter(lambda s: s not in ("true", "false")),
    st.sampled_from(_KEYWORD_SEGMENTS),
)
field_paths = st.builds(
    lambda root, parts: ".".join([root, *parts]),
    st.sampled_from(["subject", "vars"]),
    st.lists(segments, min_size=1, max_size=3),
)

decimals = st.one_of(
    st.builds(
        lambda i, e: Decimal(i).scaleb(e),
        st.integers(-(10**15), 10**15),
        st.integers(-6, 3),
    ),
    st.sampled_from([Decimal("-0"), Decimal("0.00"), Decimal("1E+2"), Decimal("-3.50")]),
)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
datetimes = st.datetimes(timezones=st.one_of(st.none(), offsets, st.just(dt.UTC)))

scalar_strategies: list[st.SearchStrategy[ScalarValue]] = [
    st.builds(DecimalValue, decimals),
    st.builds(StringValue, st.text(max_size=12)),
    st.builds(BoolValue, st.booleans()),
    st.builds(DateValue, st.dates()),
    st.builds(DateTimeValue, datetimes),
]
scalars = st.one_of(*scalar_strategies)


@st.composite
def between_values(draw: st.DrawFn) -> ListValue:
    kind = draw(st.sampled_from(scalar_strategies))
    return ListValue([draw(kind), draw(kind)])


compares = st.one_of(
    st.builds(
        Compare,
        field_paths,
        st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "contains"]),
        scalars,
    ),
    st.builds(
        Compare, field_paths, st.just("in"), st.builds(ListValue, st.lists(scalars, max_size=4))
    ),
    st.builds(Compare, field_paths, st.just("between"), between_values()),
    st.builds(Compare, field_paths, st.sampled_from(["is_empty", "is_set"])),
)


@st.composite
def rules(draw: st.DrawFn, max_depth: int = 6, min_group: int = 2) -> Rule:
    """Rule trees up to ``max_depth``; groups have 0 or >= ``min_group`` children."""
    if max_depth <= 1 or draw(st.integers(0, 2)) == 0:
        if draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from([All([]), AnyOf([])]))
        return draw(compares)
    kind = draw(st.sampled_from(["all", "any", "not"]))
    if kind == "not":
        return Not(draw(rules(max_depth - 1, min_group)))
    children = draw(st.lists(rules(max_depth - 1, min_group), min_size=min_group, max_size=3))
    return All(children) if kind == "all" else AnyOf(children)


def is_normal(rule: Rule) -> bool:
    return rule == normalize(rule)


# --------------------------------------------------------------------------- round trip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rules())
def test_round_trip_is_exact_for_normal_form(rule: Rule) -> None:
    assert is_normal(rule)
    text = format_rule(rule)
    assert parse_rule(text) == rule
    assert format_rule(parse_rule(text)) == text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(rules(min_group=1))
def test_round_trip_normalizes_one_child_groups(rule: Rule) -> None:
    assert parse_rule(format_rule(rule)) == normalize(rule)
    assert format_rule(rule) == format_rule(normalize(rule))


@settings(max_examples=100)
@given(rules(min_group=1))
def test_normalize_is_idempotent_and_removes_one_child_groups(rule: Rule) -> None:
    once = normalize(rule)
    assert normalize(once) == once
    stack: list[Rule] = [once]
    while stack:
        node = stack.pop()
        if isinstance(node, All | AnyOf):
            assert len(node.rules) != 1
            stack.extend(node.rules)
        elif isinstance(node, Not):
            stack.append(node.rule)


@given(datetimes)
def test_datetime_keeps_its_offset(value: dt.datetime) -> None:
    rule = Compare(field="subject.at", op="=", value=DateTimeValue(value))
    parsed = parse_rule(format_rule(rule))
    assert isinstance(parsed, Compare)
    assert isinstance(parsed.value, DateTimeValue)
    assert parsed.value.value.utcoffset() == value.utcoffset()
    assert parsed.value.value.isoformat() == value.isoformat()


@given(decimals)
def test_decimal_keeps_its_digits(number: Decimal) -> None:
    text = format_rule(Compare(field="subject.amount", op="=", value=DecimalValue(number)))
    number_text = text.removeprefix("subject.amount == ")
    assert "E" not in number_text
    assert "e" not in number_text
    parsed = parse_rule(text)
    assert isinstance(parsed, Compare)
    assert isinstance(parsed.value, DecimalValue)
    assert parsed.value.value == number
    assert format(parsed.value.value, "f") == format(number, "f")


@given(st.text(max_size=40))
def test_any_string_round_trips(value: str) -> None:
    rule = Compare(field="subject.name", op="=", value=StringValue(value))
    assert parse_rule(format_rule(rule)) == rule


# --------------------------------------------------------------------------- examples

C = Compare


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (C("subject.x", "=", DecimalValue(Decimal(5))), "subject.x == 5"),
        (C("subject.x", "!=", DecimalValue(Decimal("500.00"))), "subject.x != 500.00"),
        (C("subject.x", "<", DecimalValue(Decimal("-3.5"))), "subject.x < -3.5"),
        (C("subject.x", ">", DecimalValue(Decimal("0.001"))), "subject.x > 0.001"),
        (C("subject.x", "<=", DecimalValue(Decimal("1E+3"))), "subject.x <= 1000"),
        (C("vars.attempts", ">=", DecimalValue(Decimal(3))), "vars.attempts >= 3"),
        (C("subject.a.b", "=", StringValue('say "hi"\\')), 'subject.a.b == "say \\"hi\\"\\\\"'),
        (C("subject.x", "=", StringValue("a\nb\tc\x00")), 'subject.x == "a\\nb\\tc\\u0000"'),
        (C("subject.x", "=", StringValue("€ é 😀")), 'subject.x == "€ é 😀"'),
        (C("subject.paid", "=", BoolValue(True)), "subject.paid == true"),
        (C("subject.paid", "!=", BoolValue(False)), "subject.paid != false"),
        (
            C("subject.due", "<", DateValue(dt.date(2024, 1, 31))),
            'subject.due < date("2024-01-31")',
        ),
        (
            C(
                "subject.at",
                ">=",
                DateTimeValue(
                    dt.datetime(2024, 1, 31, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
                ),
            ),
            'subject.at >= timestamp("2024-01-31T10:00:00+01:00")',
        ),
        (
            C("subject.at", "<", DateTimeValue(dt.datetime(2024, 1, 31, 10, 0, 0, 500))),
            'subject.at < timestamp("2024-01-31T10:00:00.000500")',
        ),
        (
            C("subject.currency", "in", ListValue([StringValue("EUR"), StringValue("USD")])),
            'subject.currency in ["EUR", "USD"]',
        ),
        (C("subject.x", "in", ListValue([])), "subject.x in []"),
        (C("subject.name", "contains", StringValue("BV")), 'subject.name.contains("BV")'),
        (
            C(
                "subject.amount",
                "between",
                ListValue([DecimalValue(Decimal(300)), DecimalValue(Decimal(4000))]),
            ),
            "subject.amount.between(300, 4000)",
        ),
        (C("subject.ref", "is_empty"), "subject.ref.isEmpty()"),
        (C("subject.ref", "is_set"), "subject.ref.isSet()"),
        (All([]), "true"),
        (AnyOf([]), "false"),
        (Not(All([])), "!true"),
        (Not(C("subject.ref", "is_set")), "!subject.ref.isSet()"),
        (Not(Not(C("subject.ref", "is_set"))), "!!subject.ref.isSet()"),
        (
            Not(C("subject.x", "=", DecimalValue(Decimal(1)))),
            "!(subject.x == 1)",
        ),
        (
            Not(C("subject.x", "in", ListValue([DecimalValue(Decimal(1))]))),
            "!(subject.x in [1])",
        ),
        (
            All([C("subject.a", "is_set"), C("subject.b", "is_set")]),
            "subject.a.isSet() && subject.b.isSet()",
        ),
        (
            AnyOf(
                [
                    C("subject.a", "is_set"),
                    All([C("subject.b", "is_set"), C("subject.c", "is_set")]),
                ]
            ),
            "subject.a.isSet() || (subject.b.isSet() && subject.c.isSet())",
        ),
        (
            All(
                [
                    C("subject.a", "is_set"),
                    All([C("subject.b", "is_set"), C("subject.c", "is_set")]),
                ]
            ),
            "subject.a.isSet() && (subject.b.isSet() && subject.c.isSet())",
        ),
        (
            Not(All([C("subject.a", "is_set"), C("subject.b", "is_set")])),
            "!(subject.a.isSet() && subject.b.isSet())",
        ),
        (All([C("subject.a", "is_set"), AnyOf([])]), "subject.a.isSet() && false"),
    ],
)
def test_format_and_parse_examples(rule: Rule, text: str) -> None:
    assert format_rule(rule) == text
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("500 < subject.x", "subject.x > 500"),
        ("500 > subject.x", "subject.x < 500"),
        ("500 <= subject.x", "subject.x >= 500"),
        ("500 >= subject.x", "subject.x <= 500"),
        ('"EUR" == subject.currency', 'subject.currency == "EUR"'),
        ('"EUR" != subject.currency', 'subject.currency != "EUR"'),
        ('date("2024-01-01") < subject.due', 'subject.due > date("2024-01-01")'),
        ('"a" in subject.tags', 'subject.tags.contains("a")'),
    ],
)
def test_literal_on_the_left_is_flipped(text: str, canonical: str) -> None:
    assert format_rule(parse_rule(text)) == canonical


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("subject.x==5", "subject.x == 5"),
        ("  subject.x\n  ==\t5  // five", "subject.x == 5"),
        ("subject.x == 'single'", 'subject.x == "single"'),
        ('subject.x == r"\\d+"', 'subject.x == "\\\\d+"'),
        ("subject.x == '''two\nlines'''", 'subject.x == "two\\nlines"'),
        ('subject.x == "\\x41\\u00e9\\U0001F600\\101\\a"', 'subject.x == "Aé😀A\\u0007"'),
        ("subject.x == 0x1F", "subject.x == 31"),
        ("subject.x == 5u", "subject.x == 5"),
        ("subject.x == 1e3", "subject.x == 1000"),
        ("subject.x == 1.5e-3", "subject.x == 0.0015"),
        ("subject.x == .5", "subject.x == 0.5"),
        ("subject.x == 5.", "subject.x == 5"),
        ("subject.x == - 5", "subject.x == -5"),
        ("subject.x == -0.0", "subject.x == -0.0"),
        ("subject.x == (5)", "subject.x == 5"),
        ("((subject.x == 5))", "subject.x == 5"),
        ("(subject.x) == 5", "subject.x == 5"),
        (
            'subject.at == timestamp("2024-01-31T10:00:00Z")',
            'subject.at == timestamp("2024-01-31T10:00:00+00:00")',
        ),
        ("!(!subject.a.isSet())", "!!subject.a.isSet()"),
        ("!(subject.a.isSet())", "!subject.a.isSet()"),
        ("(true)", "true"),
        ("true && false || true", "(true && false) || true"),
    ],
)
def test_fixed_point(text: str, canonical: str) -> None:
    once = format_rule(parse_rule(text))
    if canonical:
        assert once == canonical
    assert format_rule(parse_rule(once)) == once


@pytest.mark.parametrize(
    "text",
    [
        "subject.a.isSet() && subject.b.isSet() || subject.c.isSet()",
        "subject.a.isSet() || subject.b.isSet() && subject.c.isSet()",
        "(subject.a.isSet() && subject.b.isSet()) && subject.c.isSet()",
        "subject.a.isSet() && (subject.b.isSet() || !subject.c.isSet()) && true",
        '!(subject.x in ["a"] || subject.y.between(date("2024-01-01"), date("2024-12-31")))',
        "vars.n > 1 && vars.n < 5 && vars.n != 3",
    ],
)
def test_hand_written_texts_reach_a_fixed_point(text: str) -> None:
    once = format_rule(parse_rule(text))
    assert format_rule(parse_rule(once)) == once


def test_operator_precedence_follows_cel() -> None:
    a, b, c = (C(f"subject.{n}", "is_set") for n in "abc")
    assert parse_rule("subject.a.isSet() || subject.b.isSet() && subject.c.isSet()") == AnyOf(
        [a, All([b, c])]
    )
    assert parse_rule("subject.a.isSet() && subject.b.isSet() || subject.c.isSet()") == AnyOf(
        [All([a, b]), c]
    )
    assert parse_rule("subject.a.isSet() && subject.b.isSet() && subject.c.isSet()") == All(
        [a, b, c]
    )
    assert parse_rule("(subject.a.isSet() && subject.b.isSet()) && subject.c.isSet()") == All(
        [All([a, b]), c]
    )


def test_bool_literal_is_a_group_or_a_value_by_position() -> None:
    assert parse_rule("true") == All([])
    assert parse_rule("false") == AnyOf([])
    assert parse_rule("subject.paid == true") == C("subject.paid", "=", BoolValue(True))
    assert parse_rule("true == subject.paid") == C("subject.paid", "=", BoolValue(True))


def test_numbers_are_read_as_exact_decimals() -> None:
    rule = parse_rule("subject.x == 0.1000000000000000055511151231257827")
    assert rule == C(
        "subject.x", "=", DecimalValue(Decimal("0.1000000000000000055511151231257827"))
    )
    big = "12345678901234567890123456789012345678901234567890"
    assert parse_rule(f"subject.x == -{big}") == C(
        "subject.x", "=", DecimalValue(Decimal("-" + big))
    )


def test_deepest_allowed_tree_round_trips() -> None:
    leaf = C(
        "subject.due",
        "between",
        ListValue([DateValue(dt.date(2024, 1, 1)), DateValue(dt.date(2024, 12, 31))]),
    )
    rule: Rule = leaf
    while depth(rule) < MAX_RULE_DEPTH:
        rule = Not(rule)
    assert depth(rule) == MAX_RULE_DEPTH
    assert parse_rule(format_rule(rule)) == rule
    with pytest.raises(RuleSyntaxError, match="nested more than 64 levels"):
        parse_rule(format_rule(Not(rule)))


def test_deep_alternating_groups_round_trip() -> None:
    leaf = C("subject.tags", "in", ListValue([DateValue(dt.date(2024, 1, 1))]))
    rule: Rule = leaf
    flip = True
    while depth(rule) < MAX_RULE_DEPTH:
        rule = All([leaf, rule]) if flip else Not(rule)
        flip = not flip
    assert parse_rule(format_rule(rule)) == rule
    with pytest.raises(RuleSyntaxError, match="nested more than 64 levels"):
        parse_rule(format_rule(AnyOf([leaf, rule])))


# --------------------------------------------------------------------------- errors


def test_rule_syntax_error_carries_position() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("subject.x == 1 &&\n  foo(2)")
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.line, error.column) == (2, 3)
    assert error.message == str(error)
    assert error.message.startswith("unknown function 'foo' at line 2, column 3: use one of")
    assert "contains, between, isEmpty, isSet, date, timestamp" in error.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the rule is empty"),
        ("subject.x", "on its own is not a condition"),
        ("5", "a value on its own is not a condition"),
        ("subject == 1", "'subject' needs a field name"),
        ("total.amount == 1", "unknown name 'total'"),
        ("subject.x == null", "null is not supported"),
        ('subject.x == b"x"', "bytes values are not supported"),
        ('subject.x == "open', "a text value is not closed"),
        ("subject.x ==", "the rule ends too early"),
        ("subject.x == 1 subject.y == 2", "unexpected 'subject'"),
        ("subject.x == 1 == 2", "comparisons cannot be chained"),
        ("subject.x.isSet() == true", "a condition cannot be used as a value"),
        ("subject.x == [1, 2]", "use 'in'"),
        ("subject.x in 1", "'in' needs a list"),
        ("subject.x in [[1]]", "lists cannot contain lists"),
        ("subject.x in [subject.y]", "cannot be used as a value"),
        ("subject.x.between(1)", "between() takes two values, not 1"),
        ('subject.x.between(1, "a")', "same type"),
        ("subject.x.isSet(1)", "isSet() takes no values, not 1"),
        ("subject.x.contains(subject.y)", "cannot be the value of contains()"),
        ('"abc".contains("b")', "contains() must be called on a field"),
        ('contains(subject.x, "a")', "must be written after a field"),
        ('subject.x == date("2024-02-30")', "invalid date '2024-02-30'"),
        ('subject.x == date("20240101")', "invalid date"),
        ("subject.x == date(20240101)", "date() takes one text value"),
        ('subject.x == timestamp("soon")', "invalid timestamp 'soon'"),
        ("subject.x == 1e999999999", "too large or too precise"),
        ('subject.x == "\\q"', "unknown escape '\\q'"),
        ("subject.x == 1 and subject.y == 2", "write && instead"),
        ("not subject.x.isSet()", "write ! instead"),
        ("subject.x == True", "write true instead"),
        ("subject.true == 1", "'true' cannot be a field name"),
        ("-subject.x == 1", "'-' must be followed by a number"),
        ("-subject.x.isSet()", "'-' cannot negate a condition"),
        ("subject.x - 1 == 2", "arithmetic is not supported"),
        (".subject.x == 1", "names starting with '.' are not supported"),
        ("subject.x.size() > 1", "unknown function 'size'"),
        ("has(subject.x)", "unknown function 'has'"),
        ("subject.x.exists(y, y > 1)", "unknown function 'exists'"),
        ("1 == 1", "needs a field on one side"),
    ],
)
def test_refusals_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (C("subject.x", "in", DecimalValue(Decimal(1))), "needs a list"),
        (C("subject.x", "=", ListValue([])), "needs a single value"),
        (C("subject.x", "=", None), "needs a single value"),
        (C("subject.x", "is_set", DecimalValue(Decimal(1))), "takes no value"),
        (
            C("subject.x", "between", ListValue([DecimalValue(Decimal(1))])),
            "between needs two values",
        ),
        (C("subject.x", "=", DecimalValue(Decimal("NaN"))), "finite"),
        (C("total.x", "=", DecimalValue(Decimal(1))), "invalid field path"),
        (C("subject.__class__", "is_set"), "invalid field path"),
        (C("subject.true", "is_set"), "cannot be written"),
    ],
)
def test_format_refuses_malformed_trees(rule: Rule, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        format_rule(rule)


def test_format_does_not_recurse_on_deep_trees() -> None:
    rule: Rule = C("subject.x", "is_set")
    for _ in range(5000):
        rule = Not(rule)
    assert format_rule(rule) == "!" * 5000 + "subject.x.isSet()"
