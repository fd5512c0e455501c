"""The OpenAPI document says what the errors really look like: `{status, detail, problems?}`.

Litestar documents its own validation error shape for 400; every error here
goes through `errors.py` instead, so each operation's error answers point at
one `ErrorBody` schema, with the statuses the API can give.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin  # not exported; Litestar itself imports it so
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

from procedo.flow.schema import flow_schema

ERRORS = {
    "400": "Malformed request: the field or parameter is named in `problems`",
    "401": "Not logged in, or the token is unknown or revoked",
    "403": "Your access level does not allow it, or the CSRF header is missing",
    "404": "No such id in your tenant",
    "409": "The current state does not allow it",
    "413": "The body is too large",
    "415": "Wrong content type",
    "422": "Invalid: every problem is listed",
    "428": "If-Match is missing",
    "429": "Too many failed logins: wait (Retry-After)",
}

_TEXT = Schema(type=OpenAPIType.STRING)
_INT = Schema(type=OpenAPIType.INTEGER)
PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["code", "message"],
    properties={
        "code": _TEXT,
        "message": _TEXT,
        "node": _TEXT,
        "edge": _TEXT,
        "path": _TEXT,
        "line": _INT,
        "column": _INT,
    },
)
ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "detail"],
    properties={
        "status": _INT,
        "detail": _TEXT,
        "problems": Schema(
            type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/Problem")
        ),
        "changed_by": _TEXT,
        "changed_at": _TEXT,
    },
)


# Operations whose body (or answer) is a flow document, read by the flow decoder itself.
FLOW_BODIES = {
    ("/api/v1/flows", "post"),
    ("/api/v1/flows/validate", "post"),
    ("/api/v1/flows/import", "post"),
    ("/api/v1/flows/{key}/draft", "put"),
}
FLOW_ANSWERS = {
    ("/api/v1/flows/{key}/export", "get"),
    ("/api/v1/flows/{key}/versions/{number}", "get"),
}
_FLOW_PREFIX = "Flow."


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document served at /schema/openapi.json, with the flow format filled in."""
    plugin = app.plugins.get(OpenAPIPlugin)
    document = plugin.provide_openapi_schema()
    if "FlowDocument" not in document.get("components", {}).get("schemas", {}):
        _add_flow_format(document)
    return document


def _add_flow_format(document: dict[str, Any]) -> None:
    """procedo.flow/1's JSON Schema as components, referred to by the flow operations."""
    schema = flow_schema()
    text = json.dumps(schema["$defs"]).replace('"#/$defs/', f'"#/components/schemas/{_FLOW_PREFIX}')
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in json.loads(text).items():
        schemas[_FLOW_PREFIX + name] = definition
    flow_ref = schema["$ref"].replace("#/$defs/", f"#/components/schemas/{_FLOW_PREFIX}")
    schemas["FlowDocument"] = {"$ref": flow_ref, "title": schema["title"]}
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/FlowDocument"}}}
    for (path, method), operation in _operations(document):
        if (path, method) in FLOW_BODIES:
            operation["requestBody"] = {
                "required": True,
                "description": "A flow document (procedo.flow/1), 5 MB at most",
                "content": content,
            }
        if (path, method) in FLOW_ANSWERS:
            operation["responses"]["200"]["content"] = content


def _operations(document: dict[str, Any]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    return [
        ((path, method), operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def document_errors(app: Litestar) -> None:
    openapi = app.openapi_schema
    components = openapi.components
    if isinstance(components, list) or components is None:
        components = openapi.components = Components()
    schemas = dict(components.schemas or {})
    schemas["Problem"] = PROBLEM
    schemas["ErrorBody"] = ERROR_BODY
    components.schemas = schemas
    error = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ErrorBody"))
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            no_content = responses.get("204")
            if isinstance(no_content, OpenAPIResponse):
                no_content.content = None  # a 204 has no body (Litestar documents `null` JSON)
            for status, description in ERRORS.items():
                responses[status] = OpenAPIResponse(
                    description=description, content={"application/json": error}
                )
            operation.responses = responses
