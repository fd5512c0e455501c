"""Golden traces of payment-arrangement.json after staff's review (M5), as test_golden.py keeps
them: the debtor's fields change as portal/review.py leaves them, then the review task is
completed with the decision's outcome. Regenerate with UPDATE_GOLDEN=1 and review."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.runtime_helpers import make_world
from tests.test_golden import DAY, DEBTOR, GOLDEN, play

PLAN = "1. 2026-01-20: 100.00 EUR\n2. 2026-02-20: 100.00 EUR\n3. 2026-03-20: 100.00 EUR"
# Proposed on Mon 5 January: 6 instalments, outside the bounds.
IN_REVIEW = {**DEBTOR, "arrangement_status": "review", "arrangement_plan": PLAN}
# What accepting it adjusted (3 instalments from 20 January) leaves on the debtor.
ACCEPTED = {
    "arrangement_status": "active",
    "next_instalment_date": "2026-01-20",
    "next_instalment_amount": "100.00",
}

SCENARIOS: dict[str, tuple[str, str, dict[str, Any], list[tuple[Any, ...]]]] = {
    # Accepted: confirmed, reminded on Sat 17 January (3 days before), then paid off.
    "payment-arrangement.reviewed-accepted": (
        "payment-arrangement",
        "debtor",
        IN_REVIEW,
        [
            ("advance", DAY),
            ("fields", ACCEPTED),
            ("complete", "agreed"),
            ("advance", 13 * DAY),
            ("fields", {"arrangement_status": "completed"}),
        ],
    ),
    "payment-arrangement.reviewed-declined": (
        "payment-arrangement",
        "debtor",
        IN_REVIEW,
        [
            ("advance", DAY),
            ("fields", {"arrangement_status": "declined"}),
            ("complete", "declined"),
        ],
    ),
    # Completed by hand without a decision in Procedo: the flow ends, nothing is sent.
    "payment-arrangement.review-without-decision": (
        "payment-arrangement",
        "debtor",
        IN_REVIEW,
        [("complete", "agreed")],
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_trace_after_review(name: str, db_url: str) -> None:
    trace = "\n".join(play(make_world(db_url), *SCENARIOS[name])) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(trace)
    assert path.exists(), f"no golden trace yet: run with UPDATE_GOLDEN=1 and review {path}"
    assert trace == path.read_text()
