"""Every error as ``{status, detail, problems?}``: what is wrong, where, and what to do."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from procedo.flow.problems import FlowError, Problem
from procedo.runtime.buffer import Conflict
from procedo.runtime.context import NotFound, Refusal
from procedo.ubl.xml import UblError

log = logging.getLogger("procedo.api")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    detail: str
    problems: list[Problem] | None = None
    changed_by: str | None = None
    changed_at: str | None = None


class ApiError(Exception):
    """An error with its HTTP status; raised by the controllers."""

    def __init__(
        self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def _response(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(body, status_code=body.status, headers=headers)


def _api_error(_request: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _response(ErrorBody(status=exc.status, detail=exc.detail, **exc.extra), exc.headers)


def _not_found(_request: Request[Any, Any, Any], exc: NotFound) -> Response[ErrorBody]:
    return _response(ErrorBody(status=404, detail=str(exc)))


def _refusal(_request: Request[Any, Any, Any], exc: Refusal) -> Response[ErrorBody]:
    return _response(ErrorBody(status=409, detail=str(exc)))


def _conflict(_request: Request[Any, Any, Any], _exc: Conflict) -> Response[ErrorBody]:
    detail = "someone else changed this at the same moment; nothing was applied: try again"
    return _response(ErrorBody(status=409, detail=detail))


def _flow_error(_request: Request[Any, Any, Any], exc: FlowError) -> Response[ErrorBody]:
    count = len(exc.problems)
    detail = f"the flow has {count} problem{'s' if count != 1 else ''}; fix them and send it again"
    return _response(ErrorBody(status=422, detail=detail, problems=exc.problems))


# Handler parameters whose query name differs (`scope` is reserved by Litestar).
_QUERY_NAMES = {"scope_name": "scope", "type_name": "type"}
_JSON_SYNTAX = ("JSON is malformed", "Input data was truncated", "Invalid JSON")


def _ubl_error(_request: Request[Any, Any, Any], exc: UblError) -> Response[ErrorBody]:
    return _response(ErrorBody(status=exc.status, detail=str(exc), problems=exc.problems))


def _validation(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        source = getattr(item.get("source"), "value", item.get("source")) or "body"
        key = str(item.get("key") or "")
        if source == "body":
            # "data" is the whole body (msgspec names no field for it).
            path = "$" if key in ("", "data") else (key if key.startswith("$") else f"$.{key}")
            message = str(item.get("message", "invalid value"))
        else:
            name = _QUERY_NAMES.get(key, key)
            path = name
            # Litestar's message starts with the enum's repr ("ParamType.QUERY ..."): drop it.
            text = str(item.get("message", "invalid value")).removeprefix(f"{item.get('source')} ")
            message = f"{source} parameter '{name}': {text}"
        problems.append(Problem(code=f"request.{source}", message=message, path=path))
    where = problems[0].path if problems else "the request"
    detail = f"invalid request at {where}: {problems[0].message}" if problems else exc.detail
    return _response(ErrorBody(status=400, detail=detail, problems=problems or None))


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    detail = exc.detail
    if exc.status_code == 400 and detail.startswith(_JSON_SYNTAX):
        detail = f"the body is not valid JSON ({detail}); send a JSON object"
    elif exc.status_code == 413:
        detail = (
            "the body is too large: at most 1 MB, or 5 MB for flow documents; "
            "split it or leave out what is not needed"
        )
    elif exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}: check the id (a UUID) and see /schema"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; see /schema"
    return _response(ErrorBody(status=exc.status_code, detail=detail), headers=exc.headers or None)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "an internal error happened; it was logged. Try again, or tell your administrator"
    return _response(ErrorBody(status=HTTP_500_INTERNAL_SERVER_ERROR, detail=detail))


EXCEPTION_HANDLERS: Any = {
    ApiError: _api_error,
    NotFound: _not_found,
    Refusal: _refusal,
    Conflict: _conflict,
    FlowError: _flow_error,
    UblError: _ubl_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}
