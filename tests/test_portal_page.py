"""The debtor's page: open items only, the tenant's name, languages, reactions raising events."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx

from procedo.api.server import Backend
from tests.api_helpers import ok
from tests.portal_helpers import add_item, counts, csrf_of, debtor_with_link, events, reactions


def test_the_page_shows_the_tenant_and_the_open_items_and_nothing_else(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(
        backend, base_url, fields={"name": "Bakkerij De Korst", "email": "korst@example.nl"}
    )
    add_item(backend, debtor.acme, debtor.id, "2026-0009", "75.00", status="paid")
    other = ok(debtor.acme.http.post("/subjects", json={"type": "debtor", "key": "D2"}), 201)
    add_item(backend, debtor.acme, other["id"], "2026-7777", "999.00")

    page = debtor.page.get(f"/portal/{debtor.token}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Acme Portal" in html
    for number in ("2026-0001", "2026-0002", "2026-0003"):
        assert number in html
    assert "250,50" in html
    assert "01-10-2026" in html
    assert "392,60" in html  # the total open
    for hidden in ("2026-0009", "2026-7777", "Bakkerij De Korst", "korst@example.nl"):
        assert hidden not in html, hidden
    # The debtor's key is short enough to occur by chance inside a random token.
    without_tokens = html.replace(debtor.token, "").replace(csrf_of(html), "")
    assert "D1" not in without_tokens


def test_language_from_the_debtor_and_switchable(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url, fields={"name": "X", "language": "de"})
    german = debtor.page.get(f"/portal/{debtor.token}").text
    assert 'lang="de"' in german
    assert "Ihre offenen Rechnungen" in german
    english = debtor.page.get(f"/portal/{debtor.token}", params={"lang": "en"}).text
    assert 'lang="en"' in english
    assert "Your open invoices" in english
    assert "250.50" in english
    odd = debtor.page.get(f"/portal/{debtor.token}", params={"lang": "xx"}).text
    assert 'lang="de"' in odd


def test_the_page_is_labelled_for_screen_readers_and_phones(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    html = debtor.page.get(f"/portal/{debtor.token}").text
    assert 'name="viewport"' in html
    # Every input, select and textarea has a label naming its id.
    import re

    ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html)
    assert ids
    for ident in ids:
        assert f'<label for="{ident}">' in html, ident
    assert '<th scope="col">' in html


def _post(debtor, reaction: str, data: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    csrf = csrf_of(debtor.page.get(f"/portal/{debtor.token}").text)
    return debtor.page.post(f"/portal/{debtor.token}/{reaction}", data={"csrf": csrf, **data}, **kw)


def test_copy_request_is_stored_and_raises_its_event(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    item = debtor.items["2026-0002"]
    answer = _post(debtor, "copy", {"item": str(item), "note": "Graag per post"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/portal/{debtor.token}?done=copy")
    (stored,) = reactions(backend)
    assert (stored.kind, stored.open_item_id, str(stored.debtor_id)) == (
        "copy_requested",
        item,
        debtor.id,
    )
    (event,) = events(backend)
    assert event.name == "portal.copy_requested"
    assert str(event.subject_id) == debtor.id
    assert event.data["open_item"] == "2026-0002"
    assert event.data["note"] == "Graag per post"
    assert event.data["reaction"] == str(stored.id)
    thanks = debtor.page.get(answer.headers["location"]).text
    assert "wij sturen u een kopie" in thanks
    staff = ok(debtor.acme.http.get(f"/portal/debtors/{debtor.id}/reactions"))
    assert [r["kind"] for r in staff] == ["copy_requested"]


def test_paid_with_a_date_and_a_pdf_proof(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    item = debtor.items["2026-0001"]
    today = dt.date.today()  # the tenant's day; Amsterdam is within a day of UTC
    proof = b"%PDF-1.7\n" + b"0" * 2000
    answer = _post(
        debtor,
        "paid",
        {"item": str(item), "paid_on": (today - dt.timedelta(days=2)).isoformat()},
        files={"proof": ("bank.pdf", proof, "application/pdf")},
    )
    assert answer.status_code == 303, answer.text
    (stored,) = reactions(backend)
    assert stored.proof == proof
    assert stored.proof_type == "application/pdf"
    (event,) = events(backend)
    assert event.name == "portal.paid_reported"
    assert event.data["paid_on"] == (today - dt.timedelta(days=2)).isoformat()
    assert event.data["proof"] == "application/pdf"


def test_arrangement_within_and_outside_the_bounds(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    bounds = {"max_instalments": 3, "min_instalment_amount": "100.00", "max_term_days": 90}
    ok(debtor.acme.http.put("/portal/settings", json=bounds))
    first = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert (
        _post(debtor, "arrangement", {"instalments": "3", "first_date": first}).status_code == 303
    )
    assert (
        _post(debtor, "arrangement", {"instalments": "6", "first_date": first}).status_code == 303
    )
    inside, outside = (e.data for e in events(backend))
    assert inside["within_bounds"] is True
    assert inside["exceeded"] == []
    assert inside["amount"] == "392.60"
    assert [p["amount"] for p in inside["plan"]] == ["130.86", "130.86", "130.88"]
    assert outside["within_bounds"] is False
    assert outside["exceeded"] == ["max_instalments", "min_instalment_amount", "max_term_days"]
    assert len(outside["plan"]) == 6


def test_promise_carries_the_day_to_check(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    ok(debtor.acme.http.put("/portal/settings", json={"promise_grace_days": 2}))
    pay_on = dt.date.today() + dt.timedelta(days=3)
    assert _post(debtor, "promise", {"pay_on": pay_on.isoformat()}).status_code == 303
    (event,) = events(backend)
    assert event.name == "portal.promise_made"
    assert event.data["pay_on"] == pay_on.isoformat()
    assert event.data["check_on"] == (pay_on + dt.timedelta(days=2)).isoformat()
    assert event.data["open_items"] == ["2026-0001", "2026-0002", "2026-0003"]


def test_a_reaction_the_tenant_does_not_offer_is_neither_shown_nor_taken(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    ok(debtor.acme.http.put("/portal/settings", json={"reactions": ["copy", "paid"]}))
    html = debtor.page.get(f"/portal/{debtor.token}").text
    assert "/arrangement" not in html
    assert "/promise" not in html
    assert "/copy" in html
    before = counts(backend)
    pay_on = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert _post(debtor, "promise", {"pay_on": pay_on}).status_code == 403
    after = counts(backend)
    assert after["reactions"] == before["reactions"]
    assert after["events"] == before["events"]


def test_portal_settings_are_for_administrators_and_checked(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    shown = ok(debtor.acme.http.get("/portal/settings"))
    assert shown["reactions"] == ["copy", "paid", "arrangement", "promise"]
    assert debtor.acme.http.put("/portal/settings", json={"max_instalments": 0}).status_code == 400
    assert debtor.acme.http.put("/portal/settings", json={"link_days": "x"}).status_code == 400
    saved = ok(
        debtor.acme.http.put(
            "/portal/settings", json={"texts": {"en": {"intro": "Hello <b>you</b>"}}}
        )
    )
    assert saved["texts"] == {"en": {"intro": "Hello <b>you</b>"}}
    assert saved["updated_by"]
    english = debtor.page.get(f"/portal/{debtor.token}", params={"lang": "en"}).text
    assert "Hello &lt;b&gt;you&lt;/b&gt;" in english


def test_a_reaction_starts_the_tenants_flow_for_it(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    flow = _flow_on("portal.promise_made", "promised")
    headers = {"Content-Type": "application/json"}
    ok(debtor.acme.http.post("/flows/import", content=flow, headers=headers), 201)
    ok(debtor.acme.http.post("/flows/on-promise/publish"), 201)
    pay_on = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert _post(debtor, "promise", {"pay_on": pay_on}).status_code == 303
    deadline = time.monotonic() + 30
    while ok(debtor.acme.http.get(f"/subjects/{debtor.id}"))["status"] != "promised":
        assert time.monotonic() < deadline, "the flow did not run on portal.promise_made"
        time.sleep(0.2)


def _flow_on(event: str, status: str) -> bytes:
    return json.dumps(
        {
            "format": "procedo.flow/1",
            "key": "on-promise",
            "name": "On promise",
            "subject_type": "debtor",
            "trigger": {"kind": "event", "event": event},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "mark", "type": "status_change", "params": {"status": status}},
                {"id": "end", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "source_port": "next", "target": "mark"},
                {"id": "e2", "source": "mark", "source_port": "next", "target": "end"},
            ],
        }
    ).encode()


def test_only_administrators_set_the_portal(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    made = ok(
        debtor.acme.http.post("/users", json={"email": "d@acme.example", "access": "designer"}), 201
    )
    login = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"tenant": debtor.acme.slug, "email": "d@acme.example", "password": made["password"]},
    )
    assert login.status_code == 200, login.text
    designer = httpx.Client(base_url=f"{base_url}/api/v1", cookies=dict(login.cookies))
    csrf = {"X-CSRF-Token": login.cookies["procedo_csrf"]}
    assert designer.get("/portal/settings").status_code == 403
    put = designer.put("/portal/settings", json={"link_days": 1}, headers=csrf)
    assert put.status_code == 403
    assert ok(debtor.acme.http.get("/portal/settings"))["link_days"] == 30
    # A designer may send a debtor a new link by hand.
    assert designer.post(f"/portal/debtors/{debtor.id}/links", headers=csrf).status_code == 201
