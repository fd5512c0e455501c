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

from procedo.api import accounts
from procedo.api.app import create_app
from procedo.api.recent import RECENT
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.session import Database
from procedo.runtime.context import Runtime
from procedo.runtime.local import InlineDispatcher

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


def assert_secured(answer: Any, page: bool = False) -> None:
    for name, value in COMMON.items():
        assert answer.headers.get(name) == value, (answer.request.url, answer.status_code, name)
    policy = answer.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy
    if page:
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"].split() == ["'self'", "'unsafe-eval'"]
        assert directives["default-src"] == "'self'"
        assert "http" not in policy  # no other origin
    else:
        assert "default-src 'none'" in policy


def test_every_answer_carries_the_security_headers(
    processes: Processes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text('<!doctype html><script type="module" src="/assets/a.js">')
    (web / "assets" / "a.js").write_text("console.log('designer')")
    with processes.client(0, web_dir=web) as client:
        bearer = {"Authorization": f"Bearer {processes.office.token}"}
        assert_secured(client.get("/api/v1/flows", headers=bearer))  # 200
        assert_secured(client.get("/api/v1/flows"))  # 401
        assert_secured(client.get("/api/v1/nothing-here"))  # 404 from the designer's route
        assert_secured(client.put("/api/v1/auth/me", headers=bearer))  # 405
        assert_secured(client.post("/api/v1/roles", json={"nope": 1}, headers=bearer))  # 400
        assert_secured(client.post("/api/v1/auth/login", content=b"{}"))  # 415
        assert_secured(client.get("/"), page=True)
        assert_secured(client.get("/some/client/route"), page=True)
        assert_secured(client.get("/assets/a.js"))
        monkeypatch.setattr(accounts, "log_in", _broken)
        broken = client.post(
            "/api/v1/auth/login", json=login_body(processes.office, processes.office.password)
        )
        assert broken.status_code == 500
        assert_secured(broken)


def _broken(*_args: Any) -> None:
    raise RuntimeError("a bug")


def test_the_not_built_page_is_secured_too(processes: Processes, tmp_path: Path) -> None:
    with processes.client(0, web_dir=tmp_path / "empty") as client:
        assert_secured(client.get("/"), page=True)


# --- 12. Login and password change take JSON only ---------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"tenant": "%s", "email": "%s", "password": "%s"}'),
        ("application/x-www-form-urlencoded", "tenant=%s&email=%s&password=%s"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("", '{"tenant": "%s", "email": "%s", "password": "%s"}'),
    ],
)
def test_login_refuses_bodies_a_form_could_send(
    processes: Processes, content_type: str, body: str
) -> None:
    office = processes.office
    if "%s" in body:
        body = body % (office.slug, office.email, office.password)
    with processes.client(0) as client:
        headers = {"Content-Type": content_type} if content_type else {}
        answer = client.post("/api/v1/auth/login", content=body.encode(), headers=headers)
        assert answer.status_code == 415, answer.text
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


@pytest.mark.parametrize(
    "weak",
    [
        " " * 12,
        "aaaaaaaaaaaa",
        "admin@acme.example",
        "acme-office-2026",
        "Password2026!",
        "P@ssw0rd12345",
        "qwertyuiop123",
        "123456789012",
        "abcabcabcabc",
    ],
)
def test_a_weak_new_password_is_refused_and_nothing_changes(
    processes: Processes, weak: str
) -> None:
    office = processes.office
    with processes.client(0) as client:
        csrf = log_in(client, office)
        answer = client.post(
            "/api/v1/auth/password",
            json={"current": office.password, "new": weak},
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.status_code == 422, answer.text
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
