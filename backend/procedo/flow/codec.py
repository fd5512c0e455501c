"""Reading and writing flow files: canonical JSON, limits, errors with places.

Canonical JSON is: struct fields in declaration order, dict keys sorted, 2-space
indent, a newline at the end, decimals written exactly as read. For a canonical
file, ``encode_flow(decode_flow(data)) == data`` byte for byte.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec

from procedo.flow.model import FORMAT, Edge, Flow, Node
from procedo.flow.problems import FlowError, Problem
from procedo.gcpause import gc_paused

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 10_000
MAX_EDGES = 40_000
MAX_DEPTH = 64

# Numbers in free-form places (node params) are read as Decimal, never float, so
# an amount such as 1234.10 survives a round trip with its exact digits.
_typed_decoder = msgspec.json.Decoder(Flow, float_hook=Decimal)
_any_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(order="deterministic", decimal_format="number")
_BYTE_OFFSET = re.compile(r"\(byte (\d+)\)")
_PATH = re.compile(r" - at `(\$[^`]*)`$")


def encode_flow(flow: Flow) -> bytes:
    return msgspec.json.format(_encoder.encode(flow), indent=2) + b"\n"


def encode_json(value: Any) -> bytes:
    """Canonical JSON for any value (used for schemas and exports of several flows)."""
    return msgspec.json.format(_encoder.encode(value), indent=2) + b"\n"


def decode_flow(data: bytes | str) -> Flow:
    """Read a flow file; raises FlowError listing every problem it can find."""
    with gc_paused():
        return _decode_flow(data)


def _decode_flow(data: bytes | str) -> Flow:
    raw_bytes = data.encode() if isinstance(data, str) else data
    if len(raw_bytes) > MAX_BYTES:
        raise FlowError([_too_big(len(raw_bytes))])
    try:
        flow = _typed_decoder.decode(raw_bytes)
    except msgspec.ValidationError:
        raise FlowError(_staged_problems(raw_bytes)) from None
    except msgspec.DecodeError as exc:
        raise FlowError([_syntax_problem(raw_bytes, exc)]) from None
    except RecursionError:
        raise FlowError([_too_deep("$")]) from None
    problems = _limit_problems(flow)
    if problems:
        raise FlowError(problems)
    return flow


def _limit_problems(flow: Flow) -> list[Problem]:
    problems = []
    if len(flow.nodes) > MAX_NODES:
        problems.append(
            Problem(
                code="flow.too_many_nodes",
                message=f"the flow has {len(flow.nodes)} nodes; at most {MAX_NODES} are allowed: "
                "split it into several flows",
                path="$.nodes",
            )
        )
    if len(flow.edges) > MAX_EDGES:
        problems.append(
            Problem(
                code="flow.too_many_edges",
                message=f"the flow has {len(flow.edges)} edges; at most {MAX_EDGES} are allowed",
                path="$.edges",
            )
        )
    # {flow} -> [nodes] -> {node} -> {params}: params may nest MAX_DEPTH - 3 more levels.
    for index, node in enumerate(flow.nodes):
        if node.params and _deeper_than(node.params, MAX_DEPTH - 3):
            problems.append(_too_deep(f"$.nodes[{index}].params", node=node.id))
    return problems


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether dicts and lists nest more than ``limit`` levels; stops at the first too deep."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
    return False


def _too_big(size: int) -> Problem:
    return Problem(
        code="file.too_large",
        message=f"the file has {size:,} bytes; flow files may have at most {MAX_BYTES:,}",
    )


def _too_deep(path: str, node: str | None = None) -> Problem:
    return Problem(
        code="file.too_deep",
        message=f"values are nested more than {MAX_DEPTH} levels deep; flatten the rule or params",
        path=path,
        node=node,
    )


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    return line, offset - (before.rfind(b"\n") + 1) + 1


def _syntax_problem(data: bytes, exc: msgspec.DecodeError) -> Problem:
    text = str(exc)
    match = _BYTE_OFFSET.search(text)
    line, column = _line_column(data, int(match.group(1))) if match else (None, None)
    message = _BYTE_OFFSET.sub("", text).strip().rstrip(".")
    return Problem(
        code="file.not_json",
        message=f"{message}: fix the JSON syntax (a missing comma, quote or bracket?)",
        line=line,
        column=column,
    )


def _validation_problem(
    exc: msgspec.ValidationError, prefix: str, node: str | None = None, edge: str | None = None
) -> Problem:
    text = str(exc)
    match = _PATH.search(text)
    inner = match.group(1)[1:] if match else ""
    message = _PATH.sub("", text)
    return Problem(code="flow.invalid", message=message, path=prefix + inner, node=node, edge=edge)


def _staged_problems(data: bytes) -> list[Problem]:
    """Decode part by part so one bad node does not hide the problems of others."""
    try:
        raw = _any_decoder.decode(data)
    except RecursionError:
        return [_too_deep("$")]
    if not isinstance(raw, dict):
        return [Problem(code="flow.invalid", message="a flow file must hold one JSON object")]
    problems: list[Problem] = []
    if raw.get("format") != FORMAT:
        problems.append(
            Problem(
                code="flow.format",
                message=f"'format' must be \"{FORMAT}\" (found {raw.get('format')!r})",
                path="$.format",
            )
        )
    nodes, edges = raw.get("nodes"), raw.get("edges", [])
    shell = {**raw, "format": FORMAT, "nodes": [], "edges": []}
    try:
        msgspec.convert(shell, Flow)
    except msgspec.ValidationError as exc:
        problems.append(_validation_problem(exc, "$"))
    for name, items, struct in (("nodes", nodes, Node), ("edges", edges, Edge)):
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            try:
                msgspec.convert(item, struct)
            except msgspec.ValidationError as exc:
                ident = item.get("id") if isinstance(item, dict) else None
                ident = ident if isinstance(ident, str) else None
                where = {"node": ident} if name == "nodes" else {"edge": ident}
                problems.append(_validation_problem(exc, f"$.{name}[{index}]", **where))
    return problems
