"""How a node type's params read in a form: titles, help, choices and pickers.

Declared once, next to each param in the node type's own module, as a msgspec
``Meta`` (``Annotated[str, form(...)]``). The Meta lands in the params JSON Schema
that the catalogue serves, so the designer's form, ``procedo nodes --json`` and the
registry's declaration check all read the same words:

- ``title``/``description``: English, for any JSON Schema reader;
- ``x-title``/``x-help``: the same in en, nl and de, for the designer;
- ``x-options``: the values of an enum (or the tags of a union) with their labels,
  in the order people expect (weekdays Monday first), not the schema's sorted one;
- ``x-picker``: what the value names (a role, a user, a status, a field, a template,
  an event),
  so the designer offers a list instead of a text box; ``x-field-types`` narrows a
  field picker to fields of those types.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Literal

import msgspec

from procedo.subjects import Labels

Picker = Literal["role", "user", "status", "field", "field_path", "template", "flow", "event"]
LANGUAGES = ("en", "nl", "de")


def _labels(labels: Labels) -> dict[str, str]:
    return {"en": labels.en, "nl": labels.nl, "de": labels.de}


def form(
    title: Labels,
    help: Labels | None = None,
    *,
    picker: Picker | None = None,
    options: Sequence[tuple[str, Labels]] = (),
    field_types: Sequence[str] = (),
) -> msgspec.Meta:
    """The Meta that makes one param readable; put it in the param's ``Annotated``."""
    extra: dict[str, Any] = {"x-title": _labels(title)}
    if help is not None:
        extra["x-help"] = _labels(help)
    if picker is not None:
        extra["x-picker"] = picker
    if options:
        extra["x-options"] = [{"value": value, "label": _labels(label)} for value, label in options]
    if field_types:
        extra["x-field-types"] = list(field_types)
    return msgspec.Meta(
        title=title.en, description=help.en if help else None, extra_json_schema=extra
    )


def _is_tag(prop: Mapping[str, Any]) -> bool:
    """A union member's tag ("mode": "duration"): fixed, never shown as a field."""
    enum = prop.get("enum")
    return isinstance(enum, list) and len(enum) == 1


def untitled_params(schema: Mapping[str, Any], skip: Collection[str] = ()) -> Iterator[str]:
    """``Def.property`` for every param in a params schema without en/nl/de titles.

    ``skip`` names definitions that are edited by a widget of their own (the rule
    tree and its values), whose properties no form shows one by one.
    """
    defs: Mapping[str, Any] = schema.get("$defs", {})
    objects = [(name, d) for name, d in defs.items() if name not in skip]
    if "properties" in schema:
        objects.append(("(params)", schema))
    for name, definition in objects:
        for prop_name, prop in definition.get("properties", {}).items():
            if _is_tag(prop):
                continue
            titles = prop.get("x-title")
            if not isinstance(titles, dict) or not all(titles.get(lang) for lang in LANGUAGES):
                yield f"{name}.{prop_name}"
            elif "x-options" in prop:
                labelled = {option["value"] for option in prop["x-options"]}
                for value in sorted(_choices(prop) - labelled):
                    yield f"{name}.{prop_name} (choice '{value}')"


def _choices(prop: Mapping[str, Any]) -> set[str]:
    """The values a param offers: an enum's, or a tagged union's tags."""
    members = [prop, *prop.get("anyOf", [])]
    found: set[str] = set()
    for member in members:
        found.update(v for v in member.get("enum", []) if isinstance(v, str))
        found.update(member.get("discriminator", {}).get("mapping", {}))
    return found


def for_forms(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as forms read it: params in declared order, no class names.

    ``x-order`` keeps the order the params are declared in, which JSON readers that
    sort keys (``procedo nodes --json`` writes canonical JSON) would lose. Titles and
    docstrings msgspec takes from Python classes are a programmer's words
    ("AssignRoleParams"), not a form's: the params' own ``form(...)`` titles are.
    """
    for definition in schema.get("$defs", {}).values():
        definition.pop("title", None)
        definition.pop("description", None)
        if "properties" in definition:
            definition["x-order"] = list(definition["properties"])
    return schema
