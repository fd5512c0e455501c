"""Hostile and odd input is a 4xx naming the problem, never a 500 (issue 12, items 11 and 13).

Deep nesting, duplicate keys, trailing bytes, numbers no column holds, paging on every
list, OPTIONS, and an OpenAPI document no looser than the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from procedo.api import accounts
from procedo.api.app import create_app
from procedo.api.openapi import openapi_document
from procedo.api.server import Backend
from procedo.flow.codec import MAX_DEPTH
from tests.api_helpers import Office, embedded_backend, live_server, office, ok
from tests.conftest import EXAMPLES, dumps, minimal_flow

JSON = {"Content-Type": "application/json"}
DOCUMENT = openapi_document(create_app(rt=None))  # type: ignore[arg-type]
FLOW_BODIES = {
    ("post", "/api/v1/flows"),
    ("post", "/api/v1/flows/validate"),
    ("post", "/api/v1/flows/import"),
    ("put", "/api/v1/flows/{key}/draft"),
}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    folder = tmp_path_factory.mktemp("limits")
    with embedded_backend(f"sqlite:///{folder / 'procedo.db'}", folder) as running:
        yield running


@pytest.fixture(scope="module")
def base_url(backend: Backend) -> Iterator[str]:
    with live_server(backend.runtime) as url:
        yield url


_offices = iter(range(1000))


@pytest.fixture
def acme(backend: Backend, base_url: str) -> Office:
    return office(backend.runtime, base_url, f"Limits {next(_offices)}")


def _with_ids(path: str) -> str:
    """A documented path with its parameters filled in (ids that name nothing)."""
    parts = []
    for part in path.removeprefix("/api/v1").split("/"):
        if part.endswith("_id}"):
            part = str(uuid.uuid4())
        elif part == "{number}":
            part = "1"
        elif part.startswith("{"):
            part = "nothing"
        parts.append(part)
    return "/".join(parts)


def _json_routes() -> list[tuple[str, str]]:
    """Every documented operation that reads a JSON body through Litestar (not flow files)."""
    routes = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            reads_json = body is not None and "application/json" in body["content"]
            if reads_json and (method, path) not in FLOW_BODIES:
                routes.append((method, path))
    return routes


def test_every_json_route_refuses_a_deeply_nested_body_with_400(acme: Office) -> None:
    routes = _json_routes()
    assert ("post", "/api/v1/auth/login") in routes
    assert len(routes) > 10, routes
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    for method, path in routes:
        answer = acme.http.request(method.upper(), _with_ids(path), content=deep, headers=JSON)
        assert answer.status_code == 400, (method, path, answer.text)
        assert f"nested more than {MAX_DEPTH} levels" in answer.json()["detail"], path
    # Before authentication too: the login reads its body with no caller.
    anonymous = acme.http.post(
        "/auth/login", content=deep, headers={**JSON, "Authorization": "Bearer nothing"}
    )
    assert anonymous.status_code == 400, anonymous.text


def test_nesting_up_to_the_limit_is_read(acme: Office) -> None:
    # A rule of the deepest kind a flow can hold still reaches the rule check (a 422, not 400).
    rule: dict[str, Any] = {"kind": "compare", "field": "subject.status", "op": "is_set"}
    for _ in range(20):
        rule = {"kind": "not", "rule": rule}
    answer = acme.http.post("/rules/match", json={"subject_type": "invoice", "rule": rule})
    assert answer.status_code in (200, 422), answer.text


def test_duplicate_keys_are_refused_and_nothing_is_stored(acme: Office) -> None:
    roles_before = ok(acme.http.get("/roles", params={"limit": 1000}))
    twice = b'{"name": "Auditor", "name": "Admin"}'
    refused = acme.http.post("/roles", content=twice, headers=JSON)
    assert refused.status_code == 400, refused.text
    assert "'name' appears twice" in refused.json()["detail"]
    assert ok(acme.http.get("/roles", params={"limit": 1000})) == roles_before
    # In a flow file too, however deep the object.
    flow = dumps(minimal_flow()).replace(b'"title": "Approve"', b'"title": "A", "title": "B"')
    assert flow.count(b'"title"') == 2
    imported = acme.http.post("/flows/import", content=flow, headers=JSON)
    assert imported.status_code == 422, imported.text
    assert "'title' appears twice" in imported.json()["problems"][0]["message"]
    assert ok(acme.http.get("/flows")) == []


@pytest.mark.parametrize(
    ("method", "path"), [("post", p) for p in ("/flows", "/flows/import", "/flows/validate")]
)
def test_trailing_bytes_after_a_flow_document_are_named(
    acme: Office, method: str, path: str
) -> None:
    # Invalid and followed by more: the decoder's second pass used to fail on the trailer.
    for flow in (minimal_flow(name=5), minimal_flow()):
        body = dumps(flow) + b"\n{}"
        answer = acme.http.request(method.upper(), path, content=body, headers=JSON)
        assert answer.status_code == (200 if path.endswith("validate") else 422), answer.text
        problem = answer.json()["problems"][0]
        assert problem["code"] == "file.not_json"
        assert "more after the value" in problem["message"]
        assert (problem["line"], problem["column"]) == (2, 1)
    assert ok(acme.http.get("/flows")) == []


def test_trailing_bytes_after_a_draft_are_named(acme: Office) -> None:
    ok(acme.http.post("/flows", content=dumps(minimal_flow()), headers=JSON), 201)
    body = dumps(minimal_flow(name=5)) + b" ]"
    answer = acme.http.put(
        "/flows/minimal/draft", content=body, headers={**JSON, "If-Match": '"1"'}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["code"] == "file.not_json"
    assert ok(acme.http.get("/flows/minimal"))["revision"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "x"} trailing',
        b'{"name": "\xff"}',  # not UTF-8: msgspec raised UnicodeDecodeError
        b'{"name": NaN}',
        b'{"name": "\\udc00x"}',  # a lone surrogate
    ],
)
def test_ordinary_bodies_that_are_not_json_are_400(acme: Office, body: bytes) -> None:
    answer = acme.http.post("/roles", content=body, headers=JSON)
    assert answer.status_code == 400, answer.text
    assert answer.json()["problems"][0]["code"] == "request.body"


@pytest.mark.parametrize("number", ["1e1000000", "-1e1000000", "1e400"])
def test_huge_decimals_in_a_rule_to_try_are_4xx(acme: Office, number: str) -> None:
    compare = '"kind": "compare", "field": "subject.payable_amount", "op": "<="'
    for value in (number, f'{{"type": "decimal", "value": {number}}}'):
        for literal in (value, value.replace(number, f'"{number}"')):
            body = f'{{"subject_type": "invoice", "rule": {{{compare}, "value": {literal}}}}}'
            answer = acme.http.post("/rules/match", content=body.encode(), headers=JSON)
            assert 400 <= answer.status_code < 500, (literal, answer.text)


@pytest.mark.parametrize("number", [str(2**63), str(2**64 + 1), "9" * 30, str(2**31)])
def test_version_numbers_beyond_the_column_are_400(acme: Office, number: str) -> None:
    ok(acme.http.post("/flows/import", content=dumps(minimal_flow()), headers=JSON), 201)
    ok(acme.http.post("/flows/minimal/publish"), 201)
    for path, params in (
        (f"/flows/minimal/versions/{number}", {}),
        (f"/flows/minimal/versions/{number}/counts", {}),
        ("/flows/minimal/export", {"version": number}),
    ):
        answer = acme.http.get(path, params=params)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["problems"][0]["path"] in ("number", "version")
    assert ok(acme.http.get("/flows/minimal/versions/1"))["key"] == "minimal"


# '²' (latin-1 b"\xb2", as headers are read) is a digit to str.isdigit(), not to int().
@pytest.mark.parametrize("etag", [b'"\xb2"', b'"99999999999"', b'"1 "', b'""'])
def test_if_match_that_is_no_revision_is_400(acme: Office, etag: bytes) -> None:
    ok(acme.http.post("/flows", content=dumps(minimal_flow()), headers=JSON), 201)
    answer = acme.http.put(
        "/flows/minimal/draft",
        content=dumps(minimal_flow()),
        headers=[(b"Content-Type", b"application/json"), (b"If-Match", etag)],
    )
    assert answer.status_code == 400, answer.text
    assert "If-Match" in answer.json()["detail"]


LISTS = ["/flows", "/roles", "/users", "/tokens", "/schedules", "/partnerships"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_takes_limit_and_offset(acme: Office, path: str) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        refused = acme.http.get(path, params=params)
        assert refused.status_code == 400, (path, params, refused.text)
        assert refused.json()["problems"][0]["path"] in params
    assert len(ok(acme.http.get(path, params={"limit": 1}))) <= 1


def test_pages_of_a_list_follow_each_other(backend: Backend, acme: Office) -> None:
    for index in range(3):
        ok(
            acme.http.post(
                "/flows/import", content=dumps(minimal_flow(key=f"f{index}")), headers=JSON
            ),
            201,
        )
        ok(acme.http.post("/roles", json={"name": f"Role {index}"}), 201)
        accounts.add_user(backend.runtime, acme.tenant_id, f"u{index}@{acme.slug}.example")
        ok(acme.http.post("/tokens", json={"name": f"token {index}"}), 201)
    for path in ("/flows", "/roles", "/users", "/tokens"):
        everything = ok(acme.http.get(path, params={"limit": 1000}))
        assert len(everything) >= 3, path
        pages = [
            ok(acme.http.get(path, params={"limit": 2, "offset": offset}))
            for offset in range(0, len(everything), 2)
        ]
        assert all(len(page) <= 2 for page in pages)
        assert [row for page in pages for row in page] == everything, path


def test_options_lists_every_method_of_the_path(acme: Office) -> None:
    for path, item in DOCUMENT["paths"].items():
        documented = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        answer = acme.http.options(_with_ids(path))
        assert answer.status_code == 204, (path, answer.text)
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert allowed == documented | {"OPTIONS"}, (path, allowed)


def test_the_openapi_document_is_no_looser_than_the_server() -> None:
    schemas = DOCUMENT["components"]["schemas"]

    # Bodies that refuse unknown fields say so.
    def body_of(path: str) -> dict[str, Any]:
        operation = DOCUMENT["paths"][f"/api/v1{path}"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.split("/")[-1]]  # type: ignore[no-any-return]

    for path in ("/roles", "/auth/login", "/rules/match", "/roles/{name}/members/bulk", "/tokens"):
        assert body_of(path)["additionalProperties"] is False, path
    assert schemas["MemberIn"]["additionalProperties"] is False  # nested in the bulk body
    # A rule to try is a rule tree, not any object.
    assert "anyOf" in body_of("/rules/match")["properties"]["rule"]
    # Decimal and date strings carry the pattern the decoders accept.
    decimal = schemas["Flow.DecimalValue"]["properties"]["value"]
    string = next(option for option in decimal["anyOf"] if option["type"] == "string")
    assert string["pattern"]
    assert {"type": "number"} in decimal["anyOf"]
    assert schemas["Flow.DateValue"]["properties"]["value"]["pattern"]
    # The invoice upload's content types, and the export of every version as an array.
    upload = DOCUMENT["paths"]["/api/v1/subjects/invoices"]["post"]["requestBody"]["content"]
    assert {"application/xml", "text/xml"} <= set(upload)
    export_all = DOCUMENT["paths"]["/api/v1/flows/{key}/export/all"]["get"]["responses"]["200"]
    assert export_all["content"]["application/json"]["schema"]["type"] == "array"


def test_the_scan_accepts_every_example_flow() -> None:
    from procedo.api.bodies import scan_json  # here: the module's other tests run without it

    for path in sorted(EXAMPLES.glob("*.json")):
        scan_json(path.read_bytes())
