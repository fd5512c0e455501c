"""The procedo command line, run as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from procedo.flow.codec import encode_json
from procedo.flow.schema import flow_schema
from tests.conftest import EXAMPLES, ROOT, dumps, minimal_flow


def procedo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "procedo", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["fmt"], ["schema"], ["nodes"], ["rule"], ["rule", "to-json"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = procedo(*command, "--help")
    assert result.returncode == 0
    assert "Usage: " in result.stdout


def test_nodes_lists_the_built_in_types_with_ports() -> None:
    result = procedo("nodes")
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "ports: next" in lines["start"]
    assert "ports: approve, reject [one per outcome" in lines["assign_role"]
    assert "ports: sent [sent, plus no_address" in lines["email"]
    assert {"end", "condition", "wait", "status_change", "escalate"} <= set(lines)
    dutch = procedo("nodes", "--language", "nl").stdout
    assert "Voorwaarde" in dutch


def test_nodes_json_carries_schemas() -> None:
    infos = json.loads(procedo("nodes", "--json").stdout)
    condition = next(i for i in infos if i["type"] == "condition")
    assert condition["labels"]["de"] == "Bedingung"
    assert "branches" in json.dumps(condition["params_schema"])


def test_validate_reports_problems_and_exits_1(tmp_path: Path) -> None:
    flow = minimal_flow()
    flow["edges"].pop()
    path = tmp_path / "flow.json"
    path.write_bytes(dumps(flow))
    result = procedo("validate", str(path))
    assert result.returncode == 1
    assert "node 'task'" in result.stdout
    assert "[node.port.unconnected]" in result.stdout


def test_validate_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = procedo("validate", str(tmp_path / "nope.json"))
    assert result.returncode == 1
    assert "[file.unreadable]" in result.stdout


def test_fmt_makes_files_canonical(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_bytes(dumps(minimal_flow()))
    assert procedo("fmt", "--check", str(path)).returncode == 1
    assert procedo("fmt", str(path)).returncode == 0
    assert procedo("fmt", "--check", str(path)).returncode == 0
    shutil.copy(EXAMPLES / "invoice-approval.json", tmp_path / "e.json")
    assert procedo("fmt", "--check", str(tmp_path / "e.json")).returncode == 0


def test_committed_flow_schema_is_current() -> None:
    committed = (ROOT / "docs" / "flow.schema.json").read_bytes()
    assert committed == encode_json(flow_schema()), "run `procedo schema > docs/flow.schema.json`"
    assert procedo("schema").stdout.encode() == committed


def test_rule_text_round_trip_on_the_command_line() -> None:
    text = "subject.payable_amount <= 250.00 && subject.supplier.trusted == true"
    tree = procedo("rule", "to-json", text)
    assert tree.returncode == 0, tree.stderr
    back = subprocess.run(
        [sys.executable, "-m", "procedo", "rule", "to-text", "-"],
        input=tree.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert back.stdout.strip() == text
    refused = procedo("rule", "to-json", "subject.__class__")
    assert refused.returncode == 1
    assert "Error" in refused.stderr


def test_run_prints_the_history_of_an_approved_and_a_rejected_invoice() -> None:
    flow = str(EXAMPLES / "invoice-approval.json")
    subject = str(EXAMPLES / "subjects" / "invoice-kvk-a.json")
    approved = procedo("run", flow, "--subject", subject, "--complete", "approve")
    assert approved.returncode == 0, approved.stderr
    assert "task_completed     approve_a -> approve" in approved.stdout
    assert approved.stdout.rstrip().endswith("subject status 'payable'")
    rejected = procedo("run", flow, "--subject", subject, "--complete", "reject")
    assert "email sent to billing@acme.example: Invoice INV-2026-0042 rejected" in rejected.stdout
    assert rejected.stdout.rstrip().endswith("instance completed; subject status 'rejected'")
    no_order = procedo(
        "run", flow, "--subject", str(EXAMPLES / "subjects" / "invoice-no-order.json")
    )
    assert "checks -> no_order" in no_order.stdout
    assert no_order.stdout.rstrip().endswith("subject status 'rejected'")
