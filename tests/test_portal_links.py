"""Portal links: random, kept only as a hash, for one debtor, expiring, revocable, rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

import pytest
import sqlalchemy as sa

from procedo.api.server import Backend
from procedo.db import models as m
from procedo.db.portal import PortalLink
from procedo.portal import links
from tests.api_helpers import ok
from tests.portal_helpers import debtor_with_link


def _links(backend: Backend) -> list[PortalLink]:
    with backend.runtime.db.read() as session:
        return list(session.scalars(sa.select(PortalLink).order_by(PortalLink.created_at)))


def test_a_link_is_random_and_only_its_hash_is_kept(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    assert debtor.url == f"http://localhost:8000/portal/{debtor.token}"  # PROCEDO_PUBLIC_URL unset
    assert len(debtor.token) == 32  # 24 bytes = 192 bits, base64url
    (link,) = _links(backend)
    assert link.token_hash == hashlib.sha256(debtor.token.encode()).hexdigest()
    stored = " ".join(str(getattr(link, c.key)) for c in PortalLink.__table__.columns)
    assert debtor.token not in stored
    second = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    assert second["url"] != debtor.url


def test_the_public_url_comes_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCEDO_PUBLIC_URL", "https://pay.acme.example/")
    assert links.url_of("abc") == "https://pay.acme.example/portal/abc"


def test_links_last_as_long_as_the_tenant_says(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    ok(debtor.acme.http.put("/portal/settings", json={"link_days": 5}))
    made = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    expires = dt.datetime.fromisoformat(made["expires_at"])
    assert abs(expires - (dt.datetime.now(dt.UTC) + dt.timedelta(days=5))) < dt.timedelta(minutes=1)
    first = _links(backend)[0]
    assert abs(first.expires_at - first.created_at - dt.timedelta(days=30)) < dt.timedelta(
        seconds=1
    )


def test_links_are_for_debtors_only(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    invoice = ok(debtor.acme.http.post("/subjects", json={"type": "invoice", "key": "I1"}), 201)
    assert debtor.acme.http.post(f"/portal/debtors/{invoice['id']}/links").status_code == 404
    assert debtor.acme.http.post(f"/portal/debtors/{uuid.uuid4()}/links").status_code == 404


def test_revoke_all_ends_every_link_and_is_in_the_history(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    second = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    assert debtor.acme.http.delete(f"/portal/debtors/{debtor.id}/links").status_code == 204
    for url in (debtor.url, second["url"]):
        assert debtor.page.get(f"/portal/{url.rsplit('/', 1)[1]}").status_code == 410
    with backend.runtime.db.read() as session:
        kinds = session.scalars(
            sa.select(m.History.kind).where(m.History.subject_id == uuid.UUID(debtor.id))
        ).all()
    assert "portal_links_revoked" in kinds
    # A link made after the revocation works.
    fresh = ok(debtor.acme.http.post(f"/portal/debtors/{debtor.id}/links"), 201)
    assert debtor.page.get(f"/portal/{fresh['url'].rsplit('/', 1)[1]}").status_code == 200


def test_every_opening_is_in_the_debtors_history(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    debtor.page.get(f"/portal/{debtor.token}")
    debtor.page.get(f"/portal/{debtor.token}", params={"lang": "en"})
    with backend.runtime.db.read() as session:
        rows = session.execute(
            sa.select(m.History.kind, m.History.actor, m.History.data).where(
                m.History.subject_id == uuid.UUID(debtor.id), m.History.kind == "portal_opened"
            )
        ).all()
    assert len(rows) == 2
    assert rows[0].actor == links.PORTAL_ACTOR
    assert "link" in rows[0].data
    assert debtor.token not in str(rows)


def test_failed_attempts_are_limited_per_address(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    for _ in range(links.PortalThrottle().limit):
        assert debtor.page.get(f"/portal/{secrets.token_urlsafe(24)}").status_code == 404
    refused = debtor.page.get(f"/portal/{secrets.token_urlsafe(24)}")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # While the address waits, a valid link waits too: guessing gains nothing from it.
    assert debtor.page.get(f"/portal/{debtor.token}").status_code == 429


def test_a_debtors_message_gets_its_portal_url_minted(backend: Backend, base_url: str) -> None:
    debtor = debtor_with_link(backend, base_url)
    rt = backend.runtime
    now = rt.clock.now()
    with rt.db.transaction() as session:
        subject = session.get(m.Subject, uuid.UUID(debtor.id))
        assert subject is not None
        plain, made = links.fill(session, subject.tenant_id, subject, ["Hello"], now)
        assert (plain, made) == (["Hello"], {})  # no link asked for: none minted
        texts = ["Pay at http://localhost:8000/portal/[link]", "<a href='/portal/[link]'>"]
        linked, made = links.fill(session, subject.tenant_id, subject, texts, now)
        short, _ = links.fill(session, subject.tenant_id, subject, ["/p/[link]"], now)
    url = made["portal"].url
    assert linked == [f"Pay at {url}", f"<a href='{url}'>"]  # one link for the message
    assert url.startswith("http://localhost:8000/portal/")
    assert len(_links(backend)) == 3
    assert debtor.page.get(f"/portal/{url.rsplit('/', 1)[1]}").status_code == 200
    code = short[0].rsplit("/", 1)[1]
    assert debtor.page.get(f"/p/{code}", follow_redirects=True).status_code == 200
    with rt.db.transaction() as session:
        invoice = m.Subject(tenant_id=subject.tenant_id, type="invoice", key="I9", fields={})
        session.add(invoice)
        session.flush()
        kept, made = links.fill(session, invoice.tenant_id, invoice, ["/portal/[link]"], now)
        assert (kept, made) == (["/portal/[link]"], {})  # not a debtor: no link, no failure
    assert len(_links(backend)) == 3
    # Revoked with the debtor's links: the short code opens nothing more.
    with rt.db.transaction() as session:
        links.revoke_all(session, subject.tenant_id, subject.id, now, "tester")
    assert debtor.page.get(f"/p/{code}", follow_redirects=True).status_code == 410
