"""`procedo tenant create` and `procedo serve` as a user runs them: a fresh data directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from procedo.api.app import create_app
from tests.api_helpers import serving
from tests.cluster import wait_until
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PROCEDO_DATA_DIR": str(data_dir)}
    for name in ("PROCEDO_DATABASE_URL", "PROCEDO_BROKER_URL"):
        env.pop(name, None)
    return env


def test_tenant_create_then_serve_gives_a_working_login_and_token(tmp_path: Path) -> None:
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "procedo",
            "tenant",
            "create",
            "Acme Office",
            "--admin",
            "Boss@Acme.example",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    password = re.search(r"^password:\s+(\S+)$", created.stdout, re.M)
    token = re.search(r"^api token:\s+(pdo_\S+)$", created.stdout, re.M)
    assert password is not None
    assert token is not None
    assert "acme-office" in created.stdout
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "procedo",
            "tenant",
            "create",
            "Acme Office",
            "--admin",
            "x@y.example",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert "exists already" in again.stderr

    with serving(_env(tmp_path)) as (url, _lines):
        login = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"tenant": "acme-office", "email": "boss@acme.example", "password": password[1]},
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["access"] == "admin"
        me = httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token[1]}"})
        assert me.json()["user"]["email"] == "boss@acme.example"
        # /schema documents every API route of the app.
        documented = set(httpx.get(f"{url}/schema/openapi.json").json()["paths"])
        routes = {
            re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            for route in create_app(rt=None).routes  # type: ignore[arg-type]
            if route.path.startswith("/api/")
        }
        assert routes <= documented, routes - documented
        assert httpx.get(f"{url}/schema/swagger").status_code == 200


def test_serve_demo_prints_a_login_to_a_tenant_with_the_examples(tmp_path: Path) -> None:
    with serving(_env(tmp_path), "--demo") as (url, lines):
        printed = "".join(lines)
        found = re.search(r"demo login: tenant 'demo', (\S+), password (\S+)", printed)
        assert found is not None, printed
        assert f"http://localhost:{url.rsplit(':', 1)[1]}" in printed
        http = httpx.Client(base_url=f"{url}/api/v1")
        ok = http.post(
            "/auth/login", json={"tenant": "demo", "email": found[1], "password": found[2]}
        )
        assert ok.status_code == 200, ok.text
        flows = {f["key"]: f for f in http.get("/flows").json()}
        assert len(flows) == len(list(EXAMPLES.glob("*.json")))
        assert all(f["latest_version"] == 1 for f in flows.values())
        roles = {r["name"]: r["members"] for r in http.get("/roles").json()}
        assert roles["Accountant"]
        # The example invoices started the invoice flow: tasks wait in the inboxes.
        wait_until(
            lambda: bool(http.get("/tasks", params={"scope": "all"}).json()), 30, "demo tasks"
        )
        # Every demo person's login is printed too, with their access and roles.
        people = _demo_logins(printed)
        assert set(people) >= {"anna@demo.example", "ben@demo.example", "carla@demo.example"}
        for email, (password, details) in people.items():
            assert "roles " in details, details
            assert _logs_in(url, email, password), email
    # A second start keeps the data and renews every password.
    with serving(_env(tmp_path), "--demo") as (url, lines):
        again = re.search(r"password (\S+) \(renewed", "".join(lines))
        assert again is not None
        assert again[1] != found[2]
        renewed = _demo_logins("".join(lines))
        assert set(renewed) == set(people)
        for email, (password, _details) in renewed.items():
            assert password != people[email][0]
            assert _logs_in(url, email, password), email


def _demo_logins(printed: str) -> dict[str, tuple[str, str]]:
    """The demo people's printed logins (the admin's aside): email -> (password, details)."""
    found = re.findall(r"demo login: tenant 'demo', (\S+), password (\S+) \(([^)]*)\)", printed)
    return {
        email: (password, details) for email, password, details in found if "renewed" not in details
    }


def _logs_in(url: str, email: str, password: str) -> bool:
    body = {"tenant": "demo", "email": email, "password": password}
    return httpx.post(f"{url}/api/v1/auth/login", json=body).status_code == 200


def test_the_run_script_leaves_the_address_and_data_dir_to_serve(tmp_path: Path) -> None:
    """scripts/run hands its arguments to `procedo serve --demo`, which prints the real
    address and data directory; the script names none of its own (it printed
    $PROCEDO_DATA_DIR's even when --data-dir said otherwise)."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(ROOT / "scripts" / "run", scripts / "run")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "procedo").write_text('#!/bin/sh\necho "procedo $*"\n')
    (fake / "procedo").chmod(0o755)
    # Instead of the real setup (uv sync, the designer's build): only the fake procedo.
    (scripts / "env.sh").write_text(f'export PATH="{fake}:$PATH"\n')
    given = tmp_path / "given-data"
    done = subprocess.run(
        ["bash", str(scripts / "run"), "--data-dir", str(given), "--port", "9123"],
        env={**os.environ, "PROCEDO_DATA_DIR": "/elsewhere"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"procedo serve --demo --data-dir {given} --port 9123" in done.stdout
    assert "/elsewhere" not in done.stdout
    assert ".procedo-data" not in done.stdout


def test_serve_prints_the_port_and_data_dir_it_was_given(tmp_path: Path) -> None:
    given = tmp_path / "given-data"
    with serving(_env(tmp_path / "env-data"), "--data-dir", str(given)) as (url, lines):
        banner = next(line for line in lines if line.startswith("Procedo at"))
        assert f"http://localhost:{url.rsplit(':', 1)[1]} (embedded, data in {given})" in banner


def test_several_api_processes_need_the_distributed_setup(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "procedo", "serve", "--workers", "2"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs the distributed setup" in done.stderr
    assert not (tmp_path / "procedo.db").exists()  # refused before anything was made
