"""SMS settings in real Chromium against `procedo serve --demo` (issue 15 item 4).

The demo tenant sends its SMS to the local sink out of the box: an administrator
sees where, sends a test SMS to a Dutch mobile number written the local way and it
arrives there in E.164. Setting an HTTP provider names the wrong field, stores the
token and never shows it back; in German no English text of the section shows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in
from tests.browser.test_operations_pages import ENTRY, VISIBLE_TEXTS, open_from_menu

TOKEN = "tok-browser-7Hq2-never-shown"  # noqa: S105  # a test value
TEXTS = ROOT / "designer" / "src" / "texts" / "sms.ts"


@pytest.fixture
def restored_sms_settings(page: Any, server: Server) -> Iterator[None]:
    """The demo's sink again afterwards: other tests may send SMS."""
    log_in(page, server)
    yield
    api(page, "PUT", "/settings/sms", {"provider": "sink", "sender": "Demo"})


def _sent_sms(server: Server) -> list[dict[str, Any]]:
    folder = server.log.parent / "sent-sms"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_an_admin_sends_a_test_sms_to_the_sink_and_sets_a_provider(
    page: Any, server: Server, restored_sms_settings: None
) -> None:
    open_from_menu(page, "/settings")
    page.click("button[data-tab=sms]")
    form = page.locator("[data-testid=sms-settings]")
    form.wait_for()
    folder = str((server.log.parent / "sent-sms").resolve())
    assert folder in form.locator("[data-testid=sms-sink-folder]").inner_text()

    before = len(_sent_sms(server))
    test = page.locator("[data-testid=sms-test]")
    test.locator("input[name=sms_test_to]").fill("06 1234 5678")
    test.get_by_role("button", name="Send test SMS").click()
    result = page.locator("[data-testid=sms-test-result]")
    result.wait_for()
    assert result.get_attribute("data-ok") == "true"
    assert "Accepted for +31612345678." in result.inner_text()
    deadline = time.monotonic() + 10
    while len(_sent_sms(server)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["to"] for m in _sent_sms(server)].count("+31612345678") >= 1

    # An HTTP provider: a plain http URL elsewhere is refused at its field, nothing stored.
    form.locator("select[name=provider]").select_option("http")
    form.locator("input[name=url]").fill("http://sms.example/send")
    form.locator("input[name=token]").fill(TOKEN)
    form.get_by_role("button", name="Save").click()
    assert "https://" in form.locator("[data-field-error=url]").inner_text()
    assert api(page, "GET", "/settings/sms")["provider"] == "sink"
    form.locator("input[name=url]").fill("https://sms.example/send")
    form.get_by_role("button", name="Save").click()
    form.locator("[data-testid=sms-save-message]", has_text="Saved.").wait_for()
    # The token is stored, never shown back: not in the field, the page or the API.
    assert form.locator("input[name=token]").input_value() == ""
    assert "A token is stored" in form.locator("[data-testid=token-state]").inner_text()
    assert TOKEN not in page.content()
    stored = api(page, "GET", "/settings/sms")
    assert (stored["provider"], stored["url"], stored["token_set"]) == (
        "http",
        "https://sms.example/send",
        True,
    )
    assert TOKEN not in json.dumps(stored)


def test_the_sms_section_in_german_shows_no_english(page: Any, server: Server) -> None:
    log_in(page, server)
    page.click("button[data-lang=de]")
    open_from_menu(page, "/settings")
    page.click("button[data-tab=sms]")
    page.locator("[data-testid=sms-settings]").wait_for()
    english = {en for _key, en, _nl, de in ENTRY.findall(TEXTS.read_text()) if en != de}
    shown = set(page.evaluate(VISIBLE_TEXTS))
    leaked = sorted(text for text in shown if text in english)
    assert not leaked, leaked
    assert "SMS-Anbieter" in page.locator("select[name=provider]").inner_text()
    page.click("button[data-lang=en]")
    assert re.search("Send through", page.locator("[data-testid=sms-settings]").inner_text())
