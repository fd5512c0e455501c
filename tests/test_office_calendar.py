"""The office's calendar (Settings, administrators): time zone, country and closing days.

Working days skip the closing days as they skip public holidays: a business-day wait set
after they are saved lands after them. Bad input is refused naming the field, and
nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from procedo.api import accounts
from procedo.api.server import Backend
from procedo.cli import main
from procedo.db import models as m
from procedo.office_calendar import CalendarIn, ClosingDay, save
from procedo.runtime import admin, setup
from procedo.runtime.context import Runtime
from tests.api_helpers import Office, office, ok
from tests.runtime_helpers import World, make_world


@pytest.fixture
def acme(backend: Backend, base_url: str) -> Office:
    return office(backend.runtime, base_url, "Calendar Office")


def _stored(rt: Runtime, of: Office) -> tuple[str, str, list[Any]]:
    with rt.db.read() as session:
        tenant = session.get(m.Tenant, of.tenant_id)
        assert tenant is not None
        return tenant.timezone, tenant.country, tenant.closing_days


def test_an_admin_reads_the_calendar_with_the_countrys_holidays_named_in_the_ui_language(
    acme: Office,
) -> None:
    shown = ok(acme.http.get("/settings/calendar", params={"lang": "de"}))
    assert (shown["timezone"], shown["country"], shown["closing_days"]) == (
        "Europe/Amsterdam",
        "NL",
        [],
    )
    # The holidays package's Dutch holidays, a year ahead from the tenant's today.
    dates = [dt.date.fromisoformat(h["date"]) for h in shown["public_holidays"]]
    assert dates == sorted(dates)
    assert len(dates) >= 9
    assert dates[-1] - dates[0] <= dt.timedelta(days=365)
    countries = {c["code"]: c["name"] for c in shown["countries"]}
    assert (countries["NL"], countries["DE"], countries["BE"]) == (
        "Niederlande",
        "Deutschland",
        "Belgien",
    )
    assert "Europe/Berlin" in shown["timezones"]
    # The package has no German for Dutch holidays: the country's own names, not the
    # server's locale.
    assert "Eerste kerstdag" in {h["name"] for h in shown["public_holidays"]}
    english = ok(acme.http.get("/settings/calendar", params={"lang": "en"}))
    assert "Christmas Day" in {h["name"] for h in english["public_holidays"]}


def test_saving_sets_zone_country_and_closing_days_sorted_and_records_who(
    backend: Backend, acme: Office
) -> None:
    body = {
        "timezone": "Europe/Berlin",
        "country": "de",
        "closing_days": [
            {"date": "2026-12-30", "name": " Betriebsferien "},
            {"date": "2026-12-28", "name": "Betriebsferien"},
        ],
    }
    saved = ok(acme.http.put("/settings/calendar", params={"lang": "de"}, json=body))
    assert saved["closing_days"] == [
        {"date": "2026-12-28", "name": "Betriebsferien"},
        {"date": "2026-12-30", "name": "Betriebsferien"},
    ]
    assert "Erster Weihnachtstag" in {h["name"] for h in saved["public_holidays"]}
    assert _stored(backend.runtime, acme)[:2] == ("Europe/Berlin", "DE")
    assert ok(acme.http.get("/settings/calendar"))["closing_days"] == saved["closing_days"]
    with backend.runtime.db.read() as session:
        (changed,) = session.scalars(
            sa.select(m.History).where(
                m.History.tenant_id == acme.tenant_id, m.History.kind == "calendar_changed"
            )
        )
    assert (changed.actor, changed.data) == (
        acme.email,
        {"fields": ["timezone", "country", "closing_days"]},
    )


@pytest.mark.parametrize(
    ("change", "status", "place"),
    [
        ({"timezone": "Europe/Amsterdamm"}, 422, "$.timezone"),
        ({"country": "XX"}, 422, "$.country"),
        (
            {"closing_days": [{"date": "2026-12-28"}, {"date": "2026-12-28", "name": "again"}]},
            422,
            "$.closing_days[1].date",
        ),
        ({"closing_days": [{"date": "1999-12-31"}]}, 422, "$.closing_days[0].date"),
        ({"closing_days": [{"date": "28-12-2026"}]}, 400, "$.closing_days[0].date"),
        ({"closing_days": [{"date": "2026-12-28", "name": "x" * 101}]}, 400, "name"),
        ({"closing_days": [{"date": "2026-12-28", "why": "x"}]}, 400, "why"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    backend: Backend, acme: Office, change: dict[str, Any], status: int, place: str
) -> None:
    before = _stored(backend.runtime, acme)
    body = {"timezone": "Europe/Amsterdam", "country": "NL", "closing_days": [], **change}
    answer = acme.http.put("/settings/calendar", json=body)
    assert answer.status_code == status, answer.text
    assert place in answer.json()["detail"]
    assert _stored(backend.runtime, acme) == before


def test_only_administrators_see_or_change_the_calendar(
    backend: Backend, base_url: str, acme: Office
) -> None:
    user, _password = accounts.add_user(
        backend.runtime, acme.tenant_id, "member@calendar.example", access="designer"
    )
    _row, token = accounts.create_token(backend.runtime, acme.tenant_id, user.id, "designer")
    designer = httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert designer.get("/settings/calendar").status_code == 403
    body = {"timezone": "Europe/Berlin", "country": "DE", "closing_days": []}
    assert designer.put("/settings/calendar", json=body).status_code == 403
    assert _stored(backend.runtime, acme)[:2] == ("Europe/Amsterdam", "NL")


WAIT_FLOW = {
    "format": "procedo.flow/1",
    "key": "three-working-days",
    "name": "Three working days",
    "subject_type": "debtor",
    "trigger": {"kind": "manual"},
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "wait",
            "type": "wait",
            "params": {
                "until": {"mode": "duration", "duration": {"amount": 3, "unit": "business_days"}}
            },
        },
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"id": "e1", "source": "start", "source_port": "next", "target": "wait"},
        {"id": "e2", "source": "wait", "source_port": "next", "target": "end"},
    ],
}


def _wait_ends(world: World) -> dt.datetime:
    subject = world.subject("debtor", f"D-{world.runner.clock.now().timestamp()}", {"name": "D"})
    instance = admin.start(world.rt, world.tenant, WAIT_FLOW["key"], subject.id, "tester")
    world.runner.drain()
    with world.rt.db.read() as session:
        (due,) = session.scalars(
            sa.select(m.Timer.due_at).where(m.Timer.instance_id == instance.id)
        )
    return due.astimezone(dt.UTC)


@pytest.fixture
def world(db_url: str) -> World:
    return make_world(db_url)


def test_a_business_day_wait_set_after_saving_skips_the_closing_days(world: World) -> None:
    # The runner's clock: Monday 5 January 2026, 08:00 UTC (09:00 in Amsterdam).
    setup.publish(world.rt, world.tenant, json.dumps(WAIT_FLOW), "consultant")
    assert _wait_ends(world) == dt.datetime(2026, 1, 8, 8, tzinfo=dt.UTC)  # Thursday
    closed = [ClosingDay(dt.date(2026, 1, 6), "Inventory"), ClosingDay(dt.date(2026, 1, 7))]
    save(world.rt, world.tenant, CalendarIn("Europe/Amsterdam", "NL", closed), "en", "admin")
    # Thursday and Friday are the first two, the third is Monday.
    assert _wait_ends(world) == dt.datetime(2026, 1, 12, 8, tzinfo=dt.UTC)


def test_the_cli_sets_closing_days_and_keeps_what_it_is_not_given(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    made = runner.invoke(main, ["tenant", "create", "Kanzlei", "--admin", "a@k.example", *data])
    assert made.exit_code == 0, made.output
    common = ["--tenant", "kanzlei", *data]
    moved = runner.invoke(
        main,
        ["settings", "calendar", "set", "--timezone", "Europe/Berlin", "--country", "DE", *common],
    )
    assert moved.exit_code == 0, moved.output
    closed = ["--closing-day", "2026-12-31=Silvester", "--closing-day", "2026-12-28"]
    result = runner.invoke(main, ["settings", "calendar", "set", *closed, *common])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["settings", "calendar", "show", "--lang", "de", *common])
    assert "time zone: Europe/Berlin" in shown.output
    assert "country:   DE" in shown.output
    assert "  2026-12-28\n  2026-12-31  Silvester\n" in shown.output
    bad = runner.invoke(main, ["settings", "calendar", "set", "--country", "XX", *common])
    assert bad.exit_code != 0
    assert "$.country" in bad.output
    assert "country:   DE" in runner.invoke(main, ["settings", "calendar", "show", *common]).output
