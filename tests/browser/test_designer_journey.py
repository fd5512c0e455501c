"""The designer's journey in real Chromium against `procedo serve --demo`.

Log in; draw the invoice approval flow from the palette (a condition with two
branches, a role task, an email, a status change), fill the forms and watch the
validation problems disappear; publish; export; import the file as a new flow
and compare; complete a task from the inbox; move an instance back.

The steps build on each other, so they run as one test, step by step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser.conftest import Server

FLOW_KEY = "drawn-invoice-approval"
ROLE = "Reviewer"


def log_in(page: Any, server: Server) -> None:
    page.goto("/")
    page.fill("input[name=tenant]", server.tenant)
    page.fill("input[name=email]", server.email)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_selector(".flows-table")


def api(page: Any, method: str, path: str, body: Any = None) -> Any:
    """A call as the logged-in user (session cookie plus the CSRF header)."""
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    response = page.request.fetch(
        f"/api/v1{path}",
        method=method,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(body) if body is not None else None,
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    text = response.text()
    return json.loads(text) if text else None


def node(page: Any, node_id: str) -> Any:
    return page.locator(f".react-flow__node[data-id='{node_id}']")


def add_node(page: Any, node_type: str, x: int, y: int) -> str:
    """Drag a node type from the palette onto the canvas at (x, y); its new id."""
    before = set(
        page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")
    )
    page.drag_and_drop(
        f".palette-item[data-type='{node_type}']",
        ".canvas .react-flow__pane",
        target_position={"x": x, "y": y},
    )
    page.wait_for_function(
        "n => document.querySelectorAll('.react-flow__node').length > n", arg=len(before)
    )
    after = page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")
    (new,) = set(after) - before
    return str(new)


def connect(page: Any, source: str, port: str, target: str) -> None:
    handle = node(page, source).locator(f".pnode-port[data-port='{port}'] .react-flow__handle")
    into = node(page, target).locator(".in-handle")
    a = handle.bounding_box()
    b = into.bounding_box()
    assert a, f"the handle of {source}.{port} is not visible"
    assert b, f"the input of {target} is not visible"
    edges = page.locator(".react-flow__edge").count()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "n => document.querySelectorAll('.react-flow__edge').length > n", arg=edges
    )


def select(page: Any, node_id: str) -> Any:
    node(page, node_id).locator(".pnode-head").click()
    panel = page.locator(f"[data-testid=params-panel][data-node='{node_id}']")
    panel.wait_for()
    return panel


def problem_count(page: Any) -> int:
    return int(page.locator("[data-testid=problem-count]").inner_text())


def wait_validated(page: Any) -> None:
    """Until the server has answered for what the canvas shows now."""
    page.wait_for_timeout(100)
    page.wait_for_selector("[data-testid=problems][data-state=done]")


def test_journey(page: Any, server: Server, tmp_path: Path) -> None:
    # ------------------------------------------------------------------ log in, flows list
    log_in(page, server)
    row = page.locator(".flows-table tr[data-flow='invoice-approval']")
    assert "Purchase invoice approval" in row.inner_text()
    # Opening a flow and every node's form changes nothing.
    page.goto("/flows/invoice-approval")
    page.wait_for_selector(".react-flow__node")
    for node_id in page.locator(".react-flow__node").evaluate_all(
        "els => els.map(e => e.dataset.id)"
    ):
        select(page, node_id)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_selector("[data-testid=flow-settings]")
    page.wait_for_timeout(600)
    assert page.locator("[data-testid=save-state]").inner_text() == "Saved"
    assert problem_count(page) == 0

    # Copy and paste a node (JSON text through the clipboard), then undo it.
    nodes = page.locator(".react-flow__node").count()
    select(page, "reject_mail")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    page.wait_for_selector(".react-flow__node[data-id='reject_mail_2']")
    assert page.locator(".react-flow__node").count() == nodes + 1
    page.keyboard.press("Control+z")
    page.locator(".react-flow__node[data-id='reject_mail_2']").wait_for(state="detached")
    page.wait_for_selector("[data-testid=save-state].ok")
    page.goto("/")
    page.wait_for_selector(".flows-table")

    api(page, "POST", "/roles", {"name": ROLE})
    api(page, "POST", f"/roles/{ROLE}/members", {"email": server.email})

    # The palette follows the language, and the choice is remembered.
    page.click("button[data-lang=nl]")
    page.click("text=Nieuwe flow")
    page.fill("input[name=name]", "Drawn invoice approval")
    page.fill("input[name=key]", FLOW_KEY)
    page.select_option("select[name=subject_type]", "invoice")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=editor]")
    assert page.locator(".palette-item[data-type=condition]").inner_text().strip() == "Voorwaarde"
    page.reload()
    page.wait_for_selector(".palette-item[data-type=condition]")
    assert page.locator(".palette-item[data-type=condition]").inner_text().strip() == "Voorwaarde"
    page.click("button[data-lang=en]")
    assert page.locator(".palette-item[data-type=condition]").inner_text().strip() == "Condition"

    # ------------------------------------------------------------------ draw
    check = add_node(page, "condition", 300, 300)
    task = add_node(page, "assign_role", 540, 470)
    approved = add_node(page, "status_change", 620, 150)
    mail = add_node(page, "email", 780, 600)
    end = add_node(page, "end", 880, 330)
    wait_validated(page)
    assert problem_count(page) > 0
    assert page.locator("[data-testid=publish]").is_disabled()

    # The condition: a second branch, its rule written in text mode.
    panel = select(page, check)
    panel.locator("input[name=node-label]").fill("Small or without order")
    panel.locator("#root_branches_0_label").fill("At most 500")
    panel.locator("button.btn-add").first.click()
    panel.locator("#root_branches_1_port").fill("no_order")
    panel.locator("#root_branches_1_label").fill("No order number")
    second = panel.locator("[data-testid=rule-builder]").nth(1)
    second.locator("button:has-text('Text')").click()
    second.locator("textarea").fill("subject.order_reference.isEmpty()")
    page.wait_for_selector(f".react-flow__node[data-id='{check}'] .pnode-port[data-port=no_order]")
    match = panel.locator("[data-testid=rule-match]").first
    match.wait_for()
    page.wait_for_function("el => /\\d+ of \\d+/.test(el.textContent)", arg=match.element_handle())

    # The task: for the Reviewer role.
    panel = select(page, task)
    panel.locator("#root_title").fill("Approve invoice {{ subject.invoice_number }}")
    # A role the office does not have yet: "Other…" in the role picker, then its name.
    panel.locator("select#root_assignee_role").select_option(label="Other…")
    panel.locator("input#root_assignee_role").fill(ROLE)
    panel.locator("#root_instructions").fill("Check the order and the delivery.")
    panel.locator("#root_checkpoints__add").click()
    panel.locator("#root_checkpoints_0_id").fill("order_checked")
    panel.locator("#root_checkpoints_0_label").fill("Order checked")
    panel.locator("#root_checkpoints_0_mandatory").check()

    # The email: to the supplier's address, so it gets a no_address port too.
    panel = select(page, mail)
    panel.locator("input[name=node-label]").fill("Tell the supplier")
    panel.locator("#root_subject").fill("Invoice {{ subject.invoice_number }}")

    panel = select(page, approved)
    panel.locator("input[name=node-label]").fill("Approved")

    # Auto-layout (L) lays the nodes out left to right before connecting them.
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.keyboard.press("l")
    page.wait_for_selector("[data-testid=editor][data-busy=layout]", state="attached")
    page.wait_for_selector("[data-testid=editor]:not([data-busy])")
    connect(page, "start", "next", check)
    connect(page, check, "small", approved)
    connect(page, check, "no_order", mail)
    connect(page, check, "else", task)
    connect(page, task, "approve", approved)
    connect(page, task, "reject", mail)
    connect(page, approved, "next", end)
    connect(page, mail, "sent", end)

    # An invalid connection is refused while dragging: nothing leads into the start.
    edges = page.locator(".react-flow__edge").count()
    source = node(page, approved).locator(".pnode-port[data-port=next] .react-flow__handle")
    box = source.bounding_box()
    start_box = node(page, "start").locator(".pnode-head").bounding_box()
    assert box
    assert start_box
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(start_box["x"] + 10, start_box["y"] + 10, steps=10)
    page.mouse.up()
    page.wait_for_timeout(300)
    assert page.locator(".react-flow__edge").count() == edges

    wait_validated(page)
    if problem_count(page):
        problems = page.locator("[data-testid=problems]").inner_text()
        raise AssertionError(f"problems left after drawing:\n{problems}")
    assert page.locator(".pnode.has-problems").count() == 0

    # Undo and redo an edge.
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+z")
    wait_validated(page)
    assert problem_count(page) > 0
    page.keyboard.press("Control+Shift+z")
    wait_validated(page)
    assert problem_count(page) == 0

    # ------------------------------------------------------------------ save, publish
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=save-state].ok")
    # Someone else saves the draft meanwhile: saving says who, and offers their version.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    current = page.request.get(f"/api/v1/flows/{FLOW_KEY}")
    theirs = {**current.json()["draft"], "name": "Drawn invoice approval (renamed)"}
    saved = page.request.put(
        f"/api/v1/flows/{FLOW_KEY}/draft",
        headers={
            "X-CSRF-Token": csrf,
            "Content-Type": "application/json",
            "If-Match": current.headers["etag"],
        },
        data=json.dumps(theirs),
    )
    assert saved.ok, saved.text()
    panel = select(page, approved)
    panel.locator("input[name=node-label]").fill("Approved by the reviewer")
    page.click("[data-testid=save]")
    conflict = page.locator("[data-testid=conflict]")
    conflict.wait_for()
    assert server.email in conflict.inner_text()
    conflict.locator("button:has-text('Reload')").click()
    page.wait_for_selector(".flow-title:has-text('Drawn invoice approval (renamed)')")
    wait_validated(page)
    assert problem_count(page) == 0

    publish = page.locator("[data-testid=publish]")
    assert publish.is_enabled()
    publish.click()
    page.wait_for_selector(".toast.ok:has-text('version 1')")

    # ------------------------------------------------------------------ export, import, compare
    with page.expect_download() as download_info:
        page.click("button:has-text('Export')")
    exported_path = tmp_path / "exported.json"
    download_info.value.save_as(exported_path)
    exported = json.loads(exported_path.read_text())
    assert exported["key"] == FLOW_KEY
    assert {n["type"] for n in exported["nodes"]} >= {
        "start",
        "condition",
        "assign_role",
        "email",
        "status_change",
        "end",
    }
    assert exported["name"] == "Drawn invoice approval (renamed)"
    copy = {**exported, "key": f"{FLOW_KEY}-copy", "name": "Drawn invoice approval (copy)"}
    copy_path = tmp_path / "copy.json"
    copy_path.write_text(json.dumps(copy, indent=2))

    page.goto("/")
    page.wait_for_selector(".flows-table")
    page.set_input_files("[data-testid=import-file]", str(copy_path))
    page.wait_for_url(f"**/flows/{FLOW_KEY}-copy")
    page.wait_for_selector(".react-flow__node")
    with page.expect_download() as download_info:
        page.click("button:has-text('Export')")
    imported_path = tmp_path / "imported.json"
    download_info.value.save_as(imported_path)
    imported = json.loads(imported_path.read_text())
    assert imported == copy
    assert {k: v for k, v in imported.items() if k not in ("key", "name")} == {
        k: v for k, v in exported.items() if k not in ("key", "name")
    }

    # A broken file is refused with the server's problems shown.
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**copy, "key": "broken-flow", "nodes": copy["nodes"][1:]}))
    page.goto("/")
    page.wait_for_selector(".flows-table")
    # ... this one dropped onto the page, as from the file manager.
    page.evaluate(
        """(text) => {
          const data = new DataTransfer();
          data.items.add(new File([text], "broken.json", {type: "application/json"}));
          const page = document.querySelector(".flows-page");
          page.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true}));
          page.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        broken.read_text(),
    )
    page.wait_for_selector(".error-box:has-text('flow.start.missing')")
    assert "broken.json" in page.locator(".error-box").inner_text()

    # Duplicate a flow from the list, then delete the copy (it was never published).
    page.goto("/")
    page.wait_for_selector(".flows-table")
    page.locator(f"tr[data-flow='{FLOW_KEY}'] button:has-text('Duplicate')").click()
    page.fill("input[name=key]", "short-lived")
    page.click("button[type=submit]")
    page.wait_for_url("**/flows/short-lived")
    page.wait_for_selector(".react-flow__node")
    page.goto("/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-flow='short-lived'] button:has-text('Delete')").click()
    page.locator("tr[data-flow='short-lived']").wait_for(state="detached")
    assert page.locator(f"tr[data-flow='{FLOW_KEY}'] button:has-text('Delete')").count() == 0

    # A published version opens read-only; the versions panel compares it with the draft.
    page.goto(f"/flows/{FLOW_KEY}/versions/1")
    page.wait_for_selector("[data-testid=editor][data-readonly=true]")
    assert page.locator("[data-testid=palette]").count() == 0
    page.click("button:has-text('Versions')")
    page.locator("[data-testid=versions-panel] button:has-text('Compare')").click()
    page.wait_for_selector("[data-testid=diff]")

    # ------------------------------------------------------------------ inbox
    subjects = api(page, "GET", "/subjects?type=invoice")
    subject = next(s for s in subjects if s["key"] == "INV-2026-0042")
    api(page, "POST", "/instances", {"flow": FLOW_KEY, "subject_id": subject["id"]})
    page.click("nav >> text=Inbox")
    page.click("button[data-scope=roles]")
    item = page.locator(".list-item:has-text('Approve invoice INV-2026-0042')").first
    for _ in range(40):  # the worker opens the task a moment after the start
        if item.count():
            break
        page.wait_for_timeout(500)
        page.click("[data-testid=refresh]")
    item.click()
    detail = page.locator("[data-testid=task-detail]")
    assert "Check the order and the delivery." in detail.inner_text()
    assert "INV-2026-0042" in detail.inner_text()
    # The mandatory checkpoint is marked, and no outcome can be chosen before it is ticked.
    checkpoint = detail.locator("[data-testid=checkpoints] label:has-text('Order checked')")
    assert "mandatory" in checkpoint.inner_text()
    approve = detail.locator("button[data-outcome=approve]")
    assert approve.is_disabled()
    checkpoint.locator("input[type=checkbox]").check()
    assert approve.is_enabled()
    assert approve.inner_text() == "Approve"
    approve.click()
    page.wait_for_selector(".toast.ok")
    page.locator(".list-item:has-text('Approve invoice INV-2026-0042')").wait_for(state="detached")
    for _ in range(40):  # the worker takes the outcome a moment later
        instances = api(page, "GET", f"/instances?flow={FLOW_KEY}")
        if [i["status"] for i in instances] == ["completed"]:
            break
        page.wait_for_timeout(500)
    assert [i["status"] for i in instances] == ["completed"]

    # ------------------------------------------------------------------ move an instance back
    page.goto("/running/invoice-approval")
    page.wait_for_selector("[data-testid=instances] .list-item")
    count = page.locator(".react-flow__node[data-id='approve_a'] [data-testid=node-count]")
    # The counts arrive after the canvas: wait for them (once read as '' while drawing).
    page.wait_for_selector(
        ".react-flow__node[data-id='approve_a'] [data-testid=node-count]:text-is('1')"
    )
    assert count.inner_text() == "1"
    page.click("[data-testid=instances] .list-item:has-text('INV-2026-0042')")
    page.wait_for_selector(".react-flow__node[data-id='approve_a'] [data-testid=instance-marker]")
    page.drag_and_drop(
        ".react-flow__node[data-id='approve_a'] [data-testid=instance-marker]",
        ".react-flow__node[data-id='checks'] .pnode-head",
    )
    dialog = page.locator("[data-testid=move-dialog]")
    dialog.locator("input[name=reason]").fill("order number corrected; check again")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=history] li:has-text('order number corrected')")
    history = api(page, "GET", f"/instances/{instances_of(page, 'invoice-approval')}/history")
    assert any(h["reason"] == "order number corrected; check again" for h in history)


