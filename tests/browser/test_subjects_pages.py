"""The Subjects pages in Chromium: filter, select, start a flow, read a subject's timeline.

As the demo admin: open Subjects from the navigation, filter to debtors, search, pick
two, start a published debtor flow for them, open one and see the flow in its
timeline; then the same pages in German show none of the English of texts/subjects.ts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_translations import ENTRY, VISIBLE_TEXTS

ROWS = "[data-testid=subjects-table] tbody tr[data-subject]"
FLOW = "dunning-level-1"  # a published demo flow on debtors; it waits for an approval


def english_of_subject_texts() -> set[str]:
    """The English of texts/subjects.ts whose nl and de differ from it (placeholders aside)."""
    source = (ROOT / "designer" / "src" / "texts" / "subjects.ts").read_text()
    found = set()
    for _key, *texts in ENTRY.findall(source):
        en, nl, de = (json.loads(f'"{t}"') for t in texts)
        if en != nl and en != de and "{" not in en and len(en) > 2:
            found.add(en)
    return found


def open_subjects(page: Any) -> None:
    page.click("header.topbar nav a[href='/subjects']")
    page.wait_for_selector("[data-testid=subjects-page] [data-testid=subjects-table]")


def test_start_a_flow_for_two_debtors_and_read_the_timeline(page: Any, server: Server) -> None:
    log_in(page, server)
    flows = {f["key"]: f for f in api(page, "GET", "/flows")}
    assert flows[FLOW]["latest_version"], f"the demo publishes {FLOW}"
    open_subjects(page)
    page.select_option("[data-testid=subjects-page] select[name=type]", "debtor")
    # The list shows debtors only (other tests of the session import debtors of their own).
    debtors = [s["key"] for s in api(page, "GET", "/subjects?type=debtor&limit=1000")]
    page.wait_for_function(
        f"keys => [...document.querySelectorAll('{ROWS}')]"
        ".every(r => keys.includes(r.dataset.subject))",
        arg=debtors,
    )
    headers = page.locator("[data-testid=subjects-table] thead th").all_inner_texts()
    assert "NAME" in [h.upper() for h in headers], headers  # the type's own field labels
    assert re.match(r"^1–\d+ of \d+$", page.inner_text("[data-testid=page-range]"))

    # The search narrows the list on the server; clearing it brings the rest back.
    rows = page.locator(ROWS)
    every = rows.count()
    assert every >= 2
    first_name = page.inner_text(
        "[data-testid=subjects-table] tbody tr[data-subject] >> nth=0 >> td >> nth=2"
    )
    page.fill("[data-testid=subjects-page] input[name=q]", first_name[:8])
    page.wait_for_function(
        f"n => document.querySelectorAll('{ROWS}').length < n",
        arg=every,
    )
    page.fill("[data-testid=subjects-page] input[name=q]", "")
    page.wait_for_function(
        f"n => document.querySelectorAll('{ROWS}').length === n",
        arg=every,
    )

    picked = [rows.nth(i).get_attribute("data-subject") for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("td.check input").check()
    assert page.inner_text("[data-testid=selection]").startswith("2 selected")
    page.click("[data-testid=subjects-page] .page-head button.primary")
    dialog = page.locator("[data-testid=start-flow-dialog]")
    dialog.locator("select[name=flow]").select_option(FLOW)
    dialog.locator("button[type=submit]").click()
    result = page.locator("[data-testid=start-flow-result]")
    result.wait_for()
    assert sorted(result.locator("[data-testid=started] li").all_inner_texts()) == sorted(picked)
    assert result.locator("[data-testid=skipped]").count() == 0

    # Again: both are skipped, with the reason in words.
    result.locator("button.primary").click()
    for i in range(2):
        rows.nth(i).locator("td.check input").check()
    page.click("[data-testid=subjects-page] .page-head button.primary")
    dialog.locator("select[name=flow]").select_option(FLOW)
    dialog.locator("button[type=submit]").click()
    skipped = result.locator("[data-testid=skipped] li")
    skipped.first.wait_for()
    assert skipped.count() == 2
    assert "the flow already runs on it" in skipped.first.inner_text()

    # The subject's page: its fields with labels, and the flow in its timeline.
    result.locator("button.primary").click()
    rows.nth(0).locator("td a").click()
    page.wait_for_selector("[data-testid=subject-page] [data-testid=subject-fields]")
    fields = page.inner_text("[data-testid=subject-fields]")
    assert "Name" in fields
    assert "Other fields" not in fields  # every stored field is one the type declares
    page.locator("[data-testid=subject-open-items]").wait_for()  # a debtor's invoices
    timeline = page.locator("[data-testid=timeline]")
    timeline.locator(
        f".timeline-instance:has-text('{FLOW}') [data-testid=history] li"
    ).first.wait_for()
    link = timeline.locator(".timeline-instance a").first
    assert link.get_attribute("href") == f"/running/{FLOW}"

    # An admin sets a person for one role on this subject only, and takes them off again.
    roles = page.locator("[data-testid=subject-roles]")
    roles.locator("select").nth(0).select_option(index=1)
    roles.locator("select").nth(1).select_option(index=1)
    person = roles.locator("select").nth(1).locator("option:checked").inner_text()
    roles.locator("button[type=submit]").click()
    member = roles.locator("tbody tr")
    member.first.wait_for()
    assert person.split(" (")[0] in member.first.inner_text()
    member.first.locator("button").click()
    roles.get_by_text("Nobody in particular").wait_for()

    # In German: no English of the subjects' texts on either page.
    page.click("[data-lang='de']")
    page.wait_for_function("document.documentElement.lang === 'de'")
    english = english_of_subject_texts()
    page.wait_for_load_state("networkidle")
    on_subject = set(page.evaluate(VISIBLE_TEXTS)) & english
    assert not on_subject, on_subject
    assert "Abläufe zu diesem Objekt" in page.inner_text("[data-testid=timeline]")
    page.click("[data-testid=subject-page] .back-link")
    page.wait_for_selector("[data-testid=subjects-table]")
    page.wait_for_load_state("networkidle")
    assert page.input_value("[data-testid=subjects-page] select[name=type]") == "debtor"
    on_list = set(page.evaluate(VISIBLE_TEXTS)) & english
    assert not on_list, on_list
    assert re.match(r"^1–\d+ von \d+$", page.inner_text("[data-testid=page-range]"))
