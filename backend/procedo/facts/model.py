"""Computed facts declared as data: what a subject type's computed field is made of.

A field of a subject type may carry ``"compute": {...}``, one of:

* ``aggregate``: count, sum, min, max or ``none`` over the debtor's open items,
  filtered by status and by due date relative to today;
* ``age``: days from a date field (stored or computed) to today, calendar days
  or business days (weekends and the tenant's public holidays skipped);
* ``activity``: the count, or the date of the last one, of rows of the
  subject's history (``email_queued``, ``task_completed`` ...), optionally only
  those a workflow wrote and those a node marked (``data.mark``);
* ``tasks``: how many of the subject's tasks are open (or completed), optionally
  only those a node marked (``data.mark`` of the task's ``task_opened`` row);
* ``exceeds``: whether one decimal field is above another (debt above credit limit).

The same declaration is read two ways: ``facts.python`` computes the values for
one subject, ``facts.sql`` compiles them to SQL for set-based selection. Both
take "today" in the tenant's time zone (``facts.calendar``).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, TypeAlias

import msgspec

# db/receivables.py ITEM_STATUSES (a test keeps them equal).
ItemStatus = Literal["open", "dispute", "promise", "payment_plan", "outsourced", "paid"]

FieldRef = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
Mark = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
HistoryKind = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class _Fact(msgspec.Struct, frozen=True, tag_field="kind", forbid_unknown_fields=True):
    pass


class Aggregate(_Fact, tag="aggregate", frozen=True, kw_only=True):
    """count/sum/min/max (or ``none``: no such item) over the subject's open items."""

    function: Literal["count", "sum", "min", "max", "none"]
    # The item column summed or compared; count and none need none.
    value: Literal["open_amount", "amount", "due_date", "issue_date"] | None = None
    # Only items in these statuses; empty means every status.
    statuses: list[ItemStatus] = []
    # overdue: due before today; due: due today or before; not_due: due after today.
    due: Literal["any", "overdue", "due", "not_due"] = "any"


class Age(_Fact, tag="age", frozen=True, kw_only=True):
    """Days from a date field to today; negative when the date lies ahead; absent without one."""

    since: FieldRef
    days: Literal["calendar", "business"] = "calendar"


class Activity(_Fact, tag="activity", frozen=True, kw_only=True):
    """How many history rows (or the local date of the last) of the kinds named."""

    function: Literal["count", "last"]
    events: Annotated[list[HistoryKind], msgspec.Meta(min_length=1)]
    # Only rows a workflow wrote (an instance's), not a person's manual action.
    workflow_only: bool = True
    # Only rows whose ``data.mark`` is one of these; empty means every row.
    marks: list[Mark] = []


class Tasks(_Fact, tag="tasks", frozen=True, kw_only=True):
    """How many of the subject's tasks are in a status, optionally only those a node marked.

    A task's mark is the ``data.mark`` of the ``task_opened`` history row its node wrote.
    """

    function: Literal["count"] = "count"
    status: Literal["open", "completed", "cancelled"] = "open"
    marks: list[Mark] = []


class Exceeds(_Fact, tag="exceeds", frozen=True, kw_only=True):
    """``value > limit`` for two decimal fields; false when either is absent."""

    value: FieldRef
    limit: FieldRef


Fact: TypeAlias = Aggregate | Age | Activity | Tasks | Exceeds

# The field type a fact's value has, which the declaring field must have too.
ResultType = Literal["integer", "decimal", "date", "bool"]
DATE_COLUMNS: Final = frozenset({"due_date", "issue_date"})


def result_type(fact: Fact) -> ResultType:
    if isinstance(fact, Aggregate):
        if fact.function == "count":
            return "integer"
        if fact.function == "none":
            return "bool"
        return "date" if fact.value in DATE_COLUMNS else "decimal"
    if isinstance(fact, Age):
        return "integer"
    if isinstance(fact, Activity):
        return "integer" if fact.function == "count" else "date"
    if isinstance(fact, Tasks):
        return "integer"
    return "bool"


def fact_problem(fact: Fact) -> str | None:
    """What is wrong with a declaration on its own (its references are checked by the type)."""
    if isinstance(fact, Aggregate):
        if fact.function in ("count", "none") and fact.value is not None:
            return f"{fact.function} counts items: it takes no 'value'"
        if fact.function not in ("count", "none") and fact.value is None:
            return f"{fact.function} needs a 'value': open_amount, amount, due_date or issue_date"
        if fact.function == "sum" and fact.value in DATE_COLUMNS:
            return f"dates cannot be summed: use min or max of {fact.value}"
    return None
