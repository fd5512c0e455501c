"""The office calendar in real Chromium against `procedo serve --demo`.

The demo administrator opens Settings in German, the calendar tab, and sees the
public holidays of the demo office's country (NL) named as the API names them in
German; adds a closing day with a name, saves, reloads and finds it kept, stored as
the API returns it. The same date twice is named at its row before anything is sent,
and no English text of the section shows in German.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_operations_pages import ENTRY, VISIBLE_TEXTS, open_from_menu

TEXTS = ROOT / "designer" / "src" / "texts" / "calendar.ts"
# Far enough ahead that no wait or deadline of the other browser tests reaches it.
CLOSED = dt.date(2030, 12, 27)


@pytest.fixture
def restored_calendar(page: Any, server: Server) -> Iterator[dict[str, Any]]:
    """The demo office's calendar again afterwards: other tests count working days."""
    log_in(page, server)
    before = api(page, "GET", "/settings/calendar?lang=de")
    yield dict(before)
    keep = {key: before[key] for key in ("timezone", "country", "closing_days")}
    api(page, "PUT", "/settings/calendar", keep)


def open_calendar_in_german(page: Any) -> Any:
    page.click("button[data-lang=de]")
    page.wait_for_function("document.documentElement.lang === 'de'")
    open_from_menu(page, "/settings")
    page.click("button[data-tab=calendar]")
    section = page.locator("[data-testid=calendar-settings]")
    section.wait_for()
    return section


def test_an_admin_adds_a_closing_day_in_german_and_it_is_kept(
    page: Any, server: Server, restored_calendar: dict[str, Any]
) -> None:
    assert restored_calendar["country"] == "NL"
    section = open_calendar_in_german(page)
    assert page.locator("button[data-tab=calendar]").inner_text() == "Kalender"
    assert "Arbeitstage überspringen Wochenenden" in section.inner_text()
    assert section.locator("select[name=timezone]").input_value() == restored_calendar["timezone"]
    assert section.locator("select[name=country]").input_value() == "NL"

    # The public holidays a year ahead, as the API names them in German (the holidays
    # package decides the names, so they are read from it, not written here).
    holidays = section.locator("[data-testid=public-holidays]")
    assert "Niederlande" in holidays.locator("h3").inner_text()
    christmas = next(h for h in restored_calendar["public_holidays"] if h["date"][5:] == "12-25")
    row = holidays.locator(f"li[data-date='{christmas['date']}']")
    assert christmas["name"] in row.inner_text()
    assert re.search(rf"25\. Dez\.? {christmas['date'][:4]}", row.inner_text())
    shown = holidays.locator("li").evaluate_all("els => els.map(e => e.dataset.date)")
    assert shown == [h["date"] for h in restored_calendar["public_holidays"]]

    # Nothing changed yet: Save is off. A new row, a date and a name turn it on.
    save = section.get_by_role("button", name="Speichern")
    assert save.is_disabled()
    section.get_by_role("button", name="Schließtag hinzufügen").click()
    new = section.locator("[data-testid=closing-day]").last
    new.locator("input[type=date]").fill(CLOSED.isoformat())
    new.locator("input[name^=closing_name_]").fill("Betriebsferien")
    assert "27. Dez" in new.inner_text()
    assert save.is_enabled()
    save.click()
    section.locator("[data-testid=calendar-save-message]", has_text="Gespeichert").wait_for()
    assert save.is_disabled()
    stored = api(page, "GET", "/settings/calendar?lang=de")
    assert {"date": CLOSED.isoformat(), "name": "Betriebsferien"} in stored["closing_days"]

    # Reloaded, the closing day is still there (and the page still in German).
    page.reload()
    page.click("button[data-tab=calendar]")
    section = page.locator("[data-testid=calendar-settings]")
    section.wait_for()
    dates = section.locator("[data-testid=closing-day] input[type=date]")
    names = section.locator("[data-testid=closing-day] input[name^=closing_name_]")
    kept = list(
        zip(
            dates.evaluate_all("els => els.map(e => e.value)"),
            names.evaluate_all("els => els.map(e => e.value)"),
            strict=True,
        )
    )
    assert (CLOSED.isoformat(), "Betriebsferien") in kept
    assert [d for d, _ in kept] == sorted(d for d, _ in kept)

    # The same date again is named at its row, and nothing is stored.
    section.get_by_role("button", name="Schließtag hinzufügen").click()
    twice = section.locator("[data-testid=closing-day]").last
    twice.locator("input[type=date]").fill(CLOSED.isoformat())
    section.get_by_role("button", name="Speichern").click()
    assert "zweimal" in twice.locator("[data-field-error]").inner_text()
    assert "Prüfen Sie die markierten Felder" in section.inner_text()
    again = api(page, "GET", "/settings/calendar?lang=de")["closing_days"]
    assert [d["date"] for d in again].count(CLOSED.isoformat()) == 1

    # Removed and saved, it is gone again.
    twice.get_by_role("button", name="Entfernen").click()
    index = dates.evaluate_all("els => els.map(e => e.value)").index(CLOSED.isoformat())
    section.locator("[data-testid=closing-day]").nth(index).get_by_role(
        "button", name="Entfernen"
    ).click()
    section.get_by_role("button", name="Speichern").click()
    section.locator("[data-testid=calendar-save-message]", has_text="Gespeichert").wait_for()
    after = api(page, "GET", "/settings/calendar?lang=de")["closing_days"]
    assert CLOSED.isoformat() not in [d["date"] for d in after]


