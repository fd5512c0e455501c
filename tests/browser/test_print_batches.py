"""Letters to print (issue 15): from the outbox page to one PDF, then marked printed."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

from pypdf import PdfReader

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_operations_pages import open_from_menu
from tests.test_letters import letter_flow


def test_a_clerk_prints_the_waiting_letters_as_one_batch(page: Any, server: Server) -> None:
    log_in(page, server)
    page.click("[data-lang='nl']")
    flow = {**letter_flow(), "key": f"letters-{uuid.uuid4().hex[:6]}"}
    api(page, "POST", "/flows", flow)
    api(page, "POST", f"/flows/{flow['key']}/publish")
    name = f"Drukkerij {uuid.uuid4().hex[:4]}"
    fields = {"name": name, "address": "Papierweg 3\n1234 AB Ergens", "language": "nl"}
    key = f"D-PRINT-{uuid.uuid4().hex[:6]}"
    debtor = api(page, "POST", "/subjects", {"type": "debtor", "key": key, "fields": fields})
    api(page, "POST", "/instances", {"flow": flow["key"], "subject_id": debtor["id"]})
    deadline = time.monotonic() + 20
    while not any(r["subject_key"] == key for r in api(page, "GET", "/letters?status=ready")):
        assert time.monotonic() < deadline, "the letter was not queued"
        time.sleep(0.2)

    open_from_menu(page, "/outbox")
    panel = page.locator("[data-testid=print-batches]")
    panel.get_by_text("wachten om geprint te worden").wait_for()
    page.click("[data-testid=make-batch]")
    batch = panel.locator("[data-testid=print-batch]").first
    batch.get_by_text("nog niet geprint").wait_for()

    href = batch.locator("[data-testid=batch-pdf]").get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert name in text
    assert "Papierweg 3" in text

    batch.locator("[data-testid=mark-printed]").click()
    batch.locator("[data-testid=mark-printed]").wait_for(state="detached")
    assert batch.locator("td").nth(2).inner_text().startswith("geprint ")
    sent = api(page, "GET", "/letters?status=sent")
    assert any(r["subject_key"] == key for r in sent)

    # The debtor's page lists what was sent to them.
    page.goto(f"/subjects/{debtor['id']}")
    messages = page.locator("[data-testid=subject-messages] li")
    messages.first.wait_for()
    assert messages.count() == 1
    line = messages.first.inner_text()
    assert "Brief" in line
    assert f"Aanmaning {name}" in line
    assert "Verzonden" in line
