"""The roles and users pages in real Chromium against `procedo serve --demo` (issue 13, K1).

The demo admin adds a user with a role (the one-time password logs in), gives them another,
deactivates them (the password no longer logs in); creates, relabels and deletes a
role, and is told why a role a flow uses cannot go; sets who holds a role for one
client. A designer gets a plain "no access" page. In German and Dutch neither page
shows an English text of the admin texts file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.conftest import ROOT, Server
from tests.browser.test_designer_journey import api, log_in

ADMIN_TEXTS = ROOT / "designer" / "src" / "texts" / "admin.ts"
QUOTED = r'"((?:[^"\\]|\\.)*)"'
ENTRY = re.compile(rf"(\w+):\s*\[\s*{QUOTED}\s*,\s*{QUOTED}\s*,\s*{QUOTED}\s*,?\s*\]", re.S)
NEW_USER = "edo@demo.example"

# Every text the page shows: text nodes, placeholders, labels, tooltips, options.
VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const el = n.parentElement;
    if (!el || el.closest('code, script, style, [data-i18n-skip]')) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    for (const a of ['placeholder', 'aria-label', 'title']) {
      const v = el.getAttribute(a);
      if (v) out.push(v.trim());
    }
  }
  return out;
}"""


def english_of_admin_texts(lang_index: int) -> list[re.Pattern[str]]:
    """The English admin texts whose translation differs, as whole-text patterns."""
    patterns = []
    for _key, *texts in ENTRY.findall(ADMIN_TEXTS.read_text()):
        en, other = json.loads(f'"{texts[0]}"'), json.loads(f'"{texts[lang_index]}"')
        if en == other:
            continue
        body = re.sub(r"\\\{\w+\\\}", ".+?", re.escape(en))
        patterns.append(re.compile(rf"^{body}$", re.S))
    assert len(patterns) > 60, "the admin texts were not found"
    return patterns


def open_manage(page: Any, path: str) -> None:
    """Through the navigation: the Manage menu, then the page."""
    page.click("details.manage summary")
    page.click(f"details.manage .menu a[href='{path}']")
    page.wait_for_selector(f"[data-testid='{path[1:]}-page'] table")


def login_status(page: Any, server: Server, email: str, password: str) -> int:
    response = page.context.request.post(
        f"{server.url}/api/v1/auth/login",
        data=json.dumps({"tenant": server.tenant, "email": email, "password": password}),
        headers={"Content-Type": "application/json"},
    )
    status: int = response.status
    return status


def demo_password(server: Server, email: str) -> str:
    found = re.findall(
        rf"demo login: tenant '[^']+', {re.escape(email)}, password (\S+)", server.log.read_text()
    )
    assert found, f"no demo login for {email} in the server's output"
    return str(found[-1])