def test_the_calendar_section_in_german_shows_no_english(
    page: Any, server: Server, restored_calendar: dict[str, Any]
) -> None:
    section = open_calendar_in_german(page)
    section.get_by_role("button", name="Schließtag hinzufügen").click()
    section.locator("[data-testid=closing-day]").last.locator("input[type=date]").fill(
        CLOSED.isoformat()
    )
    section.locator("select[name=country]").select_option("DE")
    english = {en for _key, en, _nl, de in ENTRY.findall(TEXTS.read_text()) if en != de}
    shown = set(page.evaluate(VISIBLE_TEXTS))
    leaked = sorted(text for text in shown if text in english)
    assert not leaked, leaked
    assert "Deutschland" in section.locator("select[name=country]").inner_text()
    assert "Feiertage des neu gewählten Landes" in section.inner_text()
    page.click("button[data-lang=en]")
    section.get_by_text("Closing days", exact=True).wait_for()


def test_the_servers_refusal_is_named_at_its_row(
    page: Any, server: Server, restored_calendar: dict[str, Any]
) -> None:
    """What passed the page's own checks but not the server's (the body is altered on its
    way here, as an older page or another client might send it) shows at the row it names."""
    section = open_calendar_in_german(page)
    altered: list[Any] = []

    def alter(route: Any) -> None:
        if route.request.method != "PUT" or not altered:
            route.continue_()
            return
        body = json.loads(route.request.post_data)
        body["closing_days"][1] = altered.pop(0)(body["closing_days"])
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/v1/settings/calendar?*", alter)
    add = section.get_by_role("button", name="Schließtag hinzufügen")
    for day in ("2030-12-30", "2030-12-27"):  # sent sorted: 27 first, 30 second
        add.click()
        section.locator("[data-testid=closing-day]").last.locator("input[type=date]").fill(day)
    rows = section.locator("[data-testid=closing-day]")
    later = rows.nth(rows.count() - 2)  # the 30th, closing_days[1] of the body

    # The second day sent as the first one: the server's 422 names closing_days[1].date.
    altered.append(lambda days: {**days[1], "date": days[0]["date"]})
    section.get_by_role("button", name="Speichern").click()
    error = later.locator("[data-field-error$='.date']")
    assert "listed twice" in error.inner_text()
    assert "Prüfen Sie die markierten Felder" in section.inner_text()

    # A name longer than the server takes: its 400 (the body's shape) names closing_days[1].name.
    altered.append(lambda days: {**days[1], "name": "x" * 101})
    section.get_by_role("button", name="Speichern").click()
    assert "length <= 100" in later.locator("[data-field-error$='.name']").inner_text()
    stored = api(page, "GET", "/settings/calendar?lang=de")["closing_days"]
    assert stored == restored_calendar["closing_days"]
