"""Computed facts compiled to SQL: one expression per fact, correlated to the subject row.

``fact_expressions`` gives each computed field of a subject type as a SQL
expression over ``subjects`` (scalar subqueries over open items and history),
equal to what ``facts.python`` computes for that subject. ``with_facts`` wraps
the subjects in a subquery with the facts as columns, so each is computed once
per row however often a rule mentions it, and ``select_matching`` selects the
subjects a rule accepts with ``rules.sql.to_sql`` reading the facts as typed
columns (no JSON).

"Today" is the tenant's date at ``calendar.now``: PostgreSQL computes it from
the moment and the time zone itself (its own time zone database); SQLite,
which has none, gets the date Python computed. A history row's local date is
``timezone()`` on PostgreSQL and a Python function registered on every SQLite
connection (``db/sqlite_functions.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, TypeAlias

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from procedo.db.models import History, Instance, Subject, Task
from procedo.db.receivables import OpenItem
from procedo.facts.calendar import DAY_ZERO, Calendar
from procedo.facts.declared import Computed
from procedo.facts.model import Activity, Age, Aggregate, Exceeds, Fact, Tasks
from procedo.facts.shortcuts import shortcut, shortcut_names
from procedo.rules.model import Rule, Value, compares
from procedo.rules.sql import ComputedValue, DirectCompare, _field, to_sql
from procedo.rules.today import today_is

__all__ = ["fact_expressions", "room_for_selection", "select_matching", "with_facts"]

# A selection's hash joins hold the tenant's debtors (16 bytes of id each, and their
# notices and overdue items): with PostgreSQL's default 4 MB they spill to disk in
# batches, and D6 over a million debtors spends a fifth of its time there.
SELECTION_WORK_MEM: Final = "64MB"

Expr: TypeAlias = ColumnElement[Any]
SubjectTable: TypeAlias = Any  # the subjects table or an alias of it


def fact_expressions(
    computed: Sequence[Computed], calendar: Calendar, subject: SubjectTable = None
) -> dict[str, Expr]:
    """Each computed field as SQL (integer, numeric in units, DATE or boolean), by name."""
    table = Subject.__table__ if subject is None else subject
    context = _Context(table, calendar)
    for field in computed:  # dependency order: an age finds its date already compiled
        context.values[field.name] = context.compile(field.fact, field.type)
    return context.values


def with_facts(
    computed: Sequence[Computed], calendar: Calendar, names: Sequence[str] | None = None
) -> sa.Subquery:
    """subjects (id, tenant_id, type, key, status, fields) plus the facts named (all by default)."""
    wanted = [f for f in computed if names is None or f.name in names]
    expressions = fact_expressions(computed, calendar)
    columns = [expressions[f.name].label(f"fact_{f.name}") for f in wanted]
    subjects = Subject.__table__
    return sa.select(
        subjects.c.id,
        subjects.c.tenant_id,
        subjects.c.type,
        subjects.c.key,
        subjects.c.status,
        subjects.c.fields,
        *columns,
    ).subquery("subject_facts")


def select_matching(
    rule: Rule,
    computed: Sequence[Computed],
    calendar: Calendar,
    tenant_id: Any,
    subject_type: str,
) -> sa.Select[tuple[Any]]:
    """The ids of the tenant's subjects of the type that ``rule`` accepts, facts included."""
    named = {c.field.removeprefix("subject.") for c in compares(rule)}
    used = [f for f in computed if f.name in named]
    subjects = Subject.__table__
    base = sa.select(subjects).where(
        subjects.c.tenant_id == tenant_id, subjects.c.type == subject_type
    )
    if not used:
        with today_is(calendar.today):
            return sa.select(subjects.c.id).where(
                subjects.c.tenant_id == tenant_id,
                subjects.c.type == subject_type,
                to_sql(rule, subjects),
            )
    by_name = {f.name: f for f in computed}
    # Facts only compared as (NOT) EXISTS are not computed per subject (facts/shortcuts.py).
    answered = shortcut_names(compares(rule), by_name, calendar)
    as_columns = [f for f in used if f.name not in answered]
    filtered = base.subquery("subjects_of_type")
    expressions = fact_expressions(computed, calendar, filtered)
    inner = sa.select(
        filtered.c.id,
        filtered.c.status,
        filtered.c.fields,
        *(expressions[f.name].label(f"fact_{f.name}") for f in as_columns),
    ).subquery("subject_facts")
    rows = _Context(inner, calendar)
    readings = {
        f.name: rule_value(
            inner.c[f"fact_{f.name}"] if f in as_columns else sa.null(),
            f.type,
            functools.partial(_direct, f, by_name=by_name, calendar=calendar, rows=rows),
        )
        for f in used
    }
    with today_is(calendar.today):  # the rule's today is the facts' today
        return sa.select(inner.c.id).where(to_sql(rule, inner, computed=readings))


