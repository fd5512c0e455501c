from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


def minimal_flow(**changes: Any) -> dict[str, Any]:
    """start -> task (approve/reject) -> end: the smallest flow with a wait state."""
    flow: dict[str, Any] = {
        "format": "procedo.flow/1",
        "key": "minimal",
        "name": "Minimal",
        "subject_type": "invoice",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "task",
                "type": "assign_role",
                "params": {
                    "title": "Approve",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [
                        {"port": "approve", "label": "Approve"},
                        {"port": "reject", "label": "Reject"},
                    ],
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "task"},
            {"id": "e2", "source": "task", "source_port": "approve", "target": "end"},
            {"id": "e3", "source": "task", "source_port": "reject", "target": "end"},
        ],
    }
    flow.update(changes)
    return flow


def dumps(flow: dict[str, Any]) -> bytes:
    return json.dumps(flow).encode()


@pytest.fixture
def example_files() -> list[Path]:
    files = sorted(EXAMPLES.glob("*.json"))
    assert files, "docs/examples holds no flows"
    return files
