"""The worksheet and a debtor's procedures (P4, P6) in Chromium against `procedo serve --demo`.

The demo runs the standard worksheet procedure as every overdue debtor's primary one and
the dispute procedure beside it for debtors with a disputed invoice (D-1001). Carla, a
credit controller (role Collections), opens the worksheet, narrows it to her role's
calls, selects three and does them at once; they leave the list for the done tab and
are done once. She then opens D-1001's page: its timeline shows both procedures.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api
from tests.browser.test_german_journey import log_in_as, person, until

CARLA = "carla@demo.example"


def test_a_credit_controller_works_the_worksheet_and_reads_a_timeline(
    page: Any, server: Server
) -> None:
    log_in_as(page, server, CARLA, person(server, CARLA))
    page.click(".topbar nav a[href='/worksheet']")
    sheet = page.locator("[data-testid=worksheet]")
    sheet.locator("tbody tr[data-task]").first.wait_for()

    page.select_option("[data-testid=filter-role]", "Collections")
    page.select_option("[data-testid=filter-action]", "call")
    until(
        lambda: (
            sheet.locator("tbody tr[data-task]").count() > 3
            and sheet.locator("tbody tr[data-task]:not([data-action=call])").count() == 0
        ),
        "only calls on the worksheet",
    )
    rows = sheet.locator("tbody tr[data-task]")
    chosen = [rows.nth(i).get_attribute("data-task") for i in range(3)]
    for task in chosen:
        sheet.locator(f"tr[data-task='{task}'] input[type=checkbox]").check()
    page.click("[data-testid=process-selected]")
    notice = page.locator("[data-testid=notice]")
    notice.wait_for()
    assert notice.inner_text().startswith("3 done.")
    until(
        lambda: all(sheet.locator(f"tr[data-task='{t}']").count() == 0 for t in chosen),
        "the three calls leave the list",
    )

    # Done once: in the done tab, and the server answers a second request with already_done.
    page.click("[data-testid=state-done]")
    for task in chosen:
        sheet.locator(f"tr[data-task='{task}']").wait_for()
    again = api(page, "POST", "/worksheet/process", {"tasks": chosen})
    assert [r["outcome"] for r in again] == ["already_done"] * 3

    # D-1001's page: the primary procedure and the dispute procedure beside it.
    (debtor,) = api(page, "GET", "/subjects?type=debtor&key=D-1001")
    page.goto(f"/subjects/{debtor['id']}")
    card = page.locator("[data-testid=procedure-timeline]")
    card.locator("[data-testid=procedure]").first.wait_for()
    procedures = card.locator("[data-testid=procedure]")
    assert procedures.count() == 2
    kinds = {
        procedures.nth(i).get_attribute("data-flow"): procedures.nth(i).get_attribute("data-kind")
        for i in range(2)
    }
    assert kinds == {"collection-worksheet": "primary", "dispute-procedure": "secondary"}
    assert "2026-D1001-1" in card.locator("[data-testid=dip]").inner_text()
    # The current step says why: the wait's rule with the D.I.P. it reads.
    primary = card.locator("[data-flow=collection-worksheet]")
    assert "oldest_overdue_days >= 15" in primary.locator("[data-testid=current-step]").inner_text()
    assert card.locator("[data-testid=procedure-axis] > div").count() == 2
