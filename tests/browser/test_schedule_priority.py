"""Issue 16's browser test: an administrator builds a scheduled workflow, puts it first.

Log in; draw a workflow with three filters (the rule builder) and an action (an email);
publish it; on the schedules page, drag it above the workflows scheduled before it (the
shown order is the run order, saved at once); run it now and read the run's result:
how many customers it selected and acted on. A second run skips both, and says why.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import (
    add_node,
    api,
    connect,
    problem_count,
    select,
    wait_validated,
)
from tests.browser.test_german_journey import log_in_as, until
from tests.conftest import EXAMPLES

SCHEDULE_ROWS = "[data-testid=schedules-page] tbody tr[data-schedule]"


def shown_order(page: Any) -> list[str]:
    return list(
        page.locator(SCHEDULE_ROWS).evaluate_all("rows => rows.map(r => r.dataset.schedule)")
    )


def test_an_admin_builds_a_scheduled_workflow_puts_it_first_and_runs_it(
    page: Any, server: Server
) -> None:
    tag = uuid.uuid4().hex[:6]
    key = f"reminder-{tag}"
    page.goto("/")
    log_in_as(page, server, server.email, server.password)
    page.click("[data-lang='en']")
    for n in (1, 2):  # the two customers the filter is to select
        fields = {
            "name": f"Prio {tag} customer {n}",
            "email": f"c{n}@{tag}.example",
            "problematic": False,
        }
        api(page, "POST", "/subjects", {"type": "debtor", "key": f"P-{tag}-{n}", "fields": fields})
    api(
        page,
        "POST",
        "/subjects",
        {  # one the filter leaves out: problematic
            "type": "debtor",
            "key": f"P-{tag}-3",
            "fields": {"name": f"Prio {tag} customer 3", "problematic": True},
        },
    )

    # Another scheduled workflow, published before: the new one is to go above it.
    other = json.loads((EXAMPLES / "dunning-level-1.json").read_text())
    other["key"], other["name"] = f"earlier-{tag}", f"Earlier {tag}"
    api(page, "POST", "/flows/import", other)
    api(page, "POST", f"/flows/earlier-{tag}/publish")

    # ------------------------------------------------------------ the workflow, drawn
    page.click("header.topbar nav a[href='/flows']")
    page.click("text=New flow")
    page.fill("input[name=name]", f"Reminder {tag}")
    page.fill("input[name=key]", key)
    page.select_option("select[name=subject_type]", "debtor")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=editor]")
    mail = add_node(page, "email", 420, 160)
    end = add_node(page, "end", 720, 120)
    no_mail = add_node(page, "end", 720, 320)
    panel = select(page, mail)
    panel.locator("select").first.select_option(label="A field of the subject")
    panel.locator(".picker-field[data-picker=field_path] select").select_option(
        value="subject.email"
    )
    panel.locator("#root_subject").fill("Payment reminder")
    panel.locator("#root_body").fill("Dear {{ subject.name }}, please pay.")

    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_selector("[data-testid=flow-settings]")
    page.select_option("#root_trigger__anyof_select", label="On a schedule")
    page.select_option("#root_trigger_every", label="week")
    page.select_option("#root_trigger_weekday", label="Tuesday")
    page.fill("#root_trigger_at", "16:00")
    settings = page.locator("[data-testid=flow-settings]")
    settings.locator(".rule-field").first.locator("button:has-text('+ rule')").click()
    rule = settings.locator("[data-testid=rule-builder]").first
    rule.locator("button:has-text('+ AND')").click()
    rule.locator("button:has-text('+ Condition')").first.click()
    filters = (
        ("subject.problematic", "=", "false"),
        ("subject.dunning_notices", "=", "0"),
        ("subject.name", "contains", f"Prio {tag}"),
    )
    for i, (field, op, value) in enumerate(filters):
        rule.locator("select.rb-field").nth(i).select_option(field)
        rule.locator("select.rb-op").nth(i).select_option(op)
        box = rule.locator(".rb-value").nth(i)
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)
    connect(page, "start", "next", mail)
    connect(page, mail, "sent", end)
    connect(page, mail, "no_address", no_mail)
    wait_validated(page)
    try:  # the last edge's answer may still be on its way
        until(lambda: problem_count(page) == 0, "no problems", seconds=10)
    except AssertionError:
        raise AssertionError(page.locator("[data-testid=problems]").inner_text()) from None
    page.click("[data-testid=publish]")
    until(lambda: api(page, "GET", f"/flows/{key}")["latest_version"] == 1, "published")
    trigger = api(page, "GET", f"/flows/{key}/versions/1")["trigger"]
    assert len(trigger["filter"]["rules"]) == 3, trigger

    # ------------------------------------------------------------ first by drag and drop
    page.goto("/schedules")
    page.wait_for_selector(f"{SCHEDULE_ROWS}[data-schedule='{key}']")
    before = shown_order(page)
    assert before[-1] == key, before  # a new workflow comes last
    page.drag_and_drop(
        f"{SCHEDULE_ROWS}[data-schedule='{key}'] .prio-handle",
        f"{SCHEDULE_ROWS}[data-schedule='{before[0]}']",
    )
    expected = [key, *before[:-1]]
    page.wait_for_function(
        "([sel, want]) => [...document.querySelectorAll(sel)]"
        ".map(r => r.dataset.schedule).join() === want",
        arg=[SCHEDULE_ROWS, ",".join(expected)],
    )
    row = page.locator(f"{SCHEDULE_ROWS}[data-schedule='{key}']")
    assert row.locator("[data-testid=priority]").inner_text() == "1"
    # Saved: the server's order is the shown one, also after a reload.
    until(lambda: [s["flow"] for s in api(page, "GET", "/schedules")] == expected, "order saved")
    page.reload()
    page.wait_for_selector(f"{SCHEDULE_ROWS}[data-schedule='{key}']")
    assert shown_order(page) == expected
    # And by keyboard: the down arrow moves it one place, the up arrow back.
    page.get_by_role("button", name=f"Move Reminder {tag} down").click()
    until(lambda: shown_order(page)[:2] == [expected[1], key], "moved down")
    page.get_by_role("button", name=f"Move Reminder {tag} up").focus()
    page.keyboard.press("Enter")
    until(lambda: shown_order(page) == expected, "moved up")
    until(lambda: [s["flow"] for s in api(page, "GET", "/schedules")] == expected, "saved")

    # ------------------------------------------------------------ run now, read the result
    row = page.locator(f"{SCHEDULE_ROWS}[data-schedule='{key}']")
    row.locator("button:has-text('Run now')").click()
    dialog = page.locator("[data-testid=run-now-dialog]")
    dialog.locator("button.primary").click()
    result = page.locator("[data-testid=run-result]")
    result.wait_for()
    text = result.inner_text()
    assert f"Reminder {tag} ran now: 2 selected, 2 acted on, 0 skipped." in text, text
    assert "2 selected, 2 started" in row.locator("[data-testid=last-run]").inner_text()

    (run,) = api(page, "GET", f"/schedules/{key}/runs")
    assert (run["selected"], run["acted"], run["skipped"], run["manual"]) == (2, 2, 0, True)
