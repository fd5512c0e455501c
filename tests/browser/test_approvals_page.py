"""The approval list (D4) in real Chromium, in German, as the demo admin.

A debtor flow that needs approval holds its reminder email: the Approvals page lists
each debtor with the email that would go out (its preview in a sandboxed frame); one
is rejected on its own, the others approved together; the history says who decided.
The inbox and all tasks filter by the task's type. The test makes its own flow and
debtors (the demo tenant is shared), and selects only its own rows.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in

FLOW_KEY = "approval-page-reminder"
KEYS = ("APPR-1", "APPR-2", "APPR-3")


def approval_flow() -> dict[str, Any]:
    return {
        "format": "procedo.flow/1",
        "key": FLOW_KEY,
        "name": "Erinnerung mit Freigabe",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "assign_role",
                "params": {
                    "kind": "approval",
                    "title": "Erinnerung an {{ subject.name }} freigeben",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [
                        {"port": "approve", "label": "Freigeben"},
                        {"port": "reject", "label": "Ablehnen"},
                    ],
                },
            },
            {
                "id": "mail",
                "type": "email",
                "params": {
                    "to": {"kind": "field", "field": "subject.email"},
                    "subject": "Zahlungserinnerung für {{ subject.name }}",
                    "body": "Guten Tag {{ subject.name }}, bitte zahlen Sie.",
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "approve"},
            {"id": "e2", "source": "approve", "source_port": "approve", "target": "mail"},
            {"id": "e3", "source": "approve", "source_port": "reject", "target": "end"},
            {"id": "e4", "source": "mail", "source_port": "sent", "target": "end"},
            {"id": "e5", "source": "mail", "source_port": "no_address", "target": "end"},
        ],
    }


def row(page: Any, key: str) -> Any:
    return page.locator(f"[data-approval][data-subject='{key}']")


def test_approve_and_reject_from_the_approval_list_in_german(page: Any, server: Server) -> None:
    log_in(page, server)
    api(page, "POST", "/flows", approval_flow())
    api(page, "POST", f"/flows/{FLOW_KEY}/publish", {})
    instances = {}
    for key in KEYS:
        fields = {"name": f"Firma {key}", "email": f"{key.lower()}@kunde.example"}
        made = api(page, "POST", "/subjects", {"type": "debtor", "key": key, "fields": fields})
        started = api(page, "POST", "/instances", {"flow": FLOW_KEY, "subject_id": made["id"]})
        instances[key] = started["id"]

    page.click("button[data-lang=de]")
    page.click(".topbar nav a[href='/approvals']")
    for key in KEYS:
        row(page, key).wait_for()
    first = row(page, "APPR-1")
    proposed = first.locator("[data-testid=proposed]").inner_text()
    assert "E-Mail an appr-1@kunde.example: Zahlungserinnerung für Firma APPR-1" in proposed
    first.locator("[data-testid=preview]").click()
    frame = first.locator("iframe")
    assert "Guten Tag Firma APPR-1" in (frame.get_attribute("srcdoc") or "")
    assert frame.get_attribute("sandbox") == ""

    # Select all selects every row; cleared again, only this test's rows are chosen.
    rows = page.locator("[data-approval]").count()
    page.locator("th input[type=checkbox]").check()
    page.wait_for_selector(f"text={rows} ausgewählt")
    page.locator("th input[type=checkbox]").uncheck()
    page.wait_for_selector("text=0 ausgewählt")

    row(page, "APPR-2").locator("[data-testid=reject]").click()
    page.wait_for_selector("[role=status]:has-text('1 abgelehnt.')")
    row(page, "APPR-2").wait_for(state="detached")
    for key in ("APPR-1", "APPR-3"):
        row(page, key).locator("input[type=checkbox]").check()
    page.click("[data-testid=approve-selected]:has-text('Auswahl freigeben (2)')")
    page.wait_for_selector("[role=status]:has-text('2 freigegeben.')")
    for key in ("APPR-1", "APPR-3"):
        row(page, key).wait_for(state="detached")

    decided = {}
    for key, instance in instances.items():
        history = api(page, "GET", f"/instances/{instance}/history")
        decided[key] = [
            (entry["actor"], entry["data"]["decision"])
            for entry in history
            if entry["kind"] == "approval_decided"
        ]
    assert decided == {
        "APPR-1": [(server.email, "approved")],
        "APPR-2": [(server.email, "rejected")],
        "APPR-3": [(server.email, "approved")],
    }
    sent = api(page, "GET", f"/outbox?instance_id={instances['APPR-1']}")
    assert [message["subject"] for message in sent] == ["Zahlungserinnerung für Firma APPR-1"]
    assert api(page, "GET", f"/outbox?instance_id={instances['APPR-2']}") == []


def test_all_tasks_filter_by_task_type(page: Any, server: Server) -> None:
    log_in(page, server)
    flow = approval_flow() | {"key": f"{FLOW_KEY}-types", "name": "Typen"}
    api(page, "POST", "/flows", flow)
    api(page, "POST", f"/flows/{flow['key']}/publish", {})
    fields = {"name": "Firma TYPE-1"}
    made = api(page, "POST", "/subjects", {"type": "debtor", "key": "TYPE-1", "fields": fields})
    api(page, "POST", "/instances", {"flow": flow["key"], "subject_id": made["id"]})

    page.click("button[data-lang=de]")
    page.click(".topbar nav a[href='/tasks']")
    page.wait_for_selector("[data-testid=tasks-page] [data-task]")
    page.select_option("select[name=flow]", flow["key"])
    page.select_option("[data-testid=task-type]", "phone_call")
    page.wait_for_selector("text=Keine passenden offenen Aufgaben.")
    page.select_option("[data-testid=task-type]", "approval")
    task = page.locator("[data-task]", has_text="Erinnerung an")
    task.wait_for()
    assert task.locator("[data-task-type=approval]").inner_text() == "Freigabe"


def test_the_approval_list_shows_a_library_reminder_in_the_debtors_language(
    page: Any, server: Server
) -> None:
    """D6's reminder comes from the standard library: a German debtor's reads German, a
    Dutch one's Dutch, with the debt written as each reader writes it."""
    log_in(page, server)
    flow = approval_flow() | {"key": f"{FLOW_KEY}-library", "name": "Aus der Bibliothek"}
    mail = next(node for node in flow["nodes"] if node["id"] == "mail")
    mail["params"] = {"to": mail["params"]["to"], "template": "payment-reminder"}
    api(page, "POST", "/flows", flow)
    api(page, "POST", f"/flows/{flow['key']}/publish", {})
    for key, language in (("LIB-DE", "de"), ("LIB-NL", "nl")):
        fields = {"name": f"Firma {key}", "email": f"{key.lower()}@kunde.example"}
        made = api(
            page,
            "POST",
            "/subjects",
            {"type": "debtor", "key": key, "fields": fields | {"language": language}},
        )
        api(page, "POST", "/instances", {"flow": flow["key"], "subject_id": made["id"]})

    page.click("button[data-lang=de]")
    page.click(".topbar nav a[href='/approvals']")
    german, dutch = row(page, "LIB-DE"), row(page, "LIB-NL")
    german.wait_for()
    dutch.wait_for()
    assert "Zahlungserinnerung" in german.locator("[data-testid=proposed]").inner_text()
    assert "Betalingsherinnering" in dutch.locator("[data-testid=proposed]").inner_text()
    german.locator("[data-testid=preview]").click()
    assert "Guten Tag Firma LIB-DE" in (german.locator("iframe").get_attribute("srcdoc") or "")
