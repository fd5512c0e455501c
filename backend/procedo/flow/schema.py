"""The JSON Schema of the flow format, generated from the Structs (docs/flow.schema.json)."""

from __future__ import annotations

from typing import Any

import msgspec

from procedo.flow.model import FORMAT, Flow


def flow_schema() -> dict[str, Any]:
    schema: dict[str, Any] = msgspec.json.schema(Flow)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:procedo:flow:1",
        "title": f"Procedo flow ({FORMAT})",
        **schema,
    }
