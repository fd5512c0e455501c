"""Bad input is refused with a message naming the place, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.flow.codec import decode_flow, encode_flow
from procedo.runtime.standard_roles import STANDARD_ROLES
from tests.api_helpers import Office, embedded_backend, live_server, office, ok
from tests.conftest import EXAMPLES, dumps, minimal_flow

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    folder = tmp_path_factory.mktemp("input")
    with embedded_backend(f"sqlite:///{folder / 'procedo.db'}", folder) as running:
        yield running


@pytest.fixture(scope="module")
def base_url(backend: Backend) -> Iterator[str]:
    with live_server(backend.runtime) as url:
        yield url


_offices = iter(range(1000))


@pytest.fixture
def acme(backend: Backend, base_url: str) -> Office:
    return office(backend.runtime, base_url, f"Office {next(_offices)}")


def _user(backend: Backend, base_url: str, of: Office, access: accounts.Access) -> httpx.Client:
    user, _password = accounts.add_user(
        backend.runtime, of.tenant_id, f"{access}@{of.slug}.example", access=access
    )
    _row, token = accounts.create_token(backend.runtime, of.tenant_id, user.id, access)
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_validate_reports_every_invalid_example_with_its_place(acme: Office) -> None:
    expected: dict[str, dict[str, str]] = json.loads(
        (EXAMPLES / "invalid" / "expected.json").read_text()
    )
    for name, want in expected.items():
        body = (EXAMPLES / "invalid" / name).read_bytes()
        problems = ok(acme.http.post("/flows/validate", content=body, headers=JSON))["problems"]
        matching = [p for p in problems if p["code"] == want["code"]]
        assert matching, f"{name}: {want['code']} not in {problems}"
        for place in ("node", "edge", "line"):
            if place in want:
                assert any(p.get(place) == want[place] for p in matching), (name, matching)
    assert ok(acme.http.get("/flows")) == []


def test_import_refuses_bad_files_and_stores_nothing(acme: Office) -> None:
    broken = minimal_flow(edges=[])  # three problems at least: nothing is connected
    refused = acme.http.post("/flows/import", content=dumps(broken), headers=JSON)
    assert refused.status_code == 422
    codes = {p["code"] for p in refused.json()["problems"]}
    assert {"node.port.unconnected", "node.unreachable"} <= codes, codes

    syntax = acme.http.post(
        "/flows/import", content=b'{"format": "procedo.flow/1",\n  "key": }', headers=JSON
    )
    assert syntax.status_code == 422
    assert syntax.json()["problems"][0]["line"] == 2

    too_big = acme.http.post("/flows/import", content=b" " * (5 * 1024 * 1024 + 1), headers=JSON)
    assert too_big.status_code == 413
    assert "5 MB" in too_big.json()["detail"]

    as_text = acme.http.post(
        "/flows/import", content=dumps(minimal_flow()), headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    assert "application/json" in as_text.json()["detail"]
    assert ok(acme.http.get("/flows")) == []


def test_every_example_exports_the_bytes_it_was_imported_as(acme: Office) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        canonical = encode_flow(decode_flow(path.read_bytes()))
        created = ok(acme.http.post("/flows/import", content=path.read_bytes(), headers=JSON), 201)
        exported = acme.http.get(f"/flows/{created['key']}/export")
        assert exported.content == canonical, path.name
        # Imported again: a new draft of the same key, still the same bytes.
        again = ok(acme.http.post("/flows/import", content=exported.content, headers=JSON))
        assert again["created"] is False
        assert acme.http.get(f"/flows/{created['key']}/export").content == canonical


def test_a_stale_draft_write_names_who_changed_it_and_when(
    backend: Backend, base_url: str, acme: Office
) -> None:
    created = acme.http.post("/flows", content=dumps(minimal_flow()), headers=JSON)
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    designer = _user(backend, base_url, acme, "designer")
    renamed = dumps(minimal_flow(name="Renamed"))
    assert acme.http.put("/flows/minimal/draft", content=renamed, headers=JSON).status_code == 428
    saved = designer.put(
        "/flows/minimal/draft", content=renamed, headers={**JSON, "If-Match": '"1"'}
    )
    assert saved.status_code == 200
    assert saved.headers["ETag"] == '"2"'
    stale = acme.http.put(
        "/flows/minimal/draft",
        content=dumps(minimal_flow(name="Mine")),
        headers={**JSON, "If-Match": '"1"'},
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["changed_by"] == f"designer@{acme.slug}.example"
    assert body["changed_at"] == saved.json()["updated_at"].replace("Z", "+00:00")
    assert ok(acme.http.get("/flows/minimal"))["name"] == "Renamed"
    other_key = dumps(minimal_flow(key="other"))
    moved = acme.http.put(
        "/flows/minimal/draft", content=other_key, headers={**JSON, "If-Match": '"2"'}
    )
    assert moved.status_code == 422
    assert moved.json()["problems"][0]["path"] == "$.key"


def test_publishing_an_invalid_draft_lists_every_problem(acme: Office) -> None:
    broken = minimal_flow(edges=minimal_flow()["edges"][:1])  # the task's ports lead nowhere
    ok(acme.http.post("/flows", content=dumps(broken), headers=JSON), 201)
    refused = acme.http.post("/flows/minimal/publish")
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert len(problems) >= 2
    assert all(p["node"] == "task" or p["code"] != "port.unconnected" for p in problems)
    assert ok(acme.http.get("/flows/minimal/versions")) == []


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"name": "Role", "colour": "red"}, "$", "unknown field `colour`"),
        ({"name": 5}, "$.name", "Expected `str`"),
        ({"name": ""}, "$.name", "length >= 1"),
    ],
)
def test_strict_decoding_names_the_place(
    acme: Office, body: dict[str, Any], path: str, words: str
) -> None:
    refused = acme.http.post("/roles", json=body)
    assert refused.status_code == 400
    problem = refused.json()["problems"][0]
    assert problem["path"] == path
    assert words in problem["message"]
    assert [r["name"] for r in ok(acme.http.get("/roles"))] == sorted(STANDARD_ROLES)


def test_malformed_json_and_large_bodies(acme: Office) -> None:
    malformed = acme.http.post("/roles", content=b'{"name": ', headers=JSON)
    assert malformed.status_code == 400
    assert "not valid JSON" in malformed.json()["detail"]
    large = acme.http.post(
        "/roles", content=b'{"name": "' + b"x" * (1024 * 1024) + b'"}', headers=JSON
    )
    assert large.status_code == 413
    bad_query = acme.http.get("/tasks", params={"scope": "everyone"})
    assert bad_query.status_code == 400
    assert bad_query.json()["problems"][0]["path"] == "scope"


def test_access_levels(backend: Backend, base_url: str, acme: Office) -> None:
    ok(acme.http.post("/flows/import", content=dumps(minimal_flow()), headers=JSON), 201)
    member = _user(backend, base_url, acme, "member")
    designer = _user(backend, base_url, acme, "designer")
    partner = _user(backend, base_url, acme, "partner")
    assert member.post("/flows/minimal/publish").status_code == 403
    assert ok(member.get("/flows"))[0]["key"] == "minimal"
    ok(designer.post("/flows/minimal/publish"), 201)
    subject = ok(designer.post("/subjects", json={"type": "invoice", "key": "I-1"}), 201)
    instance = ok(
        designer.post("/instances", json={"flow": "minimal", "subject_id": subject["id"]}), 201
    )
    move = {"to_node": "end", "reason": "done elsewhere"}
    refused = designer.post(f"/instances/{instance['id']}/move", json=move)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    # A member not in the task's role may not complete it; an admin may.
    task_id = instance["tasks"][0]["id"]
    assert member.post(f"/tasks/{task_id}/complete", json={"outcome": "approve"}).status_code == 403
    assert partner.get("/flows").status_code == 403
    assert partner.get("/node-types").status_code == 403
    assert ok(partner.get("/shared")) == []
    assert (
        ok(acme.http.post(f"/tasks/{task_id}/complete", json={"outcome": "approve"}))["status"]
        == "completed"
    )


def test_claim_and_reassign(backend: Backend, base_url: str, acme: Office) -> None:
    ok(acme.http.post("/flows/import", content=dumps(minimal_flow()), headers=JSON), 201)
    ok(acme.http.post("/flows/minimal/publish"), 201)
    ben = _user(backend, base_url, acme, "member")
    # Accountant is one of the standard roles every tenant starts with (K1).
    ok(acme.http.post("/roles", json={"name": "Controller"}), 201)
    members = [{"email": acme.email}, {"email": f"member@{acme.slug}.example"}]
    ok(acme.http.post("/roles/Accountant/members/bulk", json={"members": members}), 201)
    subject = ok(acme.http.post("/subjects", json={"type": "invoice", "key": "I-2"}), 201)
    instance = ok(
        acme.http.post("/instances", json={"flow": "minimal", "subject_id": subject["id"]}), 201
    )
    task_id = instance["tasks"][0]["id"]
    assert [t["id"] for t in ok(ben.get("/tasks", params={"scope": "roles"}))] == [task_id]
    claimed = ok(ben.post(f"/tasks/{task_id}/claim"))
    assert claimed["assignee"] == f"member@{acme.slug}.example"
    assert claimed["candidates"] == [claimed["assignee"]]
    assert ok(acme.http.get("/tasks", params={"scope": "roles"})) == []
    assert [t["id"] for t in ok(ben.get("/tasks"))] == [task_id]
    moved = ok(
        acme.http.post(
            f"/tasks/{task_id}/reassign", json={"role": "Controller", "reason": "4 eyes"}
        )
    )
    assert moved["role"] == "Controller"
    assert moved["assignee"] is None
    assert ok(ben.get("/tasks")) == []
    assert ben.post(f"/tasks/{task_id}/complete", json={"outcome": "approve"}).status_code == 403
    history = ok(acme.http.get(f"/instances/{instance['id']}/history"))
    kinds = [(row["kind"], row["reason"]) for row in history]
    assert ("task_claimed", None) in kinds
    assert ("task_reassigned", "4 eyes") in kinds


def test_the_designer_is_served_with_client_routing(backend: Backend, tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>designer</title>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log('hi')")
    with live_server(backend.runtime, web_dir=tmp_path) as url, httpx.Client(base_url=url) as http:
        for page in ("/", "/flows/invoice-approval/edit"):
            shown = http.get(page)
            assert "designer" in shown.text
            assert shown.headers["content-type"].startswith("text/html")
            assert not shown.headers.get("content-disposition", "").startswith("attachment")
            assert shown.headers["x-frame-options"] == "DENY"
            assert shown.headers["x-content-type-options"] == "nosniff"
        asset = http.get("/assets/app-1234.js")
        assert asset.headers["content-type"].startswith("text/javascript")
        assert "immutable" in asset.headers["cache-control"]
        missing_api = http.get("/api/v1/nothing-here")
        assert missing_api.status_code == 404
        assert missing_api.json()["status"] == 404
        assert "designer" in http.get("/..%2f..%2fetc/passwd").text  # index, never the file
    with live_server(backend.runtime, web_dir=tmp_path / "absent") as url:
        assert "not built" in httpx.get(url).text


def test_ubl_invoices_come_in_as_subjects_and_bad_documents_store_nothing(acme: Office) -> None:
    samples = Path(__file__).parent / "ubl"
    xml = {"Content-Type": "application/xml"}
    stored = ok(
        acme.http.post(
            "/subjects/invoices", content=(samples / "invoice-kvk-x.xml").read_bytes(), headers=xml
        ),
        201,
    )
    assert stored["type"] == "invoice"
    again = ok(
        acme.http.post(
            "/subjects/invoices", content=(samples / "invoice-kvk-x.xml").read_bytes(), headers=xml
        ),
        201,
    )
    assert again["id"] == stored["id"]
    for name in ("malformed.xml", "billion-laughs.xml"):
        refused = acme.http.post(
            "/subjects/invoices", content=(samples / name).read_bytes(), headers=xml
        )
        assert refused.status_code == 400, (name, refused.text)
        assert refused.json()["problems"], name
    as_json = acme.http.post("/subjects/invoices", content=b"{}", headers=JSON)
    assert as_json.status_code == 415
    assert [s["id"] for s in ok(acme.http.get("/subjects", params={"type": "invoice"}))] == [
        stored["id"]
    ]
