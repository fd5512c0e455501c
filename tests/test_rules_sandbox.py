"""Hostile rule text: every case is refused with RuleSyntaxError, quickly.

Rule text is data. Nothing in it is evaluated, and nothing a consultant (or
an attacker) types may raise anything but RuleSyntaxError, recurse without
bound, or take long.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procedo.rules.model import MAX_RULE_DEPTH, depth
from procedo.rules.text import RuleSyntaxError, format_rule, parse_rule

# A bound against pathological (super-linear) parsing, which takes minutes on these
# inputs; the worst case takes about 0.2 s here, and a loaded CI machine has shown 1.3 s.
TIME_LIMIT = 5.0

HOSTILE = [
    ("subject.__class__", "name '__class__' is not allowed"),
    ("subject.x.__class__.__subclasses__()", "name '__class__' is not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "name '__class__' is not allowed"),
    ("subject.__globals__", "name '__globals__' is not allowed"),
    ("lambda: 1", "'lambda' is Python"),
    ('__import__("os").system("id")', "name '__import__' is not allowed"),
    ("import os", "'import' is Python"),
    ("9**9**9", "arithmetic ('*') is not supported"),
    ("9 * 9", "arithmetic ('*') is not supported"),
    ("subject.x == 1 ? 2 : 3", "the conditional operator ('?') is not supported"),
    ('{"a": 1}', "maps and objects ('{...}') are not supported"),
    ("subject.x[0] == 1", "indexing ('[...]') is not supported"),
    ("(" * 1000 + "subject.x == 1" + ")" * 1000, "nested more than 64 levels deep"),
    ("!" * 1000 + "subject.x.isSet()", "nested more than 64 levels deep"),
    ("subject.x in " + "[" * 1000 + "1" + "]" * 1000, "nested more than 64 levels deep"),
    ('subject.x == "' + "a" * 20_000 + '"', "the rule is too long"),
    ("a" * 20_000, "the rule is too long"),
    ('os.system("id")', "unknown name 'os'"),
    ("subject.x == subject.y", "comparing two fields ('subject.x' and 'subject.y')"),
    # A few more of the same families.
    ("subject.x.__dict__", "name '__dict__' is not allowed"),
    ('subject.x == "a".__class__', "name '__class__' is not allowed"),
    ("subject.x + 1 == 2", "arithmetic ('+') is not supported"),
    ("subject.x / 0 == 1", "arithmetic ('/') is not supported"),
    ("subject.x % 2 == 1", "arithmetic ('%') is not supported"),
    ("subject.x == 1 - 1", "arithmetic is not supported"),
    ("subject.x{a: 1}", "maps and objects ('{...}') are not supported"),
    ('subject["x"] == 1', "indexing ('[...]') is not supported"),
    ('eval("1")', "'eval' is Python"),
    ('exec("1")', "'exec' is Python"),
    ('getattr(subject, "x")', "'getattr' is Python"),
    ("def f(): pass", "'def' is Python"),
    ("from os import system", "'from' is Python"),
    ('open("/etc/passwd")', "'open' is Python"),
    ("system('id')", "unknown function 'system'"),
    ("subject.x.system('id')", "unknown function 'system'"),
    ("dyn(subject.x) == 1", "unknown function 'dyn'"),
    ("type(subject.x) == int", "unknown function 'type'"),
    ("[x for x in subject.y]", "unknown name 'x'"),
    ("subject.x == `id`", "unexpected character '`'"),
    ("subject.x == 1; import os", "unexpected character ';'"),
    ("!(" * 100 + "subject.x.isSet()" + ")" * 100, "nested more than 64 levels deep"),
    ("(!" * 100 + "subject.x.isSet()" + ")" * 100, "nested more than 64 levels deep"),
    ("[" * 5000, "nested more than 64 levels deep"),
    ("(" * 9000, "nested more than 64 levels deep"),
    ("!" * 9000, "nested more than 64 levels deep"),
    ("-" * 9000 + "1", "'-' cannot negate a condition"),
    ("subject" + ".x" * 4000 + " == 1", ""),  # a long but flat path is fine, see below
    (" && ".join(["subject.x.isSet()"] * 400), ""),  # long but flat: accepted
]


@pytest.mark.parametrize(("text", "fragment"), HOSTILE, ids=lambda v: repr(v)[:40])
def test_hostile_text_is_refused_quickly(text: str, fragment: str) -> None:
    start = time.perf_counter()
    if not fragment:
        rule = parse_rule(text)  # flat and long: accepted, and bounded
        assert depth(rule) <= MAX_RULE_DEPTH
        assert format_rule(parse_rule(format_rule(rule))) == format_rule(rule)
    else:
        with pytest.raises(RuleSyntaxError) as caught:
            parse_rule(text)
        assert fragment in caught.value.message, caught.value.message
    assert time.perf_counter() - start < TIME_LIMIT


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_rule("(" * MAX_RULE_DEPTH + "subject.x == 1" + ")" * MAX_RULE_DEPTH)
    with pytest.raises(RuleSyntaxError, match="nested more than 64"):
        parse_rule("(" * (MAX_RULE_DEPTH + 1) + "subject.x == 1" + ")" * (MAX_RULE_DEPTH + 1))
    assert parse_rule("!" * (MAX_RULE_DEPTH - 1) + "subject.x.isSet()")
    with pytest.raises(RuleSyntaxError, match="nested more than 64"):
        parse_rule("!" * MAX_RULE_DEPTH + "subject.x.isSet()")


def test_text_at_the_length_limit_is_accepted() -> None:
    text = 'subject.x == "' + "a" * (10_000 - len('subject.x == ""')) + '"'
    assert len(text) == 10_000
    assert parse_rule(text)
    with pytest.raises(RuleSyntaxError, match="too long"):
        parse_rule(text + " ")


def test_non_string_input_is_refused() -> None:
    with pytest.raises(RuleSyntaxError, match="must be a string"):
        parse_rule(b"subject.x == 1")  # type: ignore[arg-type]


# Fragments that combine into plausible and implausible rule texts.
_PIECES = [
    "subject", "vars", ".", "x", "y", "__class__", "(", ")", "[", "]", "{", "}", "!", "-",
    "&&", "||", "==", "!=", "<", ">=", " in ", ",", ":", "?", "*", "1", "-2.5", "1e9",
    '"a"', "'b'", "true", "false", "null", "date", "timestamp", '("2024-01-31")',
    "contains", "between", "isSet()", "isEmpty()", "foo", " ", "\n", '"', "\\", "`", "0x",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_token_soup_only_raises_rule_syntax_error(text: str) -> None:
    try:
        rule = parse_rule(text)
    except RuleSyntaxError as error:
        message = error.message
        rule = None
    if rule is None:
        assert message
        return
    once = format_rule(rule)
    assert format_rule(parse_rule(once)) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_raises_rule_syntax_error(text: str) -> None:
    try:
        rule = parse_rule(text)
    except RuleSyntaxError:
        return
    once = format_rule(rule)
    assert format_rule(parse_rule(once)) == once
