"""Procedo's invoice checks against the official EN 16931 and PEPPOL BIS 3.0 test material.

tests/ubl/official holds the official example invoices and the official unit tests of
the business rules Procedo computes (README.md there names the sources). Every
example must be taken in with every check true; for every unit test, Procedo's verdict
on each rule it implements must be the one the file states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from procedo.ubl import parse
from procedo.ubl.rules import CHECK_OF_RULE, evaluate

OFFICIAL = Path(__file__).resolve().parent / "ubl" / "official"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
DOCUMENTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
}
EXAMPLES = sorted(OFFICIAL.glob("*/examples/*"))
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
    assert len(EXAMPLES) >= 28
    # Every rule Procedo computes has official unit tests here, with both verdicts.
    for rule in CHECK_OF_RULE:
        verdicts = {unit.expected[rule] for unit in UNIT_TESTS if rule in unit.expected}
        assert verdicts == {True, False}, rule


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_every_official_example_is_taken_in_with_every_check_true(path: Path) -> None:
    fields = parse(path.read_bytes()).fields
    assert fields["conversion_problem"] == ""
    assert fields["checks"]["all_ok"] is True
    assert all(value is True for name, value in fields["checks"].items() if name.endswith("_ok"))


@pytest.mark.parametrize("unit", UNIT_TESTS, ids=lambda u: f"{u.file}#{u.number}")
def test_the_verdict_of_every_official_unit_test(unit: UnitTest) -> None:
    failures = evaluate(unit.document, peppol=unit.peppol)
    failed = {failure.rule for failure in failures}
    verdicts = {rule: rule not in failed for rule in unit.expected}
    assert verdicts == unit.expected, [f.message for f in failures]
