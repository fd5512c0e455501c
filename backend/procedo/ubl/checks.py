"""The arithmetic an invoice must satisfy (EN 16931 / BIS 3.0 business rules), as booleans.

A failed check does not refuse the invoice: it is stored with the check false
and a sentence in ``conversion_problem``, so a flow decides what happens (reject
it, or give the conversion group a task). Rules read ``subject.checks.tax_ok``.
Each check is a group of official rules (``rules.CHECK_OF_RULE``), computed as
the official validators compute them: an invoice they accept passes every check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from procedo.ubl.rules import CHECK_OF_RULE, Failure, evaluate

CHECK_NAMES = (
    "lines_sum_ok",
    "tax_categories_ok",
    "tax_total_ok",
    "tax_ok",
    "totals_ok",
    "payable_ok",
    "period_ok",
    "currency_ok",
)


@dataclass(slots=True)
class Checks:
    lines_sum_ok: bool = True
    tax_categories_ok: bool = True
    tax_total_ok: bool = True
    totals_ok: bool = True
    payable_ok: bool = True
    period_ok: bool = True
    currency_ok: bool = True
    failures: list[Failure] = field(default_factory=list)

    @property
    def tax_ok(self) -> bool:
        return self.tax_categories_ok and self.tax_total_ok

    @property
    def all_ok(self) -> bool:
        return not self.failures

    def failed(self) -> list[str]:
        return [name for name in CHECK_NAMES if not getattr(self, name)]

    def failed_rules(self) -> list[str]:
        return sorted({f.rule for f in self.failures})

    @property
    def problems(self) -> list[str]:
        """One sentence per thing found, led by the rules it breaks: "BR-S-09: ..."."""
        rules_of: dict[str, list[str]] = {}
        for failure in self.failures:
            rules = rules_of.setdefault(failure.message, [])
            if failure.rule not in rules:
                rules.append(failure.rule)
        return [f"{', '.join(rules)}: {message}" for message, rules in rules_of.items()]


def check(root: etree._Element) -> Checks:
    """The checks of a UBL Invoice or CreditNote (the parsed document's root)."""
    found = Checks()
    for failure in evaluate(root):
        setattr(found, CHECK_OF_RULE[failure.rule], False)
        found.failures.append(failure)
    return found
