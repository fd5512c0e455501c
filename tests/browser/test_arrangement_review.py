"""M5 in Chromium, in Dutch: a debtor proposes on the portal an arrangement outside the demo's
bounds (6 instalments; 3 allowed); Ben of Collections opens the review task in his inbox,
accepts it with a later first date, and sees the running plan on the debtor's page; the
debtor gets the confirmation with the agreed dates (the demo publishes
docs/examples/payment-arrangement.json)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_german_journey import log_in_as, person
from tests.browser.test_portal_journey import (
    _a_debtor_with_three_invoices,
    _eventually,
    _mail,
    _open_task_titles,
    _react,
    _text,
)

BEN = "ben@demo.example"
DUTCH_MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def _dutch(day: dt.date) -> str:
    """A date as the designer writes it in Dutch: 25 dec 2026."""
    return f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"


def test_collections_accepts_a_reviewed_arrangement_with_another_first_date(
    page: Any, browser: Any, server: Server
) -> None:
    log_in(page, server)
    suffix = uuid.uuid4().hex[:6].upper()
    key, name, mailbox = f"D-AR-{suffix}", f"Regeling {suffix}", f"ar-{suffix}@debtor.example"
    subject_id = _a_debtor_with_three_invoices(page, key, name, mailbox)
    link = api(page, "POST", f"/portal/debtors/{subject_id}/links")
    token_path = "/portal/" + link["url"].rsplit("/portal/", 1)[1]

    # The debtor proposes 6 monthly instalments of 50.00: more than the demo's 3.
    proposed_first = dt.date.today() + dt.timedelta(days=7)
    debtor = browser.new_context(base_url=server.url, viewport={"width": 420, "height": 900})
    try:
        portal = debtor.new_page()
        portal.goto(token_path)
        form = {"instalments": "6", "first_date": proposed_first.isoformat()}
        _react(portal, "arrangement", form)
    finally:
        debtor.close()
    title = f"Review the payment arrangement of {name}"
    _eventually("no review task", lambda: title in _open_task_titles(page, subject_id))

    # Ben, of Collections, decides in his inbox, in Dutch.
    page.context.clear_cookies()
    log_in_as(page, server, BEN, person(server, BEN))
    page.click("[data-lang='nl']")
    page.goto("/inbox")
    page.click("[data-scope=roles]")
    task = page.locator(".list-item", has_text=key)
    task.wait_for()
    task.click()
    review = page.locator("[data-testid=review-task]")
    review.wait_for()
    assert "Het voorstel ter beoordeling" in review.inner_text()
    assert review.locator("[data-testid=portal-instalments] tbody tr").count() == 6
    # The bare outcome buttons give way to the decision.
    assert page.locator("[data-testid=task-detail] button[data-outcome=agreed]").count() == 0
    agreed_first = proposed_first + dt.timedelta(days=14)
    review.locator("[data-testid=decision-first-date]").fill(agreed_first.isoformat())
    accept = review.locator("[data-testid=decision-accept]")
    assert accept.inner_text() == "Aangepaste regeling accepteren"
    accept.click()
    page.get_by_text("Regeling geaccepteerd").wait_for()
    # The decision completed the review task: it leaves the inbox.
    page.locator(".list-item", has_text=key).wait_for(state="detached")

    # The plan runs, on the debtor's page, with the new dates and who accepted it.
    page.goto(f"/subjects/{subject_id}")
    arrangement = page.locator("[data-testid=portal-arrangement][data-status=active]")
    arrangement.wait_for()
    rows = arrangement.locator("[data-testid=portal-instalments] tbody tr")
    assert rows.count() == 6
    assert _dutch(agreed_first) in rows.first.inner_text()
    assert "loopt" in arrangement.inner_text()
    decided = arrangement.locator("[data-testid=arrangement-decided]").inner_text()
    assert f"Geaccepteerd door {BEN}" in decided
    assert arrangement.locator("[data-testid=arrangement-decision]").count() == 0

    # The debtor's confirmation carries the agreed plan.
    confirmed = _eventually(
        "no confirmation of the accepted arrangement",
        lambda: _mail(server, "Your payment arrangement is confirmed", mailbox),
    )
    assert f"1. {agreed_first.isoformat()}: 50.00 EUR" in _text(confirmed)
