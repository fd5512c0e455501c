"""Schedules, outbox and settings in real Chromium against `procedo serve --demo`.

An administrator runs a scheduled workflow now and sees its last run change (D1);
reads in the outbox the rejection mail the demo's invoice flow sent (E2, E4); sets
the office's mail server, is told which field is wrong, sends a test email and sees
the rejection mail arrive at that server (issue 15); and in German no English text
of these pages shows.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from procedo.messaging.sink import MailSink
from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in

TEXTS = ROOT / "designer" / "src" / "texts" / "operations.ts"
QUOTED = r'"((?:[^"\\]|\\.)*)"'
ENTRY = re.compile(rf"(\w+):\s*\[\s*{QUOTED}\s*,\s*{QUOTED}\s*,\s*{QUOTED}\s*,?\s*\]", re.S)
NO_ORDER = ROOT / "docs" / "examples" / "subjects" / "invoice-no-order.json"

VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('code, pre, script, style, [data-i18n-skip]')) continue;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (el.closest('[data-i18n-skip]')) continue;
    for (const a of ['placeholder', 'aria-label', 'title']) {
      const v = el.getAttribute(a);
      if (v) out.push(v.trim());
    }
  }
  for (const o of document.querySelectorAll('option')) out.push(o.textContent.trim());
  return out;
}"""


def open_from_menu(page: Any, path: str) -> None:
    """Through the navigation, as a person would: Manage, then the page."""
    page.click("details.manage summary")
    page.click(f"details.manage a[href='{path}']")
    page.wait_for_selector(f"[data-testid={path.strip('/')}-page]")


def rejected_invoice(page: Any) -> tuple[str, str]:
    """A new invoice without an order number, received: the demo's flow rejects it and mails."""
    invoice = json.loads(NO_ORDER.read_text())
    key = f"INV-OPS-{uuid.uuid4().hex[:6].upper()}"
    fields = {**invoice["fields"], "invoice_number": key}
    made = api(page, "POST", "/subjects", {"type": "invoice", "key": key, "fields": fields})
    api(page, "POST", f"/subjects/{made['id']}/events", {"name": "invoice.received", "data": {}})
    return key, str(made["id"])


