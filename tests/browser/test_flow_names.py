"""Flow names per language (D6): in German the shipped flows are named in German where the
designer lists them (flows, schedules, procedures, the worksheet), not by their English
name."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import log_in
from tests.browser.test_translations import set_lang


def test_the_german_ui_names_the_shipped_flows_in_german(page: Any, server: Server) -> None:
    log_in(page, server)
    set_lang(page, "de")
    page.goto("/flows")
    row = page.locator("tr[data-flow='dunning-level-1']")
    row.wait_for()
    assert "Mahnstufe 1: Zahlungserinnerung" in row.inner_text()
    assert "Dunning level 1" not in page.locator(".flows-table").inner_text()
    page.goto("/schedules")
    schedule = page.locator("[data-schedule='dunning-phone-call']")
    schedule.wait_for()
    page.wait_for_function(
        "() => document.querySelector(\"[data-schedule='dunning-phone-call']\")"
        ".innerText.includes('Mahnwesen: Telefonanruf')"
    )
    assert "Dunning: phone call" not in schedule.inner_text()
    # D6 runs at 16:00 office time (Amsterdam): its next run reads so in a browser elsewhere.
    next_run = page.locator("[data-schedule='dunning-level-1'] [data-testid=next-run]")
    assert "16:00" in next_run.inner_text()
    assert any(zone in next_run.inner_text() for zone in ("MEZ", "MESZ"))  # named
    set_lang(page, "nl")
    page.wait_for_function(
        "() => document.querySelector(\"[data-schedule='dunning-phone-call']\")"
        ".innerText.includes('Aanmaning: telefoongesprek')"
    )

    # The collection procedures by their names too: their page and the worksheet (P4, P5).
    set_lang(page, "de")
    page.goto("/procedures")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=secondaries]')"
        "?.innerText.includes('Reklamationsverfahren')"
    )
    assert "Dispute procedure" not in page.locator("[data-testid=registrations-page]").inner_text()
    page.goto("/worksheet")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=worksheet-page]')"
        "?.innerText.includes('Inkassoverfahren (Arbeitsliste)')"
    )
    sheet = page.locator("[data-testid=worksheet-page]").inner_text()
    assert "Collection procedure (worksheet)" not in sheet
