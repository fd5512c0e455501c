"""Compile a rule tree to one SQLAlchemy boolean expression over stored subjects.

``to_sql(rule)`` is a WHERE clause that selects exactly the subjects for which
``evaluate(rule, {**row.fields, "status": row.status}, {})`` is True, so a
scheduled filter over a million subjects is one query, not a loop::

    select(Subject).where(Subject.tenant_id == tenant_id, to_sql(rule))

The semantics are evaluate.py's (docs/rules.md), reproduced in SQL:

* ``subject.status`` is the status column; ``subject.a.b`` is ``fields -> a -> b``,
  or the flat key ``fields -> "a.b"`` when the nested walk finds nothing (or
  null). ``vars.*`` has no column: ``UnsupportedInSql``.
* The stored value is coerced to the literal's type first: decimals from JSON
  numbers and numeric text, dates and datetimes from ISO text, strings from JSON
  strings only, bools from JSON true/false only. Text is matched against a
  pattern before any CAST, so a value that cannot be coerced makes the
  comparison false and never raises a SQL error.
* Every comparison is coalesced to a definite true/false, so ``not``, ``all``
  and ``any`` follow two-valued logic exactly as in Python.

Both PostgreSQL (``fields`` is JSONB) and SQLite (JSON text, JSON1 with the
``->`` operators of SQLite 3.38+) are supported. The tree is built from
SQLAlchemy constructs; the few spots where the dialects differ are small
constructs compiled per dialect with ``@compiles`` (JSON type tests, text of a
JSON scalar, substring position, binary collation, numeric-text and ISO-date
parsing, iteration over array elements). Every value taken from a rule is a
bind parameter; so are the constants (patterns, JSON paths, kind names).

The tree is walked without recursion, and negations are pushed down to the
comparisons. Trees of more than 8 and/or levels become a ``_Program``: plain
nesting on PostgreSQL; on SQLite, whose parser holds only some 17-30 nested
and/or levels, every 4th level is computed in a one-row ``json_each`` FROM item
and read back by index, so the SQL stays shallow for any tree
``MAX_RULE_DEPTH`` allows.

Known differences from evaluate (each far from real data; see the tests):

* Numeric text: Python's ``Decimal`` also reads non-ASCII digits (e.g. "١٢");
  SQL reads ASCII digits only. Exponents with more than three significant
  digits ("1e1000") and numeric text longer than 1,000 characters are not
  numbers in SQL (PostgreSQL's numeric type could overflow).
* ISO text: Python 3.11's ``fromisoformat`` accepts many ISO 8601 forms; SQL
  reads ``YYYY-MM-DD``, optionally followed by any one separator character and
  ``HH``, ``HH:MM``, ``HH:MM:SS`` or ``HHMM``/``HHMMSS``, a fraction after
  ``.`` or ``,``, and an offset ``Z``, ``±HH``, ``±HH:MM`` or ``±HHMM``. The
  basic date ``YYYYMMDD``, week dates (``2024-W05-3``), offsets with seconds,
  fractions of an hour or minute (``10:00.5``) and a space before the offset
  are not dates in SQL.
* JSON numbers a float cannot hold (over 17 significant digits, or beyond
  ±1.8e308): evaluate sees what ``json.loads`` made of them (a rounded float,
  or inf, which is no number); PostgreSQL compares the exact number.
* SQLite has no decimal type: numbers are compared as 64-bit integers when
  both sides are integral and as IEEE doubles otherwise (about 15 significant
  digits). PostgreSQL compares exactly (numeric).
* Decimal literals must be zero or lie within 1e-999 <= |x| < 1e1000
  (``UnsupportedInSql``), and field paths must match
  ``model.FIELD_PATH_PATTERN`` (ValueError; msgspec enforces it on decoding).

Size: a comparison takes some 10-60 bind parameters on PostgreSQL (limit
65,535 per statement) and 25-250 on SQLite, which repeats a parameter each
time the SQL mentions it (limit 32,766): date and datetime comparisons are the
largest.
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal, TypeAlias

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, FromClause
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from procedo.db.models import JSONType, Subject
from procedo.nodetypes import ParamProblem
from procedo.rules.check import walk
from procedo.rules.evaluate import _literal as _evaluate_literal
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
    Value,
    depth,
)

__all__ = ["ComputedValue", "DirectCompare", "UnsupportedInSql", "sql_problems", "to_sql"]

Expr: TypeAlias = ColumnElement[Any]
_Kind = Literal["decimal", "date", "datetime", "string", "bool"]


class UnsupportedInSql(ValueError):
    """A valid rule that SQL cannot select by: it reads ``vars.*``, or a literal is out of range."""


def to_sql(
    rule: Rule,
    subject: type[Subject] | FromClause = Subject,
    *,
    computed: Mapping[str, ComputedValue] | None = None,
) -> ColumnElement[bool]:
    """A boolean SQL expression true exactly for the stored subjects ``rule`` accepts.

    ``subject`` is the mapped class (default) or any table, alias or subquery
    with ``fields`` and ``status`` columns. ``computed`` maps field names (without
    ``subject.``) to values SQL computes, read instead of ``fields`` (computed facts,
    facts/sql.py: ``select_matching``). Raises ``UnsupportedInSql`` for a
    ``vars.*`` path or a decimal literal beyond 1e±999, and ValueError for a
    tree deeper than ``MAX_RULE_DEPTH`` or a malformed comparison (as
    ``compile_rule`` does).
    """
    if depth(rule) > MAX_RULE_DEPTH:
        raise ValueError(f"rule is nested more than {MAX_RULE_DEPTH} levels deep")
    if isinstance(subject, FromClause):
        fields: Expr = subject.c.fields
        status: Expr = subject.c.status
    else:
        fields = subject.fields.expression
        status = subject.status.expression
    # The tree in postfix order, built without recursion: "L" takes the next
    # comparison, "A<n>"/"O<n>" join the last n results with and/or. Negations
    # are pushed down to the comparisons (De Morgan; exact, as each comparison
    # is true or false), so they add no nesting.
    program: list[str] = []
    leaves: list[ColumnElement[bool]] = []
    heights: list[int] = []
    stack: list[tuple[Rule, bool, bool]] = [(rule, False, False)]
    while stack:
        node, negated, children_done = stack.pop()
        if isinstance(node, Compare):
            leaf = _compare(node, fields, status, computed)
            leaves.append(sa.not_(leaf) if negated else leaf)
            program.append("L")
            heights.append(0)
        elif isinstance(node, Not):
            stack.append((node.rule, not negated, False))
        elif not children_done:
            stack.append((node, negated, True))
            stack.extend((child, negated, False) for child in reversed(node.rules))
        else:
            count = len(node.rules)
            conjunction = isinstance(node, All) != negated
            program.append(f"{'A' if conjunction else 'O'}{count}")
            height = 1 + max(heights[len(heights) - count :], default=0)
            del heights[len(heights) - count :]
            heights.append(height)
    if heights[0] <= _NESTED_DEPTH:
        return _nest(program, leaves)
    return _Program(program, leaves)


# Compiling for both databases takes some 30 ms per date comparison: this bounds
# what one save costs (a schedule's filter rarely compares more than a few fields).
MAX_SQL_COMPARES: Final = 64
# Each database with the most bind parameters one statement may carry.
_DIALECTS: Final[tuple[tuple[sa.Dialect, int], ...]] = (
    (PGDialect_psycopg(), 65_535),  # type: ignore[no-untyped-call]
    (SQLiteDialect_pysqlite(), 32_766),
)


def sql_problems(rule: Rule, path: str = "$") -> list[ParamProblem]:
    """Why ``to_sql(rule)`` would fail, at the comparison's path; [] when it compiles.

    Run when a scheduled flow is saved (flow/schedule.py): a filter that cannot
    become SQL is refused there, instead of failing at every run. The rule is
    compiled for both databases, as validation does not know which one runs it.
    """
    problems: list[ParamProblem] = []
    fields, status = Subject.fields.expression, Subject.status.expression
    found = list(walk(rule, path))
    if len(found) > MAX_SQL_COMPARES:
        message = (
            f"the rule has {len(found)} comparisons, at most {MAX_SQL_COMPARES} can become "
            "one SQL statement; compare fewer fields, or use 'in' with a list of values"
        )
        return [ParamProblem(code="rule.sql.unsupported", message=message, path=path)]
    for compare, where in found:
        try:
            _compare(compare, fields, status)
        except (ValueError, ArithmeticError) as exc:  # UnsupportedInSql is a ValueError
            problems.append(ParamProblem(code="rule.sql.unsupported", message=str(exc), path=where))
    if problems:
        return problems
    # Compiling a large tree takes up to a second; the designer validates the same
    # filter again at every edit of the flow.
    failure = _compile_problem(msgspec.json.encode(rule))
    if failure is None:
        return []
    return [ParamProblem(code="rule.sql.unsupported", message=failure, path=path)]


@functools.lru_cache(maxsize=256)
def _compile_problem(encoded: bytes) -> str | None:
    try:
        condition = to_sql(msgspec.json.decode(encoded, type=Rule))
        for dialect, most in _DIALECTS:
            compiled = condition.compile(dialect=dialect)
            count = len(compiled.positiontup or compiled.binds)
            if count > most:
                return (
                    f"the rule needs {count} values in one {dialect.name} statement, at most "
                    f"{most}; split it into simpler rules or compare fewer values"
                )
    except (ValueError, ArithmeticError, sa.exc.SQLAlchemyError) as exc:
        return str(exc)
    return None


def _nest(program: list[str], leaves: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """The program as nested and/or (every comparison is already true or false)."""
    values: list[ColumnElement[bool]] = []
    taken = iter(leaves)
    for step in program:
        if step == "L":
            values.append(next(taken))
            continue
        count = int(step[1:])
        parts = values[len(values) - count :]
        del values[len(values) - count :]
        if step[0] == "A":
            values.append(sa.and_(*parts) if parts else sa.true())
        else:
            values.append(sa.or_(*parts) if parts else sa.false())
    return values[0]


# --------------------------------------------------------------------------- compare


def _compare(
    compare: Compare,
    fields: Expr,
    status: Expr,
    computed: Mapping[str, ComputedValue] | None = None,
) -> ColumnElement[bool]:
    value = _field(compare.field, fields, status, computed)
    op, literal = compare.op, compare.value

    if op == "is_empty" or op == "is_set":
        if literal is not None:
            raise ValueError(f"{op} takes no value, got {literal!r}")
        return _definite(value.empty() if op == "is_empty" else sa.not_(value.missing()))

    if op == "in":
        if not isinstance(literal, ListValue):
            raise ValueError(f"in needs a list value, got {literal!r}")
        groups: dict[_Kind, list[Expr]] = {}
        for item in literal.items:
            kind, bound = _bind(item)
            groups.setdefault(kind, []).append(bound)
        tests = [
            actual.in_(binds)
            for kind, binds in groups.items()
            if (actual := value.coerce(kind)) is not None
        ]
        return _definite(sa.or_(*tests)) if tests else sa.false()

    if op == "between":
        if not isinstance(literal, ListValue) or len(literal.items) != 2:
            raise ValueError(f"between needs a list of two values, got {literal!r}")
        low_kind, low = _bind(literal.items[0])
        high_kind, high = _bind(literal.items[1])
        actual_low, actual_high = value.coerce(low_kind), value.coerce(high_kind)
        if actual_low is None or actual_high is None:
            return sa.false()
        return _definite(sa.and_(low <= actual_low, actual_high <= high))

    if literal is None or isinstance(literal, ListValue):
        raise ValueError(f"{op} needs a single value, got {literal!r}")
    if isinstance(value, ComputedValue) and value.direct is not None:
        direct = value.direct(op, literal)
        if direct is not None:
            return direct
    kind, bound = _bind(literal)

    if op == "contains":
        return _contains(value, literal, kind, bound)

    if op == "!=":
        actual = value.coerce(kind)
        if actual is None:
            return _definite(value.missing())
        return _definite(sa.or_(value.missing(), actual != bound))

    compare_values = _ORDER.get(op)
    if compare_values is None:
        raise ValueError(f"unknown operator {op!r}")
    actual = value.coerce(kind)
    if actual is None:
        return sa.false()
    return _definite(compare_values(actual, bound))


_ORDER: Final[dict[str, Callable[[Expr, Expr], ColumnElement[bool]]]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _contains(value: _Value, literal: ScalarValue, kind: _Kind, bound: Expr) -> ColumnElement[bool]:
    """Substring of a string (string literal only), or equal to an element of a list."""
    tests: list[ColumnElement[bool]] = []
    if isinstance(literal, StringValue):
        text = value.coerce("string")
        if text is not None:
            tests.append(_Position(text, bound) > _pos(0))

    def matches(element: _Value) -> ColumnElement[bool]:
        actual = element.coerce(kind)
        return sa.false() if actual is None else actual == bound

    member = value.any_element(matches)
    if member is not None:
        tests.append(member)
    return _definite(sa.or_(*tests)) if tests else sa.false()


def _definite(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition``, with SQL NULL (unknown) read as false."""
    return sa.func.coalesce(condition, sa.false(), type_=sa.Boolean())


