"""The editor and the running view in words (issue 13), in German, in real Chromium.

A renamed outcome connects at once (its port follows the edit before the server's
answer); a problem reads as a German sentence naming the node, with its code on hover;
the rule builder's text mode is read by the server's parser; the running view's
history reads in German; the toolbar keeps to one row at 1280 px in Dutch and German.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, connect, log_in, node, select, wait_validated

KEY = "worte"


def _flow() -> dict[str, Any]:
    at = {"x": 0, "y": 0}
    return {
        "format": "procedo.flow/1",
        "key": KEY,
        "name": "Mahnung in Worten",
        "subject_type": "debtor",
        "trigger": {"kind": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "position": at},
            {
                "id": "task",
                "type": "assign_role",
                "label": "Mahnung prüfen",
                "params": {
                    "title": "Prüfen {{ subject.name }}",
                    "assignee": {"role": "Accountant"},
                    "outcomes": [{"port": "ok", "label": "Passt"}],
                },
                "position": {"x": 300, "y": 0},
            },
            {"id": "end", "type": "end", "position": {"x": 650, "y": 0}},
        ],
        "edges": [{"id": "e1", "source": "start", "source_port": "next", "target": "task"}],
    }


def test_the_editor_and_the_history_speak_german(page: Any, server: Server) -> None:
    log_in(page, server)
    page.click("button[data-lang=de]")
    api(page, "POST", "/flows", _flow())
    page.goto(f"/flows/{KEY}")
    page.wait_for_selector(".react-flow__node[data-id='task']")
    wait_validated(page)

    # A problem as a German sentence naming the node; the code kept for support.
    item = page.locator(".problem-item[data-code='node.port.unconnected']").first
    item.wait_for()
    text = item.locator(".problem-text").inner_text()
    assert "„Mahnung prüfen“" in text, text
    assert "führt nirgendwohin" in text, text
    assert "node.port.unconnected" in (item.get_attribute("title") or "")
    assert "leads nowhere" not in text

    # A renamed outcome connects at once, without waiting for the server or a reload.
    panel = select(page, "task")
    panel.locator("#root_outcomes_0_port").fill("einverstanden")
    node(page, "task").locator(".pnode-port[data-port=einverstanden]").wait_for()
    connect(page, "task", "einverstanden", "end")
    edges = page.locator(".react-flow__edge").evaluate_all("els => els.map(e => e.dataset.id)")
    assert any("einverstanden" in e for e in edges), edges
    # The server's answer for the connected flow (a loaded machine answers later).
    page.wait_for_function(
        "() => !document.querySelector(\".problem-item[data-code='node.port.unconnected']\")"
    )

    # The rule builder's text mode: read by the server's parser, shown in the builder.
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.dblclick(".palette-item[data-type='condition']")
    panel = select(page, "condition")
    builder = panel.locator("[data-testid=rule-builder]").first
    builder.locator("button:has-text('Text')").click()
    box = builder.locator("textarea")
    box.wait_for()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/rules/parse")) as parsed:
        box.fill("subject.debt_amount > 100")
    assert "debt_amount" in (parsed.value.post_data or "")
    page.wait_for_selector("[data-testid=rule-builder] textarea[data-state=ready]")
    builder.locator("button:has-text('Baukasten')").click()
    assert builder.locator(".rb-field").first.input_value() == "subject.debt_amount"
    assert builder.locator(".rb-op").first.input_value() == ">"
    builder.locator("button:has-text('Text')").click()
    builder.locator("textarea").fill("subject.debt_amount >")
    problem = builder.locator("[data-testid=rule-text-problem][data-code='rule.syntax']")
    problem.wait_for()
    assert "nicht lesbar" in problem.inner_text(), problem.inner_text()

    # The toolbar keeps to one row at 1280 px, in Dutch and in German.
    page.set_viewport_size({"width": 1280, "height": 900})
    for lang in ("nl", "de"):
        page.click(f"button[data-lang={lang}]")
        toolbar = page.locator(".toolbar")
        height = toolbar.bounding_box()["height"]
        assert height < 60, f"the toolbar wraps in {lang}: {height} px high"

    # The running view's history, in German sentences with the code on hover.
    page.goto("/running/invoice-approval")
    page.wait_for_selector("[data-testid=instances] .list-item")
    page.locator("[data-testid=instances] .list-item").first.click()
    started = page.locator("[data-testid=history] li[data-kind=instance_started]").first
    started.wait_for()
    assert "hat den Ablauf gestartet" in started.inner_text(), started.inner_text()
    assert (started.get_attribute("title") or "").startswith("instance_started")
    rows = page.locator("[data-testid=history] li > div:first-child").all_inner_texts()
    assert rows, "no history"
    assert not any(r.split(" ")[0] in {"left", "entered", "task_opened", "waiting"} for r in rows)
    page.click("button[data-lang=en]")
