"""Scheduled flows for administrators (D1): the list, run now, deactivate and activate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from procedo.api import accounts
from procedo.api.server import Backend
from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.conftest import EXAMPLES

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    with embedded_backend(f"sqlite:///{tmp_path / 'procedo.db'}", tmp_path) as running:
        yield running


def test_admins_list_run_and_pause_scheduled_flows(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as url:
        acme = office(rt, url, "Acme Office")
        for name in ("dunning-level-1", "invoice-approval"):  # scheduled, and event-started
            flow = (EXAMPLES / f"{name}.json").read_bytes()
            ok(acme.http.post("/flows/import", content=flow, headers=JSON), 201)
        ok(acme.http.post("/flows/dunning-level-1/publish"), 201)
        ok(acme.http.post("/flows/invoice-approval/publish"), 201)

        (listed,) = ok(acme.http.get("/schedules"))  # only the scheduled one
        assert (listed["flow"], listed["every"], listed["interval"]) == (
            "dunning-level-1",
            "week",
            2,
        )
        assert (listed["weekday"], listed["at"], listed["active"]) == ("tuesday", "16:00", True)
        later = dt.datetime.fromisoformat(listed["next_run_at"])
        assert later > dt.datetime.now(dt.UTC)

        ran = ok(acme.http.post("/schedules/dunning-level-1/run"))
        assert dt.datetime.fromisoformat(ran["next_run_at"]) <= dt.datetime.now(dt.UTC)
        assert ok(acme.http.post("/schedules/dunning-level-1/deactivate"))["active"] is False
        assert ok(acme.http.get("/schedules"))[0]["active"] is False
        assert ok(acme.http.post("/schedules/dunning-level-1/activate"))["active"] is True
        assert acme.http.post("/schedules/invoice-approval/run").status_code == 404

        member, _password = accounts.add_user(rt, acme.tenant_id, "mia@acme.example")
        _row, token = accounts.create_token(rt, acme.tenant_id, member.id, "member's")
        seen = acme.http.get("/schedules", headers={"Authorization": f"Bearer {token}"})
        assert seen.status_code == 403  # D1: only administrators see this view
