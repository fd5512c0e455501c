"""Request bodies the API reads itself (flow files): content type and size checked first."""

from __future__ import annotations

from typing import Any

from litestar import Request

from procedo.api.errors import ApiError
from procedo.flow.codec import MAX_BYTES

# JSON bodies of ordinary requests; flow files (import, drafts) may be up to 5 MB.
MAX_BODY = 1024 * 1024
MAX_FLOW_BODY = MAX_BYTES


def require_json(request: Request[Any, Any, Any]) -> None:
    media_type, _options = request.content_type
    if media_type != "application/json":
        raise ApiError(
            415,
            f"send the body as application/json (Content-Type was '{media_type or 'missing'}')",
        )


def flow_document(request: Request[Any, Any, Any], data: bytes) -> bytes:
    require_json(request)
    if not data.strip():
        raise ApiError(400, "the body is empty: send a flow document (procedo.flow/1)")
    return data
