"""The JSON Schema of the flow format, generated from the Structs (docs/flow.schema.json)."""

from __future__ import annotations

from typing import Any

import msgspec

from procedo.flow.model import FORMAT, Flow

# Flow files write decimals as JSON numbers (codec.py) and read numbers or strings;
# msgspec's own schema says strings only, so a file we wrote would not match it.
DECIMAL = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"},
    ]
}


def _decimals_as_written(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "decimal":
            return DECIMAL
        return {key: _decimals_as_written(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_decimals_as_written(item) for item in node]
    return node


def flow_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _decimals_as_written(msgspec.json.schema(Flow))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:procedo:flow:1",
        "title": f"Procedo flow ({FORMAT})",
        **schema,
    }
