"""A tenant's email settings (issue 15 item 1): over HTTP and the CLI, the password kept secret,
a test send against a local SMTP sink, and the outbox sending through the tenant's settings."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from procedo.api.server import Backend
from procedo.cli import main
from procedo.db import messaging as dbm
from procedo.db import models as m
from procedo.ids import new_id
from procedo.messaging import secretbox
from procedo.messaging.secretbox import SecretBox, SecretError
from procedo.messaging.sink import MailSink
from procedo.runtime import outbox
from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.cluster import free_port
from tests.test_api_tenancy import api_routes

PASSWORD = "s3cret-Smtp-Passw0rd!"  # noqa: S105  # the secret these tests look for
KEY = secretbox.new_key()
# The sink asks for AUTH on loopback without TLS, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(autouse=True)
def _server_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secretbox.KEY_ENV, KEY)
    monkeypatch.delenv("PROCEDO_BROKER_URL", raising=False)


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        yield running


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    running = MailSink.start(tmp_path / "sink", login=("mailer", PASSWORD))
    yield running
    running.stop()


def _settings(port: int, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": "mailer",
        "password": PASSWORD,
        "sender_address": "debiteuren@acme.example",
        "sender_name": "Acme Debiteuren",
        "reply_to": "antwoord@acme.example",
    }
    values.update(changes)
    return values


def _wait_for(found: Any, seconds: float = 10) -> Any:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("waited in vain")


# -- The secret box ---------------------------------------------------------------------------


def test_a_sealed_secret_opens_only_with_its_key_and_owner() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal(PASSWORD, "tenant-a")
    assert PASSWORD not in sealed
    assert sealed.startswith("pv1.")
    assert box.seal(PASSWORD, "tenant-a") != sealed  # a new nonce every time
    assert box.open(sealed, "tenant-a") == PASSWORD
    with pytest.raises(SecretError, match="cannot be decrypted"):
        box.open(sealed, "tenant-b")  # copied to another tenant's row
    with pytest.raises(SecretError, match="cannot be decrypted"):
        SecretBox(os.urandom(32)).open(sealed, "tenant-a")  # another server key
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SecretError):
        box.open(flipped, "tenant-a")


def test_the_embedded_key_file_is_made_once_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(secretbox.KEY_ENV)
    box = secretbox.server_box(tmp_path)
    key_file = tmp_path / secretbox.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = box.seal(PASSWORD, "t")
    assert secretbox.server_box(tmp_path).open(sealed, "t") == PASSWORD  # the same key again
    monkeypatch.setenv("PROCEDO_BROKER_URL", "redis://127.0.0.1:6379/15")
    with pytest.raises(SecretError, match="PROCEDO_SECRET_KEY"):
        secretbox.server_box(tmp_path)  # distributed: every process needs the same key
    monkeypatch.setenv(secretbox.KEY_ENV, "short")
    with pytest.raises(SecretError, match="PROCEDO_SECRET_KEY"):
        secretbox.server_box(tmp_path)


# -- Over HTTP --------------------------------------------------------------------------------


def test_settings_are_for_admins_and_the_password_never_comes_back(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rt = backend.runtime
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="mail.log")  # the sink's own protocol trace
    sink = MailSink.start(tmp_path / "sink", login=("mailer", PASSWORD))
    try:
        with live_server(rt) as base_url:
            acme = office(rt, base_url, "Acme Office")
            shown = ok(acme.http.get("/settings/email"))
            assert shown["configured"] is False
            assert shown["default_language"] == "nl"

            answers = [ok(acme.http.put("/settings/email", json=_settings(sink.port)))]
            answers.append(ok(acme.http.get("/settings/email")))
            assert answers[-1]["password_set"] is True
            assert answers[-1]["host"] == "127.0.0.1"
            assert answers[-1]["reply_to"]
            # Saving again without a password keeps the stored one.
            again = _settings(sink.port, sender_name="Acme")
            del again["password"]
            answers.append(ok(acme.http.put("/settings/email", json=again)))
            assert answers[-1]["password_set"] is True
            answers.append(
                ok(acme.http.post("/settings/email/test", json={"to": "me@acme.example"}))
            )
            assert answers[-1]["ok"] is True, answers[-1]
            assert answers[-1]["smtp_code"] == 250
            assert "kept in" in answers[-1]["detail"]

            # A member or designer may not read or change them.
            member, _pw = _user(acme, "member")
            assert member.get("/settings/email").status_code == 403
            assert member.put("/settings/email", json=_settings(1)).status_code == 403
            assert member.post("/settings/email/test", json={}).status_code == 403

            for answer in answers:
                assert PASSWORD not in str(answer)
            # Nor in any list or document the API serves the tenant.
            for method, path in api_routes():
                if method == "GET" and "{" not in path:
                    assert PASSWORD not in acme.http.get(path).text, path
            # The message arrived, through the stored (decrypted) login.
            (eml,) = _wait_for(sink.messages)
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            assert message["To"] == "me@acme.example"
            assert message["From"] == "Acme <debiteuren@acme.example>"
            assert message["Reply-To"] == "antwoord@acme.example"
            assert PASSWORD not in eml.read_text()

            with rt.db.read() as session:
                stored = session.get(dbm.EmailSettings, acme.tenant_id)
                assert stored is not None
                assert stored.password_encrypted
                assert PASSWORD not in stored.password_encrypted
                rows = session.scalars(
                    sa.select(m.History).where(m.History.tenant_id == acme.tenant_id)
                ).all()
            changes = [r for r in rows if r.kind == "email_settings_changed"]
            assert changes
            assert "password" in changes[0].data["fields"]
            assert all(PASSWORD not in str((r.data, r.reason)) for r in rows)
    finally:
        sink.stop()
    assert PASSWORD not in caplog.text
    assert "127.0.0.1" in caplog.text  # the settings change was logged, without the password


def _user(acme: Any, access: str) -> tuple[Any, str]:
    import httpx

    made = ok(
        acme.http.post("/users", json={"email": f"{access}@acme.example", "access": access}), 201
    )
    login = httpx.Client(base_url=str(acme.http.base_url), timeout=30)
    ok(
        login.post(
            "/auth/login",
            json={
                "tenant": acme.slug,
                "email": f"{access}@acme.example",
                "password": made["password"],
            },
        )
    )
    login.headers["X-CSRF-Token"] = login.cookies["procedo_csrf"]
    return login, made["password"]


def test_bad_settings_are_refused_naming_the_field(sqlite_backend: Backend) -> None:
    rt = sqlite_backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        cases = [
            (_settings(25, sender_address="not an address"), "$.sender_address"),
            (_settings(25, reply_to="nope"), "$.reply_to"),
            (_settings(25, host="bad host!"), "$.host"),
            (_settings(25, username=None), "$.username"),
        ]
        for body, path in cases:
            answer = acme.http.put("/settings/email", json=body)
            assert answer.status_code == 422, answer.text
            assert answer.json()["problems"][0]["path"] == path
            assert PASSWORD not in answer.text
        no_password = _settings(25)
        del no_password["password"]
        answer = acme.http.put("/settings/email", json=no_password)
        assert answer.status_code == 422
        assert "needs a password" in answer.text
        wrong_type = acme.http.put("/settings/email", json=_settings(25, security="ssl3"))
        assert wrong_type.status_code == 400
        # Nothing was stored by any of them.
        assert ok(acme.http.get("/settings/email"))["configured"] is False
        answer = acme.http.post("/settings/email/test", json={})
        assert answer.status_code == 422
        assert "set them first" in answer.text


def test_a_test_send_to_a_wrong_port_or_host_says_so_soon_and_loses_nothing(
    sqlite_backend: Backend,
) -> None:
    rt = sqlite_backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        queued = _queue_email(rt, acme.tenant_id, status="ready")  # a letter-like row, untouched
        closed = free_port()
        ok(acme.http.put("/settings/email", json=_settings(closed)))
        refused = ok(acme.http.post("/settings/email/test", json={}))
        assert refused["ok"] is False
        assert refused["outcome"] == "retry"
        assert f"127.0.0.1:{closed}" in refused["detail"]
        assert "refused" in refused["detail"]
        ok(
            acme.http.put(
                "/settings/email", json=_settings(25, host="mail.procedo-nowhere.invalid")
            )
        )
        unknown = ok(acme.http.post("/settings/email/test", json={}))
        assert unknown["ok"] is False
        assert "cannot reach mail.procedo-nowhere.invalid" in unknown["detail"]
        with rt.db.read() as session:
            rows = session.scalars(sa.select(m.Outbox)).all()
        assert [(r.id, r.status, r.attempts) for r in rows] == [(queued, "ready", 0)]


def test_a_tls_server_that_speaks_plain_text_is_a_clear_failure(
    sqlite_backend: Backend, sink: MailSink
) -> None:
    rt = sqlite_backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        ok(acme.http.put("/settings/email", json=_settings(sink.port, security="tls")))
        answer = ok(acme.http.post("/settings/email/test", json={}))
        assert answer["ok"] is False
        assert f"127.0.0.1:{sink.port}" in answer["detail"]
        ok(acme.http.put("/settings/email", json=_settings(sink.port, security="starttls")))
        answer = ok(acme.http.post("/settings/email/test", json={}))
        assert answer["ok"] is False
        assert "does not offer STARTTLS" in answer["detail"]
        assert sink.messages() == []


# -- The outbox sends through the tenant's settings ---------------------------------------------


def _queue_email(rt: Any, tenant_id: Any, status: str = "pending") -> Any:
    row_id = new_id()
    with rt.db.transaction() as session:
        session.add(
            m.Outbox(
                id=row_id,
                tenant_id=tenant_id,
                kind="email",
                message_id=f"<{row_id}@procedo>",
                recipients=["klant@example.com"],
                subject="Herinnering",
                body="<p>Graag betalen.</p>",
                status=status,
                next_attempt_at=dt.datetime.now(dt.UTC),
            )
        )
    return row_id


def test_the_outbox_sends_with_the_tenants_settings_and_keeps_mail_on_a_wrong_port(
    sqlite_backend: Backend, sink: MailSink
) -> None:
    rt = sqlite_backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        closed = free_port()
        ok(acme.http.put("/settings/email", json=_settings(closed)))
        waiting = _queue_email(rt, acme.tenant_id, status="enqueued")
        outbox.deliver(rt, waiting)
        with rt.db.read() as session:
            row = session.get(m.Outbox, waiting)
            assert row is not None
            assert row.status == "pending"
            assert row.attempts == 1
            assert f"127.0.0.1:{closed}" in (row.last_error or "")
        # Fixed: the same row goes out with its next attempt.
        ok(acme.http.put("/settings/email", json=_settings(sink.port)))
        with rt.db.transaction() as session:
            row = session.get(m.Outbox, waiting)
            assert row is not None
            row.status = "enqueued"
        outbox.deliver(rt, waiting)
        with rt.db.read() as session:
            row = session.get(m.Outbox, waiting)
            assert row is not None
            assert row.status == "sent", row.last_error
        (eml,) = _wait_for(sink.messages)
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert message["Subject"] == "Herinnering"
        assert message["Reply-To"] == "antwoord@acme.example"


def test_a_password_sealed_under_another_key_fails_the_send_saying_why(
    sqlite_backend: Backend, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = sqlite_backend.runtime
    with live_server(rt) as base_url:
        acme = office(rt, base_url, "Acme Office")
        ok(acme.http.put("/settings/email", json=_settings(sink.port)))
        monkeypatch.setenv(secretbox.KEY_ENV, secretbox.new_key())
        answer = acme.http.post("/settings/email/test", json={})
        assert answer.status_code == 422
        assert "set it again" in answer.text
        assert PASSWORD not in answer.text


# -- The CLI ----------------------------------------------------------------------------------


def test_cli_sets_shows_and_tests_without_printing_the_password(
    tmp_path: Path,
    sink: MailSink,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="mail.log")  # the sink's own protocol trace
    monkeypatch.setenv("PROCEDO_DATA_DIR", str(tmp_path / "data"))  # restored after the test
    monkeypatch.delenv("PROCEDO_DATABASE_URL", raising=False)
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    made = runner.invoke(
        main, ["tenant", "create", "Acme Office", "--admin", "a@acme.example", *data]
    )
    assert made.exit_code == 0, made.output
    common = ["--tenant", "acme-office", *data]
    set_args = ["settings", "email", "set", "--host", "127.0.0.1", "--port", str(sink.port)]
    set_args += ["--security", "none", "--user", "mailer", "--sender", "debiteuren@acme.example"]
    result = runner.invoke(main, [*set_args, *common], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["settings", "email", "show", *common])
    assert shown.exit_code == 0
    assert "password_set: yes" in shown.output
    tested = runner.invoke(main, ["settings", "email", "test", "--to", "me@acme.example", *common])
    assert tested.exit_code == 0, tested.output
    assert "250" in tested.output
    exported = runner.invoke(main, ["templates", "export", *common])
    assert exported.exit_code == 0, exported.output
    for output in (result.output, shown.output, tested.output, exported.output, caplog.text):
        assert PASSWORD not in output
    assert len(_wait_for(sink.messages)) == 1
    bad = runner.invoke(main, [*set_args, "--port", "0", *common], input="x\nx\n")
    assert bad.exit_code != 0
    assert "port" in bad.output


# -- The demo ---------------------------------------------------------------------------------


def test_serve_demo_points_the_demo_tenant_at_a_sink_and_says_where_mail_is(
    tmp_path: Path,
) -> None:
    import re

    import httpx

    from tests.api_helpers import serving

    env = {**os.environ, "PROCEDO_DATA_DIR": str(tmp_path)}
    for name in ("PROCEDO_DATABASE_URL", "PROCEDO_BROKER_URL"):
        env.pop(name, None)
    with serving(env, "--demo") as (url, lines):
        printed = "".join(lines)
        folder = tmp_path / "sent-mail"
        assert f"kept as .eml files in {folder}" in printed, printed
        found = re.search(r"demo login: tenant 'demo', (\S+), password (\S+)", printed)
        assert found is not None
        http = httpx.Client(base_url=f"{url}/api/v1", timeout=30)
        login = {"tenant": "demo", "email": found[1], "password": found[2]}
        ok(http.post("/auth/login", json=login))
        http.headers["X-CSRF-Token"] = http.cookies["procedo_csrf"]
        sent = ok(http.post("/settings/email/test", json={"to": "reader@demo.example"}))
        assert sent["ok"] is True, sent
        mails = _wait_for(
            lambda: [p for p in folder.glob("*.eml") if "reader@demo.example" in p.read_text()]
        )
        assert len(mails) == 1


def test_a_server_that_never_answers_is_given_up_on_within_the_test_timeout(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import time

    from procedo.messaging import channel

    monkeypatch.setattr(channel, "TEST_TIMEOUT", 0.5)
    rt = sqlite_backend.runtime
    with socket.socket() as silent, live_server(rt) as base_url:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # connections complete, but no greeting ever comes
        port = silent.getsockname()[1]
        acme = office(rt, base_url, "Acme Office")
        ok(acme.http.put("/settings/email", json=_settings(port)))
        started = time.monotonic()
        answer = ok(acme.http.post("/settings/email/test", json={}))
        assert time.monotonic() - started < 5
        assert answer["ok"] is False
        assert f"no answer from 127.0.0.1:{port} within 0.5 s" in answer["detail"]
