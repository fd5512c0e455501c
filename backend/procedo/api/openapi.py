"""The OpenAPI document says what the server really takes and gives, no more loosely.

Litestar documents its own validation error shape for 400; every error here
goes through `errors.py` instead, so each operation's error answers point at
one `ErrorBody` schema, with the statuses the API can give. Bodies that refuse
unknown fields say `additionalProperties: false`; decimal and date strings carry
the pattern the decoder accepts; bodies and answers the handlers read or write
themselves (flow files, UBL invoices, the export of every version) are described
here, since Litestar sees only bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
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
FLOW_ARRAYS = {("/api/v1/flows/{key}/export/all", "get")}
INVOICE_UPLOAD = ("/api/v1/subjects/invoices", "post")
# What the invoice upload reads (the media types it stores as "not an invoice" too).
INVOICE_MEDIA_TYPES = ("application/xml", "text/xml", "application/pdf")
RULE_MATCH = ("/api/v1/rules/match", "post")
_FLOW_PREFIX = "Flow."
# A decimal as the decoders read it (at most 100 digits, like a rule's literal) and an ISO date.
DECIMAL_PATTERN = r"^-?(0|[1-9][0-9]{0,49})(\.[0-9]{1,50})?$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document served at /schema/openapi.json, with the flow format filled in."""
    plugin = app.plugins.get(OpenAPIPlugin)
    document = plugin.provide_openapi_schema()
    if "FlowDocument" not in document.get("components", {}).get("schemas", {}):
        _add_flow_format(document)
        _describe_raw_bodies(document)
        _forbid_unknown_fields(document)
        _string_patterns(document)
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


def _describe_raw_bodies(document: dict[str, Any]) -> None:
    """The export of every version (an array of flow files) and the invoice upload (XML)."""
    flows = {"type": "array", "items": {"$ref": "#/components/schemas/FlowDocument"}}
    xml = {"type": "string", "description": "a UBL 2.1 invoice or credit note, 5 MB at most"}
    for (path, method), operation in _operations(document):
        if (path, method) in FLOW_ARRAYS:
            operation["responses"]["200"]["content"] = {"application/json": {"schema": flows}}
        if (path, method) == INVOICE_UPLOAD:
            operation["requestBody"] = {
                "required": True,
                "content": {media: {"schema": xml} for media in INVOICE_MEDIA_TYPES},
            }
    # A rule to try is a rule tree of the flow format, not any object.
    match_in = _body_schema(document, *RULE_MATCH)
    if match_in is not None:
        kinds = ("All", "AnyOf", "Not", "Compare")
        match_in["properties"]["rule"] = {
            "anyOf": [{"$ref": f"#/components/schemas/{_FLOW_PREFIX}{kind}"} for kind in kinds]
        }


def _body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
    """The component schema an operation's JSON body refers to, if any."""
    operation = document.get("paths", {}).get(path, {}).get(method, {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    schema: dict[str, Any] | None = document["components"]["schemas"].get(ref.split("/")[-1])
    return schema


def _forbid_unknown_fields(document: dict[str, Any]) -> None:
    """`additionalProperties: false` on the schema of every body Struct that refuses them."""
    strict = _strict_struct_names()
    for name, schema in document["components"]["schemas"].items():
        if name in strict and schema.get("type") == "object":
            schema["additionalProperties"] = False


def _strict_struct_names() -> set[str]:
    """Component names of procedo's Structs declared with forbid_unknown_fields.

    Litestar names a component after its class, or, when two classes share a name,
    prefixes module names ("rules_MatchIn"); a name that could be a Struct allowing
    unknown fields as well is left alone.
    """
    strict: set[str] = set()
    loose: set[str] = set()
    for struct in _subclasses(msgspec.Struct):
        if not struct.__module__.startswith("procedo."):
            continue
        modules = struct.__module__.split(".")
        prefixes = ["_".join(modules[-k:]) + "_" for k in range(1, len(modules) + 1)]
        names = {prefix + struct.__name__ for prefix in ["", *prefixes]}
        forbids = struct.__struct_config__.forbid_unknown_fields
        (strict if forbids else loose).update(names)
    return strict - loose


def _subclasses(cls: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    sub: type[msgspec.Struct]
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _string_patterns(value: Any) -> None:
    """Decimal and date strings get the pattern their decoder accepts (a format is a hint).

    A decimal is a JSON number or a string of digits: flow files write them as numbers
    (the codec's `decimal_format="number"`), the decoders read both.
    """
    if isinstance(value, dict):
        if value.get("type") == "string" and value.get("format") == "decimal":
            string = {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
            del value["type"], value["format"]
            value["anyOf"] = [{"type": "number"}, string]
            return
        if value.get("type") == "string" and value.get("format") == "date":
            value.setdefault("pattern", DATE_PATTERN)
        for child in value.values():
            _string_patterns(child)
    elif isinstance(value, list):
        for child in value:
            _string_patterns(child)


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
