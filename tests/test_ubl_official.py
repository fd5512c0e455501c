"""Procedo's invoice checks against the official EN 16931 and PEPPOL BIS 3.0 test material.

tests/ubl/official holds the official example invoices and the official unit tests of
the business rules Procedo computes (README.md there names the sources). Every
example must be taken in with every check true; for every unit test, Procedo's verdict
on each rule it implements must be the one the file states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from lxml import etree

from procedo.db import models as m
from procedo.rules.evaluate import evaluate as rule_holds
from procedo.rules.model import Rule
from procedo.ubl import parse
from procedo.ubl.ingest import ingest_many
from procedo.ubl.rules import CHECK_OF_RULE, evaluate
from tests.conftest import EXAMPLES
from tests.runtime_helpers import make_world

OFFICIAL = Path(__file__).resolve().parent / "ubl" / "official"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
DOCUMENTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
}
# The examples, and the valid test files the EN 16931 repository's own validator run checks.
EXAMPLES_OFFICIAL = sorted(
    [*OFFICIAL.glob("*/examples/*.*"), *OFFICIAL.glob("en16931/testfiles/*.xml")]
)
UNIT_FILES = sorted(OFFICIAL.glob("*/unit/**/*.xml"))


@dataclass(frozen=True)
class UnitTest:
    file: str
    number: int
    document: etree._Element
    expected: dict[str, bool]  # rule -> holds (<success>) or not (<error>)
    peppol: bool


def unit_tests() -> list[UnitTest]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    found: list[UnitTest] = []
    for path in UNIT_FILES:
        root = etree.parse(str(path), parser).getroot()
        for number, test in enumerate(root.iter(f"{VEFA}test"), 1):
            expected: dict[str, bool] = {}
            for outcome, holds in (("success", True), ("error", False)):
                for element in test.iter(f"{VEFA}{outcome}"):
                    expected[(element.text or "").strip()] = holds
            (document,) = [child for child in test if child.tag in DOCUMENTS]
            found.append(
                UnitTest(
                    file=str(path.relative_to(OFFICIAL)),
                    number=number,
                    # In a tree of its own, as the validator sees it.
                    document=etree.fromstring(etree.tostring(document)),
                    expected={rule: ok for rule, ok in expected.items() if rule in CHECK_OF_RULE},
                    peppol=path.parts[-3] == "peppol",
                )
            )
    return found


UNIT_TESTS = unit_tests()


def test_the_official_material_is_there() -> None:
    assert len(EXAMPLES_OFFICIAL) == 57
    # Every rule Procedo computes has official unit tests here, with both verdicts.
    for rule in CHECK_OF_RULE:
        verdicts = {unit.expected[rule] for unit in UNIT_TESTS if rule in unit.expected}
        assert verdicts == {True, False}, rule


@pytest.mark.parametrize("path", EXAMPLES_OFFICIAL, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_every_official_example_is_taken_in_with_every_check_true(path: Path) -> None:
    fields = parse(path.read_bytes()).fields
    assert fields["conversion_problem"] == ""
    assert fields["checks"]["all_ok"] is True
    assert all(value is True for name, value in fields["checks"].items() if name.endswith("_ok"))


def shipped_rules() -> dict[str, Rule]:
    """The rules by which the shipped flows act on the checks: reject, or ask for a check."""
    approval = msgspec.json.decode((EXAMPLES / "invoice-approval.json").read_bytes())
    (checks,) = [node for node in approval["nodes"] if node["id"] == "checks"]
    (incorrect,) = [b for b in checks["params"]["branches"] if b["port"] == "incorrect"]
    conversion = msgspec.json.decode((EXAMPLES / "conversion-check.json").read_bytes())
    return {
        "invoice-approval rejects": msgspec.convert(incorrect["when"], Rule),
        "conversion-check starts": msgspec.convert(conversion["trigger"]["when"], Rule),
    }


@pytest.mark.parametrize("path", EXAMPLES_OFFICIAL, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_no_shipped_flow_acts_on_the_checks_of_an_official_example(path: Path) -> None:
    """An invoice the official validators accept is not rejected for its figures."""
    fields = parse(path.read_bytes()).fields
    for what, rule in shipped_rules().items():
        assert rule_holds(rule, fields, {}) is False, what


def test_every_official_example_is_stored_in_one_batch(tmp_path: Path) -> None:
    """Ingested for real (embedded SQLite), with the conversion check published: it starts
    on none of them, as every check is true."""
    world = make_world(f"sqlite:///{tmp_path / 'procedo.db'}")
    world.publish("conversion-check")
    documents = [path.read_bytes() for path in EXAMPLES_OFFICIAL]
    outcomes = ingest_many(world.rt, world.tenant, documents, "peppol access point")
    world.runner.drain()
    assert [o.error for o in outcomes] == [None] * len(documents)
    assert sum(o.created for o in outcomes) == len({o.key for o in outcomes})
    with world.rt.db.read() as session:
        stored = session.scalars(sa.select(m.Subject.fields)).all()
        started = session.scalar(sa.select(sa.func.count()).select_from(m.Instance))
    assert [f["checks"]["all_ok"] for f in stored] == [True] * len(stored)
    assert started == 0


@pytest.mark.parametrize("unit", UNIT_TESTS, ids=lambda u: f"{u.file}#{u.number}")
def test_the_verdict_of_every_official_unit_test(unit: UnitTest) -> None:
    failures = evaluate(unit.document, peppol=unit.peppol)
    failed = {failure.rule for failure in failures}
    verdicts = {rule: rule not in failed for rule in unit.expected}
    assert verdicts == unit.expected, [f.message for f in failures]
