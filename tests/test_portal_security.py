"""The portal under attack: ids that are not the debtor's, bad tokens, bad uploads, scripts, CSRF.

Every refusal stores nothing and shows nothing of anyone else; staff credentials
open nothing on the portal and a portal token opens nothing on the API.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from procedo.api import tenancy
from procedo.api.server import Backend
from tests.api_helpers import embedded_backend, live_server, office, ok
from tests.portal_helpers import Debtor, add_item, counts, csrf_of, debtor_with_link, reactions
from tests.test_api_rls import APP_ROLE, rls_url  # noqa: F401 (a fixture)

SCRIPT = '<script>alert("x")</script>'


def _csrf(debtor: Debtor) -> str:
    return csrf_of(debtor.page.get(f"/portal/{debtor.token}").text)


def _refused(backend: Backend, before: dict[str, int], answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    after = counts(backend)
    for table in ("reactions", "events", "links", "items", "subjects", "instances"):
        assert after[table] == before[table], table


def test_another_debtors_or_tenants_invoice_is_refused(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    neighbour = ok(debtor.acme.http.post("/subjects", json={"type": "debtor", "key": "D2"}), 201)
    theirs = add_item(backend, debtor.acme, neighbour["id"], "2026-5555", "10.00")
    paid = add_item(backend, debtor.acme, debtor.id, "2026-0099", "10.00", status="paid")
    other = debtor_with_link(backend, base_url, tenant="Beta Portal", items=(("B-1", "5.00"),))
    csrf = _csrf(debtor)
    before = counts(backend)
    for item in (theirs, paid, other.items["B-1"], "not-an-id", ""):
        for reaction in ("copy", "paid"):
            answer = debtor.page.post(
                f"/portal/{debtor.token}/{reaction}", data={"csrf": csrf, "item": str(item)}
            )
            _refused(backend, before, answer, 422)
            for leaked in ("2026-5555", "2026-0099", "B-1", "Beta Portal"):
                assert leaked not in answer.text


def test_a_link_of_another_tenant_shows_only_its_own_debtor(
    backend: Backend, base_url: str
) -> None:
    acme = debtor_with_link(backend, base_url)
    beta = debtor_with_link(backend, base_url, tenant="Beta Portal", items=(("B-1", "5.00"),))
    page = beta.page.get(f"/portal/{beta.token}").text
    assert "Beta Portal" in page
    assert "B-1" in page
    assert "Acme Portal" not in page
    assert "2026-0001" not in page
    # B's staff cannot mint or revoke A's debtor's links, nor read its reactions.
    assert beta.acme.http.post(f"/portal/debtors/{acme.id}/links").status_code == 404
    assert beta.acme.http.delete(f"/portal/debtors/{acme.id}/links").status_code == 404
    assert beta.acme.http.get(f"/portal/debtors/{acme.id}/reactions").status_code == 404
    assert acme.page.get(f"/portal/{acme.token}").status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(24),  # well formed, never issued
        "x" * 32,
        "..%2F..%2Fapi%2Fv1%2Fsubjects",
        "%3Cscript%3E",
        "a" * 500,
    ],
)
def test_a_guessed_token_shows_nothing(backend: Backend, base_url: str, token: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    before = counts(backend)
    answer = debtor.page.get(f"/portal/{token}")
    assert answer.status_code == 404
    assert "Acme Portal" not in answer.text
    assert "2026-0001" not in answer.text
    assert "<script" not in answer.text
    posted = debtor.page.post(
        f"/portal/{token}/copy", data={"item": str(debtor.items["2026-0001"])}
    )
    _refused(backend, before, posted, 404)


def test_expired_and_revoked_links_say_how_to_get_a_new_one(
    backend: Backend, base_url: str
) -> None:
    import sqlalchemy as sa

    from procedo.db.portal import PortalLink

    debtor = debtor_with_link(backend, base_url)
    csrf = _csrf(debtor)
    with backend.runtime.db.transaction() as session:
        session.execute(
            sa.update(PortalLink).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            )
        )
    before = counts(backend)
    expired = debtor.page.get(f"/portal/{debtor.token}")
    assert expired.status_code == 410
    assert "Deze link werkt niet meer" in expired.text
    assert "2026-0001" not in expired.text
    assert csrf not in expired.text
    item = str(debtor.items["2026-0001"])
    posted = debtor.page.post(f"/portal/{debtor.token}/copy", data={"csrf": csrf, "item": item})
    _refused(backend, before, posted, 410)

    fresh = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    token = fresh["url"].rsplit("/", 1)[1]
    assert debtor.page.get(f"/portal/{token}").status_code == 200
    assert debtor.acme.http.delete(f"/portal/debtors/{debtor.id}/links").status_code == 204
    revoked = debtor.page.get(f"/portal/{token}")
    assert revoked.status_code == 410
    assert "2026-0001" not in revoked.text


def test_oversized_and_wrong_type_uploads_are_refused(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    item = str(debtor.items["2026-0001"])
    csrf = _csrf(debtor)
    before = counts(backend)

    def send(
        content: bytes, name: str = "proof.pdf", kind: str = "application/pdf"
    ) -> httpx.Response:
        return debtor.page.post(
            f"/portal/{debtor.token}/paid",
            data={"csrf": csrf, "item": item},
            files={"proof": (name, content, kind)},
        )

    _refused(backend, before, send(b"%PDF-" + b"0" * (5 * 1024 * 1024)), 413)
    _refused(backend, before, send(b"%PDF-" + b"0" * (7 * 1024 * 1024)), 413)
    _refused(backend, before, send(b"GIF89a" + b"0" * 100), 415)  # an image, not one we take
    _refused(backend, before, send(b"<html><script>x</script>"), 415)  # named .pdf, says pdf
    _refused(backend, before, send(b"MZ\x90\x00", "a.exe", "application/octet-stream"), 415)
    assert send(b"\x89PNG\r\n\x1a\n" + b"0" * 10, "a.png", "image/png").status_code == 303
    assert send(b"\xff\xd8\xff\xe0" + b"0" * 10, "a.jpg", "image/jpeg").status_code == 303


def test_script_in_every_field_is_refused_or_escaped(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    item = str(debtor.items["2026-0001"])
    csrf = _csrf(debtor)
    before = counts(backend)
    soon = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    refused = [
        ("copy", {"item": SCRIPT}),
        ("paid", {"item": item, "paid_on": SCRIPT}),
        ("arrangement", {"instalments": SCRIPT, "first_date": soon}),
        ("arrangement", {"instalments": "3", "first_date": SCRIPT}),
        ("promise", {"pay_on": SCRIPT}),
        ("promise", {"pay_on": soon, "note": "\x00" + SCRIPT}),
        ("promise", {"pay_on": soon, "note": "x" * 1001}),
        (SCRIPT, {"item": item}),
    ]
    for reaction, fields in refused:
        answer = debtor.page.post(
            f"/portal/{debtor.token}/{reaction}", data={"csrf": csrf, **fields}
        )
        assert answer.status_code in (404, 422), (reaction, fields, answer.status_code)
        html = answer.headers["content-type"].startswith("text/html")
        assert not html or "<script>alert" not in answer.text
        _refused(backend, before, answer, answer.status_code)
    # A note is free text: kept as written, never shown as HTML.
    taken = debtor.page.post(
        f"/portal/{debtor.token}/copy", data={"csrf": csrf, "item": item, "note": SCRIPT}
    )
    assert taken.status_code == 303
    assert reactions(backend)[0].data["note"] == SCRIPT
    assert "<script" not in debtor.page.get(taken.headers["location"]).text
    # Script in the lang and done parameters of the address is not echoed.
    page = debtor.page.get(f"/portal/{debtor.token}", params={"lang": SCRIPT, "done": SCRIPT}).text
    assert "<script" not in page


def test_script_in_the_tenants_own_texts_and_name_is_escaped(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Acme <script>alert(1)</script>")
    debtor = debtor_with_link(
        backend, base_url, acme=acme, fields={"name": SCRIPT, "language": "en"}
    )
    texts = {"en": {"intro": SCRIPT, "new_link": SCRIPT}}
    ok(acme.http.put("/portal/settings", json={"texts": texts}))
    page = debtor.page.get(f"/portal/{debtor.token}").text
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_csrf_value_must_be_the_links_own(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    other = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    other_token = other["url"].rsplit("/", 1)[1]
    other_csrf = csrf_of(debtor.page.get(f"/portal/{other_token}").text)
    item = str(debtor.items["2026-0001"])
    before = counts(backend)
    for csrf in (None, "", "x" * 43, other_csrf):
        data = {"item": item} if csrf is None else {"item": item, "csrf": csrf}
        answer = debtor.page.post(f"/portal/{debtor.token}/copy", data=data)
        _refused(backend, before, answer, 403)
    # Not a form at all (JSON, as another site's script might send): refused.
    answer = debtor.page.post(
        f"/portal/{debtor.token}/copy", json={"item": item, "csrf": _csrf(debtor)}
    )
    _refused(backend, before, answer, 415)


def test_staff_credentials_do_not_open_the_portal(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    login = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={
            "tenant": debtor.acme.slug,
            "email": debtor.acme.email,
            "password": debtor.acme.password,
        },
    )
    assert login.status_code == 200, login.text
    cookies = dict(login.cookies)
    assert "procedo_session" in cookies
    staff = httpx.Client(
        base_url=base_url, cookies=cookies, headers={"Authorization": f"Bearer {debtor.acme.token}"}
    )
    before = counts(backend)
    guessed = secrets.token_urlsafe(24)
    assert staff.get(f"/portal/{guessed}").status_code == 404
    answer = staff.post(
        f"/portal/{guessed}/copy",
        data={"item": str(debtor.items["2026-0001"]), "csrf": cookies.get("procedo_csrf", "")},
        headers={"X-CSRF-Token": cookies.get("procedo_csrf", "")},
    )
    _refused(backend, before, answer, 404)
    # The portal sets no cookie of its own either.
    assert "set-cookie" not in debtor.page.get(f"/portal/{debtor.token}").headers


def test_a_portal_token_opens_nothing_on_the_api(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    api = httpx.Client(base_url=f"{base_url}/api/v1")
    with_cookie = httpx.Client(
        base_url=f"{base_url}/api/v1", cookies={"procedo_session": debtor.token}
    )
    for path in ("/subjects", f"/subjects/{debtor.id}", f"/portal/debtors/{debtor.id}/reactions"):
        as_bearer = api.get(path, headers={"Authorization": f"Bearer {debtor.token}"})
        as_cookie = with_cookie.get(path)
        assert as_bearer.status_code == 401
        assert as_cookie.status_code == 401
        assert "2026-0001" not in as_bearer.text + as_cookie.text


def test_opening_the_page_changes_nothing_but_the_history(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    before = counts(backend)
    for _ in range(3):
        assert debtor.page.get(f"/portal/{debtor.token}").status_code == 200
        assert debtor.page.head(f"/portal/{debtor.token}").status_code in (200, 405)
    after = counts(backend)
    assert {k: v for k, v in after.items() if k != "history"} == {
        k: v for k, v in before.items() if k != "history"
    }
    assert after["history"] - before["history"] in (3, 6)  # one access row per open


def test_every_answer_forbids_scripts_framing_and_referrers(
    backend: Backend, base_url: str
) -> None:
    debtor = debtor_with_link(backend, base_url)
    answers = [
        debtor.page.get(f"/portal/{debtor.token}"),
        debtor.page.get(f"/portal/{secrets.token_urlsafe(24)}"),
        debtor.page.post(f"/portal/{debtor.token}/copy", data={"csrf": "wrong"}),
        debtor.page.get(f"/portal/{debtor.token}/copy"),  # the router's own 405
    ]
    for answer in answers:
        assert answer.headers["referrer-policy"] == "no-referrer", answer.request.url
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "script-src" not in policy
        assert "unsafe" not in policy
    html = answers[0].text
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "//" not in html.replace("<!doctype html>", "")


@pytest.fixture
def rls_backend(rls_url: str, tmp_path: Path) -> Iterator[Backend]:  # noqa: F811
    with embedded_backend(rls_url, tmp_path) as running:
        tenancy.install(running.runtime.db.engine, APP_ROLE)
        yield running


def test_the_portal_works_under_row_level_security(rls_backend: Backend) -> None:
    """As the application role: a link finds its tenant's rows, and only those."""
    with live_server(rls_backend.runtime) as url:
        debtor = debtor_with_link(rls_backend, url)
        beta = debtor_with_link(rls_backend, url, tenant="Beta Portal", items=(("B-1", "5.00"),))
        page = debtor.page.get(f"/portal/{debtor.token}")
        assert page.status_code == 200, page.text
        assert "2026-0001" in page.text
        assert "B-1" not in page.text
        answer = debtor.page.post(
            f"/portal/{debtor.token}/copy",
            data={"csrf": csrf_of(page.text), "item": str(debtor.items["2026-0001"])},
        )
        assert answer.status_code == 303, answer.text
        assert debtor.page.get(f"/portal/{secrets.token_urlsafe(24)}").status_code == 404
        assert beta.page.get(f"/portal/{beta.token}").status_code == 200
    assert [r.kind for r in reactions(rls_backend)] == ["copy_requested"]


def test_a_debtor_cannot_flood_the_tenant_with_reactions(backend: Backend, base_url: str) -> None:
    from procedo.portal.reactions import DAILY_LIMIT

    debtor = debtor_with_link(backend, base_url)
    data = {"csrf": _csrf(debtor), "item": str(debtor.items["2026-0001"])}
    for _ in range(DAILY_LIMIT):
        assert debtor.page.post(f"/portal/{debtor.token}/copy", data=data).status_code == 303
    before = counts(backend)
    _refused(backend, before, debtor.page.post(f"/portal/{debtor.token}/copy", data=data), 429)