# --------------------------------------------------------------------------- literals

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
# 1e-999 <= |x| < 1e1000, as the exponent of the leading digit: ``abs()`` would round
# to the decimal context and raise decimal.Overflow for, say, 1e1000000.
_DECIMAL_ADJUSTED: Final = range(-999, 1000)


def _bind(item: ScalarValue) -> tuple[_Kind, Expr]:
    """The literal's coercion kind and its value as a bind parameter.

    The value is read exactly as evaluate reads it (same function); dates
    become ``YYYYMMDD`` integers and datetimes microseconds since the epoch
    (UTC), which is how the SQL side reads stored ISO text too.
    """
    _coerce, expected = _evaluate_literal(item)
    if isinstance(item, DecimalValue):
        number: Decimal = expected
        if number.is_zero():
            number = Decimal(0)
        elif number.adjusted() not in _DECIMAL_ADJUSTED:
            raise UnsupportedInSql(
                f"decimal literal {item.value!r} is too large or too small to compare in SQL"
            )
        return "decimal", sa.literal(number, _Number())
    if isinstance(item, DateTimeValue):
        micros = (expected - _EPOCH) // _MICROSECOND
        return "datetime", sa.literal(micros, sa.BigInteger())
    if isinstance(item, DateValue | TodayValue):
        # today is bound as the date it is while the query is built (rules/today.py).
        return "date", sa.literal(_date_key(expected), sa.BigInteger())
    if isinstance(item, StringValue):
        return "string", sa.literal(expected, sa.String())
    if isinstance(item, BoolValue):
        return "bool", sa.literal(int(expected), sa.Integer())
    raise ValueError(f"expected a single value, got {item!r}")  # pragma: no cover


