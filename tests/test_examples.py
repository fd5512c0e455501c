"""The example flows validate; each invalid example fails with its documented code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from procedo.flow.codec import decode_flow
from procedo.flow.validate import check_flow
from tests.conftest import EXAMPLES

INVALID = EXAMPLES / "invalid"
# One example per scenario family of ../shared/scenarios.md (D has its three examples).
FAMILIES = {
    "E": ["invoice-approval"],
    "K": ["vat-return"],
    "M": ["promise-to-pay"],
    "D": ["dunning-level-1", "dunning-level-2", "dunning-phone-call"],
    "P": ["collection-procedure"],
}


def test_every_example_validates(example_files: list[Path]) -> None:
    for path in example_files:
        problems = check_flow(decode_flow(path.read_bytes())).problems
        assert problems == [], f"{path.name}: {[str(p) for p in problems]}"


def test_examples_cover_every_scenario_family(example_files: list[Path]) -> None:
    names = {p.stem for p in example_files}
    for family, flows in FAMILIES.items():
        assert set(flows) <= names, f"scenario family {family} lacks an example"


def test_cli_accepts_all_examples(example_files: list[Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "procedo", "validate", *map(str, example_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_invalid_example_fails_with_its_code_and_place() -> None:
    expected = json.loads((INVALID / "expected.json").read_text())
    files = sorted(p for p in INVALID.glob("*.json") if p.name != "expected.json")
    assert sorted(p.name for p in files) == sorted(expected), "expected.json must list every file"
    result = subprocess.run(
        [sys.executable, "-m", "procedo", "validate", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    report = {Path(name).name: found for name, found in json.loads(result.stdout).items()}
    for name, want in expected.items():
        matches = [
            p
            for p in report[name]
            if p["code"] == want["code"]
            and p.get("node") == want.get("node")
            and p.get("edge") == want.get("edge")
        ]
        assert matches, f"{name}: expected {want}, got {report[name]}"


def test_the_example_in_flow_format_md_validates() -> None:
    text = (EXAMPLES.parent / "flow-format.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```json\n")[1:]]
    (example,) = [b for b in blocks if '"format": "procedo.flow/1"' in b]
    problems = check_flow(decode_flow(example.encode())).problems
    assert problems == [], [str(p) for p in problems]


def _roles_named(value: object) -> set[str]:
    """Every role a flow document names (task assignees, reassignments, email recipients)."""
    if isinstance(value, dict):
        found = {value["role"]} if isinstance(value.get("role"), str) and value["role"] else set()
        return found.union(*(_roles_named(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_roles_named(item) for item in value))
    return set()


def test_the_demo_tenant_has_someone_in_every_role_the_examples_use(
    example_files: list[Path],
) -> None:
    from procedo.api.demo import PEOPLE

    used = set().union(*(_roles_named(json.loads(f.read_bytes())) for f in example_files))
    held = {role for _name, _access, roles in PEOPLE.values() for role in roles}
    assert used - held == set(), "give these roles a member in procedo/api/demo.py"
