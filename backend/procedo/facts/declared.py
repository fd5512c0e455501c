"""A subject type's computed fields: checked when the type is loaded, in dependency order."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from procedo.facts.model import (
    Activity,
    Age,
    Aggregate,
    Exceeds,
    Fact,
    Tasks,
    fact_problem,
    result_type,
)

if TYPE_CHECKING:
    from procedo.subjects import SubjectType

# The field types a fact may read: an age needs a date, ``exceeds`` two numbers.
_READS: dict[type, frozenset[str]] = {
    Age: frozenset({"date"}),
    Exceeds: frozenset({"decimal", "integer"}),
}


class Computed(NamedTuple):
    name: str
    type: str
    fact: Fact


def computed_fields(subject_type: SubjectType) -> list[Computed]:
    """The type's computed fields, each after the computed fields it reads."""
    declared = {f.name: f for f in subject_type.fields}
    pending = {f.name: f.compute for f in subject_type.fields if f.compute is not None}
    ordered: list[Computed] = []
    while pending:
        ready = [
            name
            for name, fact in pending.items()
            if not any(ref in pending for ref in _reads(fact))
        ]
        if not ready:
            raise ValueError(
                f"subject type {subject_type.name}: computed fields "
                f"{', '.join(sorted(pending))} read each other in a circle"
            )
        for name in ready:
            ordered.append(Computed(name, declared[name].type, pending.pop(name)))
    return ordered


def check_computed(subject_type: SubjectType) -> list[str]:
    """Every problem with the type's computed fields, each naming the field and the fix."""
    problems: list[str] = []
    declared = {f.name: f for f in subject_type.fields}
    for field in subject_type.fields:
        fact = field.compute
        if fact is None:
            continue
        where = f"field {field.name}"
        problem = fact_problem(fact)
        if problem:
            problems.append(f"{where}: {problem}")
        produced = result_type(fact)
        if field.type != produced:
            problems.append(
                f"{where}: its computed value is a {produced}; declare type {produced!r}"
            )
        for ref in _reads(fact):
            target = declared.get(ref)
            wanted = _READS[type(fact)]
            if target is None:
                problems.append(f"{where}: reads field {ref!r}, which the type does not declare")
            elif target.type not in wanted:
                problems.append(
                    f"{where}: reads {ref!r} of type {target.type}; it needs "
                    f"{' or '.join(sorted(wanted))}"
                )
    if not problems:
        try:
            computed_fields(subject_type)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def _reads(fact: Fact) -> tuple[str, ...]:
    if isinstance(fact, Age):
        return (fact.since,)
    if isinstance(fact, Exceeds):
        return (fact.value, fact.limit)
    assert isinstance(fact, Aggregate | Activity | Tasks)
    return ()
