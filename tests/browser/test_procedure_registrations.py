"""Issue 17's browser test (P5), in Dutch: the procedures page of an administrator.

The demo's registrations show out of the box: the worksheet procedure as the default
primary one with the debtors it runs for, the dispute procedure as a secondary one with
its start and stop rules. Removing the default, which runs for debtors, is refused and
the refusal shown. The administrator takes the dispute procedure off and registers it
again as a secondary procedure with its condition (the rule editor); puts two ruled
primaries in another order, by dragging and with an arrow; makes one of them the default
(the one before gets a rule). The order shown is the order the API then reports.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api
from tests.browser.test_german_journey import log_in_as, until

PAGE = "[data-testid=registrations-page]"
PRIMARY_ROWS = f"{PAGE} [data-testid=primaries] tbody tr[data-procedure]"


def _rule(field: str, op: str, value: str) -> dict[str, Any]:
    value_of = {"type": "decimal", "value": value}
    return {"kind": "compare", "field": f"subject.{field}", "op": op, "value": value_of}


def shown_primaries(page: Any) -> list[str]:
    rows = page.locator(PRIMARY_ROWS)
    return list(rows.evaluate_all("rows => rows.map(r => r.dataset.procedure)"))


def reported(page: Any) -> list[tuple[str, str, bool]]:
    return [(p["flow_key"], p["kind"], p["default"]) for p in api(page, "GET", "/procedures")]


def fill_rule(dialog: Any, field: str, op: str, value: str) -> None:
    rule = dialog.locator("[data-testid=rule-builder]")
    rule.locator("select.rb-field").select_option(field)
    rule.locator("select.rb-op").select_option(op)
    rule.locator(".rb-value").fill(value)


def test_an_administrator_registers_orders_and_sets_the_default_procedure(
    page: Any, server: Server
) -> None:
    log_in_as(page, server, server.email, server.password)
    page.click("[data-lang='nl']")
    page.wait_for_function("document.documentElement.lang === 'nl'")
    page.click("header.topbar details.manage summary")
    page.click("header.topbar .menu a[href='/procedures']")
    view = page.locator(PAGE)
    assert view.locator("h1").inner_text() == "Incassoprocedures"

    # ------------------------------------------------------------ out of the box
    default = view.locator("[data-testid=primaries] tr[data-default=true]")
    default.wait_for()
    assert default.get_attribute("data-procedure") == "collection-worksheet"
    assert default.locator("[data-testid=default-badge]").inner_text() == "Standaard"
    assert default.locator("[data-testid=running]").inner_text().endswith(" debiteuren")
    dispute = view.locator("[data-testid=secondaries] tr[data-procedure=dispute-procedure]")
    assert dispute.locator("[data-testid=rule]").inner_text() == "subject.disputed_invoices > 0"
    assert dispute.locator("[data-testid=stop]").inner_text() == "subject.disputed_invoices == 0"
    counts = {p["flow_key"]: p["running"] for p in api(page, "GET", "/procedures")}
    assert counts["dispute-procedure"] >= 1  # D-1001 among them
    running = dispute.locator("[data-testid=running]").inner_text()
    assert running in (f"{counts['dispute-procedure']} debiteuren", "1 debiteur"), running

    # The default runs for debtors: removing it is refused, and the page says why.
    default.locator("[data-testid=remove]").click()
    page.click("[data-testid=remove-confirm]")
    refusal = view.locator("[data-testid=error]")
    refusal.wait_for()
    assert "collection-worksheet" in refusal.inner_text()
    assert "primary procedure of" in refusal.inner_text()
    assert ("collection-worksheet", "primary", True) in reported(page)

    try:
        # -------------------------------------------------------- the dispute procedure
        dispute.locator("[data-testid=remove]").click()
        page.click("[data-testid=remove-confirm]")
        until(lambda: dispute.count() == 0, "the dispute procedure is off the list")
        page.click("[data-testid=add-registration]")
        dialog = page.locator("[data-testid=registration-dialog]")
        dialog.locator("[data-testid=registration-flow]").select_option("dispute-procedure")
        dialog.locator("[data-testid=kind-secondary]").check()
        fill_rule(dialog, "subject.disputed_invoices", ">", "0")
        dialog.locator("[data-testid=registration-save]").click()
        dialog.wait_for(state="detached")
        assert dispute.locator("[data-testid=rule]").inner_text() == (
            "subject.disputed_invoices > 0"
        )
        (registered,) = [p for p in api(page, "GET", "/procedures") if p["kind"] == "secondary"]
        assert registered["flow_key"] == "dispute-procedure"
        assert registered["rule"] == _rule("disputed_invoices", ">", "0")

        # -------------------------------------------------------- two primaries, reordered
        late = {"kind": "primary", "rule": _rule("oldest_overdue_days", ">=", "60")}
        api(page, "PUT", "/procedures/collection-step-by-step", late)
        big = {"kind": "primary", "rule": _rule("debt_amount", ">=", "100000")}
        api(page, "PUT", "/procedures/collection-procedure", big)
        page.reload()
        page.locator(PRIMARY_ROWS).first.wait_for()
        assert shown_primaries(page) == [
            "collection-step-by-step",
            "collection-procedure",
            "collection-worksheet",
        ]
        page.drag_and_drop(
            f"{PRIMARY_ROWS}[data-procedure=collection-procedure] .prio-handle",
            f"{PRIMARY_ROWS}[data-procedure=collection-step-by-step]",
        )
        until(
            lambda: (
                shown_primaries(page)[:2] == ["collection-procedure", "collection-step-by-step"]
            ),
            "dragged first",
        )
        until(
            lambda: (
                [k for k, kind, _ in reported(page) if kind == "primary"][:2]
                == ["collection-procedure", "collection-step-by-step"]
            ),
            "the API reports the dragged order",
        )
        # And back with the arrow (its label in Dutch).
        step = page.locator(f"{PRIMARY_ROWS}[data-procedure=collection-step-by-step]")
        step.locator("button[aria-label$=' omhoog']").click()
        until(lambda: shown_primaries(page)[0] == "collection-step-by-step", "moved up")
        assert view.locator("[data-testid=notice]").inner_text().endswith("staat nu op plaats 1.")

        # -------------------------------------------------------- another default
        step.locator("[data-testid=make-default]").click()
        dialog = page.locator("[data-testid=default-dialog]")
        assert "Incassoprocedure (werklijst) is nu de standaardprocedure" in (dialog.inner_text())
        fill_rule(dialog, "subject.oldest_overdue_days", ">=", "1")
        dialog.locator("[data-testid=default-save]").click()
        dialog.wait_for(state="detached")
        expected = [
            ("collection-procedure", "primary", False),
            ("collection-worksheet", "primary", False),
            ("collection-step-by-step", "primary", True),
            ("dispute-procedure", "secondary", False),
        ]
        until(lambda: shown_primaries(page) == [k for k, _, _ in expected[:3]], "shown")
        assert reported(page) == expected
        assert default.get_attribute("data-procedure") == "collection-step-by-step"
        worksheet = page.locator(f"{PRIMARY_ROWS}[data-procedure=collection-worksheet]")
        assert worksheet.locator("[data-testid=rule]").inner_text() == (
            "subject.oldest_overdue_days >= 1"
        )
    finally:  # the demo as the other browser tests know it
        listed = {p["flow_key"]: p for p in api(page, "GET", "/procedures")}
        if not listed["collection-worksheet"]["default"]:
            rule = _rule("oldest_overdue_days", ">=", "60")
            back = {"flow_key": "collection-worksheet", "previous_rule": rule}
            api(page, "PUT", "/procedures/default", back)
        for key in ("collection-step-by-step", "collection-procedure"):
            if key in {p["flow_key"] for p in api(page, "GET", "/procedures")}:
                api(page, "DELETE", f"/procedures/{key}")
        if "dispute-procedure" not in listed:
            dispute_rule = {"kind": "secondary", "rule": _rule("disputed_invoices", ">", "0")}
            api(page, "PUT", "/procedures/dispute-procedure", dispute_rule)
