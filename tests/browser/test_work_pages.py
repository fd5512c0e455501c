"""The work screens in real Chromium against `procedo serve --demo`, as the demo admin.

All tasks: anna's task is there and goes to ben. Instances: a flow whose email
prints a field the debtor lacks fails; its error shows in words; the admin fills the
field and retries, and it completes. In the running view another failed instance is
cancelled with a reason, and the history shows it; a third, failed after its task,
is moved back to its start by dragging its marker. In German none of the work screens' English
texts show. The tests make their own flows and subjects: the other browser tests
share the demo tenant.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in

FLOW_KEY = "phone-reminder"
CHECKED_KEY = "checked-phone-reminder"
ANNA_KEY = "anna-review"
WORK_TEXTS = ROOT / "designer" / "src" / "texts" / "work.ts"


def go(page: Any, path: str) -> None:
    """Open a page through the top bar's navigation."""
    page.click(f".topbar nav a[href='{path}']")


def phone_reminder() -> dict[str, Any]:
    """A debtor flow whose email prints the phone number, which the demo debtors lack."""
    return {
        "format": "procedo.flow/1",
        "key": FLOW_KEY,
        "name": "Phone reminder",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "mail",
                "type": "email",
                "label": "Send reminder",
                "params": {
                    "to": {"kind": "address", "address": "desk@demo.example"},
                    "subject": "Call us",
                    "body": "Please call us back on {{ subject.phone }}.",
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "mail"},
            {"id": "e2", "source": "mail", "source_port": "sent", "target": "end"},
        ],
    }


def checked_reminder() -> dict[str, Any]:
    """The same email after a task: when it fails, the instance still waits at the task."""
    flow = phone_reminder()
    flow |= {"key": CHECKED_KEY, "name": "Checked phone reminder"}
    flow["nodes"].insert(1, task_node("check", "Check the debtor", "Accountant"))
    flow["edges"] = [
        {"id": "e1", "source": "start", "source_port": "next", "target": "check"},
        {"id": "e2", "source": "check", "source_port": "done", "target": "mail"},
        {"id": "e3", "source": "mail", "source_port": "sent", "target": "end"},
    ]
    return flow


def anna_review() -> dict[str, Any]:
    """An invoice flow with one task for anna's role, Management A."""
    return {
        "format": "procedo.flow/1",
        "key": ANNA_KEY,
        "name": "Contract review",
        "subject_type": "invoice",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            task_node("review", "Review the contract", "Management A"),
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "review"},
            {"id": "e2", "source": "review", "source_port": "done", "target": "end"},
        ],
    }


def task_node(node_id: str, title: str, role: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "assign_role",
        "label": title,
        "params": {
            "title": title,
            "assignee": {"role": role},
            "outcomes": [{"port": "done", "label": "Done"}],
        },
    }


def publish(page: Any, flow: dict[str, Any]) -> None:
    api(page, "POST", "/flows", flow)
    api(page, "POST", f"/flows/{flow['key']}/publish", {})


def subject(page: Any, subject_type: str, key: str) -> dict[str, Any]:
    fields = {"name": f"Work test {key}"} if subject_type == "debtor" else {}
    body = {"type": subject_type, "key": key, "fields": fields}
    return dict(api(page, "POST", "/subjects", body))


def start(page: Any, flow: str, subject_id: str) -> dict[str, Any]:
    return dict(api(page, "POST", "/instances", {"flow": flow, "subject_id": subject_id}))


def test_all_tasks_reassign_failed_instances_retry_and_cancel(page: Any, server: Server) -> None:
    log_in(page, server)

    publish(page, anna_review())
    start(page, ANNA_KEY, subject(page, "invoice", "INV-WORK-1")["id"])

    # All tasks: narrowed to the flow and to anna, her task; given to ben.
    go(page, "/tasks")
    page.wait_for_selector("[data-testid=tasks-page] [data-task]")
    page.select_option("select[name=flow]", ANNA_KEY)
    page.select_option("select[name=user]", "anna@demo.example")
    row = page.locator("[data-task]", has_text="Review the contract")
    page.wait_for_function("() => document.querySelectorAll('[data-task]').length === 1")
    row.wait_for()
    row.locator("input[type=checkbox]").check()
    page.click("[data-testid=reassign]")
    dialog = page.locator("[data-testid=reassign-dialog]")
    dialog.locator("select[name=target]").select_option("ben@demo.example")
    dialog.locator("input[name=reason]").fill("Anna is on holiday")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("[role=status]:has-text('1 of 1 tasks reassigned')")
    # Not anna's any more: ben's.
    page.wait_for_selector("text=No open tasks match.")
    page.select_option("select[name=user]", "ben@demo.example")
    row = page.locator("[data-task]", has_text="Review the contract")
    row.wait_for()
    assert "Ben Jansen" in row.locator("[data-testid=waits-for]").inner_text()

    # A flow that fails: its email prints a field the debtors have no value for.
    publish(page, phone_reminder())
    first, second = subject(page, "debtor", "D-WORK-1"), subject(page, "debtor", "D-WORK-2")
    failed = start(page, FLOW_KEY, first["id"])
    other = start(page, FLOW_KEY, second["id"])
    assert failed["status"] == other["status"] == "failed"

    # Instances: failed ones first, each with its error in words.
    go(page, "/instances")
    row = page.locator(f"[data-instance='{failed['id']}']")
    # Named by its label once the flow version is read.
    error = row.locator("[data-testid=error]", has_text="Send reminder")
    error.wait_for()
    text = error.inner_text()
    assert "“Send reminder”" in text, text
    assert "“phone”" in text, text
    assert "no attribute 'phone'" in (error.get_attribute("title") or "")
    statuses = page.locator("[data-instance] .badge").all_inner_texts()
    assert statuses[:2] == ["Failed", "Failed"], statuses

    # The admin fills in the field and retries: the instance runs on to its end.
    api(page, "PATCH", f"/subjects/{first['id']}", {"fields": {"phone": "+31 10 123 4567"}})
    row.locator("[data-action=retry]").click()
    page.wait_for_selector("[role=status]:has-text('Retried: the instance is Completed now.')")
    page.locator(f"[data-instance='{failed['id']}']").wait_for(state="detached")  # not open
    page.select_option("select[name=status]", "completed")
    done = page.locator(f"[data-instance='{failed['id']}']")
    done.wait_for()
    assert done.locator(".badge").inner_text() == "Completed"

    # The other one, in the running view: its error, and a cancel with a reason.
    page.select_option("select[name=status]", "failed")
    opener = "button[aria-label='Open in the running view']"
    page.locator(f"[data-instance='{other['id']}'] {opener}").click()
    detail = page.locator("[data-testid=instance-detail]")
    detail.locator("[data-testid=failure-text]").wait_for()
    assert "“phone”" in detail.locator("[data-testid=failure-text]").inner_text()
    detail.locator("[data-action=cancel]").click()
    cancel = page.locator("[data-testid=cancel-dialog]")
    assert cancel.locator("button[type=submit]").is_disabled()  # a reason is required
    cancel.locator("input[name=reason]").fill("Debtor called us already")
    cancel.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=instance-status]:has-text('Cancelled')")
    history = detail.locator("[data-testid=history]")
    history.locator("li:has-text('“Debtor called us already”')").first.wait_for()
    last = api(page, "GET", f"/instances/{other['id']}/history")[-1]
    assert (last["kind"], last["reason"]) == ("instance_cancelled", "Debtor called us already")


