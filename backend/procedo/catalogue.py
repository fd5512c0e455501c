"""The node catalogue: what the designer's palette and forms are built from."""

from __future__ import annotations

from typing import Any

import msgspec

from procedo.nodetypes import NodeType
from procedo.registry import Registry
from procedo.subjects import Labels


class PortInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    label: Labels
    optional: bool = False


class NodeTypeInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    labels: Labels
    description: Labels
    category: str
    params_schema: dict[str, Any]
    # Ports for the example params; ``ports_help`` says how they follow from params.
    ports: list[PortInfo]
    ports_help: Labels | None = None
    waits: bool = False
    terminal: bool = False
    input_ports: list[str] | None = None
    example: dict[str, Any] = {}
    # The example in other languages (nl, de): what a new node starts with there.
    examples: dict[str, dict[str, Any]] = {}


def describe(node_type: NodeType[Any]) -> NodeTypeInfo:
    example = node_type.parse_params(node_type.example)
    return NodeTypeInfo(
        type=node_type.type,
        labels=node_type.labels,
        description=node_type.description,
        category=node_type.category,
        params_schema=node_type.json_schema(),
        ports=[PortInfo(p.name, p.label, p.optional) for p in node_type.ports(example)],
        ports_help=node_type.ports_help,
        waits=node_type.waits,
        terminal=node_type.terminal,
        input_ports=sorted(node_type.input_ports) if node_type.input_ports else None,
        example=dict(node_type.example),
        examples={lang: dict(params) for lang, params in node_type.examples.items()},
    )


def catalogue(registry: Registry) -> list[NodeTypeInfo]:
    return [describe(registry[name]) for name in registry]
