"""Ad hoc client requests in Chromium, in Dutch (K3): on a client's page a member of staff
asks the client for a document outside any flow; the client uploads it through the link
(a new browser, no staff cookie); staff then see the file on the same card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_client_requests_page import _eventually
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_translations import set_lang
from tests.test_client_requests import CLIENT_FIELDS, PDF


def test_staff_ask_the_client_for_a_document_and_see_it_arrive(
    browser: Any, page: Any, server: Server, tmp_path: Path
) -> None:
    log_in(page, server)
    fields = {**CLIENT_FIELDS, "name": "Bakkerij Los"}
    client = api(page, "POST", "/subjects", {"type": "client", "key": "CL-AH1", "fields": fields})
    set_lang(page, "nl")
    page.goto(f"/subjects/{client['id']}")
    card = page.get_by_test_id("client-requests")
    card.wait_for()
    # A client has no debtor portal: no promises-and-arrangements card on its page.
    assert page.get_by_test_id("portal-activity").count() == 0
    card.get_by_role("button", name="Vraag de klant").click()
    dialog = page.get_by_test_id("ask-client-dialog")
    dialog.get_by_label(re.compile("^Onderwerp")).fill("Huurcontract bedrijfspand")
    dialog.get_by_label("Onderdeel 1", exact=True).fill("Huurcontract")
    dialog.get_by_role("button", name="Onderdeel toevoegen").click()
    dialog.get_by_label("Onderdeel 2", exact=True).fill("Maandhuur")
    dialog.get_by_label("Soort onderdeel 2").select_option("field")
    dialog.locator("[data-testid=ask-item]").nth(1).get_by_label("Verplicht").uncheck()
    dialog.get_by_label(re.compile("^Bericht")).fill("Wilt u ons het huurcontract sturen?")
    dialog.get_by_role("button", name="Naar de klant sturen").click()
    asked = card.locator("[data-testid=client-request][data-status=open]")
    asked.get_by_text("Huurcontract bedrijfspand").wait_for()
    assert "los gevraagd" in asked.inner_text()

    # The client opens its page through a link (the one mailed carries a token of its own).
    url = api(page, "POST", f"/clients/{client['id']}/links")["url"]
    phone = browser.new_context(base_url=server.url)
    client_page = phone.new_page()
    client_page.goto("/client/" + url.rsplit("/", 1)[1])
    client_page.get_by_text("Huurcontract bedrijfspand").wait_for()
    contract = tmp_path / "huur.pdf"
    contract.write_bytes(PDF)
    client_page.get_by_label("Huurcontract (verplicht)").set_input_files(str(contract))
    client_page.get_by_role("button", name="Versturen").click()
    client_page.wait_for_selector("text=Dank u wel: wat u stuurde is ontvangen.")
    phone.close()

    def complete() -> Any:
        rows = api(page, "GET", f"/clients/{client['id']}/requests")
        return rows and rows[0]["status"] == "complete"

    _eventually("the request to complete", complete)
    page.reload()
    card = page.get_by_test_id("client-requests")
    card.get_by_text("Afgerond").wait_for()
    link = card.get_by_test_id("client-request-file")
    assert link.inner_text() == "huur.pdf downloaden"
    with page.expect_download() as downloaded:
        link.click()
    assert Path(downloaded.value.path()).read_bytes() == PDF
