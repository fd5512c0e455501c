"""Rule trees compiled to SQL select exactly what evaluate() accepts, on SQLite and PostgreSQL.

The PostgreSQL half needs a server (``PROCEDO_TEST_POSTGRES_URL``, by default
postgres@127.0.0.1:5432/test). Without one those tests are skipped locally and
fail when ``CI=true``. Each session works in its own schema, dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from procedo.db.models import Base, Subject, Tenant
from procedo.rules.evaluate import evaluate
from procedo.rules.model import (
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
from procedo.rules.sql import UnsupportedInSql, to_sql
from procedo.rules.text import parse_rule
from tests.conftest import POSTGRES_URL, service_missing
from tests.rule_cases import MALFORMED, too_deep

ROOT = Path(__file__).resolve().parent.parent
C = Compare
Row = tuple[str, str, dict[str, Any]]  # key, status, fields


# --------------------------------------------------------------------------- databases


def postgres_engine(url: str = POSTGRES_URL) -> sa.Engine:
    """An engine on the test PostgreSQL, or a skip (a failure when CI=true) if it is down."""
    # JIT off: on the huge expressions of the deepest trees PostgreSQL's JIT
    # compiler alone takes tens of seconds (the results are the same).
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5, "options": "-c jit=off"})
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as exc:
        service_missing("PostgreSQL", url, exc)
    return engine


class Store:
    """A subjects table of one tenant, refilled per example."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.name = engine.dialect.name
        self.tenant_id = uuid.uuid4()
        Base.metadata.create_all(engine, tables=[Tenant.__table__, Subject.__table__])
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Tenant.__table__).values(id=self.tenant_id, name="Test", slug="test")
            )

    def fill(self, subjects: Sequence[tuple[str, dict[str, Any]]]) -> list[Row]:
        """Replace the rows by ``subjects`` (keys "0", "1", ...); the rows as read back."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(Subject.__table__))
            if subjects:
                conn.execute(
                    sa.insert(Subject.__table__),
                    [
                        {
                            "id": uuid.uuid4(),
                            "tenant_id": self.tenant_id,
                            "type": "debtor",
                            "key": str(number),
                            "status": status,
                            "fields": fields,
                        }
                        for number, (status, fields) in enumerate(subjects)
                    ],
                )
            query = sa.select(Subject.key, Subject.status, Subject.fields).order_by(Subject.key)
            return [(key, status, fields) for key, status, fields in conn.execute(query)]

    def select(self, rule: Rule) -> list[str]:
        query = sa.select(Subject.key).where(Subject.tenant_id == self.tenant_id, to_sql(rule))
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars(), key=int)


def accepted(rule: Rule, rows: Sequence[Row]) -> list[str]:
    """The keys evaluate() accepts, on {**row.fields, "status": row.status}."""
    return sorted(
        (key for key, status, fields in rows if evaluate(rule, {**fields, "status": status}, {})),
        key=int,
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "sqlite":
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        yield Store(engine)
        engine.dispose()
        return
    engine = postgres_engine()
    schema = f"procedo_test_rules_sql_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    try:
        yield Store(engine.execution_options(schema_translate_map={None: schema}))
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


def check(store: Store, rule: Rule, rows: Sequence[Row]) -> list[str]:
    selected = store.select(rule)
    expected = accepted(rule, rows)
    if selected != expected:
        differing = sorted(set(selected) ^ set(expected), key=int)
        details = "\n".join(
            f"  {key}: status={status!r} fields={json.dumps(fields)} evaluate={key in expected}"
            for key, status, fields in rows
            if key in differing
        )
        raise AssertionError(
            f"{store.name}: SQL selects {selected}, evaluate accepts {expected}\n"
            f"rule: {msgspec.json.encode(rule).decode()}\n{details}"
        )
    return selected


# --------------------------------------------------------------------------- generators

NESTED_KEYS = ["a", "b", "c"]
FIELD_KEYS = ["a", "b", "c", "status", "a.b", "b.c", "a.b.c", "status.a"]
PATHS = [
    "subject.a",
    "subject.b",
    "subject.c",
    "subject.a.b",
    "subject.b.c",
    "subject.a.b.c",
    "subject.status",
    "subject.status.a",
]
TIMEZONES = [
    dt.UTC,
    dt.timezone(dt.timedelta(hours=1)),
    dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
]
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 28), dt.date(2024, 2, 3)
# A few instants, so that differently written values and literals often coincide.
ANCHORS = [
    dt.datetime(2024, 1, 31, 9, 0, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 1, 0, 0, tzinfo=dt.UTC),
]

NUMBERS = [0, 1, 2, 5, 7, 14, 300, 1000, 4000, 120.5, 0.5, -3.25, 299.99, 4000.01, 1e16, 0.1]
numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-20, 20),
    st.decimals(-5000, 5000, places=2).map(float),
)
numeric_texts = st.one_of(
    st.sampled_from(
        [
            "120.50", " 7 ", "1_000", "-3e2", ".5", "5.", "+1", "0300", "4000.00", "300",
            "5", "14.0", "2", "-3.25e0", "0.5", "1000", "12",
            "1e999", "-1e999", "\t2\n", "1e+3", "0.10", "1E-2", "+.5", "1_2.5_0", "_1",
            "\u00a012\u2003", "5.e1", "1e0999", "007",
        ]
    ),
    st.decimals(-5000, 5000, places=2).map(str),
)  # fmt: skip
plain_texts = st.one_of(
    st.sampled_from(
        [
            "", "abc", "ABC", "Ab", "a%b", "a_b", "Acme BV", "bv", "NaN", "Infinity", "inf",
            "1,5", "12abc", "e5", ".", "-", "+", "1e", "1e+", "1.2.3", "é", "Z", "active",
            "open", "true", "1 000", "--1", "1e5.5", "0x10",
        ]
    ),
    st.text(alphabet="abAB019 ._-+:%eEZ", max_size=5),
)  # fmt: skip
date_texts = st.dates(FIRST_DAY, LAST_DAY).map(dt.date.isoformat)
odd_date_texts = st.one_of(
    st.sampled_from(
        [
            "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "0000-01-01",
            "0001-01-01", "9999-12-31", "2024-1-31", "31-01-2024", " 2024-01-31", "2024-01-31 ",
            "2024-01-31T24:00", "2024-01-31T10:60", "2024-01-31T10:00:60", "2024-01-31T",
            "2024-01-31T10:", "2024-01-31T10:00:00.", "2024-01-31T10:00z", "2024-01-31T1",
            "2024-01-31T10:00+24:00", "2024-01-31T10:00+1:00", "2024-01-31T10:0000",
            "2024-01-31T1000:00", "2024-01-31T10:00:00+01:00Z", "2024-01-31T10:00:00+01:99",
            "2024-01-31T10:00:00-23:59", "2024-01-31T10:00:00.1234567", "0001-01-01T00:00+01:00",
        ]
    ),
)  # fmt: skip


@st.composite
def datetime_texts(draw: st.DrawFn) -> str:
    """ISO text for an instant, written the ways SQL must read like Python does."""
    if draw(st.booleans()):
        moment = draw(st.sampled_from(ANCHORS)).astimezone(draw(st.sampled_from(TIMEZONES)))
        if moment.utcoffset() == dt.timedelta(0) and draw(st.booleans()):
            moment = moment.replace(tzinfo=None)  # naive text means UTC
    else:
        moment = draw(
            st.datetimes(
                dt.datetime(2024, 1, 30),
                dt.datetime(2024, 2, 2),
                timezones=st.one_of(st.none(), st.sampled_from(TIMEZONES)),
            )
        )
    timespec = draw(
        st.sampled_from(["hours", "minutes", "seconds", "milliseconds", "microseconds"])
    )
    sep = draw(st.sampled_from(["T", " ", "t", "x", "-", "Z"]))
    text = moment.isoformat(sep=sep, timespec=timespec)
    date, time = text[:11], text[11:]
    body, offset = time[: len(time) - 6], time[len(time) - 6 :]
    if moment.tzinfo is None:
        body, offset = time, ""
    style = draw(st.sampled_from(["plain", "zulu", "compact", "hours", "basic", "comma"]))
    if style == "zulu" and offset == "+00:00":
        offset = "Z"
    elif style == "compact" and offset:
        offset = offset.replace(":", "")
    elif style == "hours" and offset.endswith(":00"):
        offset = offset[:3]
    elif style == "basic":
        body = body.replace(":", "")
    elif style == "comma":
        body = body.replace(".", ",")
    if timespec == "microseconds" and draw(st.booleans()):
        body += "789"  # Python ignores digits after the sixth
    return date + body + offset


scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    numeric_texts,
    plain_texts,
    date_texts,
    odd_date_texts,
    datetime_texts(),
    datetime_texts(),
)
# Mostly scalars, so that comparisons have something to compare.
json_values = st.one_of(
    scalars,
    scalars,
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(NESTED_KEYS), scalars, max_size=2),
)
# Paths subject.a.b(.c) and subject.b.c often lead somewhere, but not always.
nested_values = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "b": st.one_of(st.fixed_dictionaries({}, optional={"c": json_values}), json_values),
            "c": json_values,
        },
    ),
    json_values,
)
field_values = st.fixed_dictionaries(
    {},
    optional={key: nested_values if key in ("a", "b") else json_values for key in FIELD_KEYS},
)
subjects = st.lists(
    st.tuples(
        st.sampled_from(["", "active", "open", "Open", "2024-01-31", "120.5", "true"]),
        field_values,
    ),
    min_size=10,
    max_size=25,
)

decimal_literals = st.builds(
    DecimalValue,
    st.one_of(
        st.sampled_from(
            [Decimal(str(number)) for number in NUMBERS]
            + [Decimal("-3.25"), Decimal("12"), Decimal("1E+3"), Decimal("120.50")]
        ),
        st.integers(-20, 20).map(Decimal),
        st.decimals(-5000, 5000, places=2),
    ),
)
string_literals = st.builds(
    StringValue,
    st.one_of(
        st.sampled_from(
            ["", "a", "A", "ab", "%", "_", "Acme", "active", "open", "2024-01-31", "120.5", "é"]
        ),
        st.text(alphabet="abAB019 ._-+:%eEZ", max_size=3),
    ),
)
date_literals = st.builds(DateValue, st.dates(FIRST_DAY, LAST_DAY))
datetime_literals = st.builds(
    DateTimeValue,
    st.one_of(
        st.sampled_from(ANCHORS).flatmap(
            lambda moment: st.sampled_from([moment, *(moment.astimezone(z) for z in TIMEZONES)])
        ),
        st.datetimes(
            dt.datetime(2024, 1, 30),
            dt.datetime(2024, 2, 2),
            timezones=st.one_of(st.none(), st.sampled_from(TIMEZONES)),
        ),
    ),
)
bool_literals = st.builds(BoolValue, st.booleans())
literal_kinds = [decimal_literals, string_literals, date_literals, datetime_literals, bool_literals]
literals: st.SearchStrategy[ScalarValue] = st.one_of(*literal_kinds)


def in_order(pair: list[ScalarValue]) -> list[ScalarValue]:
    """Two literals of one type, low first (mostly: ``between`` should often select)."""

    def key(item: ScalarValue) -> Any:
        value = item.value
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    return sorted(pair, key=key)


same_kind_pairs = st.one_of(
    *(st.lists(kind, min_size=2, max_size=2).map(in_order) for kind in literal_kinds)
)

paths = st.sampled_from(PATHS)


def comparison(op: str) -> st.SearchStrategy[Compare]:
    if op in ("is_empty", "is_set"):
        return st.builds(C, paths, st.just(op))
    if op == "in":
        return st.builds(
            C, paths, st.just(op), st.builds(ListValue, st.lists(literals, max_size=4))
        )
    if op == "between":
        pairs = st.one_of(same_kind_pairs, st.lists(literals, min_size=2, max_size=2))
        return st.builds(C, paths, st.just(op), st.builds(ListValue, pairs))
    return st.builds(C, paths, st.just(op), literals)


OPS = ["=", "!=", "<", ">", "<=", ">=", "contains", "in", "between", "is_empty", "is_set"]
compares = st.sampled_from(OPS).flatmap(comparison)
rules: st.SearchStrategy[Rule] = st.recursive(
    compares,
    lambda children: st.one_of(
        st.builds(All, st.lists(children, max_size=3)),
        st.builds(AnyOf, st.lists(children, max_size=3)),
        st.builds(Not, children),
    ),
    max_leaves=4,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(subjects=subjects, rule_list=st.lists(rules, min_size=4, max_size=10))
def test_sql_selects_what_evaluate_accepts(
    store: Store, subjects: list[tuple[str, dict[str, Any]]], rule_list: list[Rule]
) -> None:
    rows = store.fill(subjects)
    for rule in rule_list:
        for part in parts(rule):
            check(store, part, rows)


@st.composite
def deep_rules(draw: st.DrawFn) -> Rule:
    """Trees 9 to 64 levels deep (rendered differently on SQLite), with some breadth."""
    rule = draw(rules)
    target = draw(st.integers(9, 64))
    while depth(rule) < target:
        kind = draw(st.sampled_from(["all", "any", "not"]))
        if kind == "not":
            rule = Not(rule)
            continue
        siblings = draw(st.lists(compares, max_size=2))
        siblings.insert(draw(st.integers(0, len(siblings))), rule)
        rule = All(siblings) if kind == "all" else AnyOf(siblings)
    return rule


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subjects=subjects, rule_list=st.lists(deep_rules(), min_size=1, max_size=3))
def test_deep_trees_select_what_evaluate_accepts(
    store: Store, subjects: list[tuple[str, dict[str, Any]]], rule_list: list[Rule]
) -> None:
    rows = store.fill(subjects)
    for rule in rule_list:
        check(store, rule, rows)


def parts(rule: Rule) -> list[Rule]:
    """A rule and every rule nested in it."""
    found: list[Rule] = []
    stack = [rule]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, Not):
            stack.append(node.rule)
        elif isinstance(node, All | AnyOf):
            stack.extend(node.rules)
    return found


# --------------------------------------------------------------------------- examples


def dunning_filter() -> Rule:
    flow = json.loads((ROOT / "docs" / "examples" / "dunning-phone-call.json").read_text())
    return msgspec.json.decode(json.dumps(flow["trigger"]["filter"]), type=Rule)


DEBTORS: dict[str, dict[str, Any]] = {
    "due": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": "1250.00",
        "days_since_last_dunning": 20,
    },
    "edges": {
        "problematic": False,
        "dunning_notices": "2",
        "debt_amount": 300,
        "days_since_last_dunning": 14,
    },
    "upper-edge": {
        "problematic": False,
        "dunning_notices": 2.0,
        "debt_amount": "4000.00",
        "days_since_last_dunning": "14",
    },
    "problematic": {
        "problematic": True,
        "dunning_notices": 2,
        "debt_amount": 1000,
        "days_since_last_dunning": 30,
    },
    "problematic-unknown": {
        "dunning_notices": 2,
        "debt_amount": 1000,
        "days_since_last_dunning": 30,
    },
    "problematic-as-text": {
        "problematic": "false",
        "dunning_notices": 2,
        "debt_amount": 1000,
        "days_since_last_dunning": 30,
    },
    "three-notices": {
        "problematic": False,
        "dunning_notices": 3,
        "debt_amount": 1000,
        "days_since_last_dunning": 30,
    },
    "owes-too-little": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": "299.99",
        "days_since_last_dunning": 30,
    },
    "owes-too-much": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": 4000.01,
        "days_since_last_dunning": 30,
    },
    "amount-unreadable": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": "n/a",
        "days_since_last_dunning": 30,
    },
    "too-recent": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": 1000,
        "days_since_last_dunning": 13,
    },
    "called-already": {
        "problematic": False,
        "dunning_notices": 2,
        "debt_amount": 1000,
        "days_since_last_dunning": 30,
        "calls": 1,
    },
}


# D8 also asks that nothing is in a payment plan (M5) and that nobody called yet (calls =
# 0); these debtors have no plan, and no calls unless they say so.
NO_PLAN = {"payment_plan_items": 0}
NOT_CALLED = {"calls": 0}


def test_the_d8_dunning_filter_selects_the_right_customers(store: Store) -> None:
    names = list(DEBTORS)
    rows = store.fill(
        [("active", {**NOT_CALLED, **fields, **NO_PLAN}) for fields in DEBTORS.values()]
    )
    selected = check(store, dunning_filter(), rows)
    # "Not problematic" is not (problematic = true): unknown and the text "false" are not.
    expected = ["due", "edges", "upper-edge", "problematic-unknown", "problematic-as-text"]
    assert sorted(names[int(key)] for key in selected) == sorted(expected)


def test_ten_thousand_subjects_in_one_query(store: Store) -> None:
    generator = random.Random(20240131)

    def debtor() -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": f"Debtor {generator.randrange(10**6)}",
            "problematic": generator.random() < 0.2,
            "dunning_notices": generator.choice([0, 1, 2, 2, 2, 3, "2"]),
            "debt_amount": generator.choice(
                [
                    round(generator.uniform(0, 6000), 2),
                    f"{generator.uniform(0, 6000):.2f}",
                    generator.randrange(6000),
                    "unknown",
                ]
            ),
            "days_since_last_dunning": generator.randrange(40),
            "calls": generator.choice([0, 0, 0, 1]),
            **NO_PLAN,
        }
        for name in list(fields):
            if generator.random() < 0.03:
                del fields[name]
        return fields

    rows = store.fill([("active", debtor()) for _ in range(10_000)])
    rule = dunning_filter()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        selected = check(store, rule, rows)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert 500 < len(selected) < 2500


def test_corner_cases_of_coercion(store: Store) -> None:
    values: list[Any] = [
        None, True, False, 0, 5, 5.0, 120.5, -3, "5", " 5 ", "5.00", "1_000", "+.5", "5.", "1e1",
        "1E+1", "abc", "", "NaN", "Infinity", "1e", "e1", "..5", "1 0", "12abc", "10%", "a_b",
        "Acme BV", "acme bv", [], {}, [5, "5", None], ["a", "b"], {"x": 1}, "2024-01-31",
        "2024-01-31T23:30:00-01:00", "2024-02-01T00:30:00+01:00", "2024-01-31 10:00",
        "2024-01-31T10", "2024-01-31T1000", "2024-01-31T100000,5Z", "2024-02-30",
        "2024-01-31T25:00", "2024-01-31T10:00:00.1234567+05:45",
    ]  # fmt: skip
    rows = store.fill([("open", {"x": value}) for value in values])
    for text in [
        "subject.x == 5",
        "subject.x != 5",
        "subject.x > 1",
        "subject.x <= 10",
        "subject.x.between(5, 10)",
        "subject.x in [5, 0.5]",
        'subject.x == "5"',
        'subject.x < "B"',
        'subject.x.contains("a")',
        'subject.x.contains("%")',
        'subject.x.contains("_")',
        'subject.x.contains("BV")',
        'subject.x.contains("")',
        "subject.x.contains(5)",
        "subject.x == true",
        "subject.x != false",
        "subject.x.isEmpty()",
        "subject.x.isSet()",
        'subject.x == date("2024-01-31")',
        'subject.x > date("2024-01-31")',
        'subject.x == timestamp("2024-01-31T10:00:00Z")',
        'subject.x >= timestamp("2024-02-01T00:00:00+01:00")',
        '!(subject.x == date("2024-01-31"))',
        "!(subject.x > 1)",
    ]:
        check(store, parse_rule(text), rows)


def test_paths_nested_flat_and_status(store: Store) -> None:
    rows = store.fill(
        [
            ("open", {"supplier": {"kvk": "123", "address": {"city": "Delft"}}}),
            ("open", {"supplier.kvk": "123", "supplier.address.city": "Delft"}),
            ("open", {"supplier": {"address.city": "Delft"}}),
            ("open", {"supplier": {"address": None}, "supplier.address.city": "Delft"}),
            ("open", {"supplier": {"kvk": "999"}, "supplier.kvk": "123"}),
            ("open", {"supplier": "Acme", "supplier.kvk": "123"}),
            ("", {"status": "open", "status.x": 5}),
            ("Open", {}),
        ]
    )
    for text, keys in [
        ('subject.supplier.kvk == "123"', ["0", "1", "5"]),
        ('subject.supplier.address.city == "Delft"', ["0", "1", "3"]),
        ("subject.supplier.vat.isEmpty()", [str(n) for n in range(8)]),
        ('subject.status == "open"', ["0", "1", "2", "3", "4", "5"]),
        ("subject.status.isEmpty()", ["6"]),
        ("subject.status.x == 5", ["6"]),
        ('subject.status != "open"', ["6", "7"]),
    ]:
        assert check(store, parse_rule(text), rows) == keys, text


def test_not_keeps_rows_whose_comparison_is_unknown_in_sql(store: Store) -> None:
    rows = store.fill([("open", {}), ("open", {"x": "lots"}), ("open", {"x": 9}), ("", {"x": 1})])
    assert check(store, parse_rule("!(subject.x > 5)"), rows) == ["0", "1", "3"]
    assert check(store, parse_rule('!(subject.x.contains("o"))'), rows) == ["0", "2", "3"]
    assert check(store, parse_rule("!(!(subject.x < 5))"), rows) == ["3"]


def test_groups_and_deep_trees(store: Store) -> None:
    rows = store.fill([("open", {"x": 1}), ("open", {})])
    assert check(store, All([]), rows) == ["0", "1"]
    assert check(store, AnyOf([]), rows) == []
    deep: Rule = C("subject.x", "is_set")
    for _ in range(63):
        deep = Not(deep)
    assert check(store, deep, rows) == ["1"]


def test_the_deepest_allowed_tree(store: Store) -> None:
    leaf = parse_rule('subject.a.b.contains(timestamp("2024-01-31T10:00:00+01:00"))')
    rows = store.fill(
        [
            ("open", {"a": {"b": ["2024-01-31T09:00:00Z"]}}),
            ("open", {"a.b": ["2024-01-31 09:00"]}),
            ("open", {"a": {"b": "2024-01-31T09:00:00Z"}}),
            ("open", {}),
        ]
    )
    deep = leaf
    wrappers = [
        lambda rule: All([leaf, rule]),
        lambda rule: AnyOf([Not(leaf), rule]),
        lambda rule: Not(rule),
    ]
    levels = [deep]
    for level in range(63):
        levels.append(wrappers[level % 3](levels[-1]))
    assert depth(levels[-1]) == 64
    check(store, levels[-1], rows)
    # Wide as well as deep: 120 subtrees of depth 9 under one node, next to depth 63.
    small: Rule = parse_rule('subject.a.b.isSet() || subject.c == "x"')
    for level in range(7):
        small = [Not, lambda rule: All([rule]), lambda rule: AnyOf([rule])][level % 3](small)
    wide = AnyOf([Not(small) if n % 2 else small for n in range(120)])
    check(store, All([wide, Not(wide), levels[-2]]), rows)
    check(store, AnyOf([wide, levels[-2]]), rows)


def test_any_table_or_alias_with_fields_and_status(store: Store) -> None:
    rows = store.fill([("open", {"amount": "10"}), ("open", {"amount": "1000"})])
    alias = Subject.__table__.alias("s")
    query = sa.select(alias.c.key).where(
        alias.c.tenant_id == store.tenant_id, to_sql(parse_rule("subject.amount > 100"), alias)
    )
    with store.engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == ["1"]
    assert rows


# --------------------------------------------------------------------------- compilation


def test_variables_and_huge_literals_cannot_be_selected_in_sql() -> None:
    with pytest.raises(UnsupportedInSql, match=r"vars\.attempts.*instance variables"):
        to_sql(parse_rule('subject.status == "open" && vars.attempts < 3'))
    with pytest.raises(UnsupportedInSql, match="too large or too small"):
        to_sql(C("subject.x", "<", DecimalValue(Decimal("1e5000"))))
    assert issubclass(UnsupportedInSql, ValueError)


def test_too_deep_and_malformed_trees_are_refused() -> None:
    with pytest.raises(ValueError, match="nested more than 64"):
        to_sql(too_deep())
    for bad in MALFORMED:
        with pytest.raises(ValueError):  # noqa: PT011 - messages differ per case
            to_sql(bad)


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["pg", "sqlite"])
def test_values_travel_as_bind_parameters(dialect: sa.Dialect) -> None:
    hostile = "x'); DROP TABLE subjects; --"
    rule = parse_rule(
        f"subject.name == {json.dumps(hostile)} || subject.name.contains({json.dumps(hostile)})"
        f' || subject.tags.contains("Zq9") || subject.amount > 123.45'
        f' || subject.due < date("2031-07-04") || subject.name in ["Qv7"]'
    )
    compiled = sa.select(Subject.key).where(to_sql(rule)).compile(dialect=dialect)
    sql = str(compiled)
    for value in [hostile, "DROP", "Zq9", "123.45", "2031", "20310704", "Qv7", "name", "amount"]:
        assert value not in sql
    params = [str(value) for value in compiled.params.values()]
    assert hostile in params
    assert "Qv7" in params


def test_the_statement_cache_tells_rules_apart() -> None:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine, tables=[Tenant.__table__, Subject.__table__])
    tenant = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(sa.insert(Tenant.__table__).values(id=tenant, name="T", slug="t"))
        conn.execute(
            sa.insert(Subject.__table__),
            [
                {"id": uuid.uuid4(), "tenant_id": tenant, "type": "t", "key": key, "fields": f}
                for key, f in [("a", {"d": "2024-01-31", "n": "5"}), ("b", {"d": "2024-02-01"})]
            ],
        )
        for text, keys in [
            ('subject.d == date("2024-01-31")', ["a"]),
            ('subject.d == date("2024-02-01")', ["b"]),
            ('subject.d == timestamp("2024-02-01T00:00:00Z")', ["b"]),
            ("subject.n == 5", ["a"]),
            ("subject.n == 6", []),
            ('subject.n == "5"', ["a"]),
        ]:
            query = sa.select(Subject.key).where(to_sql(parse_rule(text))).order_by(Subject.key)
            assert list(conn.execute(query).scalars()) == keys, text
    engine.dispose()


def test_documented_differences_from_evaluate(store: Store) -> None:
    # Each of these reads as a number or date in Python but not in SQL (docs in sql.py).
    rows = store.fill(
        [
            ("open", {"x": "1e1000"}),
            ("open", {"x": "\u0661\u0662"}),  # Arabic-Indic digits: Decimal reads 12
            ("open", {"x": "20240131"}),  # basic ISO date
            ("open", {"x": "2024-W05-3"}),  # ISO week date
        ]
    )
    number, date = parse_rule("subject.x > 1"), parse_rule('subject.x >= date("2024-01-01")')
    assert accepted(number, rows) == ["0", "1", "2"]
    assert store.select(number) == ["2"]
    assert accepted(date, rows) == ["2", "3"]
    assert store.select(date) == []
