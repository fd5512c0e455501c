"""An accounting office's roles (K1) over HTTP: the six standard ones, renamed, removed.

A new tenant starts with Relatiebeheerder, Accountant, Fiscaal, Administratie,
Salaris and Secretariaat; a rename carries drafts, members and open tasks along
and names the published flows to publish again; a role still needed cannot go.
"""

from __future__ import annotations

from typing import Any

from procedo.api import accounts
from procedo.api.server import Backend
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps, minimal_flow
from tests.test_bulk_start import client, period_flow, running

JSON = {"Content-Type": "application/json"}
STANDARD = ["Accountant", "Administratie", "Fiscaal", "Relatiebeheerder", "Salaris", "Secretariaat"]


def _import(acme: Office, flow: dict[str, Any], publish: bool) -> None:
    ok(acme.http.post("/flows/import", content=dumps(flow), headers=JSON), 201)
    if publish:
        ok(acme.http.post(f"/flows/{flow['key']}/publish"), 201)


def _member(backend: Backend, acme: Office, email: str) -> None:
    accounts.add_user(backend.runtime, acme.tenant_id, email, access="member")


def test_a_new_office_has_the_six_standard_roles(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    roles = ok(acme.http.get("/roles"))
    assert [r["name"] for r in roles] == STANDARD
    by_name = {r["name"]: r for r in roles}
    assert by_name["Relatiebeheerder"]["labels"] == {
        "nl": "Relatiebeheerder",
        "de": "Mandantenbetreuer",
        "en": "Relationship manager",
    }
    assert all(set(r["labels"]) == {"nl", "de", "en"} for r in roles)
    assert all(r["members"] == [] for r in roles)
    # They are taken: creating one again is a conflict; the office adds its own beside them.
    assert acme.http.post("/roles", json={"name": "Fiscaal"}).status_code == 409
    own = ok(acme.http.post("/roles", json={"name": "Loonheffing"}), 201)
    assert own["labels"] == {}


def test_per_client_members_get_the_work_before_the_office_members(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    _member(backend, acme, "eva@acme.example")
    _member(backend, acme, "finn@acme.example")
    _import(acme, period_flow(), publish=True)
    mine = client(acme, "C-1", [])
    other = client(acme, "C-2", [])
    ok(acme.http.post("/roles/Administratie/members", json={"email": "eva@acme.example"}), 201)
    ok(
        acme.http.post(
            "/roles/Administratie/members",
            json={"email": "finn@acme.example", "subject_id": mine["id"]},
        ),
        201,
    )
    report = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [mine["id"], other["id"]], "period": "2026-11"},
        )
    )
    first, second = (running(acme, s["instance_id"]) for s in report["started"])
    assert first["tasks"][0]["candidates"] == ["finn@acme.example"]
    assert second["tasks"][0]["candidates"] == ["eva@acme.example"]


