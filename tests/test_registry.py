"""Node types are found through the procedo.nodes entry-point group, and checked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from procedo.registry import NodeTypeError, load_entry_point, load_registry

BUILT_IN = {
    "start",
    "end",
    "condition",
    "assign_role",
    "wait",
    "email",
    "status_change",
    "escalate",
}


def test_built_in_node_types_are_registered() -> None:
    assert set(load_registry()) >= BUILT_IN


def test_every_node_type_has_three_languages_and_a_schema() -> None:
    for node_type in load_registry().values():
        assert all((node_type.labels.en, node_type.labels.nl, node_type.labels.de))
        schema = node_type.json_schema()
        assert "$defs" in schema or "properties" in schema or "$ref" in schema


def _write_pack(root: Path, body: str, entry: str) -> None:
    """A node pack as an installed distribution: a module plus dist-info."""
    (root / "acme_nodes.py").write_text(textwrap.dedent(body))
    info = root / "acme_nodes-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-nodes\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[procedo.nodes]\n{entry}\n")


def _procedo(args: list[str], pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [sys.executable, "-m", "procedo", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


GOOD_PACK = """
    from procedo.nodetypes import NEXT, NodeType, NoParams, go
    from procedo.subjects import Labels

    NODE = NodeType(
        type="fax",
        labels=Labels(en="Send fax", nl="Fax versturen", de="Fax senden"),
        description=Labels(en="Faxes.", nl="Faxt.", de="Faxt."),
        category="messages",
        params=NoParams,
        ports=lambda params: [NEXT],
        enter=lambda params, context: go("next"),
    )
"""


def test_a_third_party_pack_adds_a_node_type(tmp_path: Path) -> None:
    _write_pack(tmp_path, GOOD_PACK, "fax = acme_nodes:NODE")
    result = _procedo(["nodes"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fax" in result.stdout
    assert "Send fax" in result.stdout


def test_a_bad_declaration_fails_at_start_up_naming_it(tmp_path: Path) -> None:
    _write_pack(tmp_path, GOOD_PACK.replace('nl="Fax versturen"', 'nl=""'), "fax = acme_nodes:NODE")
    result = _procedo(["nodes"], tmp_path)
    assert result.returncode == 1
    assert "fax = acme_nodes:NODE" in result.stderr
    assert "'labels' needs a text in en, nl and de" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("procedo.nodes.start:NOPE", "cannot be imported"),
        ("procedo.nodetypes:Params", "expected a procedo.nodetypes.NodeType"),
        ("procedo.nodes.end:NODE", "declares type 'end'"),
    ],
)
def test_entry_point_problems_name_the_entry_point(value: str, message: str) -> None:
    entry_point = EntryPoint(name="start", value=value, group="procedo.nodes")
    with pytest.raises(NodeTypeError) as raised:
        load_entry_point(entry_point)
    assert value in str(raised.value)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({"fr": {}}, "not 'fr'"),
        ({"de": {"outcomes": [{"port": "approve", "label": "Freigeben"}]}}, "de example params"),
        (
            {
                "nl": {
                    "assignee": {"role": "Accountant"},
                    "title": "Goedkeuren",
                    "outcomes": [{"port": "goed", "label": "Goed"}],
                }
            },
            "nl example has other ports",
        ),
    ],
)
def test_a_translated_example_is_checked_like_the_example(
    examples: dict[str, dict[str, object]], message: str
) -> None:
    """A node's example in nl or de is what a new node starts with there: valid params
    with the same ports, so a Dutch designer's node is the English one in other words."""
    import dataclasses

    from procedo.nodes.assign_role import NODE
    from procedo.registry import check_declaration

    assert check_declaration(NODE, "built in") is NODE
    with pytest.raises(NodeTypeError, match=message):
        check_declaration(dataclasses.replace(NODE, examples=examples), "a test")