def english_only_texts() -> list[str]:
    """The work screens' English texts that German writes differently (placeholders cut)."""
    triples = re.findall(r'^\s+\w+: \["(.*?)", "(.*?)", "(.*?)"\],$', WORK_TEXTS.read_text(), re.M)
    found = []
    for en, _nl, de in triples:
        text = re.split(r"\{\w+\}", en)[0].strip(" :…")
        if en != de and len(text) >= 5:
            found.append(text)
    return found


def test_the_work_pages_show_no_english_in_german(page: Any, server: Server) -> None:
    log_in(page, server)
    page.click("button[data-lang=de]")
    texts = english_only_texts()
    assert len(texts) > 40
    for path, ready in (
        ("/tasks", "[data-task]"),
        ("/instances", "[data-instance]"),
    ):
        go(page, path)
        page.wait_for_selector(ready)
        if path == "/instances":
            page.locator(ready).first.click()
            page.wait_for_selector("[data-testid=history] li")
        body = page.locator("main").inner_text()
        shown = [text for text in texts if re.search(rf"(?<!\w){re.escape(text)}(?!\w)", body)]
        assert not shown, f"English on {path} in German: {shown}"
    # The running view of the instance shown last (its detail, buttons and history).
    page.locator("[data-instance] td .row-actions button").last.click()
    page.wait_for_selector("[data-testid=instance-detail] [data-testid=history] li")
    body = page.locator("main").inner_text()
    shown = [text for text in texts if re.search(rf"(?<!\w){re.escape(text)}(?!\w)", body)]
    assert not shown, f"English in the running view in German: {shown}"
    assert "Alle Aufgaben" in page.locator(".topbar").inner_text()


def test_english_texts_are_read_from_the_texts_file() -> None:
    assert "Only administrators see everyone's tasks. Your own are in the inbox." in (
        english_only_texts()
    )
    assert Path(WORK_TEXTS).is_file()


def test_a_failed_instance_moves_on_when_its_marker_is_dragged(page: Any, server: Server) -> None:
    log_in(page, server)
    publish(page, checked_reminder())
    started = start(page, CHECKED_KEY, subject(page, "debtor", "D-WORK-3")["id"])
    (task,) = started["tasks"]
    api(page, "POST", f"/tasks/{task['id']}/complete", {"outcome": "done"})
    assert api(page, "GET", f"/instances/{started['id']}")["status"] == "failed"

    page.goto(f"/running/{CHECKED_KEY}?instance={started['id']}")
    detail = page.locator("[data-testid=instance-detail]")
    detail.locator("[data-testid=failure-text]").wait_for()
    marker = ".react-flow__node[data-id='check'] [data-testid=instance-marker]"
    page.wait_for_selector(marker)
    page.wait_for_timeout(300)  # the canvas fits the view once drawn
    # Back to an earlier node: the failed step is dropped and the flow runs from there.
    page.drag_and_drop(marker, ".react-flow__node[data-id='start'] .pnode-head")
    dialog = page.locator("[data-testid=move-dialog]")
    dialog.locator("input[name=reason]").fill("check the debtor again")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=instance-status]:has-text('Running')")
    moved = detail.locator("[data-testid=history] li:has-text('check the debtor again')")
    moved.first.wait_for()
    assert detail.locator("[data-testid=failure]").count() == 0
    again = api(page, "GET", f"/instances/{started['id']}")
    assert (again["status"], again["positions"], again["error"]) == ("running", ["check"], None)
    assert [t["title"] for t in again["tasks"]] == ["Check the debtor"]
