"""An office's phases in Chromium against `procedo serve --demo` (issue 19, K1, K2, K6).

The office admin renames the role a phase flow names on the Roles page (its members
and the flow follow once published), picks three clients on the Subjects page by a
search and starts the flow for them in one go with a period, then works the phase in
the inbox: the checkpoints are ticked one by one (who ticked shows), and the complete
button stays disabled, saying why, until the mandatory one is ticked.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_admin_pages import open_manage
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_german_journey import until

ROWS = "[data-testid=subjects-table] tbody tr[data-subject]"


def phase_flow(key: str, role: str) -> dict[str, Any]:
    return {
        "format": "procedo.flow/1",
        "key": key,
        "name": "Intake per client",
        "subject_type": "client",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "intake",
                "type": "phase",
                "params": {
                    "name": "Intake",
                    "title": "Intake {{ vars.period }} {{ subject.name }}",
                    "role": role,
                    "button": "Complete phase",
                    "checkpoints": [
                        {"id": "called", "label": "Client called"},
                        {"id": "documents", "label": "Documents received", "mandatory": True},
                    ],
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "intake"},
            {"id": "e2", "source": "intake", "source_port": "done", "target": "end"},
        ],
    }


def test_rename_a_role_bulk_start_three_clients_and_tick_checkpoints(
    page: Any, server: Server
) -> None:
    log_in(page, server)
    run = uuid.uuid4().hex[:6]
    old_role, new_role, key = f"Intake{run}", f"Onboarding{run}", f"intake-{run}"
    api(page, "POST", "/roles", {"name": old_role})
    api(page, "POST", f"/roles/{old_role}/members", {"email": server.email})
    api(page, "POST", "/flows/import", phase_flow(key, old_role))
    api(page, "POST", f"/flows/{key}/publish")
    names = [f"Fase {run} klant {n}" for n in range(1, 4)]
    for n, name in enumerate(names, start=1):
        fields = {"name": name, "products": ["Aangifte BTW"], "vat_period": "monthly"}
        api(page, "POST", "/subjects", {"type": "client", "key": f"F{run}-{n}", "fields": fields})

    # K1: the admin renames the role; the flow naming it is to be published again.
    open_manage(page, "/roles")
    row = page.locator(f"tr[data-role='{old_role}']")
    row.locator("button", has_text="Rename").click()
    dialog = page.locator("[data-testid='role-dialog']")
    dialog.locator("input[name=name]").fill(new_role)
    dialog.locator("button[type=submit]").click()
    page.locator("[role=status]", has_text=key).wait_for()
    page.locator(f"tr[data-role='{new_role}']").wait_for()
    assert page.locator(f"tr[data-role='{old_role}']").count() == 0
    api(page, "POST", f"/flows/{key}/publish")

    # K6: three clients found by a search, picked, started at once for November.
    page.click("header.topbar nav a[href='/subjects']")
    page.select_option("[data-testid=subjects-page] select[name=type]", "client")
    page.fill("[data-testid=subjects-page] input[name=q]", f"Fase {run}")
    page.wait_for_function(
        "([rows, prefix]) => [...document.querySelectorAll(rows)]"
        ".filter(r => r.dataset.subject.startsWith(prefix)).length === 3"
        " && document.querySelectorAll(rows).length === 3",
        arg=[ROWS, f"F{run}-"],
    )
    rows = page.locator(ROWS)
    for i in range(3):
        rows.nth(i).locator("td.check input").check()
    assert page.inner_text("[data-testid=selection]").startswith("3 selected")
    page.click("[data-testid=subjects-page] .page-head button.primary")
    start = page.locator("[data-testid=start-flow-dialog]")
    start.locator("select[name=flow]").select_option(key)
    start.locator("input[name=period]").fill("2026-11")
    start.locator("button[type=submit]").click()
    result = page.locator("[data-testid=start-flow-result]")
    result.wait_for()
    started = result.locator("[data-testid=started] li").all_inner_texts()
    assert sorted(started) == [f"F{run}-{n}" for n in range(1, 4)]
    result.locator("button.primary").click()
    # The workers open the three phases a moment later (on a loaded machine, after the
    # inbox's first load): the inbox is opened once they are there.
    until(
        lambda: (
            len(
                [
                    task
                    for task in api(page, "GET", "/tasks?scope=roles&limit=200")
                    if task["title"].startswith(f"Intake 2026-11 Fase {run}")
                ]
            )
            == 3
        ),
        "the three phases opened",
        seconds=60,
    )

    # K2: the phase is in the inbox of the renamed role's member (the admin).
    page.click("header.topbar nav a[href='/inbox']")
    page.click("[data-scope=roles]")
    title = f"Intake 2026-11 {names[0]}"
    task = page.locator("[data-task]", has_text=title)
    task.wait_for()
    assert page.locator("[data-task]", has_text=f"Intake 2026-11 Fase {run}").count() == 3
    task.click()
    detail = page.locator("[data-testid=task-detail]")
    detail.locator("h2", has_text=title).wait_for()
    assert new_role in detail.inner_text()
    complete = detail.locator("button[data-outcome=complete]")
    assert complete.inner_text() == "Complete phase"
    blocked = detail.locator("[data-testid=complete-blocked]")
    assert blocked.inner_text() == "Tick the mandatory checkpoints first: Documents received"
    assert complete.is_disabled()

    # The optional one first: who ticked shows, and completing is still blocked.
    called = detail.locator("[data-checkpoint=called]")
    called.locator("input").check()
    called.locator("[data-testid=ticked-by]", has_text=server.email).wait_for()
    assert detail.inner_text().count("ticked by") == 1
    assert complete.is_disabled()
    assert blocked.is_visible()
    # Unticked again, then ticked: both kept in the history.
    called.locator("input").uncheck()
    called.locator("[data-testid=ticked-by]").wait_for(state="detached")
    called.locator("input").check()
    called.locator("[data-testid=ticked-by]").wait_for()

    documents = detail.locator("[data-checkpoint=documents]")
    documents.locator("input").check()
    documents.locator("[data-testid=ticked-by]").wait_for()
    detail.locator("[data-testid=checkpoint-progress]", has_text="2/2").wait_for()
    assert blocked.count() == 0
    assert complete.is_enabled()
    complete.click()
    page.locator("[role=status]", has_text=title).wait_for()
    page.locator("[data-task]", has_text=title).wait_for(state="detached")
    assert page.locator("[data-task]", has_text=f"Intake 2026-11 Fase {run}").count() == 2

    # The history keeps who ticked and unticked what.
    instance_id = next(
        i["id"]
        for i in api(page, "GET", f"/instances?flow={key}&limit=10")
        if i["subject_key"] == f"F{run}-1"
    )
    history = api(page, "GET", f"/instances/{instance_id}/history")
    ticks = [
        (h["kind"], h["data"]["checkpoint"], h["actor"])
        for h in history
        if h["kind"].startswith("checkpoint_")
    ]
    assert ticks == [
        ("checkpoint_ticked", "called", server.email),
        ("checkpoint_unticked", "called", server.email),
        ("checkpoint_ticked", "called", server.email),
        ("checkpoint_ticked", "documents", server.email),
    ]
    assert api(page, "GET", f"/instances/{instance_id}")["status"] == "completed"