def _date_key(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


class _Number(sa.types.TypeDecorator[Decimal]):
    """A decimal bind: numeric on PostgreSQL; on SQLite an integer when exact, else a float."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.types.NullType())
        return dialect.type_descriptor(sa.Numeric())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        number = Decimal(value)
        if number == number.to_integral_value() and -(2**63) <= number < 2**63:
            return int(number)
        return float(number)


class _JsonKey(sa.types.TypeDecorator[str]):
    """One object key for ``->``: the key itself on PostgreSQL, a JSON path on SQLite."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return f'$."{value}"'  # keys match FIELD_PATH_PATTERN: letters, digits, _ and dots


# --------------------------------------------------------------------------- fields

_PATH: Final = re.compile(FIELD_PATH_PATTERN)


def _field(
    path: str, fields: Expr, status: Expr, computed: Mapping[str, ComputedValue] | None = None
) -> _Value:
    namespace, _, rest = path.partition(".")
    if namespace == "vars":
        raise UnsupportedInSql(
            f"{path}: instance variables (vars.*) exist only while a flow runs, "
            "so a rule that reads them cannot select stored subjects in SQL"
        )
    if namespace != "subject" or not rest:
        raise ValueError(f"invalid field path {path!r}: it must start with subject. or vars.")
    if not _PATH.match(path):
        raise ValueError(f"invalid field path {path!r}: expected {FIELD_PATH_PATTERN}")
    if computed is not None and rest in computed:
        return computed[rest]
    keys = rest.split(".")
    if keys == ["status"]:
        return _Text(status)
    if len(keys) == 1:
        return _Json(_get(fields, keys))
    flat = _get(fields, [rest])
    if keys[0] == "status":
        # subject["status"] is the status column's text, never a mapping: the
        # nested walk ends there and evaluate falls back to the flat key.
        return _Json(flat)
    nested = _get(fields, keys)
    return _Json(sa.case((sa.not_(_IsKind(nested, "null")), nested), else_=flat))


def _get(document: Expr, keys: list[str]) -> Expr:
    """``document -> k1 -> k2 ...``: SQL NULL where a key is absent or a value is no object."""
    for key in keys:
        document = document.op("->", return_type=JSONType)(_key(key))
    return document


@functools.cache
def _key(name: str) -> Expr:
    return sa.literal(name, _JsonKey())


# JSON constants: jsonb on PostgreSQL, minified JSON text on SQLite (what -> returns).
_JSON_TRUE: Final = sa.literal(True, JSONType)
_JSON_FALSE: Final = sa.literal(False, JSONType)
_JSON_EMPTY: Final = (sa.literal("", JSONType), sa.literal([], JSONType), sa.literal({}, JSONType))


class _Value(abc.ABC):
    """A stored value as SQL: its coercions, emptiness and list elements."""

    @abc.abstractmethod
    def missing(self) -> ColumnElement[bool]:
        """Absent or null (evaluate's ``None``)."""

    @abc.abstractmethod
    def empty(self) -> ColumnElement[bool]:
        """Missing, "", [] or {}."""

    @abc.abstractmethod
    def coerce(self, kind: _Kind) -> Expr | None:
        """The value read as ``kind``, SQL NULL when it cannot be; None when it never can."""

    def any_element(self, test: Callable[[_Value], ColumnElement[bool]]) -> Expr | None:
        """Whether ``test`` holds for an element of the value, when it is a list."""
        return None


# (op, literal) -> the comparison as SQL, or None to compare the value as usual.
DirectCompare: TypeAlias = Callable[[str, "Value | None"], "ColumnElement[bool] | None"]


class ComputedValue(_Value):
    """A value SQL computes (a computed fact, facts/sql.py) with its reading per literal kind.

    ``readings`` holds, for each kind evaluate can coerce the Python value to, the
    SQL expression of it; a kind missing there never matches, as in evaluate.
    """

    def __init__(
        self, value: Expr, readings: Mapping[str, Expr], direct: DirectCompare | None = None
    ) -> None:
        self.value = value
        self.readings = dict(readings)
        # The comparison answered without the value (EXISTS ...), when its owner can.
        self.direct = direct

    def missing(self) -> ColumnElement[bool]:
        return self.value.is_(None)

    def empty(self) -> ColumnElement[bool]:
        return self.value.is_(None)

    def coerce(self, kind: _Kind) -> Expr | None:
        return self.readings.get(kind)


class _Text(_Value):
    """A text column (the subject's status)."""

    def __init__(self, column: Expr) -> None:
        self.column = column

    def missing(self) -> ColumnElement[bool]:
        return self.column.is_(None)

    def empty(self) -> ColumnElement[bool]:
        return sa.or_(self.column.is_(None), self.column == "")

    def coerce(self, kind: _Kind) -> Expr | None:
        if kind == "string":
            return _Collate(self.column)
        if kind == "decimal":
            return _ParseDecimal(self.column)
        if kind == "date" or kind == "datetime":
            return _ParseIso(self.column, kind)
        return None


class _Json(_Value):
    """A JSON value (jsonb on PostgreSQL, JSON text on SQLite); SQL NULL when absent."""

    def __init__(self, value: Expr) -> None:
        self.value = value

    def missing(self) -> ColumnElement[bool]:
        return sa.or_(self.value.is_(None), _IsKind(self.value, "null"))

    def empty(self) -> ColumnElement[bool]:
        return sa.or_(
            self.missing(),
            self.value.in_(_JSON_EMPTY),
        )

    def coerce(self, kind: _Kind) -> Expr | None:
        value = self.value
        is_string = _IsKind(value, "string")
        if kind == "string":
            return _Collate(sa.case((is_string, _JsonText(value))))
        if kind == "decimal":
            return sa.case(
                (_IsKind(value, "number"), sa.cast(_JsonText(value), sa.Numeric())),
                (is_string, _ParseDecimal(_JsonText(value))),
            )
        if kind == "date" or kind == "datetime":
            return sa.case((is_string, _ParseIso(_JsonText(value), kind)))
        return sa.case((value == _JSON_TRUE, _int(1)), (value == _JSON_FALSE, _int(0)))

    def any_element(self, test: Callable[[_Value], ColumnElement[bool]]) -> Expr | None:
        return _AnyElement(self.value, test(_Json(_Element())))


# --------------------------------------------------------------------------- constructs
#
# Each construct keeps its SQL children in ``_traverse_internals`` (for cloning,
# correlation and the statement cache) and renders per dialect. Constants that
# a rendering needs (patterns, kind names) become bind parameters there. Where
# a rendering writes a subquery as text (S608 below), it joins fixed SQL and
# aliases with SQL the compiler made from those children: values stay binds.

# Python's str.isspace() characters: Decimal() strips these.
_WHITESPACE: Final = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# Decimal text after stripping whitespace and removing underscores; at most three
# significant exponent digits keep PostgreSQL's numeric within range.
_DECIMAL_REGEX: Final = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?0*[0-9]{1,3})?$"
_DECIMAL_MAX_LENGTH: Final = 1000
# The same language as GLOB tests (SQLite has no regular expressions).
_DECIMAL_NOT_GLOBS: Final = (
    "*[^0-9eE.+-]*",  # only digits, one point, one exponent mark, signs
    "*[eE]*[eE]*",  # one exponent mark at most
    "*.*.*",  # one point at most
    "*[eE]*.*",  # no point in the exponent
    "*[^eE][+-]*",  # a sign only first or right after the exponent mark
    "*[eE]",  # the exponent has digits
    "*[eE][+-]",
    "*[eE]*[1-9][0-9][0-9][0-9]*",  # at most three significant exponent digits
)
_DECIMAL_START_GLOBS: Final = ("[0-9]*", ".[0-9]*", "[+-][0-9]*", "[+-].[0-9]*")

