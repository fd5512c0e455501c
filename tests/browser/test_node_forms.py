"""Node forms a consultant reads (issue 13, Deliver 2), in real Chromium, in German.

A debtor flow gets a task for a role and a status change from the palette; the role
and the status are picked from lists (label and technical name), the form's titles,
help, choices and validation messages are German, and what was picked is saved.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in, new_flow, select

# The form library's own English words, which the form must not show in German.
RJSF_ENGLISH = {"Add", "Remove", "Move up", "Move down", "Copy", "Item", "Yes", "No", "Value"}


def english_words(page: Any, node_types: list[str]) -> set[str]:
    """The English titles, help and choice labels the node types declare (where German differs)."""
    found: set[str] = set(RJSF_ENGLISH)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("en"), str) and value.get("de") != value.get("en"):
                found.add(value["en"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for info in api(page, "GET", "/node-types"):
        if info["type"] in node_types:
            walk(info["params_schema"])
    return found


def shown_texts(panel: Any) -> list[str]:
    """The panel's visible texts, one per element, and every option of its drop-downs."""
    texts: list[str] = panel.evaluate(
        """el => {
          const out = [];
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          let n;
          while ((n = walker.nextNode())) {
            const p = n.parentElement;
            if (!p || p.closest('code') || getComputedStyle(p).display === 'none') continue;
            const t = n.textContent.trim();
            if (t) out.push(t);
          }
          for (const o of el.querySelectorAll('option')) out.push(o.textContent.trim());
          for (const b of el.querySelectorAll('[title], [aria-label], [placeholder]'))
            for (const a of ['title', 'aria-label', 'placeholder'])
              if (b.getAttribute(a)) out.push(b.getAttribute(a).trim());
          return out;
        }"""
    )
    return texts


def test_in_german_a_debtor_task_gets_its_role_and_a_status_from_pickers(
    page: Any, server: Server
) -> None:
    log_in(page, server)
    page.click("button[data-lang=de]")
    new_flow(page, "forms-in-german", "debtor")
    english = english_words(page, ["assign_role", "status_change"])
    roles = {r["name"]: r for r in api(page, "GET", "/roles")}
    role = "Administratie"
    german_role = roles[role]["labels"]["de"]

    # A task for a role: its form speaks German, in the declared order.
    page.click("[data-testid=palette] .palette-item[data-type='assign_role']", click_count=2)
    panel = select(page, "assign_role")
    labels = panel.locator("label.control-label, .control-label").all_inner_texts()
    titles = [text.rstrip("*").strip() for text in labels]
    assert titles.index("Titel der Aufgabe") < titles.index("Anweisungen") < titles.index("Rolle")
    assert "Posteingang" in panel.inner_text()  # the title's help

    # The role from the list: label with the technical name.
    picker = panel.locator("[data-picker=role] select")
    option_texts = picker.locator("option").all_inner_texts()
    assert f"{german_role} ({role})" in option_texts, option_texts
    picker.select_option(role)

    # A required title left empty: the message is German, no "must ..." from the validator.
    title = panel.locator("#root_title")
    title.fill("Mahnung prüfen")
    title.fill("")
    panel.get_by_text("Bitte ausfüllen.").first.wait_for()
    title.fill("Mahnung prüfen")
    texts = shown_texts(panel)
    leftovers = sorted({t for t in texts if t in english})
    assert not leftovers, f"English in the German form: {leftovers}"
    assert not [t for t in texts if t.startswith("must ")], texts

    # A status change: the status from the debtor's statuses.
    page.click("[data-testid=palette] .palette-item[data-type='status_change']", click_count=2)
    panel = select(page, "status_change")
    status = panel.locator("[data-picker=status] select")
    statuses = status.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert "dispute" in statuses, statuses
    assert "approved" not in statuses, statuses  # the debtor's statuses, not the invoice's
    status.select_option("dispute")
    texts = shown_texts(panel)
    leftovers = sorted({t for t in texts if t in english})
    assert not leftovers, f"English in the German form: {leftovers}"

    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=save-state].ok")
    draft = api(page, "GET", "/flows/forms-in-german")["draft"]
    params = {n["id"]: n.get("params", {}) for n in draft["nodes"]}
    assert params["assign_role"]["assignee"] == {"role": role}
    assert params["assign_role"]["title"] == "Mahnung prüfen"
    assert params["status_change"]["status"] == "dispute"
    page.click("button[data-lang=en]")
