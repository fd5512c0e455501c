"""The import dialog in Chromium, in Dutch: a debtors CSV with one bad row.

First without skipping: refused, the line and column named in Dutch, nothing stored.
Then with "skip bad rows": the good debtor stored, the bad row reported, and the
debtor is in the subjects list. The dialog shows none of the English of its texts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_translations import ENTRY, VISIBLE_TEXTS

CSV = "number;name;email\n" + (
    "IMP-7001;Drukkerij Van Dam;info@vandam.example\nIMP-7002;Kapsalon Lotte;geen-adres\n"
)
DIALOG = "[data-testid=import-dialog]"


def english_of_import_texts() -> set[str]:
    source = (ROOT / "designer" / "src" / "texts" / "imports.ts").read_text()
    found: set[str] = set()
    for _key, *texts in ENTRY.findall(source):
        en, nl, _de = (json.loads(f'"{t}"') for t in texts)
        if en != nl:
            found.update(p.strip() for p in re.split(r"\{\w+\}", en) if len(p.strip()) > 4)
    return found


def stored_debtors(page: Any, prefix: str) -> list[str]:
    rows = api(page, "GET", f"/subjects?type=debtor&q={prefix}")
    return sorted(row["key"] for row in rows)


def test_a_bad_row_is_named_in_dutch_then_skipped(page: Any, server: Server) -> None:
    log_in(page, server)
    page.click("[data-lang='nl']")
    page.click("header.topbar nav a[href='/subjects']")
    page.wait_for_selector("[data-testid=subjects-page] [data-testid=subjects-table]")
    page.locator("[data-testid=subjects-page] .page-head button", has_text="Importeren").click()
    dialog = page.locator(DIALOG)
    dialog.wait_for()
    assert dialog.locator("select[name=kind]").input_value() == "debtors"
    dialog.locator("input[type=file]").set_input_files(
        {"name": "debiteuren.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    dialog.locator("button[type=submit]").click()

    refused = dialog.locator("[data-testid=import-refused]")
    refused.wait_for()
    assert refused.inner_text().startswith("Er is niets opgeslagen: het bestand heeft 1 foute")
    problems = dialog.locator("[data-testid=import-problems] li").all_inner_texts()
    assert problems == [
        "Regel 3, kolom 3 (email): 'geen-adres' is geen e-mailadres; "
        "verbeter het of laat de cel leeg."
    ]
    assert stored_debtors(page, "IMP-70") == []
    shown = " ".join(page.evaluate(VISIBLE_TEXTS))
    english = [
        text
        for text in english_of_import_texts()
        if re.search(rf"(?<!\w){re.escape(text)}(?!\w)", shown)  # "Import" is in "Importeren"
    ]
    assert english == [], english

    dialog.locator("input[name=skip_bad]").check()
    dialog.locator("button[type=submit]").click()
    stored = dialog.locator("[data-testid=import-stored]")
    stored.wait_for()
    assert stored.inner_text() == "1 regel(s) opgeslagen: 1 nieuw, 0 bijgewerkt."
    assert "1 foute regel(s) zijn overgeslagen" in dialog.inner_text()
    assert dialog.locator("[data-testid=import-problems] li").all_inner_texts() == problems
    assert stored_debtors(page, "IMP-70") == ["IMP-7001"]

    dialog.locator(".modal-actions button.primary").click()
    page.fill("[data-testid=subjects-page] input[name=q]", "IMP-70")
    page.locator("[data-testid=subjects-table] tr[data-subject='IMP-7001']").wait_for()
    rows = page.locator("[data-testid=subjects-table] tbody tr[data-subject]")
    assert rows.count() == 1
    assert "Drukkerij Van Dam" in rows.first.inner_text()