# ISO 8601 text as SQL reads it (see the module docstring): the date, then
# optionally any one separator, the time (with colons or without) and an offset.
# PostgreSQL matches it at once; SQLite, without regular expressions, by GLOB
# patterns per part. No capture groups: PostgreSQL's are slow.
_ISO_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:.[0-9]{2}"
    r"(?::[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?|[0-9]{2}(?:[0-9]{2}(?:[.,][0-9]+)?)?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
_D2 = "[0-9][0-9]"
_ISO_DATE_GLOB: Final = f"{_D2}{_D2}-{_D2}-{_D2}*"
_ISO_TIME_GLOBS: Final = (
    _D2,
    f"{_D2}:{_D2}",
    f"{_D2}:{_D2}:{_D2}",
    f"{_D2}{_D2}",
    f"{_D2}{_D2}{_D2}",
)
# A fraction follows HH:MM:SS (from position 10) or HHMMSS (from position 8).
_ISO_FRACTION_GLOBS: Final = (
    (f"{_D2}:{_D2}:{_D2}[.,][0-9]*", 10),
    (f"{_D2}{_D2}{_D2}[.,][0-9]*", 8),
)
_ISO_OFFSET_GLOBS: Final = (f"[+-]{_D2}", f"[+-]{_D2}:{_D2}", f"[+-]{_D2}{_D2}")

