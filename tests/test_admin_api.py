"""Users and role members over HTTP, as the admin screens use them (issue 13).

Only administrators manage users and roles; a tenant sees and changes only its own;
no change leaves a tenant without an active administrator; a deactivated user can
neither log in nor go on with a session or token; a reset password is shown once and
ends the old one.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from procedo.api import accounts
from procedo.api.server import Backend
from tests.api_helpers import Office, office, ok
from tests.conftest import dumps, minimal_flow

JSON = {"Content-Type": "application/json"}


def _login(base_url: str, acme: Office, email: str, password: str) -> httpx.Client:
    """A browser-like session: cookie plus CSRF header."""
    http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)
    answer = http.post(
        "/auth/login", json={"tenant": acme.slug, "email": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    http.headers["X-CSRF-Token"] = http.cookies["procedo_csrf"]
    return http


def _login_status(base_url: str, acme: Office, email: str, password: str) -> int:
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=30) as http:
        body = {"tenant": acme.slug, "email": email, "password": password}
        return http.post("/auth/login", json=body).status_code


def _user(acme: Office, email: str, access: str = "member") -> dict[str, Any]:
    made: dict[str, Any] = ok(
        acme.http.post("/users", json={"email": email, "access": access}), 201
    )
    assert len(made["password"]) >= 12
    return made


def _users(acme: Office) -> dict[str, dict[str, Any]]:
    return {u["email"]: u for u in ok(acme.http.get("/users"))}


def test_only_administrators_manage_users_and_roles(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    target = _user(acme, "target@acme.example")["user"]["id"]
    for access in ("member", "designer"):
        made = _user(acme, f"{access}@acme.example", access)
        http = _login(base_url, acme, f"{access}@acme.example", made["password"])
        refused = [
            http.get("/users"),
            http.post("/users", json={"email": "x@acme.example"}),
            http.patch(f"/users/{target}", json={"active": False}),
            http.post(f"/users/{target}/password-reset"),
            http.post("/roles", json={"name": "Own"}),
            http.patch("/roles/Fiscaal", json={"label": "Tax"}),
            http.delete("/roles/Salaris"),
            http.post("/roles/Fiscaal/members", json={"email": "target@acme.example"}),
            http.get("/roles/subjects", params={"q": "C"}),
            http.get("/roles/Fiscaal/use"),
        ]
        assert [r.status_code for r in refused] == [403] * len(refused), access
        assert "this needs admin access" in refused[0].json()["detail"]
    # Nothing of it happened.
    users = _users(acme)
    assert users["target@acme.example"]["active"] is True
    assert "x@acme.example" not in users
    roles = {r["name"]: r for r in ok(acme.http.get("/roles"))}
    assert "Own" not in roles
    assert "Salaris" in roles
    assert roles["Fiscaal"]["members"] == []


def test_a_tenant_sees_and_changes_only_its_own(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    other = office(backend.runtime, base_url, "Other Office")
    theirs = _user(acme, "eva@acme.example")["user"]["id"]
    ok(acme.http.post("/subjects", json={"type": "client", "key": "C-1", "fields": {}}), 201)
    client = ok(acme.http.get("/roles/subjects", params={"q": "C-1"}))[0]

    assert "eva@acme.example" not in _users(other)
    assert other.http.patch(f"/users/{theirs}", json={"active": False}).status_code == 404
    assert other.http.post(f"/users/{theirs}/password-reset").status_code == 404
    assert ok(other.http.get("/roles/subjects", params={"q": "C-1"})) == []
    foreign = other.http.post(
        "/roles/Fiscaal/members", json={"email": "eva@acme.example", "subject_id": client["id"]}
    )
    assert foreign.status_code == 422
    assert _users(acme)["eva@acme.example"]["active"] is True


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    me = _users(acme)[acme.email]["id"]
    for change in ({"active": False}, {"access": "designer"}):
        refused = acme.http.patch(f"/users/{me}", json=change)
        assert refused.status_code == 409
        assert "last active administrator" in refused.json()["detail"]
        assert "make another user an administrator first" in refused.json()["detail"]
    assert _users(acme)[acme.email]["access"] == "admin"
    assert _users(acme)[acme.email]["active"] is True

    # A deactivated admin does not count: still the last active one.
    second = _user(acme, "second@acme.example", "admin")["user"]["id"]
    ok(acme.http.patch(f"/users/{second}", json={"active": False}))
    assert acme.http.patch(f"/users/{me}", json={"access": "member"}).status_code == 409

    ok(acme.http.patch(f"/users/{second}", json={"active": True}))
    demoted = ok(acme.http.patch(f"/users/{me}", json={"access": "designer"}))
    assert demoted["access"] == "designer"
    # The change counts at once: the token now carries designer access.
    assert acme.http.get("/users").status_code == 403


def test_a_deactivated_user_cannot_log_in_and_their_sessions_end(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    made = _user(acme, "eva@acme.example")
    eva = made["user"]["id"]
    session = _login(base_url, acme, "eva@acme.example", made["password"])
    assert session.get("/auth/me").status_code == 200
    _row, token = accounts.create_token(backend.runtime, acme.tenant_id, uuid.UUID(eva), "script")
    with_token = httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert with_token.get("/auth/me").status_code == 200

    row = ok(acme.http.patch(f"/users/{eva}", json={"active": False}))
    assert row["active"] is False
    assert session.get("/auth/me").status_code == 401
    assert with_token.get("/auth/me").status_code == 401
    assert _login_status(base_url, acme, "eva@acme.example", made["password"]) == 401

    ok(acme.http.patch(f"/users/{eva}", json={"active": True}))
    assert _login_status(base_url, acme, "eva@acme.example", made["password"]) == 200
    assert session.get("/auth/me").status_code == 401  # the old session stays ended


def test_a_reset_password_is_shown_once_and_ends_the_old_one(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    made = _user(acme, "eva@acme.example")
    session = _login(base_url, acme, "eva@acme.example", made["password"])
    reset = ok(acme.http.post(f"/users/{made['user']['id']}/password-reset"))
    assert reset["password"] != made["password"]
    assert len(reset["password"]) >= 12
    assert reset["user"]["email"] == "eva@acme.example"
    assert session.get("/auth/me").status_code == 401
    assert _login_status(base_url, acme, "eva@acme.example", made["password"]) == 401
    assert _login_status(base_url, acme, "eva@acme.example", reset["password"]) == 200


def test_changes_are_checked_and_name_the_field(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    eva = _user(acme, "eva@acme.example")["user"]["id"]
    bad = acme.http.patch(f"/users/{eva}", json={"access": "boss"})
    assert bad.status_code == 400
    assert "access" in bad.text
    empty = acme.http.patch(f"/users/{eva}", json={})
    assert empty.status_code == 422
    assert "name, access, active" in empty.json()["detail"]
    unknown = acme.http.patch(f"/users/{eva}", json={"email": "new@acme.example"})
    assert unknown.status_code == 400
    assert "email" in unknown.text
    huge = acme.http.patch(f"/users/{eva}", json={"name": "x" * 20_000})
    assert huge.status_code in (400, 413)
    assert _users(acme)["eva@acme.example"]["name"] == ""

    renamed = ok(acme.http.patch(f"/users/{eva}", json={"name": "Eva Smit", "access": "designer"}))
    assert (renamed["name"], renamed["access"]) == ("Eva Smit", "designer")


def test_members_say_who_and_for_which_subject(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    ok(acme.http.post("/users", json={"email": "eva@acme.example", "name": "Eva Smit"}), 201)
    fields = {"name": "Studio Noord B.V."}
    made = ok(
        acme.http.post("/subjects", json={"type": "client", "key": "C-2001", "fields": fields}),
        201,
    )
    ok(acme.http.post("/subjects", json={"type": "client", "key": "C-2002", "fields": {}}), 201)
    ok(acme.http.post("/roles/Fiscaal/members", json={"email": "eva@acme.example"}), 201)
    per_client = {"email": "eva@acme.example", "subject_id": made["id"]}
    ok(acme.http.post("/roles/Accountant/members", json=per_client), 201)

    # The picker finds a subject by its name or its key, case-insensitively; % is literal.
    by_name = ok(acme.http.get("/roles/subjects", params={"q": "studio noord"}))
    assert [(s["key"], s["name"]) for s in by_name] == [("C-2001", "Studio Noord B.V.")]
    by_key = ok(acme.http.get("/roles/subjects", params={"q": "c-200", "type": "client"}))
    assert [s["key"] for s in by_key] == ["C-2001", "C-2002"]
    assert ok(acme.http.get("/roles/subjects", params={"q": "%"})) == []
    assert acme.http.get("/roles/subjects", params={"q": ""}).status_code == 400
    # Without a search: the subjects with members of their own.
    assert [s["key"] for s in ok(acme.http.get("/roles/subjects"))] == ["C-2001"]

    roles = {r["name"]: r for r in ok(acme.http.get("/roles"))}
    (office_member,) = roles["Fiscaal"]["members"]
    assert (office_member["name"], office_member["subject"]) == ("Eva Smit", None)
    (client_member,) = roles["Accountant"]["members"]
    assert client_member["subject"] == {
        "id": made["id"],
        "type": "client",
        "key": "C-2001",
        "name": "Studio Noord B.V.",
    }
    assert client_member["active"] is True
    eva = _users(acme)["eva@acme.example"]
    assert (eva["roles"], eva["subject_roles"]) == (["Fiscaal"], 1)


def test_what_keeps_a_role_is_said_before_deleting(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Acme Office")
    flow = minimal_flow(key="vat", subject_type="client")
    flow["nodes"][1]["params"]["assignee"] = {"role": "Fiscaal"}
    ok(acme.http.post("/flows/import", content=dumps(flow), headers=JSON), 201)
    assert ok(acme.http.get("/roles/Fiscaal/use")) == {"flows": ["vat"], "open_tasks": 0}
    assert ok(acme.http.get("/roles/Salaris/use")) == {"flows": [], "open_tasks": 0}
    assert acme.http.get("/roles/Nobody/use").status_code == 404
    assert acme.http.delete("/roles/Fiscaal").status_code == 409
    assert acme.http.delete("/roles/Salaris").status_code == 204
