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

log = logging.getLogger("procedo.api")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    detail: str
    problems: list[Problem] | None = None
    changed_by: str | None = None
    changed_at: str | None = None


class ApiError(Exception):
    """An error with its HTTP status; raised by the controllers."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def _response(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(body, status_code=body.status, headers=headers)


def _api_error(_request: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _response(ErrorBody(status=exc.status, detail=exc.detail, **exc.extra))


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


def _validation(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        source = item.get("source")
        path = f"$.{key}" if key and source == "body" else (key or None)
        where = f"{source} " if source and source != "body" else ""
        problems.append(
            Problem(
                code=f"request.{source or 'invalid'}",
                message=f"{where}{item.get('message', 'invalid value')}",
                path=path,
            )
        )
    detail = exc.detail if exc.detail else "the request is not valid"
    return _response(
        ErrorBody(status=exc.status_code, detail=_plain(detail), problems=problems or None)
    )


def _plain(detail: str) -> str:
    return detail.replace("Validation failed for ", "invalid request: ")


def _http(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    return _response(
        ErrorBody(status=exc.status_code, detail=exc.detail), headers=exc.headers or None
    )


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
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _internal,
}
