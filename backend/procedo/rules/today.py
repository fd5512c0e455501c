""" "today" in rules: the date a ``today`` literal stands for while a rule is evaluated.

A rule such as ``subject.due_date < today - 14`` is stored as data (``{"type": "today",
"days": -14}``) and means the tenant's date at the moment it is evaluated. Whoever
evaluates or compiles a rule for a tenant says which date that is with ``today_is``
(the engine for a step, the scheduler and the fact pass for a selection); without
one it is the date in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_TODAY: ContextVar[dt.date | None] = ContextVar("procedo_rules_today", default=None)


def today() -> dt.date:
    """The date ``today`` stands for now."""
    found = _TODAY.get()
    return found if found is not None else dt.datetime.now(dt.UTC).date()


@contextmanager
def today_is(day: dt.date) -> Iterator[None]:
    """Evaluate and compile rules with ``today`` meaning ``day`` inside the block."""
    token = _TODAY.set(day)
    try:
        yield
    finally:
        _TODAY.reset(token)
