"""Request bodies: one way to read JSON for every route, refusing what a parser lets through.

Every JSON body (the `data` of ordinary routes through `JsonRequest`, flow files
through `flow_document`) is first scanned by `scan_json`, which refuses with the
line and column: bytes that are not UTF-8, syntax errors, anything after the
value (trailing bytes), NaN and Infinity, and a key given twice in one object
(msgspec keeps the last silently, so `{"access": "member", "access": "admin"}`
would mean what a reviewer of the text did not see). Ordinary bodies are then
decoded by msgspec, and refused when nested deeper than `MAX_DEPTH` (the flow
format's limit): the handlers and the rule checks walk them recursively.

The scan is Python's C JSON scanner with hooks that keep nothing: 35 to 60 ms for a
2.7 MB flow of 5,000 nodes (docs/api.md), a few microseconds for ordinary bodies.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.types import Empty

from procedo.api.errors import ApiError
from procedo.flow.codec import MAX_BYTES, MAX_DEPTH
from procedo.flow.problems import FlowError, Problem
from procedo.gcpause import gc_paused

# JSON bodies of ordinary requests; flow files (import, drafts) may be up to 5 MB.
MAX_BODY = 1024 * 1024
MAX_FLOW_BODY = MAX_BYTES

# A \u escape of a UTF-16 surrogate: Python's scanner accepts a lone one, msgspec does not.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_BYTE_OFFSET = re.compile(r"\s*\(byte (\d+)\)")


class BadJson(ValueError):
    """What is wrong with a JSON body, and where (1-based line and column when known)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def problem(self, code: str) -> Problem:
        return Problem(code=code, message=self.message, line=self.line, column=self.column)


def require_json(request: Request[Any, Any, Any]) -> None:
    media_type, _options = request.content_type
    if media_type != "application/json":
        raise ApiError(
            415,
            f"send the body as application/json (Content-Type was '{media_type or 'missing'}')",
        )


def flow_document(request: Request[Any, Any, Any], data: bytes) -> bytes:
    """The body of a flow route, scanned; the flow decoder (flow/codec.py) reads it next."""
    require_json(request)
    if not data.strip():
        raise ApiError(400, "the body is empty: send a flow document (procedo.flow/1)")
    if len(data) <= MAX_FLOW_BODY:  # a larger one is refused by the decoder, with its size
        try:
            scan_json(data)
        except BadJson as bad:
            raise FlowError([bad.problem("file.not_json")]) from None
    return data


def decode_body(data: bytes) -> Any:
    """An ordinary JSON body as Python values; `ApiError` 400 naming the problem."""
    try:
        scan_json(data)
        try:
            value = msgspec.json.decode(data)
        except msgspec.ValidationError:  # the only one untyped decoding raises
            raise BadJson(
                "a number is beyond what a JSON number here may be (about ±1.8e308); "
                "send a smaller number"
            ) from None
        except msgspec.DecodeError as exc:
            raise _bad_json_at(data, exc) from None
        except RecursionError:
            raise _too_deep() from None
        if _deeper_than(value, MAX_DEPTH):
            raise _too_deep()
    except BadJson as bad:
        where = f" at line {bad.line}, column {bad.column}" if bad.line else ""
        raise ApiError(
            400,
            f"the JSON body is refused{where}: {bad.message}",
            problems=[bad.problem("request.body")],
        ) from None
    return value


def scan_json(data: bytes) -> None:
    """Raise `BadJson` unless ``data`` is one JSON value, in UTF-8, with unique keys."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(data, exc.start)
        raise BadJson(
            f"byte {exc.start} is not UTF-8: send the body as UTF-8 text", line, column
        ) from None
    try:
        with gc_paused():  # the hooks keep nothing: no garbage worth collecting
            _SCANNER.decode(text)
    except json.JSONDecodeError as exc:
        raise BadJson(_syntax_message(exc.msg), exc.lineno, exc.colno) from None
    except RecursionError:
        raise _too_deep() from None
    if _SURROGATE_ESCAPE.search(data):
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise _bad_json_at(data, exc) from None
        except (msgspec.ValidationError, RecursionError):
            pass  # numbers and depth: the caller's decoder judges them


def _unique_keys(pairs: list[tuple[str, Any]]) -> None:
    """An object's keys, each once; the object itself is not needed (None is kept)."""
    if len(pairs) > 1 and len({key for key, _value in pairs}) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise BadJson(f"the key '{key}' appears twice in one object: send each key once")
            seen.add(key)


def _no_constant(name: str) -> None:
    raise BadJson(f"{name} is not a JSON number: send a number, or null")


# Made once: json.loads with hooks builds a decoder per call, most of a small body's cost.
_SCANNER = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_int=len,  # the scan needs no numbers: skip converting them
    parse_float=len,
    parse_constant=_no_constant,
)


def _syntax_message(message: str) -> str:
    if message == "Extra data":
        return "not valid JSON: there is more after the value; send one value, nothing after it"
    return f"not valid JSON ({message}): fix the syntax (a missing comma, quote or bracket?)"


def _bad_json_at(data: bytes, exc: msgspec.DecodeError) -> BadJson:
    text = str(exc)
    match = _BYTE_OFFSET.search(text)
    line, column = _line_column(data, int(match.group(1))) if match else (None, None)
    return BadJson(_BYTE_OFFSET.sub("", text), line, column)


def _too_deep() -> BadJson:
    return BadJson(f"values are nested more than {MAX_DEPTH} levels deep: flatten the body")


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels (iteratively: no recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return False


class JsonRequest(Request[Any, Any, Any]):
    """Litestar's request, reading JSON bodies through `decode_body` (every `data` parameter)."""

    async def json(self) -> Any:
        if self._json is Empty:
            state = self._connection_state
            if state.json is not Empty:
                self._json = state.json
            else:
                body = await self.body()
                self._json = state.json = decode_body(body) if body else None
        return self._json
