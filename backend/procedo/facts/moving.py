"""Which computed fields move with the clock alone (light: the wait node imports it on save).

An age grows every (business) day; an aggregate filtered on due dates changes the day an
item falls due or overdue; ``exceeds`` moves when what it compares does. Counts of
history rows and tasks change only when rows do.
"""

from __future__ import annotations

from collections.abc import Sequence

from procedo.facts.declared import Computed, computed_fields
from procedo.facts.model import Age, Aggregate, Exceeds
from procedo.rules.model import Compare, ListValue, Rule, TodayValue, compares
from procedo.subjects import SubjectType


def clock_fields(computed: Sequence[Computed]) -> frozenset[str]:
    """The computed fields whose value changes as days pass, with no row changing."""
    moving: set[str] = set()
    for field in computed:  # dependency order: what a field reads comes first
        fact = field.fact
        if (
            isinstance(fact, Age)
            or (isinstance(fact, Aggregate) and fact.due != "any")
            or (isinstance(fact, Exceeds) and {fact.value, fact.limit} & moving)
        ):
            moving.add(field.name)
    return frozenset(moving)


def rule_clock_fields(rule: Rule, subject_type: SubjectType) -> list[str]:
    """The fields a rule names that move with the clock, in reading order: computed facts
    that do, and any field compared with ``today`` (``subject.due_date < today - 14``)."""
    moving = clock_fields(computed_fields(subject_type))
    named = [
        c.field.removeprefix("subject.")
        for c in compares(rule)
        if c.field.removeprefix("subject.") in moving or _with_today(c)
    ]
    return list(dict.fromkeys(named))


def _with_today(compare: Compare) -> bool:
    value = compare.value
    items = value.items if isinstance(value, ListValue) else [value]
    return compare.field.startswith("subject.") and any(
        isinstance(item, TodayValue) for item in items
    )