def _direct(
    field: Computed,
    op: str,
    literal: Value | None,
    *,
    by_name: Mapping[str, Computed],
    calendar: Calendar,
    rows: _Context,
) -> ColumnElement[bool] | None:
    found = shortcut(field, op, literal, by_name, calendar)
    return found(rows) if found is not None else None


def room_for_selection(connection: sa.Connection | Session) -> None:
    """Give this transaction's selection memory for its joins (PostgreSQL; a no-op elsewhere)."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name == "postgresql":
        connection.execute(sa.text(f"SET LOCAL work_mem = '{SELECTION_WORK_MEM}'"))


def rule_value(column: Expr, field_type: str, direct: DirectCompare | None = None) -> ComputedValue:
    """A fact column as ``to_sql`` reads it: per literal kind, as evaluate coerces the value."""
    readings: dict[str, Expr]
    if field_type in ("integer", "decimal"):
        readings = {"decimal": column}
    elif field_type == "date":
        readings = {"date": _DateKey(column), "datetime": _DateMicros(column)}
    else:
        readings = {"bool": sa.case((column, sa.literal(1)), else_=sa.literal(0))}
    return ComputedValue(column, readings, direct)


# --------------------------------------------------------------------------- compiling


class _Context:
    def __init__(self, subject: SubjectTable, calendar: Calendar) -> None:
        self.subject = subject
        self.calendar = calendar
        self.today: Expr = _Today(
            sa.literal(calendar.now, sa.DateTime(timezone=True)),
            sa.literal(calendar.timezone, sa.String()),
            sa.literal(calendar.today, sa.Date()),
        )
        self.values: dict[str, Expr] = {}

    def compile(self, fact: Fact, field_type: str) -> Expr:
        if isinstance(fact, Aggregate):
            return self.aggregate(fact)
        if isinstance(fact, Age):
            return self.age(fact)
        if isinstance(fact, Activity):
            return self.activity(fact)
        if isinstance(fact, Tasks):
            return self.tasks(fact)
        return self.exceeds(fact)

    def item_rows(self, fact: Aggregate) -> list[ColumnElement[bool]]:
        """The subject's open items the fact is made of."""
        items = OpenItem.__table__
        where: list[ColumnElement[bool]] = [items.c.debtor_id == self.subject.c.id]
        if fact.statuses:
            where.append(items.c.status.in_(fact.statuses))
        due = items.c.due_date
        if fact.due == "overdue":
            where.append(due < self.today)
        elif fact.due == "due":
            where.append(due <= self.today)
        elif fact.due == "not_due":
            where.append(due > self.today)
        return where

    def aggregate(self, fact: Aggregate) -> Expr:
        items = OpenItem.__table__
        where = self.item_rows(fact)
        if fact.function == "none":
            return sa.not_(sa.exists().where(*where))
        if fact.function == "count":
            return sa.select(sa.func.count()).where(*where).scalar_subquery()
        assert fact.value is not None
        column = items.c[fact.value]
        if fact.function == "sum":
            total = sa.func.coalesce(sa.func.sum(column), sa.literal(0))
            return _Units(sa.select(total).where(*where).scalar_subquery())
        function = sa.func.min if fact.function == "min" else sa.func.max
        found = sa.select(function(column)).where(*where).scalar_subquery()
        return found if fact.value in ("due_date", "issue_date") else _Units(found)

    def age(self, fact: Age) -> Expr:
        since = self.values.get(fact.since)
        if since is None:  # a stored date field, read as evaluate reads it
            key = self.stored(fact.since).coerce("date")
            since = _KeyDate(key) if key is not None else sa.cast(sa.null(), sa.Date())
        if fact.days == "calendar":
            return _DaysBetween(since, self.today)
        return _business_days(since, self.today, self.calendar.holidays)

    def history_rows(self, fact: Activity) -> list[ColumnElement[bool]]:
        """The subject's history rows the fact counts."""
        history = History.__table__
        where: list[ColumnElement[bool]] = [
            history.c.subject_id == self.subject.c.id,
            history.c.kind.in_(fact.events),
        ]
        if fact.workflow_only:
            where.append(history.c.instance_id.is_not(None))
        if fact.marks:
            where.append(history.c.data["mark"].as_string().in_(fact.marks))
        return where

    def activity(self, fact: Activity) -> Expr:
        history = History.__table__
        where = self.history_rows(fact)
        if fact.function == "count":
            return sa.select(sa.func.count()).where(*where).scalar_subquery()
        last = sa.select(sa.func.max(history.c.at)).where(*where).scalar_subquery()
        return LocalDate(last, sa.literal(self.calendar.timezone, sa.String()))

    def tasks(self, fact: Tasks) -> Expr:
        return sa.select(sa.func.count()).where(*self.task_rows(fact)).scalar_subquery()

    def task_rows(self, fact: Tasks) -> list[ColumnElement[bool]]:
        """The subject's tasks the fact counts."""
        tasks, history = Task.__table__, History.__table__
        instances = Instance.__table__
        # Through the subject's instances: tasks have no index on their subject.
        where: list[ColumnElement[bool]] = [
            tasks.c.instance_id.in_(
                sa.select(instances.c.id)
                .where(instances.c.subject_id == self.subject.c.id)
                .correlate_except(instances)  # two levels down: say which row it reads
            ),
            tasks.c.status == fact.status,
        ]
        if fact.marks:
            where.append(
                sa.exists().where(
                    history.c.instance_id == tasks.c.instance_id,
                    history.c.node_id == tasks.c.node_id,
                    history.c.kind == "task_opened",
                    history.c.data["mark"].as_string().in_(fact.marks),
                )
            )
        return where

    def exceeds(self, fact: Exceeds) -> Expr:
        value, limit = self.number(fact.value), self.number(fact.limit)
        if value is None or limit is None:
            return sa.false()
        return sa.func.coalesce(value > limit, sa.false(), type_=sa.Boolean())

    def number(self, name: str) -> Expr | None:
        computed = self.values.get(name)
        return computed if computed is not None else self.stored(name).coerce("decimal")

    def stored(self, name: str) -> Any:
        return _field(f"subject.{name}", self.subject.c.fields, self.subject.c.status)


