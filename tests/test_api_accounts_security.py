"""Issue 12, items 8 and 12: throttling shared by API processes, security headers on every
answer, JSON-only password routes, password rules, token expiry and revocation.

Each test builds its apps in-process (Litestar's TestClient) on a database file or the
PostgreSQL test schema; two apps with two Database objects stand for two API processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from procedo.api import accounts, passwords, tenancy
from procedo.api.app import create_app
from procedo.api.recent import RECENT
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.session import Database
from procedo.runtime.context import Runtime
from procedo.runtime.local import InlineDispatcher
from tests.test_api_rls import APP_ROLE, rls_url  # noqa: F401 (the fixture)

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
STRONG = "otter lamp quietly 47 rivers"


@dataclass
class Office:
    slug: str
    email: str
    password: str
    token: str


@dataclass
class Processes:
    """Two API processes on one database, under one (fake) wall clock."""

    clock: FakeClock
    runtimes: list[Runtime]
    office: Office

    def client(self, which: int = 0, web_dir: Path | None = None) -> TestClient[Any]:
        app = create_app(self.runtimes[which], web_dir=web_dir)
        return TestClient(app, base_url="http://testserver.local")


@pytest.fixture
def processes(db_url: str) -> Iterator[Processes]:
    Database(db_url).create_all()
    clock = FakeClock(START)
    runtimes = [
        Runtime(db=Database(db_url), dispatcher=InlineDispatcher(), clock=clock) for _ in range(2)
    ]
    made = accounts.create_tenant(runtimes[0], "Acme Office", "admin@acme.example")
    RECENT.forget_all()  # remembered credentials of an earlier test's database
    yield Processes(
        clock, runtimes, Office(made.tenant.slug, made.admin.email, made.password, made.token)
    )
    for rt in runtimes:
        rt.db.engine.dispose()


def login_body(office: Office, password: str) -> dict[str, str]:
    return {"tenant": office.slug, "email": office.email, "password": password}


def log_in(client: TestClient[Any], office: Office, password: str | None = None) -> str:
    """Logs the client in; returns its CSRF value."""
    answer = client.post("/api/v1/auth/login", json=login_body(office, password or office.password))
    assert answer.status_code == 200, answer.text
    return str(client.cookies["procedo_csrf"])


# --- 8. Login throttling shared by every API process ---------------------------------------


def test_failed_logins_count_across_api_processes(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as first, processes.client(1) as second:
        for _ in range(10):
            wrong = first.post("/api/v1/auth/login", json=login_body(office, "a wrong guess"))
            assert wrong.status_code == 401
        # The other process knows: even the right password waits.
        waiting = second.post("/api/v1/auth/login", json=login_body(office, office.password))
        assert waiting.status_code == 429
        assert 0 < int(waiting.headers["Retry-After"]) <= 601
        processes.clock.advance(dt.timedelta(minutes=10, seconds=1))
        assert (
            second.post("/api/v1/auth/login", json=login_body(office, office.password)).status_code
            == 200
        )
    # The window's old failures are pruned, and the right password cleared the account's.
    with processes.runtimes[0].db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.LoginFailure)) == 0


def test_a_refused_attempt_is_not_counted_and_a_right_one_clears(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as client:
        for _ in range(10):
            client.post("/api/v1/auth/login", json=login_body(office, "a wrong guess"))
        for _ in range(3):  # refused: not checked, not counted
            assert (
                client.post(
                    "/api/v1/auth/login", json=login_body(office, "a wrong guess")
                ).status_code
                == 429
            )
        with processes.runtimes[0].db.read() as session:
            # Ten failures, each counted for the account and for the address.
            assert session.scalar(sa.select(sa.func.count()).select_from(m.LoginFailure)) == 20


def test_the_current_password_check_is_throttled_with_logins(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as client, processes.client(1) as other:
        csrf = log_in(client, office)
        change = {"current": "not my password", "new": STRONG}
        for _ in range(10):
            answer = client.post(
                "/api/v1/auth/password", json=change, headers={"X-CSRF-Token": csrf}
            )
            assert answer.status_code == 403
        right = {"current": office.password, "new": STRONG}
        answer = client.post("/api/v1/auth/password", json=right, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 429
        # The same count as logins, in every process.
        login = other.post("/api/v1/auth/login", json=login_body(office, office.password))
        assert login.status_code == 429


# --- 12. Headers on every answer ----------------------------------------------------------

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def assert_common_headers(answer: Any) -> None:
    for name, value in COMMON.items():
        assert answer.headers.get(name) == value, (answer.request.url, answer.status_code, name)


def assert_policy(answer: Any, page: bool = False) -> None:
    policy = answer.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, (answer.request.url, answer.status_code)
    if page:
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"].split() == ["'self'", "'unsafe-eval'"]
        assert directives["default-src"] == "'self'"
        assert "http" not in policy  # no other origin
    else:
        assert "default-src 'none'" in policy


def answers(
    client: TestClient[Any], processes: Processes, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """One answer of each kind: success, 401, 404, 405, 400, 415, 500, a designer file."""
    bearer = {"Authorization": f"Bearer {processes.office.token}"}
    found = [
        client.get("/api/v1/flows", headers=bearer),
        client.get("/api/v1/flows"),
        client.get("/api/v1/nothing-here"),
        client.put("/api/v1/auth/me", headers=bearer),
        client.post("/api/v1/roles", json={"nope": 1}, headers=bearer),
        client.post("/api/v1/auth/login", content=b"{}"),
        client.get("/assets/a.js"),
    ]
    monkeypatch.setattr(accounts, "log_in", _broken)
    body = login_body(processes.office, processes.office.password)
    found.append(client.post("/api/v1/auth/login", json=body))
    assert [a.status_code for a in found] == [200, 401, 404, 405, 400, 415, 200, 500]
    return found


@pytest.fixture
def web(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text('<!doctype html><script type="module" src="/assets/a.js">')
    (web / "assets" / "a.js").write_text("console.log('designer')")
    return web


def test_error_answers_carry_the_security_headers(
    processes: Processes, web: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with processes.client(0, web_dir=web) as client:
        for answer in answers(client, processes, monkeypatch):
            assert_common_headers(answer)
        for page in (client.get("/"), client.get("/some/client/route")):
            assert_common_headers(page)


def test_every_answer_has_a_content_security_policy(
    processes: Processes, web: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with processes.client(0, web_dir=web) as client:
        for answer in answers(client, processes, monkeypatch):
            assert_policy(answer)
        for page in (client.get("/"), client.get("/some/client/route")):
            assert_policy(page, page=True)


def _broken(*_args: Any) -> None:
    raise RuntimeError("a bug")


def test_the_not_built_page_is_secured_too(processes: Processes, tmp_path: Path) -> None:
    with processes.client(0, web_dir=tmp_path / "empty") as client:
        not_built = client.get("/")
        assert_common_headers(not_built)
        assert_policy(not_built, page=True)


# --- 12. Login and password change take JSON only ---------------------------------------


FORM_BODIES = [
    ("text/plain", '{"tenant": "%s", "email": "%s", "password": "%s"}'),
    ("application/x-www-form-urlencoded", "tenant=%s&email=%s&password=%s"),
    ("multipart/form-data; boundary=x", "--x--"),
    ("", '{"tenant": "%s", "email": "%s", "password": "%s"}'),
]


def test_login_refuses_bodies_a_form_could_send(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as client:
        for content_type, body in FORM_BODIES:
            if "%s" in body:
                body = body % (office.slug, office.email, office.password)
            headers = {"Content-Type": content_type} if content_type else {}
            answer = client.post("/api/v1/auth/login", content=body.encode(), headers=headers)
            assert answer.status_code == 415, (content_type, answer.text)
            assert "application/json" in answer.json()["detail"]
            assert "procedo_session" not in client.cookies
    with processes.runtimes[0].db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.UserSession)) == 0


def test_password_change_refuses_a_text_body(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as client:
        csrf = log_in(client, office)
        body = f'{{"current": "{office.password}", "new": "{STRONG}"}}'
        answer = client.post(
            "/api/v1/auth/password",
            content=body.encode(),
            headers={"Content-Type": "text/plain", "X-CSRF-Token": csrf},
        )
        assert answer.status_code == 415
    with processes.client(0) as fresh:
        log_in(fresh, office)  # the old password still works


# --- 12. Password rules --------------------------------------------------------------------


CONTEXT = ("admin@acme.example", "Anna de Vries", "Acme Office", "acme-office")


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        (" " * 12, "only spaces"),
        ("short one", "at least 12"),
        ("aaaaaaaaaaaa", "different characters"),
        ("abababababab", "different characters"),
        ("abcdefabcdef", "repeated piece"),
        ("abcdefghijkl", "run of"),
        ("123456789012", "run of"),
        ("Password2026!", "common password"),
        ("P@ssw0rd12345", "common password"),
        ("qwertyuiop123", "common password"),
        ("Welcome!Welcome!", "repeated piece"),
        ("admin@acme.example", "email, name"),
        ("acme-office-2026", "email, name"),
        ("AnnaDeVries1990", "email, name"),
        ("Acme0ffice!!2026", "email, name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(weak: str, reason: str) -> None:
    with pytest.raises(passwords.WeakPassword, match=reason):
        passwords.check(weak, CONTEXT)


@pytest.mark.parametrize(
    "fine",
    ["otter lamp quietly 47 rivers", "x8#Kd93-mZq1", "Tr0ub4dor&3xyzzy", "acme ledger otter tram"],
)
def test_good_passwords_pass(fine: str) -> None:
    passwords.check(fine, CONTEXT)


def test_a_weak_new_password_is_refused_and_nothing_changes(processes: Processes) -> None:
    office = processes.office
    with processes.client(0) as client:
        csrf = log_in(client, office)
        for weak in (" " * 12, "aaaaaaaaaaaa", "admin@acme.example", "Password2026!"):
            answer = client.post(
                "/api/v1/auth/password",
                json={"current": office.password, "new": weak},
                headers={"X-CSRF-Token": csrf},
            )
            assert answer.status_code == 422, (weak, answer.text)
            assert "new password" in answer.json()["detail"]
            assert client.get("/api/v1/auth/me").status_code == 200
    with processes.client(0) as fresh:
        log_in(fresh, office)


# --- 12. Tokens expire and end with a password change -------------------------------------


def test_tokens_expire(processes: Processes) -> None:
    with processes.client(0) as client:
        admin = {"Authorization": f"Bearer {processes.office.token}"}
        made = client.post("/api/v1/tokens", json={"name": "bank feed", "days": 2}, headers=admin)
        assert made.status_code == 201, made.text
        assert dt.datetime.fromisoformat(made.json()["expires_at"]) == START + dt.timedelta(days=2)
        default = client.post("/api/v1/tokens", json={"name": "default"}, headers=admin).json()
        assert dt.datetime.fromisoformat(default["expires_at"]) == START + dt.timedelta(days=90)
        for days in (0, 367):
            refused = client.post("/api/v1/tokens", json={"name": "x", "days": days}, headers=admin)
            assert refused.status_code == 400
        feed = {"Authorization": f"Bearer {made.json()['token']}"}
        assert client.get("/api/v1/auth/me", headers=feed).status_code == 200
        processes.clock.advance(dt.timedelta(days=2))
        expired = client.get("/api/v1/auth/me", headers=feed)  # remembered a moment ago, too
        assert expired.status_code == 401
        assert "expired" in expired.json()["detail"]
        RECENT.forget_all()
        assert client.get("/api/v1/auth/me", headers=feed).status_code == 401


def test_a_password_change_ends_tokens_and_other_sessions_but_this_one(
    processes: Processes,
) -> None:
    office = processes.office
    with (
        processes.client(0) as this,
        processes.client(1) as elsewhere,
        processes.client(1) as integration,
    ):
        csrf = log_in(this, office)
        log_in(elsewhere, office)
        bearer = {"Authorization": f"Bearer {office.token}"}
        assert integration.get("/api/v1/auth/me", headers=bearer).status_code == 200
        changed = this.post(
            "/api/v1/auth/password",
            json={"current": office.password, "new": STRONG},
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 204, changed.text
        RECENT.forget_all()  # what the other process remembers lasts two seconds at most
        assert this.get("/api/v1/auth/me").status_code == 200
        assert elsewhere.get("/api/v1/auth/me").status_code == 401
        assert integration.get("/api/v1/auth/me", headers=bearer).status_code == 401
        listed = this.get("/api/v1/tokens").json()
        assert [row["revoked_at"] is not None for row in listed] == [True]
    with processes.client(0) as fresh:
        log_in(fresh, office, STRONG)


# --- The migration and the application role ------------------------------------------------


def test_tokens_made_before_the_migration_get_an_end(tmp_path: Path) -> None:
    from alembic import command

    from procedo.db.migrate import alembic_config

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        ids = {"t": "0" * 32, "u": "1" * 32, "k": "2" * 32}
        connection.execute(
            sa.text(
                "INSERT INTO tenants (id, name, slug, timezone, country, smtp, created_at) "
                "VALUES (:t, 'Old', 'old', 'UTC', 'NL', '{}', '2025-01-01 00:00:00')"
            ),
            ids,
        )
        connection.execute(
            sa.text(
                "INSERT INTO users (id, tenant_id, email, name, access, active, created_at) "
                "VALUES (:u, :t, 'a@old.example', '', 'admin', 1, '2025-01-01 00:00:00')"
            ),
            ids,
        )
        connection.execute(
            sa.text(
                "INSERT INTO api_tokens (id, tenant_id, user_id, name, token_hash, created_at) "
                "VALUES (:k, :t, :u, 'old', 'h', '2025-01-01 00:00:00')"
            ),
            ids,
        )
        command.upgrade(config, "0007")
        ends = connection.execute(sa.text("SELECT expires_at FROM api_tokens")).scalar_one()
    engine.dispose()
    ends_at = dt.datetime.fromisoformat(str(ends)).replace(tzinfo=dt.UTC)
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    assert abs(ends_at - expected) < dt.timedelta(minutes=5)


def test_failures_are_counted_by_the_application_role_before_any_tenant(
    rls_url: str,  # noqa: F811 (the fixture imported above)
) -> None:
    db = Database(rls_url)
    tenancy.install(db.engine, APP_ROLE)
    rt = Runtime(db=db, dispatcher=InlineDispatcher(), clock=FakeClock(START))
    made = accounts.create_tenant(rt, "Acme Office", "admin@acme.example")
    office = Office(made.tenant.slug, made.admin.email, made.password, made.token)
    with TestClient(create_app(rt), base_url="http://testserver.local") as client:
        for _ in range(10):
            wrong = client.post("/api/v1/auth/login", json=login_body(office, "a wrong guess"))
            assert wrong.status_code == 401
        right = client.post("/api/v1/auth/login", json=login_body(office, office.password))
        assert right.status_code == 429
    with db.read() as session:
        assert session.scalar(sa.text("SELECT current_user")) == APP_ROLE
    db.engine.dispose()
