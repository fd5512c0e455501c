"""Graph validation: every problem at once, each with its place and code."""

from __future__ import annotations

from typing import Any

import pytest

from procedo.flow.codec import decode_flow
from procedo.flow.problems import Problem
from procedo.flow.validate import check_flow
from tests.conftest import dumps, minimal_flow


def problems_of(flow: dict[str, Any]) -> list[Problem]:
    return check_flow(decode_flow(dumps(flow))).problems


def codes(flow: dict[str, Any]) -> set[str]:
    return {p.code for p in problems_of(flow)}


def test_minimal_flow_is_valid() -> None:
    assert problems_of(minimal_flow()) == []


def test_every_problem_is_reported_at_once() -> None:
    flow = minimal_flow()
    flow["nodes"].append({"id": "lost", "type": "status_change", "params": {"status": "paid"}})
    flow["nodes"].append({"id": "odd", "type": "nonsense"})
    flow["nodes"].append({"id": "bad", "type": "wait", "params": {"until": {"mode": "nope"}}})
    flow["edges"].append({"id": "e1", "source": "task", "source_port": "maybe", "target": "end"})
    found = problems_of(flow)
    assert {(p.code, p.node or p.edge) for p in found} >= {
        ("node.unreachable", "lost"),
        ("node.type.unknown", "odd"),
        ("node.params.invalid", "bad"),
        ("edge.id.duplicate", "e1"),
        ("node.port.unconnected", "lost"),
    }


def test_invalid_params_of_every_node_are_reported() -> None:
    flow = minimal_flow()
    flow["nodes"][1]["params"]["outcomes"] = []
    flow["nodes"].append({"id": "mail", "type": "email", "params": {"to": {"kind": "field"}}})
    found = [p for p in problems_of(flow) if p.code == "node.params.invalid"]
    assert {p.node for p in found} == {"task", "mail"}
    task = next(p for p in found if p.node == "task")
    assert task.path == "$.params.outcomes"


def test_unknown_port_names_the_ports_there_are() -> None:
    flow = minimal_flow()
    flow["edges"][1]["source_port"] = "approved"
    (problem,) = [p for p in problems_of(flow) if p.code == "edge.port.unknown"]
    assert problem.edge == "e2"
    assert "approve, reject" in problem.message


def test_busy_loop_without_wait_is_refused_but_a_loop_through_a_task_is_fine() -> None:
    flow = minimal_flow()
    flow["nodes"].append({"id": "bump", "type": "status_change", "params": {"status": "checking"}})
    flow["nodes"].append(
        {
            "id": "again",
            "type": "condition",
            "params": {
                "branches": [
                    {
                        "port": "loop",
                        "when": {"kind": "compare", "field": "subject.status", "op": "is_set"},
                    }
                ]
            },
        }
    )
    flow["edges"][2] = {"id": "e3", "source": "task", "source_port": "reject", "target": "bump"}
    flow["edges"] += [
        {"id": "e4", "source": "bump", "source_port": "next", "target": "again"},
        {"id": "e5", "source": "again", "source_port": "loop", "target": "bump"},
        {"id": "e6", "source": "again", "source_port": "else", "target": "task"},
    ]
    loops = [p for p in problems_of(flow) if p.code == "flow.busy_loop"]
    assert len(loops) == 1
    assert "again -> bump" in loops[0].message
    flow["edges"][-2]["target"] = "task"  # the loop now passes through a human task
    assert "flow.busy_loop" not in codes(flow)


def test_escalate_only_after_an_overdue_port() -> None:
    flow = minimal_flow()
    flow["nodes"][1]["params"]["due"] = {"amount": 2, "unit": "business_days"}
    flow["nodes"].append({"id": "esc", "type": "escalate", "params": {"remind": True}})
    flow["edges"].append({"id": "e4", "source": "task", "source_port": "overdue", "target": "esc"})
    assert problems_of(flow) == []
    flow["edges"][2]["target"] = "esc"  # reject -> escalate
    (problem,) = [p for p in problems_of(flow) if p.code == "escalate.source.invalid"]
    assert problem.edge == "e3"


