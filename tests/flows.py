"""Small flows for runtime tests, with waits of seconds instead of days."""

from __future__ import annotations

from typing import Any

from tests.conftest import minimal_flow


def quick_flow() -> dict[str, Any]:
    """start -> wait 1 s -> mark checking -> task due in 1 s (reminder) -> email -> end."""
    return minimal_flow(
        key="quick",
        nodes=[
            {"id": "start", "type": "start"},
            {
                "id": "pause",
                "type": "wait",
                "params": {
                    "until": {"mode": "duration", "duration": {"amount": 1, "unit": "seconds"}}
                },
            },
            {"id": "mark", "type": "status_change", "params": {"status": "checking"}},
            {
                "id": "task",
                "type": "assign_role",
                "params": {
                    "title": "Approve {{ subject.invoice_number }}",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [{"port": "approve", "label": "Approve"}],
                    "due": {"amount": 1, "unit": "seconds"},
                },
            },
            {"id": "remind", "type": "escalate", "params": {"remind": True}},
            {
                "id": "mail",
                "type": "email",
                "params": {
                    "to": {"kind": "field", "field": "subject.supplier.email"},
                    "subject": "Invoice {{ subject.invoice_number }} approved",
                    "body": "Approved.",
                },
            },
            {"id": "end", "type": "end", "params": {"status": "approved"}},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "pause"},
            {"id": "e2", "source": "pause", "source_port": "next", "target": "mark"},
            {"id": "e3", "source": "mark", "source_port": "next", "target": "task"},
            {"id": "e4", "source": "task", "source_port": "approve", "target": "mail"},
            {"id": "e5", "source": "task", "source_port": "overdue", "target": "remind"},
            {"id": "e6", "source": "mail", "source_port": "sent", "target": "end"},
            {"id": "e7", "source": "mail", "source_port": "no_address", "target": "end"},
        ],
    )