def _business_days(start: Expr, end: Expr, holidays: tuple[dt.date, ...]) -> Expr:
    """business_days_between (calendar.py) in SQL: weekdays after start up to end, less holidays."""
    first, last = _DayNumber(start), _DayNumber(end)

    def weekdays_before(number: Expr) -> Expr:
        rest = number % _int(7)
        return (number // _int(7)) * _int(5) + sa.case((rest > _int(5), _int(5)), else_=rest)

    def forward(a: Expr, b: Expr, a_number: Expr, b_number: Expr) -> Expr:
        weekdays = weekdays_before(b_number + _int(1)) - weekdays_before(a_number + _int(1))
        return weekdays - _HolidaysBetween(a, b, holidays)

    return sa.case(
        (start.is_(None), sa.null()),
        (last >= first, forward(start, end, first, last)),
        else_=-forward(end, start, last, first),
    )


def _int(value: int) -> Expr:
    return sa.literal(value, sa.BigInteger())


# --------------------------------------------------------------------------- constructs


class _Element(ColumnElement[Any]):
    """A construct rendered per dialect from its ``parts``."""

    inherit_cache = True
    _traverse_internals = [("parts", InternalTraversal.dp_clauseelement_tuple)]

    def __init__(self, *parts: Expr) -> None:
        self.parts = parts


def _per_dialect(cls: type[_Element], pg: Callable[..., Expr], sqlite: Callable[..., Expr]) -> None:
    def render(builder: Callable[..., Expr]) -> Callable[..., str]:
        def compile_it(element: _Element, compiler: SQLCompiler, **kw: Any) -> str:
            text: str = compiler.process(builder(*element.parts), **kw)
            return text

        return compile_it

    compiles(cls, "postgresql")(render(pg))
    compiles(cls, "sqlite")(render(sqlite))


class _Today(_Element):
    inherit_cache = True
    type = sa.Date()


_per_dialect(
    _Today,
    lambda now, zone, _date: sa.cast(
        sa.func.timezone(zone, sa.cast(now, postgresql.TIMESTAMP(timezone=True))), sa.Date()
    ),
    lambda _now, _zone, date: date,
)


class _Units(_Element):
    """An amount as a number of units: Money keeps cents on SQLite."""

    inherit_cache = True
    type = sa.Numeric()


_per_dialect(
    _Units,
    lambda amount: sa.cast(amount, sa.Numeric()),
    lambda amount: amount / sa.literal(100.0, sa.Float()),
)


class _DaysBetween(_Element):
    inherit_cache = True
    type = sa.Integer()


_per_dialect(
    _DaysBetween,
    lambda start, end: end - start,
    lambda start, end: sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer()),
)


