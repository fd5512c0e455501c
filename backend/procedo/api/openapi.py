"""The OpenAPI document says what the errors really look like: `{status, detail, problems?}`.

Litestar documents its own validation error shape for 400; every error here
goes through `errors.py` instead, so each operation's error answers point at
one `ErrorBody` schema, with the statuses the API can give.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

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
