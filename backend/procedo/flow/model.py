"""The flow format ``procedo.flow/1`` as msgspec Structs.

A flow is a graph: nodes (a type from the node catalogue plus its params) and
edges from a node's named output port to another node. The Structs are frozen
and refuse unknown fields; ``docs/flow.schema.json`` is generated from them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeAlias

import msgspec

from procedo.rules.model import Rule

FORMAT = "procedo.flow/1"

Id = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Letters, digits, '_' and '-', at most 64 characters; unique in the flow",
    ),
]
FlowKey = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Stable identifier of the flow within a tenant, e.g. 'invoice-approval'",
    ),
]
EventName = Annotated[
    str,
    msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", examples=["invoice.received"]),
]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Annotated[
    str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["16:00"])
]


class _Base(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    pass


class Position(_Base, frozen=True):
    x: float
    y: float


class Node(_Base, frozen=True):
    id: Id
    type: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Validated against the node type's own params Struct (see nodetypes.py).
    params: dict[str, Any] = {}
    position: Position | None = None


class Edge(_Base, frozen=True):
    id: Id
    source: Id
    source_port: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    target: Id


class _Trigger(_Base, tag_field="kind", frozen=True):
    pass


class ManualTrigger(_Trigger, tag="manual", frozen=True):
    """Started by a person or the API, one subject at a time or in bulk."""


class EventTrigger(_Trigger, tag="event", frozen=True):
    """Started when an event happens on a subject, optionally only if a rule matches."""

    event: EventName
    when: Rule | None = None


class ScheduleTrigger(_Trigger, tag="schedule", frozen=True):
    """Started on a recurring schedule for every subject the filter selects."""

    every: Literal["day", "week", "month", "quarter", "year"]
    interval: Annotated[int, msgspec.Meta(ge=1, le=366)] = 1
    weekday: Weekday | None = None
    day_of_month: Annotated[int, msgspec.Meta(ge=1, le=31)] | None = None
    at: ClockTime = "09:00"
    starts_on: dt.date | None = None
    timezone: str | None = None
    filter: Rule | None = None
    # Priority (D5): of the workflows due in one slot, a later one skips the subjects an
    # earlier one acted on in that slot, unless this says it acts on them as well.
    also_if_acted_on: bool = False


Trigger: TypeAlias = ManualTrigger | EventTrigger | ScheduleTrigger


class FlowLabels(_Base, frozen=True):
    """The flow's name in each language of the UI (D6); a language left out shows ``name``."""

    en: Name | None = None
    nl: Name | None = None
    de: Name | None = None


class Flow(_Base, kw_only=True, frozen=True):
    format: Literal["procedo.flow/1"]
    key: FlowKey
    name: Name
    # Display names per UI language, beside the one ``name`` the flow is known by.
    labels: FlowLabels | None = None
    description: Text = ""
    subject_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    trigger: Trigger
    # The instance is cancelled as soon as its subject comes to match this rule.
    stop_when: Rule | None = None
    nodes: list[Node]
    edges: list[Edge] = []