_PG_ROOT: Final = sa.literal([], postgresql.ARRAY(sa.Text()))  # the path '{}': the value itself
_PG_KINDS: Final = {"null": "null", "string": "string", "number": "number"}
_SQLITE_KINDS: Final = {"null": ("null",), "string": ("text",), "number": ("integer", "real")}


def _process(compiler: SQLCompiler, element: Any, kw: dict[str, Any]) -> str:
    text: str = compiler.process(element, **kw)
    return text


# Constants are bind parameters too, one object per value: PostgreSQL then
# sends each once per statement, however often the SQL mentions it.


@functools.cache
def _const(text: str) -> Expr:
    return sa.literal(text, sa.String())


@functools.cache
def _int(value: int) -> Expr:
    return sa.literal(value, sa.BigInteger())


@functools.cache
def _pos(value: int) -> Expr:
    """A position or length for substr (INTEGER, as PostgreSQL's substr wants)."""
    return sa.literal(value, sa.Integer())


class _IsKind(ColumnElement[bool]):
    """Whether a JSON value is null, a string or a number (SQL NULL when absent)."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("value", InternalTraversal.dp_clauseelement),
        ("kind", InternalTraversal.dp_string),
    ]

    def __init__(self, value: Expr, kind: Literal["null", "string", "number"]) -> None:
        self.value = value
        self.kind = kind


@compiles(_IsKind, "postgresql")
def _is_kind_pg(element: _IsKind, compiler: SQLCompiler, **kw: Any) -> str:
    test = sa.func.jsonb_typeof(element.value) == _const(_PG_KINDS[element.kind])
    return _process(compiler, test, kw)


@compiles(_IsKind, "sqlite")
def _is_kind_sqlite(element: _IsKind, compiler: SQLCompiler, **kw: Any) -> str:
    names = [_const(name) for name in _SQLITE_KINDS[element.kind]]
    return _process(compiler, sa.func.json_type(element.value).in_(names), kw)


class _JsonText(ColumnElement[Any]):
    """A JSON scalar as SQL: the text of a string, the number of a number."""

    inherit_cache = True
    type = sa.String()
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]

    def __init__(self, value: Expr) -> None:
        self.value = value


@compiles(_JsonText, "postgresql")
def _json_text_pg(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, element.value.op("#>>", return_type=sa.Text())(_PG_ROOT), kw)


@compiles(_JsonText, "sqlite")
def _json_text_sqlite(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, element.value.op("->>")(_const("$")), kw)


class _Position(ColumnElement[int]):
    """1-based position of ``needle`` in ``text``, 0 when absent (case-sensitive)."""

    inherit_cache = True
    type = sa.Integer()
    _traverse_internals = [
        ("text", InternalTraversal.dp_clauseelement),
        ("needle", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, text: Expr, needle: Expr) -> None:
        self.text = text
        self.needle = needle


@compiles(_Position, "postgresql")
def _position_pg(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, sa.func.strpos(element.text, element.needle), kw)


@compiles(_Position, "sqlite")
def _position_sqlite(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, sa.func.instr(element.text, element.needle), kw)


class _Collate(ColumnElement[str]):
    """Text compared by code point, as Python compares str."""

    inherit_cache = True
    type = sa.String()
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]

    def __init__(self, text: Expr) -> None:
        self.text = text


@compiles(_Collate, "postgresql")
def _collate_pg(element: _Collate, compiler: SQLCompiler, **kw: Any) -> str:
    # "C" compares UTF-8 bytes, which orders like code points.
    return _process(compiler, sa.collate(element.text, "C"), kw)


@compiles(_Collate, "sqlite")
def _collate_sqlite(element: _Collate, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, element.text, kw)  # BINARY, the default, is memcmp on UTF-8


class _ParseDecimal(ColumnElement[Decimal]):
    """Text read as ``Decimal(text)`` reads it, as a SQL number; NULL when it is none."""

    inherit_cache = True
    type = sa.Numeric()
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]

    def __init__(self, text: Expr) -> None:
        self.text = text


def _decimal_text(text: Expr, trim: str) -> Expr:
    stripped = getattr(sa.func, trim)(text, _const(_WHITESPACE))
    return sa.func.replace(stripped, _const("_"), _const(""))


@compiles(_ParseDecimal, "postgresql")
def _parse_decimal_pg(element: _ParseDecimal, compiler: SQLCompiler, **kw: Any) -> str:
    text = _decimal_text(element.text, "btrim")
    valid = sa.and_(
        text.op("~", is_comparison=True)(_const(_DECIMAL_REGEX)),
        sa.func.length(text) <= _int(_DECIMAL_MAX_LENGTH),
    )
    return _process(compiler, sa.case((valid, sa.cast(text, sa.Numeric()))), kw)


@compiles(_ParseDecimal, "sqlite")
def _parse_decimal_sqlite(element: _ParseDecimal, compiler: SQLCompiler, **kw: Any) -> str:
    text = sa.literal_column("procedo_num.value", sa.String())
    valid = sa.and_(
        *(sa.not_(_glob(text, pattern)) for pattern in _DECIMAL_NOT_GLOBS),
        sa.or_(*(_glob(text, pattern) for pattern in _DECIMAL_START_GLOBS)),
    )
    parsed = _process(compiler, sa.case((valid, sa.cast(text, sa.Numeric()))), kw)
    source = _process(compiler, _decimal_text(element.text, "trim"), kw)
    return f"(SELECT {parsed} FROM json_each(json_array({source})) AS procedo_num)"  # noqa: S608 - compiled SQL, values are binds


def _glob(text: Expr, pattern: str) -> ColumnElement[bool]:
    return text.op("GLOB", is_comparison=True)(_const(pattern))


class _ParseIso(ColumnElement[int]):
    """ISO text as a ``YYYYMMDD`` integer (date) or UTC microseconds (datetime); NULL if none."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [
        ("text", InternalTraversal.dp_clauseelement),
        ("want", InternalTraversal.dp_string),
    ]

    def __init__(self, text: Expr, want: Literal["date", "datetime"]) -> None:
        self.text = text
        self.want = want


