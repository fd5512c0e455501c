"""Test runs (K7): a flow version tried for real on one to five clients before rollout.

A test run is an ordinary instance whose variables say so (``vars.test_run`` is
true, ``vars.test_recipient`` the consultant who started it). Everything it sends
goes to that consultant instead: an email's recipients are replaced, a letter
becomes an email (nothing is printed for a client), and the subject line starts
with "[TEST]" and the text says whom it was meant for. A test run holds no period
(its client is not refused when the flow is then rolled out) and moves no plan.
"""

from __future__ import annotations

from typing import Any, Final

from procedo.runtime.rows import InstanceRow

MOST: Final = 5  # clients per test run
FLAG: Final = "test_run"
RECIPIENT: Final = "test_recipient"


def variables(consultant: str) -> dict[str, Any]:
    return {FLAG: True, RECIPIENT: consultant}


def redirect(instance: InstanceRow, row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row of a test run, sent to its consultant; other runs' rows unchanged."""
    consultant = instance.variables.get(RECIPIENT)
    if not instance.variables.get(FLAG) or not isinstance(consultant, str):
        return row
    meant = ", ".join(row["recipients"]) or f"the client (by {row['kind']})"
    row["body"] = f"[Test run of a flow: this was meant for {meant}.]\n\n{row['body']}"
    row["subject"] = f"[TEST] {row['subject']}"
    row["recipients"] = [consultant]
    row["kind"], row["status"] = "email", "pending"
    return row
