"""Scheduled flows for administrators (D1): the list, run now, deactivate and activate.

A schedule that could not run is refused on import and publish; one that fails
anyway (stored before) shows its error to its own tenant (issue 12, item 9).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.db import models as m
from procedo.runtime.schedules import retry_delay
from tests.api_helpers import Office, embedded_backend, live_server, office, ok
from tests.conftest import EXAMPLES
from tests.receivables_helpers import overdue_debtor

JSON = {"Content-Type": "application/json"}
DEBTOR = {"name": "X", "email": "x@example.nl", "problematic": False, "dunning_notices": 0}


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

        assert (listed["last_selected"], listed["last_started"]) == (None, None)
        today = dt.datetime.now(dt.UTC).date()  # a day off in Amsterdam changes nothing here
        for key in ("due", "recent"):
            days = 9 if key == "due" else 3
            overdue_debtor(rt, acme.tenant_id, key, DEBTOR, days, today)
        ran = ok(acme.http.post("/schedules/dunning-level-1/run"))  # runs in the request
        assert (ran["ran"], ran["selected"], ran["started"]) == (True, 1, 1)
        assert "deactivated" not in ran["message"]
        assert (ran["schedule"]["last_selected"], ran["schedule"]["last_started"]) == (1, 1)
        assert ran["schedule"]["next_run_at"] == listed["next_run_at"]  # its rhythm is kept
        assert ok(acme.http.post("/schedules/dunning-level-1/deactivate"))["active"] is False
        assert ok(acme.http.get("/schedules"))[0]["active"] is False
        # Run now on a deactivated flow runs, says so, and leaves it deactivated; the
        # debtor whose first instance is still open is not started again.
        again = ok(acme.http.post("/schedules/dunning-level-1/run"))
        assert (again["ran"], again["selected"], again["started"]) == (True, 1, 0)
        assert "deactivated" in again["message"]
        assert again["schedule"]["active"] is False
        flow = (EXAMPLES / "dunning-level-1.json").read_bytes()
        acme.http.post("/flows/import", content=flow, headers=JSON)  # a draft again
        ok(acme.http.post("/flows/dunning-level-1/publish"), 201)  # republished: still paused
        (republished,) = ok(acme.http.get("/schedules"))
        assert (republished["version"], republished["active"]) == (2, False)
        assert (republished["last_selected"], republished["last_started"]) == (1, 0)
        assert ok(acme.http.post("/schedules/dunning-level-1/activate"))["active"] is True
        assert acme.http.post("/schedules/invoice-approval/run").status_code == 404

        member, _password = accounts.add_user(rt, acme.tenant_id, "mia@acme.example")
        _row, token = accounts.create_token(rt, acme.tenant_id, member.id, "member's")
        seen = acme.http.get("/schedules", headers={"Authorization": f"Bearer {token}"})
        assert seen.status_code == 403  # D1: only administrators see this view


def _dunning(change: Callable[[dict[str, Any]], None]) -> bytes:
    flow = json.loads((EXAMPLES / "dunning-level-1.json").read_text())
    change(flow)
    return json.dumps(flow).encode()


def _read_vars(flow: dict[str, Any]) -> None:
    flow["trigger"]["filter"]["rules"][1]["field"] = "vars.dunning_notices"


def test_a_schedule_that_could_not_run_is_refused_on_import_and_publish(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as url:
        acme = office(rt, url, "Acme Office")
        refused = acme.http.post("/flows/import", content=_dunning(_read_vars), headers=JSON)
        assert refused.status_code == 422
        (problem,) = refused.json()["problems"]
        assert (problem["code"], problem["path"]) == (
            "rule.sql.unsupported",
            "$.trigger.filter.rules[1]",
        )

        def unknown_zone(flow: dict[str, Any]) -> None:
            flow["trigger"]["timezone"] = "Europe/Amsterdm"

        ok(acme.http.post("/flows", content=_dunning(unknown_zone), headers=JSON), 201)  # a draft
        refused = acme.http.post("/flows/dunning-level-1/publish")
        assert refused.status_code == 422
        (problem,) = refused.json()["problems"]
        assert problem["code"] == "trigger.timezone.unknown"
        assert "Europe/Amsterdam" in problem["message"]
        assert ok(acme.http.get("/schedules")) == []  # nothing was published


def _schedule_when(office: Office, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        (listed,) = ok(office.http.get("/schedules"))
        if done(listed) or time.monotonic() > deadline:
            return cast(dict[str, Any], listed)
        time.sleep(0.05)


def test_a_failing_schedule_shows_its_error_to_its_tenant_and_holds_up_no_other(
    backend: Backend,
) -> None:
    rt = backend.runtime
    with live_server(rt) as url:
        offices = [office(rt, url, name) for name in ("Alpha Office", "Bravo Office")]
        flow = (EXAMPLES / "dunning-level-1.json").read_bytes()
        for each in offices:
            ok(each.http.post("/flows/import", content=flow, headers=JSON), 201)
            ok(each.http.post("/flows/dunning-level-1/publish"), 201)
        alpha, bravo = offices
        with rt.transaction() as (session, _out):  # a version stored before validation refused it
            version = session.scalars(
                sa.select(m.FlowVersion).where(m.FlowVersion.tenant_id == alpha.tenant_id)
            ).one()
            version.document = _dunning(_read_vars).decode()
        # Run now runs each in the request; the failing one says so and is recorded.
        answers = [ok(each.http.post("/schedules/dunning-level-1/run")) for each in offices]
        assert [answer["ran"] for answer in answers] == [False, True]
        assert answers[0]["message"].startswith("The run failed: ")
        assert "[rule.sql.unsupported]" in answers[0]["error"]

        failed = _schedule_when(alpha, lambda listed: listed["failures"] > 0)
        ran = _schedule_when(bravo, lambda listed: listed["last_run_at"] is not None)
        assert ran["failures"] == 0
        assert ran["last_error"] is None
        assert failed["failures"] == 1
        assert failed["last_run_at"] is None
        assert "[rule.sql.unsupported]" in failed["last_error"]
        assert "publish a corrected version" in failed["last_error"]
        error_at = dt.datetime.fromisoformat(failed["last_error_at"])
        # Tried again after a pause, not at the scheduler's next poll.
        pause = dt.datetime.fromisoformat(failed["next_run_at"]) - error_at
        assert pause == retry_delay(1)


def test_resuming_makes_up_no_slot_missed_while_deactivated(backend: Backend) -> None:
    rt = backend.runtime
    with live_server(rt) as url:
        acme = office(rt, url, "Acme Office")
        flow = (EXAMPLES / "dunning-level-1.json").read_bytes()
        ok(acme.http.post("/flows/import", content=flow, headers=JSON), 201)
        ok(acme.http.post("/flows/dunning-level-1/publish"), 201)
        (listed,) = ok(acme.http.get("/schedules"))
        ok(acme.http.post("/schedules/dunning-level-1/deactivate"))
        missed = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        with rt.transaction() as (session, _out):  # its slot passed while it was paused
            session.execute(sa.update(m.FlowSchedule).values(next_run_at=missed))
        resumed = ok(acme.http.post("/schedules/dunning-level-1/activate"))
        upcoming = dt.datetime.fromisoformat(resumed["next_run_at"])
        assert upcoming > dt.datetime.now(dt.UTC)
        # Still on the rhythm counted from publishing: a whole number of fortnights on.
        first = dt.datetime.fromisoformat(listed["next_run_at"])
        assert (upcoming - first) % dt.timedelta(weeks=2) in (
            dt.timedelta(0),
            dt.timedelta(hours=1),  # across a change of DST
            dt.timedelta(weeks=2) - dt.timedelta(hours=1),
        )