def sent_message(page: Any, subject_line: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for item in api(page, "GET", "/outbox?q=" + subject_line.replace(" ", "+")):
            if item["subject"] == subject_line and item["status"] in ("sent", "failed"):
                return dict(item)
        time.sleep(0.2)
    raise AssertionError(f"no message '{subject_line}' left the outbox in 30 s")


@pytest.fixture
def restored_mail_settings(page: Any, server: Server) -> Iterator[None]:
    """The demo's own mail sink again afterwards: other tests send through it too."""
    log_in(page, server)
    before = api(page, "GET", "/settings/email")
    yield
    keep = ("host", "port", "security", "sender_address", "sender_name", "default_language")
    body = {key: before[key] for key in keep}
    api(page, "PUT", "/settings/email", {**body, "username": None, "password": ""})


def test_an_admin_runs_a_schedule_now_and_sees_its_last_run(page: Any, server: Server) -> None:
    log_in(page, server)
    open_from_menu(page, "/schedules")
    row = page.locator("tr[data-schedule='dunning-phone-call']")
    assert "Dunning: phone call" in row.inner_text()
    assert "Every 2 weeks" in row.inner_text()
    assert "Monday" in row.inner_text()
    assert "09:00" in row.inner_text()
    before = row.locator("[data-testid=last-run]").inner_text()

    row.get_by_role("button", name="Run now").click()
    dialog = page.locator("[data-testid=run-now-dialog]")
    assert "Run “Dunning: phone call” now?" in dialog.inner_text()
    dialog.get_by_role("button", name="Run now").click()
    result = page.locator("[data-testid=run-result]")
    result.wait_for()
    assert "Dunning: phone call ran now:" in result.inner_text()
    assert re.search(r"\d+ selected, \d+ acted on, \d+ skipped", result.inner_text())
    after = row.locator("[data-testid=last-run]")
    page.wait_for_function(
        "([el, old]) => el.innerText !== old",
        arg=[after.element_handle(), before],
    )
    assert "selected" in after.inner_text()
    assert "never" not in after.inner_text()

    # Deactivate: said in the row, and run now says it stays deactivated; then back.
    row.get_by_role("button", name="Deactivate").click()
    row.locator(".badge", has_text="Deactivated").wait_for()
    row.get_by_role("button", name="Run now").click()
    assert "stays deactivated" in dialog.inner_text()
    dialog.get_by_role("button", name="Run now").click()
    page.locator("[data-testid=run-result]", has_text="It stays deactivated").wait_for()
    row.get_by_role("button", name="Activate").click()
    row.locator(".badge", has_text="Active").wait_for()
    listed = {s["flow"]: s for s in api(page, "GET", "/schedules")}
    assert listed["dunning-phone-call"]["active"] is True


def test_an_admin_reads_a_message_the_demo_sent(page: Any, server: Server) -> None:
    log_in(page, server)
    key, subject_id = rejected_invoice(page)
    line = f"Invoice {key} rejected"
    sent_message(page, line)

    open_from_menu(page, "/outbox")
    page.fill("input[type=search]", key)
    row = page.locator("tr[data-message]", has_text=line)
    row.wait_for()
    assert "factuur@devries.example" in row.inner_text()
    assert "Purchase invoice approval" in row.inner_text()
    assert row.locator("[data-testid=message-status]").inner_text() == "Sent"
    # The filter by state: the message is among the sent ones, not among the failed.
    page.click("button[data-status=failed]")
    page.wait_for_selector(f"tr[data-message]:has-text('{line}')", state="detached")
    page.click("button[data-status=sent]")
    row.wait_for()

    row.locator("td", has_text=line).click()
    message = page.locator("[data-testid=outbox-message]")
    message.wait_for()
    assert message.locator("[data-testid=message-subject]").inner_text() == line
    body = message.frame_locator("[data-testid=message-body]").locator("body")
    assert key in body.inner_text()
    assert "was rejected" in body.inner_text()
    message.get_by_role("button", name="Plain text").click()
    assert (
        "Please send a corrected invoice"
        in message.locator("[data-testid=message-text]").inner_text()
    )
    # From the message to the invoice it was about.
    message.locator("[data-testid=subject-link]").click()
    page.wait_for_url(f"**/subjects/{subject_id}")


def test_an_admin_sets_the_mail_server_and_sends_a_test_email(
    page: Any, server: Server, tmp_path: Path, restored_mail_settings: None
) -> None:
    sink = MailSink.start(tmp_path / "sink", login=("mailer", "s3cret-Pass-99"))
    try:
        open_from_menu(page, "/settings")
        form = page.locator("[data-testid=email-settings]")
        form.locator("input[name=host]").fill("127.0.0.1")
        form.locator("input[name=port]").fill(str(sink.port))
        form.locator("select[name=security]").select_option("none")
        form.locator("input[name=username]").fill("mailer")
        form.locator("input[name=password]").fill("s3cret-Pass-99")
        form.locator("input[name=sender_name]").fill("Demo Debiteuren")
        # A wrong sender is named at its field, and nothing is stored.
        form.locator("input[name=sender_address]").fill("debiteuren")
        form.get_by_role("button", name="Save").click()
        assert (
            "Not an email address" in form.locator("[data-field-error=sender_address]").inner_text()
        )
        assert api(page, "GET", "/settings/email")["host"] != "127.0.0.1" or (
            api(page, "GET", "/settings/email")["port"] != sink.port
        )
        form.locator("input[name=sender_address]").fill("debiteuren@demo.example")
        form.get_by_role("button", name="Save").click()
        form.locator("[data-testid=email-save-message]", has_text="Saved.").wait_for()
        # The password is stored, never shown back.
        assert form.locator("input[name=password]").input_value() == ""
        assert "A password is set" in form.locator("[data-testid=password-state]").inner_text()
        stored = api(page, "GET", "/settings/email")
        assert (stored["port"], stored["username"], stored["password_set"]) == (
            sink.port,
            "mailer",
            True,
        )
        assert "s3cret" not in json.dumps(stored)

        tester = page.locator("[data-testid=email-test]")
        tester.locator("input[name=test_to]").fill("check@demo.example")
        tester.get_by_role("button", name="Send test email").click()
        result = tester.locator("[data-testid=email-test-result]")
        result.wait_for()
        assert result.get_attribute("data-ok") == "true", result.inner_text()
        assert "accepted the test email for check@demo.example" in result.inner_text()
        (first,) = sink.messages()
        assert "check@demo.example" in first.read_text()

        # E4: the invoice flow's rejection mail now leaves through this server.
        key, _subject_id = rejected_invoice(page)
        assert sent_message(page, f"Invoice {key} rejected")["status"] == "sent"
        assert any(key in path.read_text() for path in sink.messages())
    finally:
        sink.stop()


def english_only(lang: str) -> set[str]:
    """The English texts of these pages whose translation differs (placeholders cut out)."""
    found: set[str] = set()
    for _key, en, nl, de in ENTRY.findall(TEXTS.read_text()):
        if en != {"nl": nl, "de": de}[lang]:
            found.update(part.strip() for part in re.split(r"\{\w+\}", en) if len(part.strip()) > 3)
    return found


@pytest.mark.parametrize(
    ("lang", "title"), [("de", "Geplante Workflows"), ("nl", "Geplande workflows")]
)
def test_in_dutch_and_german_the_operations_pages_show_no_english(
    page: Any, server: Server, lang: str, title: str
) -> None:
    log_in(page, server)
    page.click(f"[data-lang={lang}]")
    seen: list[str] = []

    def look() -> None:
        page.wait_for_timeout(300)
        seen.extend(page.evaluate(VISIBLE_TEXTS))

    open_from_menu(page, "/schedules")
    page.locator("tr[data-schedule]").first.wait_for()
    look()
    page.locator("tr[data-schedule] .row-actions button").first.click()
    look()
    page.locator("[data-testid=run-now-dialog] .modal-actions button:not(.primary)").click()
    open_from_menu(page, "/outbox")
    page.locator("tr[data-message]").first.wait_for()
    look()
    page.locator("tr[data-message] td").nth(3).first.click()
    page.locator("[data-testid=outbox-message]").wait_for()
    look()
    page.keyboard.press("Escape")
    open_from_menu(page, "/settings")
    page.locator("[data-testid=email-settings] input[name=host]").wait_for()
    look()
    page.click("[data-tab=portal]")
    page.locator("[data-testid=portal-settings]").wait_for()
    look()
    page.click("[data-tab=templates]")
    page.locator("[data-testid=template-library]").wait_for()
    look()
    page.locator("[data-testid=template-library] button.primary").click()
    page.locator("[data-testid=template-editor]").wait_for()
    look()

    assert title in seen
    english = english_only(lang)
    patterns = [re.compile(rf"(?<!\w){re.escape(en)}(?!\w)") for en in english]
    # Flow names are the tenant's words ("Monthly VAT return"), shown as written.
    names = [flow["name"] for flow in api(page, "GET", "/flows")]
    shown = [
        functools.reduce(lambda text, name: text.replace(name, "\u2026"), names, t) for t in seen
    ]
    left = sorted({text for text in shown for pattern in patterns if pattern.search(text)})
    assert not left, f"English on the {lang} pages: {left}"


def test_an_admin_writes_a_template_previews_it_and_bounds_the_portal(
    page: Any, server: Server
) -> None:
    log_in(page, server)
    name = f"reminder-{uuid.uuid4().hex[:6]}"
    open_from_menu(page, "/settings")
    page.click("[data-tab=templates]")
    page.get_by_role("button", name="New template").click()
    editor = page.locator("[data-testid=template-editor]")
    editor.locator("input[name=template_name]").fill(name)
    editor.locator("select[name=subject_type]").select_option("debtor")
    editor.locator("input[name=description]").fill("First reminder")
    editor.locator("[data-lang-tab=nl]").click()
    editor.locator("input[name=mail_subject]").fill("Herinnering voor {{ subject.name }}")
    # Half a text is refused before anything is sent.
    editor.get_by_role("button", name="Save").click()
    assert "give both a subject line and a message" in editor.locator("[role=alert]").inner_text()
    editor.locator("textarea[name=mail_html]").fill(
        "<p>Beste {{ subject.name }}, u heeft een open post.</p>"
    )
    editor.get_by_role("button", name="Save").click()
    editor.locator("[role=status]", has_text="Saved.").wait_for()
    assert api(page, "GET", f"/templates/{name}")["languages"] == ["nl"]

    preview = page.locator("[data-testid=template-preview]")
    preview.locator("select[name=preview_subject]").select_option(label="D-1002")
    preview.get_by_role("button", name="Preview (NL)").click()
    assert preview.locator("[data-testid=preview-subject]").inner_text() == (
        "Herinnering voor Garage Van Dijk"
    )
    frame = preview.frame_locator("[data-testid=preview-body]")
    assert "Beste Garage Van Dijk" in frame.locator("body").inner_text()
    page.get_by_role("button", name="All templates").click()
    assert "First reminder" in page.locator(f"tr[data-template='{name}']").inner_text()

    # The portal: a bound out of range is named at its field, a good one is stored.
    before = api(page, "GET", "/portal/settings")
    page.click("[data-tab=portal]")
    portal = page.locator("[data-testid=portal-settings]")
    portal.locator("input[name=max_instalments]").fill("70")
    portal.get_by_role("button", name="Save").click()
    assert "From 1 to 60." in portal.locator("[data-field-error=max_instalments]").inner_text()
    assert api(page, "GET", "/portal/settings")["max_instalments"] == before["max_instalments"]
    portal.locator("input[name=max_instalments]").fill("6")
    portal.locator("input[name=reaction-promise]").uncheck()
    portal.get_by_role("button", name="Save").click()
    portal.locator("[data-testid=portal-save-message]", has_text="Saved.").wait_for()
    after = api(page, "GET", "/portal/settings")
    assert (after["max_instalments"], "promise" in after["reactions"]) == (6, False)
    keep = {k: before[k] for k in before if k not in ("updated_at", "updated_by")}
    api(page, "PUT", "/portal/settings", keep)
