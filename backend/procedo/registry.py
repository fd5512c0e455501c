"""Finds node types through the ``procedo.nodes`` entry-point group.

Built-in node types register there too, so a third-party node pack is a package
with its own ``[project.entry-points."procedo.nodes"]`` table and nothing else.
Declarations are checked when loaded: a bad one stops start-up with a message
naming the entry point, never a surprise in a worker hours later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import msgspec

from procedo.nodetypes import CATEGORIES, NodeType, Params
from procedo.subjects import Labels

ENTRY_POINT_GROUP = "procedo.nodes"
TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class NodeTypeError(RuntimeError):
    """A node type declaration that cannot be used."""


class Registry(Mapping[str, NodeType[Any]]):
    def __init__(self, node_types: Iterable[NodeType[Any]]) -> None:
        self._types: dict[str, NodeType[Any]] = {}
        for node_type in node_types:
            if node_type.type in self._types:
                raise NodeTypeError(f"node type '{node_type.type}' is declared twice")
            self._types[node_type.type] = node_type

    def __getitem__(self, name: str) -> NodeType[Any]:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def check_declaration(node_type: object, source: str) -> NodeType[Any]:
    """Return the node type if its declaration is usable, else raise NodeTypeError."""

    def fail(problem: str) -> NodeTypeError:
        return NodeTypeError(f"node type from {source}: {problem}")

    if not isinstance(node_type, NodeType):
        raise fail(f"expected a procedo.nodetypes.NodeType, got {type(node_type).__name__}")
    if not TYPE_NAME.match(node_type.type):
        raise fail(f"type name {node_type.type!r} must be lower_snake_case")
    for attr in ("labels", "description"):
        labels = getattr(node_type, attr)
        if not isinstance(labels, Labels) or not all((labels.en, labels.nl, labels.de)):
            raise fail(f"'{attr}' needs a text in en, nl and de")
    help_ = node_type.ports_help
    if help_ is not None and not (
        isinstance(help_, Labels) and all((help_.en, help_.nl, help_.de))
    ):
        raise fail("'ports_help' needs a text in en, nl and de")
    if node_type.category not in CATEGORIES:
        raise fail(f"category {node_type.category!r} is not one of {', '.join(CATEGORIES)}")
    params = node_type.params
    if not (isinstance(params, type) and issubclass(params, Params)):
        raise fail("'params' must be a subclass of procedo.nodetypes.Params")
    try:
        msgspec.json.schema(params)
    except (TypeError, ValueError) as exc:
        raise fail(f"its params have no JSON Schema: {exc}") from exc
    untitled = node_type.untitled_params()
    if untitled:
        # The designer's form shows these in the user's language (procedo.nodeforms).
        raise fail(
            f"params {', '.join(untitled)} need a title in en, nl and de: "
            "Annotated[..., procedo.nodeforms.form(Labels(en, nl, de))]"
        )
    for attr in ("ports", "enter"):
        if not callable(getattr(node_type, attr)):
            raise fail(f"'{attr}' must be a function")
    try:
        example = node_type.parse_params(node_type.example)
        ports = node_type.ports(example)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise fail(f"its example params are invalid: {exc}") from exc
    for lang, translated_example in node_type.examples.items():
        if lang not in ("nl", "de"):
            raise fail(f"examples are given in nl and de (English is `example`), not {lang!r}")
        try:
            translated = node_type.ports(node_type.parse_params(translated_example))
        except (msgspec.ValidationError, TypeError, ValueError) as exc:
            raise fail(f"its {lang} example params are invalid: {exc}") from exc
        if [p.name for p in translated] != [p.name for p in ports]:
            raise fail(f"its {lang} example has other ports than its example")
    names = [port.name for port in ports]
    if len(names) != len(set(names)):
        raise fail(f"ports {names} repeat a name")
    if not ports and not node_type.terminal:
        raise fail("a node type without output ports must be declared terminal=True")
    return node_type


def load_entry_point(entry_point: EntryPoint) -> NodeType[Any]:
    source = f"entry point '{entry_point.name} = {entry_point.value}' ({ENTRY_POINT_GROUP})"
    try:
        declared = entry_point.load()
    except Exception as exc:  # any import failure must name the entry point
        raise NodeTypeError(f"node type from {source} cannot be imported: {exc!r}") from exc
    node_type = check_declaration(declared, source)
    if node_type.type != entry_point.name:
        raise NodeTypeError(
            f"node type from {source}: declares type {node_type.type!r}; "
            f"rename the entry point to {node_type.type!r}"
        )
    return node_type


def load_registry() -> Registry:
    """Every installed node type, built-in and from node packs."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return Registry(load_entry_point(ep) for ep in found)


@cache
def default_registry() -> Registry:
    """The installed node types, loaded once per process."""
    return load_registry()