class _DayNumber(_Element):
    inherit_cache = True
    type = sa.BigInteger()


_per_dialect(
    _DayNumber,
    lambda day: day - sa.literal(DAY_ZERO, sa.Date()),
    lambda day: sa.cast(
        sa.func.julianday(day) - sa.func.julianday(sa.literal(DAY_ZERO.isoformat())), sa.Integer()
    ),
)


class _KeyDate(_Element):
    """A YYYYMMDD integer (rules/sql.py's reading of ISO text) as a SQL date."""

    inherit_cache = True
    type = sa.Date()


_per_dialect(
    _KeyDate,
    lambda key: sa.func.to_date(sa.cast(key, sa.Text()), sa.literal("YYYYMMDD")),
    lambda key: sa.func.printf(
        sa.literal("%04d-%02d-%02d"),
        key // _int(10000),
        key // _int(100) % _int(100),
        key % _int(100),
    ),
)


class _DateKey(_Element):
    """A SQL date as the YYYYMMDD integer rules/sql.py compares dates by."""

    inherit_cache = True
    type = sa.BigInteger()


_per_dialect(
    _DateKey,
    lambda day: sa.cast(sa.func.to_char(day, sa.literal("YYYYMMDD")), sa.BigInteger()),
    lambda day: sa.cast(sa.func.strftime(sa.literal("%Y%m%d"), day), sa.BigInteger()),
)

_EPOCH: Final = dt.date(1970, 1, 1)
_DAY_MICROS: Final = 86_400_000_000


class _DateMicros(_Element):
    """A SQL date as microseconds since the epoch at UTC midnight (a datetime literal's reading)."""

    inherit_cache = True
    type = sa.BigInteger()


_per_dialect(
    _DateMicros,
    lambda day: sa.cast(day - sa.literal(_EPOCH, sa.Date()), sa.BigInteger()) * _int(_DAY_MICROS),
    lambda day: (
        sa.cast(
            sa.func.julianday(day) - sa.func.julianday(sa.literal(_EPOCH.isoformat())),
            sa.BigInteger(),
        )
        * _int(_DAY_MICROS)
    ),
)


class LocalDate(_Element):
    """A UTC moment's date in a time zone (``LocalDate(column, zone literal)``)."""

    inherit_cache = True
    type = sa.Date()


_per_dialect(
    LocalDate,
    lambda moment, zone: sa.cast(sa.func.timezone(zone, moment), sa.Date()),
    lambda moment, zone: sa.func.procedo_local_date(moment, zone),
)


class _HolidaysBetween(ColumnElement[int]):
    """How many of the holidays fall after ``start`` up to and including ``end``."""

    inherit_cache = True
    type = sa.Integer()
    _traverse_internals = [
        ("start", InternalTraversal.dp_clauseelement),
        ("end", InternalTraversal.dp_clauseelement),
        ("days", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, start: Expr, end: Expr, holidays: tuple[dt.date, ...]) -> None:
        self.start, self.end = start, end
        self.days = sa.literal([day.isoformat() for day in holidays], _HolidayList())


class _HolidayList(sa.types.TypeDecorator[list[str]]):
    """ISO dates: a date[] on PostgreSQL, a JSON array text on SQLite."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Date()))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return [dt.date.fromisoformat(day) for day in value]
        return "[" + ",".join(f'"{day}"' for day in value) + "]"


@compiles(_HolidaysBetween, "postgresql")
def _holidays_pg(element: _HolidaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    days, start, end = (
        compiler.process(e, **kw) for e in (element.days, element.start, element.end)
    )
    return (
        f"(SELECT count(*) FROM unnest({days}) AS procedo_holiday(day) "  # noqa: S608 - binds only
        f"WHERE procedo_holiday.day > {start} AND procedo_holiday.day <= {end})"
    )


@compiles(_HolidaysBetween, "sqlite")
def _holidays_sqlite(element: _HolidaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    days, start, end = (
        compiler.process(e, **kw) for e in (element.days, element.start, element.end)
    )
    return (
        f"(SELECT count(*) FROM json_each({days}) AS procedo_holiday "  # noqa: S608 - binds only
        f"WHERE procedo_holiday.value > {start} AND procedo_holiday.value <= {end})"
    )


def read_value(value: Any, field_type: str) -> Any:
    """A fact as a query returns it, as facts.python gives it (dates and Decimals)."""
    if value is None:
        return None
    if field_type == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if field_type == "decimal":
        return Decimal(str(value))
    if field_type == "bool":
        return bool(value)
    return int(value)
