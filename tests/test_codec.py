"""Flow files: canonical JSON round trips byte for byte; bad files get placed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from procedo.flow.codec import MAX_BYTES, MAX_NODES, decode_flow, encode_flow
from procedo.flow.problems import FlowError
from tests.conftest import dumps, minimal_flow


def test_examples_are_canonical_and_round_trip(example_files: list[Path]) -> None:
    for path in example_files:
        data = path.read_bytes()
        assert encode_flow(decode_flow(data)) == data, f"{path.name}: run `procedo fmt {path}`"


def test_canonical_form_is_a_fixed_point() -> None:
    messy = json.dumps(minimal_flow(), indent=7, sort_keys=False).encode()
    once = encode_flow(decode_flow(messy))
    assert encode_flow(decode_flow(once)) == once
    assert once.endswith(b"}\n")
    assert b'\n  "format": "procedo.flow/1",\n' in once


def test_decimals_in_params_keep_their_digits() -> None:
    flow = minimal_flow()
    flow["nodes"][0]["params"] = {}
    raw = dumps(flow).replace(b'"type": "end"', b'"type": "end", "params": {"x": 1234.10}')
    encoded = encode_flow(decode_flow(raw))
    assert b"1234.10" in encoded


def problems(data: bytes) -> list[str]:
    with pytest.raises(FlowError) as raised:
        decode_flow(data)
    return [str(p) for p in raised.value.problems]


def test_syntax_error_names_line_and_column() -> None:
    data = b'{\n  "format": "procedo.flow/1",\n  "key": "x"\n  "name": "y"\n}'
    (message,) = problems(data)
    assert message.startswith("line 4, column 3: [file.not_json]")


def test_unknown_fields_are_refused_with_their_path() -> None:
    flow = minimal_flow()
    flow["nodes"][1]["colour"] = "red"
    flow["edges"][0]["weight"] = 3
    found = problems(dumps(flow))
    assert any("node 'task'" in m and "colour" in m for m in found)
    assert any("edge 'e1'" in m and "weight" in m for m in found)


def test_wrong_format_is_refused() -> None:
    found = problems(dumps(minimal_flow(format="procedo.flow/9")))
    assert any("[flow.format]" in m for m in found)


def test_limits() -> None:
    assert "[file.too_large]" in problems(b" " * (MAX_BYTES + 1))[0]
    many = minimal_flow()
    many["nodes"] += [{"id": f"n{i}", "type": "end"} for i in range(MAX_NODES)]
    assert any("[flow.too_many_nodes]" in m for m in problems(dumps(many)))
    deep: object = "x"
    for _ in range(100):
        deep = {"a": deep}
    nested = minimal_flow()
    nested["nodes"][2]["params"] = {"status": "x", "deep": deep}
    assert any("[file.too_deep]" in m and "node 'end'" in m for m in problems(dumps(nested)))
    assert "[file.too_deep]" in problems(b"[" * 100_000 + b"]" * 100_000)[0]
