"""The designer's server side (issue 13): ports derived by the node types, the one rule
parser behind /rules/parse and /rules/format, and templates that would fail at run time
named as validation problems of their node and field."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from procedo.api.server import Backend
from tests.api_helpers import Office, embedded_backend, live_server, office, ok
from tests.conftest import minimal_flow

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        yield running


@pytest.fixture
def acme(backend: Backend) -> Iterator[Office]:
    with live_server(backend.runtime) as url:
        yield office(backend.runtime, url, "Acme Office")


def _ports(answer: dict[str, Any], node: str) -> list[str]:
    return [p["name"] for p in answer["ports"][node]]


# ---------------------------------------------------------------- ports


def test_validate_answers_each_nodes_ports_as_its_params_derive_them(acme: Office) -> None:
    flow = minimal_flow()
    answer = ok(acme.http.post("/flows/validate", json=flow))
    assert answer["problems"] == []
    assert _ports(answer, "task") == ["approve", "reject"]
    assert _ports(answer, "start") == ["next"]
    assert _ports(answer, "end") == []

    # A renamed outcome and a due time: the ports follow at once, the old edge is named.
    task = flow["nodes"][1]["params"]
    task["outcomes"][0] = {"port": "accept", "label": "Accept"}
    task["due"] = {"amount": 2, "unit": "days"}
    answer = ok(acme.http.post("/flows/validate", json=flow))
    assert _ports(answer, "task") == ["accept", "reject", "overdue"]
    assert answer["ports"]["task"][0]["label"]["en"] == "Accept"
    assert {p["code"] for p in answer["problems"]} >= {"edge.port.unknown"}


def test_a_conditions_ports_are_its_branches_then_else(acme: Office) -> None:
    flow = json.loads((EXAMPLES / "invoice-approval.json").read_text())
    answer = ok(acme.http.post("/flows/validate", json=flow))
    branches = next(n for n in flow["nodes"] if n["id"] == "route")["params"]["branches"]
    assert _ports(answer, "route") == [b["port"] for b in branches] + ["else"]


def test_a_document_that_does_not_decode_has_problems_and_no_ports(acme: Office) -> None:
    answer = ok(acme.http.post("/flows/validate", json=minimal_flow(name="")))
    assert answer["ports"] == {}
    assert answer["problems"][0]["code"] == "flow.invalid"


# ---------------------------------------------------------------- rules


def test_parse_gives_the_tree_and_the_canonical_text(acme: Office) -> None:
    text = "500 < subject.payable_amount &&   subject.currency in ['EUR', 'USD']"
    answer = ok(acme.http.post("/rules/parse", json={"text": text, "subject_type": "invoice"}))
    assert answer["problems"] == []
    assert answer["text"] == 'subject.payable_amount > 500 && subject.currency in ["EUR", "USD"]'
    first = answer["rule"]["rules"][0]
    assert first == {
        "kind": "compare",
        "field": "subject.payable_amount",
        "op": ">",
        "value": {"type": "decimal", "value": "500"},
    }
    # format gives back the same text, and that text parses to the same tree
    formatted = ok(acme.http.post("/rules/format", json={"rule": answer["rule"]}))
    assert formatted["text"] == answer["text"]
    again = ok(acme.http.post("/rules/parse", json={"text": formatted["text"]}))
    assert again["rule"] == answer["rule"]


def test_parse_names_the_position_of_a_syntax_error(acme: Office) -> None:
    answer = ok(acme.http.post("/rules/parse", json={"text": "subject.payable_amount >"}))
    assert answer["rule"] is None
    assert answer["text"] is None
    [problem] = answer["problems"]
    assert problem["code"] == "rule.syntax"
    assert problem["line"] == 1
    assert problem["column"] >= 23


def test_parse_checks_fields_against_the_subject_type(acme: Office) -> None:
    body = {"text": "subject.payable_amout > 5", "subject_type": "invoice"}
    answer = ok(acme.http.post("/rules/parse", json=body))
    assert answer["rule"] is not None
    [problem] = answer["problems"]
    assert problem["code"] == "rule.field.unknown"
    assert "payable_amount" in problem["message"]  # the close match is suggested


def test_bad_rule_requests_name_the_field_and_store_nothing(acme: Office) -> None:
    unknown = acme.http.post("/rules/parse", json={"text": "true", "subject_type": "boat"})
    assert unknown.status_code == 422
    assert "subject_type" in unknown.json()["detail"]
    too_long = acme.http.post("/rules/parse", json={"text": "x" * 10_001})
    assert too_long.status_code in (400, 422)
    assert "text" in too_long.text
    missing = acme.http.post("/rules/parse", json={})
    assert missing.status_code in (400, 422)
    assert "text" in missing.text
    bad_tree = acme.http.post("/rules/format", json={"rule": {"kind": "maybe"}})
    assert bad_tree.status_code == 422
    assert bad_tree.json()["detail"].startswith("rule:")
    huge = acme.http.post(
        "/rules/parse",
        content=b'{"text": "' + b" " * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_rule_endpoints_need_a_login(backend: Backend) -> None:
    import httpx

    with live_server(backend.runtime) as url:
        answer = httpx.post(f"{url}/api/v1/rules/parse", json={"text": "true"})
    assert answer.status_code == 401


# ---------------------------------------------------------------- templates


def _with_body(flow: dict[str, Any], node_id: str, **params: str) -> dict[str, Any]:
    changed = copy.deepcopy(flow)
    node = next(n for n in changed["nodes"] if n["id"] == node_id)
    node["params"].update(params)
    return changed


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Dear {{ subject.supplier.nmae }}", "template.field.unknown"),
        ("Total {{ subject.payable_amount | currency }}", "template.filter.unknown"),
        ("{% if subject.currency == 'EUR' %}euro", "template.syntax"),
        ("Period {{ vars.periode }}", "template.vars.unknown"),
    ],
)
def test_a_template_that_would_fail_at_run_time_is_a_problem_of_its_node_and_field(
    acme: Office, body: str, code: str
) -> None:
    flow = json.loads((EXAMPLES / "invoice-approval.json").read_text())
    answer = ok(acme.http.post("/flows/validate", json=_with_body(flow, "reject_mail", body=body)))
    found = [p for p in answer["problems"] if p["code"] == code]
    assert found, answer["problems"]
    assert found[0]["node"] == "reject_mail"
    assert found[0]["path"] == "$.params.body"
    # and publishing such a flow is refused
    guarded = _with_body(flow, "reject_mail", body="{{ vars.periode | default('') }}")
    answer = ok(acme.http.post("/flows/validate", json=guarded))
    assert answer["problems"] == []
    ok(acme.http.post("/flows/import", json=_with_body(flow, "reject_mail", body="x")), 201)
    bad = _with_body(flow, "reject_mail", body=body)
    stored = acme.http.get(f"/flows/{flow['key']}")
    etag = stored.headers["etag"]
    ok(acme.http.put(f"/flows/{flow['key']}/draft", json=bad, headers={"If-Match": etag}))
    assert acme.http.post(f"/flows/{flow['key']}/publish").status_code == 422
