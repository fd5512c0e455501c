"""A large, valid flow for benchmarks: a chain of condition -> task -> status change blocks."""

from __future__ import annotations

from typing import Any


def big_flow(nodes: int) -> dict[str, Any]:
    """About ``nodes`` nodes: start, blocks of (condition, task, status change), end."""
    flow_nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 0}}
    ]
    edges: list[dict[str, Any]] = []
    previous, port = "start", "next"

    def link(source: str, source_port: str, target: str) -> None:
        edges.append(
            {"id": f"e{len(edges)}", "source": source, "source_port": source_port, "target": target}
        )

    for block in range(max(1, (nodes - 2) // 3)):
        cond, task, mark = f"c{block}", f"t{block}", f"s{block}"
        y = 200.0 * block
        flow_nodes += [
            {
                "id": cond,
                "type": "condition",
                "position": {"x": 250.0, "y": y},
                "params": {
                    "branches": [
                        {
                            "port": "large",
                            "when": {
                                "kind": "compare",
                                "field": "subject.payable_amount",
                                "op": ">",
                                "value": {"type": "decimal", "value": str(1000 + block)},
                            },
                        }
                    ]
                },
            },
            {
                "id": task,
                "type": "assign_role",
                "position": {"x": 500.0, "y": y},
                "params": {
                    "title": f"Approve step {block}: {{{{ subject.invoice_number }}}}",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [{"port": "approve", "label": "Approve"}],
                    "due": {"amount": 2, "unit": "business_days"},
                },
            },
            {
                "id": mark,
                "type": "status_change",
                "position": {"x": 750.0, "y": y},
                "params": {"status": "checking"},
            },
        ]
        link(previous, port, cond)
        link(cond, "large", task)
        link(cond, "else", mark)
        link(task, "approve", mark)
        previous, port = mark, "next"
    flow_nodes.append({"id": "end", "type": "end", "position": {"x": 1000.0, "y": 0.0}})
    link(previous, port, "end")
    return {
        "format": "procedo.flow/1",
        "key": "big",
        "name": f"Big flow ({len(flow_nodes)} nodes)",
        "subject_type": "invoice",
        "trigger": {"kind": "manual"},
        "nodes": flow_nodes,
        "edges": edges,
    }