def instances_of(page: Any, flow: str) -> str:
    rows = api(page, "GET", f"/instances?flow={flow}")
    return str(next(r["id"] for r in rows if r["subject_key"] == "INV-2026-0042"))


def new_flow(page: Any, key: str, subject_type: str) -> None:
    """A flow with only its start, opened in the editor."""
    start = {"id": "start", "type": "start", "position": {"x": 0, "y": 0}}
    flow = {
        "format": "procedo.flow/1",
        "key": key,
        "name": key,
        "subject_type": subject_type,
        "trigger": {"kind": "manual"},
        "nodes": [start],
        "edges": [],
    }
    api(page, "POST", "/flows", flow)
    page.goto(f"/flows/{key}")
    page.wait_for_selector(".react-flow__node[data-id='start']")
    page.wait_for_selector("[data-testid=flow-settings]")


def boxes(page: Any) -> dict[str, Any]:
    ids = page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")
    return {i: node(page, i).bounding_box() for i in ids}


def test_palette_nodes_fit_the_flow_and_the_free_space(page: Any, server: Server) -> None:
    """Double-clicked palette nodes land apart, not on the start, with params that
    fit a debtor flow; a renamed outcome port connects at once."""
    log_in(page, server)
    new_flow(page, "debtor-palette", "debtor")
    types = ["condition", "assign_role", "email", "letter", "status_change", "end"]
    for index, node_type in enumerate(types):
        page.dblclick(f".palette-item[data-type='{node_type}']")
        page.wait_for_function(
            "n => document.querySelectorAll('.react-flow__node').length === n", arg=index + 2
        )
    page.wait_for_timeout(300)
    placed = list(boxes(page).items())
    for i, (a_id, a) in enumerate(placed):
        for b_id, b in placed[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, f"{a_id} {a} overlaps {b_id} {b}"

    # No invoice fields, texts or statuses on a debtor flow.
    wait_validated(page)
    codes = page.locator("[data-testid=problems] .problem-item").evaluate_all(
        "els => els.map(e => e.dataset.code)"
    )
    foreign = [c for c in codes if "field.unknown" in c or "status.unknown" in c]
    assert not foreign, codes

    # Rename an outcome's port: the new port connects without reloading the page.
    panel = select(page, "assign_role")
    assert panel.locator("#root_title").input_value() == ""  # not "Approve invoice"
    panel.locator("#root_outcomes_0_port").fill("agreed")
    page.wait_for_selector(".react-flow__node[data-id='assign_role'] .pnode-port[data-port=agreed]")
    page.wait_for_timeout(200)
    connect(page, "assign_role", "agreed", "end")
    edge = page.locator(".react-flow__edge").first.get_attribute("data-id") or ""
    assert "agreed" in edge, edge


def test_publish_inbox_toast_not_found_and_toolbar(page: Any, server: Server) -> None:
    """Publish only with something to publish; the inbox's toast names the button's
    text; an unknown address is a not-found page; the toolbar keeps to one row in German."""
    log_in(page, server)
    at = {"x": 0, "y": 0}
    flow = {
        "format": "procedo.flow/1",
        "key": "looks-good",
        "name": "Looks good",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "position": at},
            {
                "id": "check",
                "type": "assign_role",
                "params": {
                    "title": "Check {{ subject.name }}",
                    "assignee": {"user": server.email},
                    "outcomes": [{"port": "ok", "label": "Looks good"}],
                },
                "position": {"x": 300, "y": 0},
            },
            {"id": "end", "type": "end", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "source_port": "next", "target": "check"},
            {"id": "e2", "source": "check", "source_port": "ok", "target": "end"},
        ],
    }
    api(page, "POST", "/flows", flow)
    api(page, "POST", "/flows/looks-good/publish", {})

    # Published and unchanged: nothing to publish, and the button says why.
    page.goto("/flows/looks-good")
    publish = page.locator("[data-testid=publish]")
    page.wait_for_selector("[data-testid=publish][data-state=unchanged]")
    assert publish.is_disabled()
    assert "version 1" in (publish.get_attribute("title") or "")
    panel = select(page, "check")
    panel.locator("input[name=node-label]").fill("Check it")
    page.wait_for_selector("[data-testid=publish][data-state=ready]")
    assert publish.is_enabled()

    # The toast after completing a task names the button's text, not the port.
    debtor = api(page, "GET", "/subjects?type=debtor")[0]
    api(page, "POST", "/instances", {"flow": "looks-good", "subject_id": debtor["id"]})
    page.goto("/inbox")
    item = page.locator(f".list-item:has-text('Check {debtor['fields']['name']}')").first
    for _ in range(40):  # the worker opens the task a moment after the start
        if item.count():
            break
        page.wait_for_timeout(500)
        page.click("[data-testid=refresh]")
    item.click()
    page.click("button[data-outcome=ok]")
    toast = page.locator(".toast.ok")
    toast.wait_for()
    assert "Looks good" in toast.inner_text(), toast.inner_text()

    # An unknown address is a not-found page, not the flows list.
    page.goto("/no-such-page")
    page.wait_for_selector("[data-testid=not-found]")
    assert page.locator(".flows-table").count() == 0

    # The toolbar keeps to one row in German on a 1024 px wide window.
    page.set_viewport_size({"width": 1024, "height": 800})
    page.click("button[data-lang=de]")
    page.goto("/flows/looks-good")
    page.wait_for_selector("[data-testid=publish]")
    toolbar = page.locator(".toolbar")
    height = toolbar.bounding_box()["height"]
    assert height < 60, f"the toolbar wraps: {height} px high"
    fits = toolbar.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert fits, "the toolbar overflows"
    page.click("button[data-lang=en]")