def test_a_rename_carries_drafts_members_and_open_tasks(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    _member(backend, acme, "eva@acme.example")
    ok(acme.http.post("/roles/Administratie/members", json={"email": "eva@acme.example"}), 201)
    _import(acme, period_flow("published"), publish=True)
    draft_only = minimal_flow(key="draft-only", subject_type="client")
    draft_only["nodes"][1]["params"]["assignee"] = {"role": "Administratie"}
    _import(acme, draft_only, publish=False)
    _import(acme, minimal_flow(key="other-role", subject_type="client"), publish=False)
    subject = client(acme, "C-1", [])
    started = ok(
        acme.http.post(
            "/flows/published/start-bulk",
            json={"subject_ids": [subject["id"]], "period": "2026-11"},
        )
    )
    task = running(acme, started["started"][0]["instance_id"])["tasks"][0]
    assert task["role"] == "Administratie"

    changed = ok(acme.http.patch("/roles/Administratie", json={"name": "Boekhouding"}))
    assert changed == {
        "name": "Boekhouding",
        "label": "Bookkeeper",
        "drafts_updated": ["draft-only", "published"],
        "to_publish": ["published"],
    }
    roles = {r["name"]: r for r in ok(acme.http.get("/roles"))}
    assert "Administratie" not in roles
    assert [m["email"] for m in roles["Boekhouding"]["members"]] == ["eva@acme.example"]
    assert roles["Boekhouding"]["labels"] == {}  # no longer the standard role
    for key in ("draft-only", "published"):
        draft = ok(acme.http.get(f"/flows/{key}"))["draft"]
        assert "Administratie" not in dumps(draft).decode()
        assert "Boekhouding" in dumps(draft).decode()
    assert "Boekhouding" not in dumps(ok(acme.http.get("/flows/other-role"))["draft"]).decode()
    assert ok(acme.http.get(f"/tasks/{task['id']}"))["role"] == "Boekhouding"

    # Publishing finishes the rename: the next run's task is for the new name.
    ok(acme.http.post("/flows/published/publish"), 201)
    again = ok(
        acme.http.post(
            "/flows/published/start-bulk",
            json={"subject_ids": [subject["id"]], "period": "2026-12"},
        )
    )
    later = running(acme, again["started"][0]["instance_id"])["tasks"][0]
    assert (later["role"], later["candidates"]) == ("Boekhouding", ["eva@acme.example"])


def test_relabel_and_rename_refusals(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    relabelled = ok(acme.http.patch("/roles/Salaris", json={"label": "Payroll team"}))
    assert (relabelled["name"], relabelled["label"]) == ("Salaris", "Payroll team")
    taken = acme.http.patch("/roles/Salaris", json={"name": "Fiscaal"})
    assert taken.status_code == 409
    assert "a role 'Fiscaal' exists already" in taken.json()["detail"]
    assert acme.http.patch("/roles/Nobody", json={"label": "x"}).status_code == 404
    assert acme.http.patch("/roles/Salaris", json={"name": ""}).status_code == 400


def test_a_role_still_needed_cannot_be_removed(backend: Backend, base_url: str) -> None:
    rt = backend.runtime
    acme = office(rt, base_url, "Acme Office")
    _import(acme, period_flow(), publish=True)
    subject = client(acme, "C-1", [])
    refused = acme.http.delete("/roles/Administratie")
    assert refused.status_code == 409
    assert "flows vat-period name it" in refused.json()["detail"]

    # A task of the role still open also keeps it, after the flow stopped naming it.
    started = ok(
        acme.http.post(
            "/flows/vat-period/start-bulk",
            json={"subject_ids": [subject["id"]], "period": "2026-11"},
        )
    )
    running(acme, started["started"][0]["instance_id"])
    ok(acme.http.patch("/roles/Administratie", json={"name": "Boekhouding"}))
    ok(acme.http.post("/flows/vat-period/publish"), 201)
    flow = period_flow()
    for node in flow["nodes"]:
        if node["type"] == "assign_role":
            node["params"]["assignee"] = {"role": "Secretariaat"}
    ok(acme.http.post("/flows/import", content=dumps(flow), headers=JSON), 200)
    ok(acme.http.post("/flows/vat-period/publish"), 201)
    still = acme.http.delete("/roles/Boekhouding")
    assert still.status_code == 409
    detail = still.json()["detail"]
    assert "1 open task(s)" in detail
    assert "flows" not in detail  # the newest version names another role now

    user, _password = accounts.add_user(rt, acme.tenant_id, "m@acme.example", access="member")
    _row, token = accounts.create_token(rt, acme.tenant_id, user.id, "member")
    member = acme.http.delete("/roles/Salaris", headers={"Authorization": f"Bearer {token}"})
    assert member.status_code == 403
    assert acme.http.delete("/roles/Salaris").status_code == 204
    assert "Salaris" not in [r["name"] for r in ok(acme.http.get("/roles"))]
    assert acme.http.delete("/roles/Salaris").status_code == 404
