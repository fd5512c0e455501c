"""Dotted field paths into subject fields and instance variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING: Any = object()


def lookup(values: Mapping[str, Any], dotted: str) -> Any:
    """``values["a"]["b"]`` for ``"a.b"``, or a flat key ``"a.b"``; MISSING if absent."""
    if dotted in values:
        return values[dotted]
    current: Any = values
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def resolve(subject: Mapping[str, Any], variables: Mapping[str, Any], path: str) -> Any:
    """Value of a ``subject.x`` or ``vars.x`` path; MISSING if absent."""
    namespace, _, rest = path.partition(".")
    return lookup(subject if namespace == "subject" else variables, rest)
