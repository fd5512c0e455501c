"""The client page in Chromium, on a phone: the client uploads the requested bank statement
and approves the return; staff then see the file (downloadable) and who approved when on
the client's subject page, in Dutch."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_translations import set_lang
from tests.test_client_requests import CLIENT_FIELDS, PDF, request_flow


def _eventually(what: str, check: Callable[[], Any], seconds: float = 40) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return found


def _open(page: Any, client_id: str, kind: str) -> Any:
    def found() -> Any:
        return next(
            (
                r
                for r in api(page, "GET", f"/clients/{client_id}/requests")
                if r["kind"] == kind and r["status"] == "open"
            ),
            None,
        )

    return _eventually(f"an open {kind} request", found)


def test_the_client_answers_on_a_phone_and_staff_see_it(
    browser: Any, page: Any, server: Server, tmp_path: Path
) -> None:
    log_in(page, server)
    flow = {**request_flow(), "key": "browser-client-requests"}
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "procedo_csrf")
    imported = page.request.post(
        "/api/v1/flows/import",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(flow),
    )
    assert imported.status == 201, imported.text()
    api(page, "POST", f"/flows/{flow['key']}/publish")
    fields = {**CLIENT_FIELDS, "name": "Bakkerij Browser"}
    client = api(page, "POST", "/subjects", {"type": "client", "key": "CB1", "fields": fields})
    api(page, "POST", "/instances", {"flow": flow["key"], "subject_id": client["id"]})
    _open(page, client["id"], "documents")
    url = api(page, "POST", f"/clients/{client['id']}/links")["url"]
    path = "/client/" + url.rsplit("/", 1)[1]

    # The client's phone: no staff cookie.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=server.url, is_mobile=True
    )
    mobile = phone.new_page()
    mobile.goto(path)
    assert mobile.evaluate("document.documentElement.lang") == "nl"
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    statement = tmp_path / "november.pdf"
    statement.write_bytes(PDF)
    mobile.get_by_label(re.compile("^Bankafschrift")).set_input_files(str(statement))
    mobile.get_by_role("button", name="Versturen").click()
    mobile.wait_for_selector("text=Dank u wel: wat u stuurde is ontvangen.")
    _open(page, client["id"], "filing")
    mobile.reload()
    mobile.get_by_label("Goedkeuren", exact=True).check()
    mobile.get_by_label("Uw naam").fill("Dirk Deeg")
    mobile.get_by_role("button", name="Versturen").click()
    mobile.wait_for_selector("text=Dank u wel: uw besluit is vastgelegd.")
    phone.close()

    # Staff read it on the client's page, in Dutch.
    set_lang(page, "nl")
    page.goto(f"/subjects/{client['id']}")
    card = page.get_by_test_id("client-requests")
    card.get_by_text("Afgerond").wait_for()
    link = card.get_by_test_id("client-request-file")
    assert link.inner_text() == "november.pdf downloaden"
    with page.expect_download() as downloaded:
        link.click()
    assert Path(downloaded.value.path()).read_bytes() == PDF
    decision = card.get_by_test_id("client-request-decision").inner_text()
    assert decision.startswith("Goedgekeurd door Dirk Deeg <dirk@brood.example> op ")