def test_start_and_end_are_required() -> None:
    flow = minimal_flow()
    flow["nodes"].append({"id": "start2", "type": "start"})
    flow["edges"].append({"id": "e9", "source": "start2", "source_port": "next", "target": "end"})
    assert "flow.start.multiple" in codes(flow)
    no_end = minimal_flow()
    no_end["nodes"] = no_end["nodes"][:2]
    no_end["edges"] = no_end["edges"][:1]
    assert {"flow.end.missing", "node.port.unconnected"} <= codes(no_end)


def test_dead_end_is_reported() -> None:
    flow = minimal_flow()
    flow["nodes"].append(
        {"id": "hold", "type": "wait", "params": {"until": {"mode": "event", "event": "x.y"}}}
    )
    flow["nodes"].append(
        {"id": "hold2", "type": "wait", "params": {"until": {"mode": "event", "event": "x.z"}}}
    )
    flow["edges"][2]["target"] = "hold"
    flow["edges"] += [
        {"id": "e4", "source": "hold", "source_port": "next", "target": "hold2"},
        {"id": "e5", "source": "hold2", "source_port": "next", "target": "hold"},
    ]
    dead = {p.node for p in problems_of(flow) if p.code == "node.dead_end"}
    assert dead == {"hold", "hold2"}


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (
            {
                "kind": "compare",
                "field": "subject.payable_amont",
                "op": ">",
                "value": {"type": "decimal", "value": "5"},
            },
            "rule.field.unknown",
        ),
        (
            {
                "kind": "compare",
                "field": "subject.payable_amount",
                "op": "=",
                "value": {"type": "string", "value": "5"},
            },
            "rule.type.mismatch",
        ),
        (
            {
                "kind": "compare",
                "field": "subject.supplier.name",
                "op": ">",
                "value": {"type": "string", "value": "a"},
            },
            "rule.op.invalid",
        ),
        (
            {
                "kind": "compare",
                "field": "subject.payable_amount",
                "op": "between",
                "value": {"type": "decimal", "value": "5"},
            },
            "rule.value.shape",
        ),
        ({"kind": "compare", "field": "subject.payable_amount", "op": ">"}, "rule.value.missing"),
    ],
)
def test_rules_are_checked_against_the_subject_type(rule: dict[str, Any], code: str) -> None:
    flow = minimal_flow()
    flow["nodes"].append(
        {"id": "cond", "type": "condition", "params": {"branches": [{"port": "yes", "when": rule}]}}
    )
    flow["edges"][0]["target"] = "cond"
    flow["edges"] += [
        {"id": "e4", "source": "cond", "source_port": "yes", "target": "task"},
        {"id": "e5", "source": "cond", "source_port": "else", "target": "task"},
    ]
    (problem,) = problems_of(flow)
    assert (problem.code, problem.node) == (code, "cond")
    assert problem.path is not None
    assert problem.path.startswith("$.params.branches[0].when")


def test_unknown_field_suggests_the_right_one() -> None:
    flow = minimal_flow(
        stop_when={"kind": "compare", "field": "subject.payable_amont", "op": "is_set"}
    )
    (problem,) = problems_of(flow)
    assert problem.path == "$.stop_when"
    assert "subject.payable_amount" in problem.message


def test_template_errors_name_the_line() -> None:
    flow = minimal_flow()
    flow["nodes"][1]["params"]["title"] = "Approve {{ subject.invoice_numbr }}"
    (problem,) = problems_of(flow)
    assert problem.code == "template.field.unknown"
    assert "invoice_numbr" in problem.message
    flow["nodes"][1]["params"]["title"] = "Approve {{ subject.invoice_number"
    (problem,) = problems_of(flow)
    assert problem.code == "template.syntax"
    assert "line 1" in problem.message