def _integer(text: Expr) -> Expr:
    return sa.cast(text, sa.BigInteger())


class _Lets:
    """FROM items of a subquery that compute a value once per row (``value`` column).

    ``bind`` renders one item; with ``every`` false only ``force``d values are
    bound and the others stay inline (PostgreSQL evaluates inline expressions
    cheaply, while SQLite's parser needs the nesting kept shallow).
    """

    def __init__(
        self,
        compiler: SQLCompiler,
        kw: dict[str, Any],
        bind: Callable[[str, str], str],
        every: bool,
    ) -> None:
        self.compiler, self.kw, self.bind, self.every = compiler, kw, bind, every
        self.sources: list[str] = []

    def __call__(self, name: str, value: Expr, *, force: bool = False) -> Expr:
        if not (force or self.every):
            return value
        alias = f"procedo_{name}"
        self.sources.append(self.bind(_process(self.compiler, value, self.kw), alias))
        return sa.literal_column(f"{alias}.value", value.type)

    def select(self, value: Expr) -> str:
        body = _process(self.compiler, value, self.kw)
        return f"(SELECT {body} FROM {', '.join(self.sources)})"  # noqa: S608 - compiled SQL, values are binds


@compiles(_ParseIso, "postgresql")
def _parse_iso_pg(element: _ParseIso, compiler: SQLCompiler, **kw: Any) -> str:
    # One regular expression without capture groups (those are slow in PostgreSQL).
    def matched(text: Expr, time: Expr, offset: Expr) -> ColumnElement[bool]:
        return text.op("~", is_comparison=True)(_const(_ISO_PATTERN))

    def bind(sql: str, name: str) -> str:
        return f"LATERAL (SELECT {sql} AS value OFFSET 0) AS {name}"

    return _parse_iso(element, _Lets(compiler, kw, bind, every=False), matched)


