"""Issue 13's journey, in German, as a consultant and an approver would go it.

Log in; draw a D6 dunning flow from an empty canvas with pickers (nothing typed but
texts); publish; start it for two chosen debtors from the subjects list; approve one
task as Ben, the demo's dunning approver; the instance fails (its email prints the
debtor's phone number, which this debtor lacks) and the instances page says why; the
consultant fixes the text, publishes, retries on the new version; the history reads
in German.
"""

from __future__ import annotations

import re
import time
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

ROWS = "[data-testid=subjects-table] tbody tr[data-subject]"
APPROVER = "Dunning approver"  # Ben's role in the demo


def log_in_as(page: Any, server: Server, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=tenant]", server.tenant)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.topbar")


def person(server: Server, email: str) -> str:
    """A demo person's password, as `procedo serve --demo` printed it."""
    found = re.findall(
        rf"demo login: tenant '[^']+', {re.escape(email)}, password (\S+)", server.log.read_text()
    )
    assert found, f"no demo login printed for {email}"
    return str(found[-1])


def until(check: Any, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not in {seconds} s: {what}"
        time.sleep(0.2)


def sign_out(page: Any) -> None:
    page.click("header.topbar button.ghost:has-text('Abmelden')")
    page.wait_for_selector("input[name=tenant]")


def test_a_consultant_draws_runs_and_repairs_a_dunning_flow_in_german(
    page: Any, server: Server
) -> None:
    tag = uuid.uuid4().hex[:5]
    key = f"mahnung-{tag}"
    # Two debtors of this test's own, one without a phone number.
    debtors = {}
    page.goto("/")
    log_in_as(page, server, server.email, server.password)
    page.click("[data-lang='de']")
    for n, phone in ((1, "010 123 4567"), (2, None)):
        fields: dict[str, Any] = {"name": f"Reise {tag} Kunde {n}", "email": f"k{n}@{tag}.example"}
        if phone:
            fields["phone"] = phone
        made = api(
            page, "POST", "/subjects", {"type": "debtor", "key": f"R-{tag}-{n}", "fields": fields}
        )
        debtors[n] = made

    # ------------------------------------------------------------ draw from an empty canvas
    page.click("header.topbar nav a[href='/flows']")
    page.click("text=Neuer Ablauf")
    page.fill("input[name=name]", f"Mahnstufe 1 ({tag})")
    page.fill("input[name=key]", key)
    page.select_option("select[name=subject_type]", "debtor")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=editor]")
    assert page.locator(".react-flow__node").count() == 1  # the start only

    approve = add_node(page, "assign_role", 360, 200)
    mail = add_node(page, "email", 620, 120)
    end = add_node(page, "end", 880, 200)

    panel = select(page, approve)
    panel.locator("#root_title").fill("Mahnung an {{ subject.name }} freigeben")
    panel.locator("select#root_assignee_role").select_option(value=APPROVER)
    panel = select(page, mail)
    panel.locator("select").first.select_option(label="Ein Feld des Objekts")
    panel.locator(".picker-field[data-picker=field_path] select").select_option(
        value="subject.email"
    )
    panel.locator("#root_subject").fill("Zahlungserinnerung")
    panel.locator("#root_body").fill("Bitte rufen Sie uns an: {{ subject.phone }}.")

    # D6's rhythm: every two weeks, Tuesday at 16:00, each a choice from a list.
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_selector("[data-testid=flow-settings]")
    page.select_option("#root_trigger__anyof_select", label="Nach Zeitplan")
    page.select_option("#root_trigger_every", label="Woche")
    page.fill("#root_trigger_interval", "2")
    page.select_option("#root_trigger_weekday", label="Dienstag")
    page.fill("#root_trigger_at", "16:00")
    # D6's debtors: not problematic, no notice yet, oldest invoice overdue over 6 days.
    settings = page.locator("[data-testid=flow-settings]")
    settings.locator(".rule-field").first.locator("button:has-text('+ Regel')").click()
    rule = settings.locator("[data-testid=rule-builder]").first
    rule.locator("button:has-text('+ UND')").click()
    rule.locator("button:has-text('+ Bedingung')").first.click()
    d6 = (
        ("subject.problematic", "=", "false"),
        ("subject.dunning_notices", "=", "0"),
        ("subject.oldest_overdue_days", ">", "6"),
    )
    for i, (field, op, value) in enumerate(d6):
        rule.locator("select.rb-field").nth(i).select_option(field)
        rule.locator("select.rb-op").nth(i).select_option(op)
        box = rule.locator(".rb-value").nth(i)
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)

    connect(page, "start", "next", approve)
    connect(page, approve, "approve", mail)
    connect(page, approve, "reject", end)
    connect(page, mail, "sent", end)
    connect(page, mail, "no_address", end)
    wait_validated(page)
    # The answer for the last connection may still be on its way on a busy machine: the
    # flow must come to no problem at all, and the list says which one stayed if not.
    deadline = time.monotonic() + 20
    while problem_count(page):
        if time.monotonic() > deadline:
            raise AssertionError(page.locator("[data-testid=problems]").inner_text())
        page.wait_for_timeout(200)
    page.click("[data-testid=publish]")
    until(lambda: api(page, "GET", f"/flows/{key}")["latest_version"] == 1, "published")
    trigger = api(page, "GET", f"/flows/{key}/versions/1")["trigger"]  # the flow file
    chosen = [
        (c["field"], c["op"], str(c["value"]["value"]).lower())
        for c in trigger.pop("filter")["rules"]
    ]
    assert chosen == list(d6), chosen
    assert trigger == {
        "kind": "schedule",
        "every": "week",
        "interval": 2,
        "weekday": "tuesday",
        "at": "16:00",
    } | {
        k: v for k, v in trigger.items() if k not in ("kind", "every", "interval", "weekday", "at")
    }

    # ------------------------------------------------------------ start for two debtors
    page.click("header.topbar nav a[href='/subjects']")
    page.select_option("[data-testid=subjects-page] select[name=type]", "debtor")
    page.fill("[data-testid=subjects-page] input[name=q]", f"Reise {tag}")
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 2")
    rows = page.locator(ROWS)
    for i in range(2):
        rows.nth(i).locator("td.check input").check()
    page.click("[data-testid=subjects-page] .page-head button.primary")
    dialog = page.locator("[data-testid=start-flow-dialog]")
    dialog.locator("select[name=flow]").select_option(key)
    dialog.locator("button[type=submit]").click()
    result = page.locator("[data-testid=start-flow-result]")
    result.wait_for()
    assert result.locator("[data-testid=started] li").count() == 2
    result.locator("button.primary").click()

    # ------------------------------------------------------------ Ben approves one
    sign_out(page)
    log_in_as(page, server, "ben@demo.example", person(server, "ben@demo.example"))
    page.goto("/inbox")
    page.click("text=Aufgaben meiner Rollen")
    task = page.locator(".list-item", has_text=f"Reise {tag} Kunde 2")
    task.wait_for()
    task.click()
    page.locator("[data-testid=task-detail] button[data-outcome=approve]").click()
    instances = api(page, "GET", f"/instances?flow={key}")
    failing = next(i for i in instances if i["subject_key"] == f"R-{tag}-2")
    sign_out(page)

    # ------------------------------------------------------------ the failure, in words
    log_in_as(page, server, server.email, server.password)
    until(lambda: api(page, "GET", f"/instances/{failing['id']}")["status"] == "failed", "failed")
    page.click("header.topbar nav a[href='/instances']")
    row = page.locator("[data-testid=instances-page]").get_by_text(f"R-{tag}-2").first
    row.wait_for()
    page_text = page.locator("main").inner_text()
    assert "phone" in page_text or "Telefon" in page_text, page_text

    # ------------------------------------------------------------ fix, publish, retry
    page.goto(f"/flows/{key}")
    page.wait_for_selector(".react-flow__node")
    panel = select(page, mail)
    panel.locator("#root_body").fill("Bitte zahlen Sie den offenen Betrag.")
    wait_validated(page)
    page.click("[data-testid=publish]")
    until(lambda: api(page, "GET", f"/flows/{key}")["latest_version"] == 2, "version 2")
    page.goto(f"/running/{key}?instance={failing['id']}")
    page.locator("button[data-action=retry-latest]").click()
    until(
        lambda: api(page, "GET", f"/instances/{failing['id']}")["status"] == "completed",
        "the retried instance completed",
    )

    # ------------------------------------------------------------ the history, in German
    page.reload()
    history = page.locator("[data-testid=history]")
    history.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=history]').innerText.includes('Version 2')"
    )
    text = history.inner_text()
    assert "Ben hat" in text, text  # who did what, by name
    assert "auf Version 2 gesetzt" in text, text
    assert "„Freigeben“" in text, text  # the outcome by its label, as a German node starts
    for english in ("started", "retry", "completed", "failed", " put the ", "„next“"):
        assert english not in text, (english, text)