def test_the_admin_manages_users_and_roles(page: Any, server: Server, browser: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    log_in(page, server)

    # Add a user; the one-time password is shown once and logs in.
    open_manage(page, "/users")
    page.click("text=Add user")
    dialog = page.locator("[data-testid='user-dialog']")
    dialog.locator("input[name=email]").fill("not an address")
    dialog.locator("button[type=submit]").click()
    dialog.locator("text=Enter an email address such as name@example.com.").wait_for()
    dialog.locator("input[name=email]").fill(NEW_USER)
    dialog.locator("input[name=name]").fill("Edo Visser")
    dialog.locator("input[name=access][value=member]").check()
    dialog.locator("input[name=role][value=Secretariaat]").check()
    dialog.locator("button[type=submit]").click()
    shown = page.locator("[data-testid='password-dialog']")
    shown.locator("text=Edo Visser is added").wait_for()
    password = shown.locator("[data-testid='one-time-password']").input_value()
    assert len(password) >= 12
    shown.locator("button", has_text="Copy").click()
    shown.locator("button", has_text="Copied").wait_for()
    shown.locator("button", has_text="Done").click()
    row = page.locator(f"tr[data-user='{NEW_USER}']")
    assert "Team member" in row.inner_text()
    assert "Active" in row.inner_text()
    assert "Office support" in row.inner_text()  # the role ticked when adding
    other = browser.new_context(base_url=server.url)
    try:
        assert login_status(other.new_page(), server, NEW_USER, password) == 200
    finally:
        other.close()

    # Give them a role on the roles page; the users page then lists it.
    open_manage(page, "/roles")
    fiscaal = page.locator("tr[data-role='Fiscaal']")
    fiscaal.locator("select.user-picker").select_option(NEW_USER)
    fiscaal.locator(f"li[data-member='{NEW_USER}']", has_text="Edo Visser").wait_for()
    page.locator("[role=status]", has_text="Edo Visser is now in Tax adviser.").wait_for()
    open_manage(page, "/users")
    assert "Tax adviser" in page.locator(f"tr[data-user='{NEW_USER}']").inner_text()
    page.fill("input.user-filter", "bakker")  # found by name among the office's users
    page.wait_for_function("document.querySelectorAll('.users-table tbody tr').length === 1")
    page.fill("input.user-filter", "")

    # Deactivate them: the badge says so and the password no longer logs in.
    page.locator(f"tr[data-user='{NEW_USER}'] button", has_text="Deactivate").click()
    page.locator("[role=status]", has_text="Edo Visser is deactivated and logged out.").wait_for()
    assert "Deactivated" in page.locator(f"tr[data-user='{NEW_USER}']").inner_text()
    assert login_status(page, server, NEW_USER, password) == 401
    users = {u["email"]: u for u in api(page, "GET", "/users")}
    assert users[NEW_USER]["active"] is False
    assert users[NEW_USER]["roles"] == ["Fiscaal", "Secretariaat"]

    # The admin cannot demote themselves while the last active administrator.
    me = page.locator(f"tr[data-user='{server.email}']")
    me.locator("button", has_text="Edit").click()
    page.locator("[data-testid='user-dialog'] input[name=access][value=designer]").check()
    page.locator("[data-testid='user-dialog'] button[type=submit]").click()
    page.locator(
        "[data-testid='user-dialog'] [role=alert]",
        has_text="You are the last active administrator: make another user an administrator first.",
    ).wait_for()
    page.locator("[data-testid='user-dialog'] button", has_text="Cancel").click()
    assert api(page, "GET", "/auth/me")["user"]["access"] == "admin"

    # A role: created, relabelled, deleted; one a flow uses is refused with the reason.
    open_manage(page, "/roles")
    page.click("text=New role")
    role_dialog = page.locator("[data-testid='role-dialog']")
    role_dialog.locator("input[name=label]").fill("Loonheffing team")
    role_dialog.locator("input[name=name]").fill("Loonheffing")
    role_dialog.locator("button[type=submit]").click()
    created = page.locator("tr[data-role='Loonheffing']")
    created.wait_for()
    created.locator("button", has_text="Rename").click()
    role_dialog.locator("input[name=label]").fill("Payroll taxes")
    role_dialog.locator("button[type=submit]").click()
    created.locator("strong", has_text="Payroll taxes").wait_for()
    created.locator("button", has_text="Delete").click()
    page.locator("[role=status]", has_text="Role Payroll taxes deleted.").wait_for()
    assert page.locator("tr[data-role='Loonheffing']").count() == 0
    page.locator("tr[data-role='Collections'] button", has_text="Delete").click()
    refusal = page.locator(".error-box[role=alert]")
    refusal.wait_for()
    assert "The role Collections cannot be deleted" in refusal.inner_text()
    assert "Flows that name it: collection-procedure" in refusal.inner_text()
    assert page.locator("tr[data-role='Collections']").count() == 1

    # Per client: who holds the Accountant role for Studio Noord.
    section = page.locator("[data-testid='per-subject']")
    section.locator("[data-testid='subject-search']").fill("studio")
    section.locator(".search-results button", has_text="Studio Noord B.V.").click()
    section.locator("[data-testid='chosen-subject']", has_text="C-2001").wait_for()
    accountant = section.locator("tr[data-role='Accountant']")
    assert "Ben Jansen" in accountant.inner_text()  # the office's members until overridden
    accountant.locator("select.user-picker").select_option("anna@demo.example")
    accountant.locator("li[data-member='anna@demo.example']").wait_for()
    accountant.locator("text=takes over").wait_for()
    roles = {r["name"]: r for r in api(page, "GET", "/roles")}
    held = [
        (m["email"], m["subject"] and m["subject"]["key"]) for m in roles["Accountant"]["members"]
    ]
    assert ("anna@demo.example", "C-2001") in held
    # Reloaded, the client is offered among those with members of their own.
    page.reload()
    page.locator("[data-testid='per-subject'] .with-own button", has_text="C-2001").click()
    page.locator(
        "[data-testid='per-subject'] tr[data-role='Accountant'] li[data-member='anna@demo.example']"
    ).wait_for()


# Per language: the Roles and Users headings, Fiscaal's label, New role, Cancel, Add user.
SHOWN = {
    "de": ("Rollen", "Benutzer", "Steuerberater", "Neue Rolle", "Abbrechen", "Benutzer hinzufügen"),
    "nl": (
        "Rollen",
        "Gebruikers",
        "Fiscaal medewerker",
        "Nieuwe rol",
        "Annuleren",
        "Gebruiker toevoegen",
    ),
}


@pytest.mark.parametrize("lang", ["de", "nl"])
def test_the_admin_pages_show_no_english(page: Any, server: Server, lang: str) -> None:
    roles, users, fiscaal, new_role, cancel, add_user = SHOWN[lang]
    log_in(page, server)
    page.click(f"[data-lang='{lang}']")
    page.wait_for_function(f"document.documentElement.lang === '{lang}'")
    patterns = english_of_admin_texts(("en", "nl", "de").index(lang))
    seen: dict[str, list[str]] = {}

    open_manage(page, "/roles")
    page.locator("h1", has_text=roles).wait_for()
    page.locator("tr[data-role='Fiscaal'] strong", has_text=fiscaal).wait_for()
    seen["/roles"] = page.evaluate(VISIBLE_TEXTS)
    page.locator("[data-testid='subject-search']").fill("C-200")
    page.locator(".search-results button").first.click()
    page.locator("[data-testid='chosen-subject']").wait_for()
    seen["/roles per client"] = page.evaluate(VISIBLE_TEXTS)
    page.click(f"text={new_role}")
    seen["/roles new role"] = page.evaluate(VISIBLE_TEXTS)
    page.locator("[data-testid='role-dialog'] button", has_text=cancel).click()

    open_manage(page, "/users")
    page.locator("h1", has_text=users).wait_for()
    seen["/users"] = page.evaluate(VISIBLE_TEXTS)
    page.click(f"text={add_user}")
    seen["/users add"] = page.evaluate(VISIBLE_TEXTS)
    page.locator("[data-testid='user-dialog'] button", has_text=cancel).click()
    page.locator("tr[data-user='ben@demo.example'] button").first.click()
    seen["/users edit"] = page.evaluate(VISIBLE_TEXTS)

    leaks = {
        where: sorted({text for text in texts for p in patterns if p.match(text)})
        for where, texts in seen.items()
    }
    assert not any(leaks.values()), f"English on the admin pages in {lang}: {leaks}"


def test_others_get_a_plain_no_access_page(page: Any, server: Server) -> None:
    page.goto("/")
    page.fill("input[name=tenant]", server.tenant)
    page.fill("input[name=email]", "anna@demo.example")
    page.fill("input[name=password]", demo_password(server, "anna@demo.example"))
    page.click("button[type=submit]")
    page.wait_for_selector(".flows-table")
    assert page.locator("details.manage").count() == 0  # no Manage menu for a designer
    page.click("[data-lang='nl']")
    for path in ("/roles", "/users"):
        page.goto(path)
        refusal = page.locator(f"[data-testid='{path[1:]}-page'] [role=alert]")
        refusal.locator("h1", has_text="Geen toegang").wait_for()
        assert "Alleen beheerders kunnen deze pagina zien." in refusal.inner_text()