@compiles(_ParseIso, "sqlite")
def _parse_iso_sqlite(element: _ParseIso, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite has no regular expressions: GLOB patterns per part.
    def matched(text: Expr, time: Expr, offset: Expr) -> ColumnElement[bool]:
        time_ok = sa.or_(
            *(_glob(time, pattern) for pattern in _ISO_TIME_GLOBS),
            *(
                sa.and_(
                    _glob(time, pattern),
                    sa.not_(_glob(sa.func.substr(time, _pos(start)), "*[^0-9]*")),
                )
                for pattern, start in _ISO_FRACTION_GLOBS
            ),
        )
        offset_ok = sa.or_(
            offset == _const(""),
            offset == _const("Z"),
            *(_glob(offset, pattern) for pattern in _ISO_OFFSET_GLOBS),
        )
        return sa.and_(
            _glob(text, _ISO_DATE_GLOB),
            sa.or_(sa.func.length(text) == _pos(10), sa.and_(time_ok, offset_ok)),
        )

    def bind(sql: str, name: str) -> str:
        return f"json_each(json_array({sql})) AS {name}"

    return _parse_iso(element, _Lets(compiler, kw, bind, every=True), matched)


def _parse_iso(
    element: _ParseIso,
    let: _Lets,
    matched: Callable[[Expr, Expr, Expr], ColumnElement[bool]],
) -> str:
    """A subquery reading ISO text by position: the date key or UTC microseconds, or NULL.

    After the date (positions 1-10) and one separator come the time and the
    offset, split at the first Z, + or -. Numbers are computed only once
    ``matched`` holds, so every CAST sees digits (PostgreSQL's CAST raises on
    anything else), and checked as Python checks them.
    """
    text = let("iso", element.text, force=True)
    rest = sa.func.substr(text, _pos(12))
    marks = sum((_Position(rest, _const(character)) for character in "Z+-"), start=_pos(0))
    mark = let("mark", marks, force=True)
    time = let(
        "time",
        sa.case((mark > _pos(0), sa.func.substr(rest, _pos(1), mark - _pos(1))), else_=rest),
        force=True,
    )
    offset = let(
        "offset",
        sa.case((mark > _pos(0), sa.func.substr(rest, mark)), else_=_const("")),
        force=True,
    )
    colons = sa.func.substr(time, _pos(3), _pos(1)) == _const(":")

    def piece(with_colons: int, without: int, length: int | None = None) -> Expr:
        start = sa.case((colons, _pos(with_colons)), else_=_pos(without))
        if length is None:
            return sa.func.substr(time, start)
        return sa.func.substr(time, start, _pos(length))

    offset_length = sa.func.length(offset)
    year = let("year", _digits(sa.func.substr(text, _pos(1), _pos(4))))
    month = let("month", _digits(sa.func.substr(text, _pos(6), _pos(2))))
    day = let("day", _digits(sa.func.substr(text, _pos(9), _pos(2))))
    hour = _digits(sa.func.substr(time, _pos(1), _pos(2)))
    minute = _digits(piece(4, 3, 2))
    second = _digits(piece(7, 5, 2))
    offset_minutes = let(
        "offset_minutes",
        _digits(sa.func.substr(offset, _pos(2), _pos(2))) * _int(60)
        + _digits(
            sa.case(
                (offset_length == _pos(6), sa.func.substr(offset, _pos(5), _pos(2))),
                (offset_length == _pos(5), sa.func.substr(offset, _pos(4), _pos(2))),
                else_=_const(""),
            )
        ),
    )
    valid = sa.and_(
        year >= _int(1),
        month >= _int(1),
        month <= _int(12),
        day >= _int(1),
        day <= _days_in_month(year, month),
        hour <= _int(23),
        minute <= _int(59),
        second <= _int(59),
        offset_minutes < _int(24 * 60),  # Python: strictly within a day
    )
    if element.want == "date":
        value = year * _int(10000) + month * _int(100) + day
    else:
        # Python reads up to six fraction digits and ignores the rest.
        micro = _integer(sa.func.substr(piece(10, 8).concat(_const("000000")), _pos(1), _pos(6)))
        seconds = let("seconds", (hour * _int(60) + minute) * _int(60) + second)
        negative = sa.func.substr(offset, _pos(1), _pos(1)) == _const("-")
        sign = sa.case((negative, _int(-1)), else_=_int(1))
        value = (
            let("days", _days_from_civil(year, month, day, let)) * _int(86_400_000_000)
            + seconds * _int(1_000_000)
            + micro
            - sign * offset_minutes * _int(60_000_000)
        )
    # Nested CASEs: PostgreSQL may evaluate the operands of AND in any order.
    return let.select(sa.case((matched(text, time, offset), sa.case((valid, value)))))


def _digits(text: Expr) -> Expr:
    """Digits as a number, an absent part ("") as 0."""
    return _integer(sa.func.coalesce(sa.func.nullif(text, _const("")), _const("0")))


def _days_in_month(year: Expr, month: Expr) -> Expr:
    leap = sa.and_(
        year % _int(4) == _int(0),
        sa.or_(year % _int(100) != _int(0), year % _int(400) == _int(0)),
    )
    return sa.case(
        (month == _int(2), sa.case((leap, _int(29)), else_=_int(28))),
        (month.in_([_int(4), _int(6), _int(9), _int(11)]), _int(30)),
        else_=_int(31),
    )


def _days_from_civil(year: Expr, month: Expr, day: Expr, let: _Lets) -> Expr:
    """Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm, years >= 1)."""
    shifted = let("shifted", year - sa.case((month <= _int(2), _int(1)), else_=_int(0)))
    era = let("era", shifted // _int(400))
    year_of_era = let("year_of_era", shifted - era * _int(400))
    day_of_year = (_int(153) * ((month + _int(9)) % _int(12)) + _int(2)) // _int(5) + day - _int(1)
    day_of_era = (
        year_of_era * _int(365) + year_of_era // _int(4) - year_of_era // _int(100) + day_of_year
    )
    return era * _int(146097) + day_of_era - _int(719468)


# SQLite's parser stack (YYSTACKDEPTH 100) holds only some 17-30 levels of
# alternating and/or around a comparison: trees deeper than _NESTED_DEPTH are
# rendered there in stages of _STAGE_DEPTH levels (measured: a depth-64 tree of
# date comparisons in arrays leaves room for 13 more levels of parentheses).
_NESTED_DEPTH: Final = 8
_STAGE_DEPTH: Final = 4
_STAGE_WIDTH: Final = 100  # values per json_array call (SQLite allows 127 arguments)


class _Program(ColumnElement[bool]):
    """A rule tree deeper than ``_NESTED_DEPTH``: nested on PostgreSQL, flat on SQLite."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("leaves", InternalTraversal.dp_clauseelement_list),
        ("program", InternalTraversal.dp_string),
    ]

    def __init__(self, program: list[str], leaves: list[ColumnElement[bool]]) -> None:
        self.program = " ".join(program)
        self.leaves = leaves


@compiles(_Program, "postgresql")
def _program_pg(element: _Program, compiler: SQLCompiler, **kw: Any) -> str:
    return _process(compiler, _nest(element.program.split(), element.leaves), kw)


@compiles(_Program, "sqlite")
def _program_sqlite(element: _Program, compiler: SQLCompiler, **kw: Any) -> str:
    # Nodes whose height is a multiple of _STAGE_DEPTH are computed once in a
    # FROM item (a one-row json_each over an array of them, a stage per height)
    # and read back by index; the SQL between them nests _STAGE_DEPTH deep at
    # most, and the FROM list stays far below SQLite's 64 tables per join.
    texts: list[str] = []  # per node in postfix order: its SQL, or a read of its stage
    heights: list[int] = []
    stack: list[int] = []
    stages: dict[int, list[str]] = {}
    taken = iter(element.leaves)
    for step in element.program.split():
        if step == "L":
            text, height = _process(compiler, next(taken), kw), 0
        else:
            count = int(step[1:])
            children = stack[len(stack) - count :]
            del stack[len(stack) - count :]
            parts = [texts[child] for child in children]
            height = 1 + max((heights[child] for child in children), default=0)
            if step[0] == "A":
                text = f"({' AND '.join(parts)})" if parts else "1"
            else:
                text = f"({' OR '.join(parts)})" if parts else "0"
            if height % _STAGE_DEPTH == 0:
                stage = stages.setdefault(height // _STAGE_DEPTH, [])
                chunk, slot = divmod(len(stage), _STAGE_WIDTH)
                stage.append(text)
                index = _process(compiler, _pos(slot), kw)
                text = f"(procedo_stage{height // _STAGE_DEPTH}_{chunk}.value ->> {index})"
        stack.append(len(texts))
        texts.append(text)
        heights.append(height)
    sources = [
        f"json_each(json_array(json_array({', '.join(values[start : start + _STAGE_WIDTH])})))"
        f" AS procedo_stage{number}_{start // _STAGE_WIDTH}"
        for number, values in sorted(stages.items())
        for start in range(0, len(values), _STAGE_WIDTH)
    ]
    return f"(SELECT {texts[stack[0]]} FROM {', '.join(sources)})"  # noqa: S608 - compiled SQL, values are binds


class _Element(ColumnElement[Any]):
    """The array element an enclosing ``_AnyElement`` is looking at."""

    inherit_cache = True
    type = JSONType
    _traverse_internals: list[tuple[str, Any]] = []


@compiles(_Element, "postgresql")
def _element_pg(element: _Element, compiler: SQLCompiler, **kw: Any) -> str:
    return "procedo_elem.value"


@compiles(_Element, "sqlite")
def _element_sqlite(element: _Element, compiler: SQLCompiler, **kw: Any) -> str:
    # json_each gives SQL values; the element's own JSON text keeps true/false apart from 1/0.
    return "(procedo_elem.json -> procedo_elem.fullkey)"


class _AnyElement(ColumnElement[bool]):
    """Whether ``test`` (over ``_Element()``) holds for an element of a JSON array."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("array", InternalTraversal.dp_clauseelement),
        ("test", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, array: Expr, test: ColumnElement[bool]) -> None:
        self.array = array
        self.test = test


def _array_only(array: Expr, kind_of: Callable[[Expr], Expr]) -> Expr:
    return sa.case((kind_of(array) == _const("array"), array))


@compiles(_AnyElement, "postgresql")
def _any_element_pg(element: _AnyElement, compiler: SQLCompiler, **kw: Any) -> str:
    # jsonb_array_elements raises on a non-array, so anything else becomes NULL (no rows).
    array = _process(compiler, _array_only(element.array, sa.func.jsonb_typeof), kw)
    test = _process(compiler, element.test, kw)
    return (
        f"EXISTS (SELECT 1 FROM jsonb_array_elements({array}) AS procedo_elem(value) WHERE {test})"  # noqa: S608 - compiled SQL, values are binds
    )


@compiles(_AnyElement, "sqlite")
def _any_element_sqlite(element: _AnyElement, compiler: SQLCompiler, **kw: Any) -> str:
    array = _process(compiler, _array_only(element.array, sa.func.json_type), kw)
    test = _process(compiler, element.test, kw)
    return f"EXISTS (SELECT 1 FROM json_each({array}) AS procedo_elem WHERE {test})"  # noqa: S608 - compiled SQL, values are binds