def test_a_missing_trigger_field_hides_no_other_problem(page: Any, server: Server) -> None:
    log_in(page, server)
    new_flow(page, "all-problems", "debtor")
    wait_validated(page)
    page.select_option("#root_trigger__anyof_select", label="On a schedule")  # no "every" yet
    page.wait_for_selector(".problem-item[data-code='flow.invalid']")
    wait_validated(page)
    codes = page.locator("[data-testid=problems] .problem-item").evaluate_all(
        "els => els.map(e => e.dataset.code)"
    )
    assert "flow.invalid" in codes
    assert "flow.end.missing" in codes, codes  # the graph is checked all the same
    assert "node.port.unconnected" in codes, codes


def test_a_new_set_field_value_keeps_its_type(page: Any, server: Server) -> None:
    log_in(page, server)
    new_flow(page, "set-field", "debtor")
    page.dblclick(".palette-item[data-type='status_change']")
    panel = select(page, "status_change")
    panel.locator("#root_set__add").click()
    panel.locator("#root_set_0_field").select_option("credit_limit")  # the field picker
    panel.locator("#root_set_0_value_value").fill("12")
    page.wait_for_timeout(400)
    assert "anyOf" not in panel.inner_text(), panel.inner_text()
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=save-state].ok")
    draft = api(page, "GET", "/flows/set-field")["draft"]
    (node,) = [n for n in draft["nodes"] if n["id"] == "status_change"]
    assert node["params"]["set"] == [
        {"field": "credit_limit", "value": {"type": "decimal", "value": "12"}}
    ], node["params"]
