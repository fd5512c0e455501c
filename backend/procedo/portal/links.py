"""Portal links: minted for one debtor of one tenant, kept only as a hash, expiring, revocable.

A link is ``{PROCEDO_PUBLIC_URL}/portal/{token}``: 192 random bits (``secrets``), of
which the database keeps the SHA-256 only, so a leaked table opens no page. Opening
a link changes nothing but the debtor's history (mail scanners open links too); a
failed attempt (a token that is unknown, expired or revoked) is counted per client
address in ``login_failures``, the table the login throttle counts in, so every API
process sees the same count (api/throttle.py).

Letters and SMS carry a short link instead, ``/p/{code}`` (portal/short.py): a link
like any other whose token is a 16-character code, 80 random bits. Messages are
rendered with placeholders (portal/placeholders.py); ``fill`` mints their links as
they leave, and ``redact`` cuts any link from what is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo.api import tenancy
from procedo.api.throttle import Throttled, key_hash
from procedo.db import models as m
from procedo.db.portal import PortalLink
from procedo.ids import new_id
from procedo.portal import settings
from procedo.portal.placeholders import PLACEHOLDER, REDACTED, public_base_url
from procedo.runtime.context import NotFound, Runtime

TOKEN_BYTES = 24  # 192 bits; the issue asks for at least 128
# token_urlsafe's alphabet; anything else is refused before it reaches the database.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
# A short code, for what is typed or scanned (letters, SMS): 16 characters of Crockford's
# base32 (no I, L, O, U), 80 random bits, printed in groups of four (``/p/K7QM-2X9F-...``).
SHORT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CHARS = 16
SHORT_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{16}$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
PORTAL_ACTOR = "debtor (portal)"

LinkState = Literal["valid", "expired", "revoked", "unknown"]
# Whose page a link opens: the debtor portal (/portal/), or a client's requests (/client/,
# procedo.clientpage). A link of one scope is unknown to the other page.
Scope = Literal["debtor", "client"]
PAGE_PATHS: dict[Scope, str] = {"debtor": "/portal/", "client": "/client/"}


def url_of(token: str, scope: Scope = "debtor") -> str:
    return f"{public_base_url()}{PAGE_PATHS[scope]}{token}"


def short_url_of(code: str) -> str:
    """``{PROCEDO_PUBLIC_URL}/p/K7QM-2X9F-HRTA-3B5N``: a short code, grouped for reading."""
    groups = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    return f"{public_base_url()}/p/{groups}"


def read_short(text: str) -> str | None:
    """The short code a person typed (any case, with or without dashes, O for 0), or None."""
    code = text.upper().translate(_READ_AS)
    return code if SHORT_SHAPE.match(code) else None


# A link in a stored text: a token after /portal/ or /client/, a short code after /p/.
_LINK_IN_TEXT = re.compile(
    r"/(portal|client)/[A-Za-z0-9_-]{16,}|/(p)/[0-9A-Za-z]{4}(?:-?[0-9A-Za-z]{4}){3}\b"
)
# A short link as filled in: the public address, /p/ and the code in groups of four.
SHORT_URL = re.compile(r"https?://[^\s\"'<>]+/p/[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")


def redact(text: str) -> str:
    """``text`` with every portal token cut out: what is kept of a sent message holds no link."""
    return _LINK_IN_TEXT.sub(lambda found: f"/{found[1] or found[2]}/{REDACTED}", text)


def hash_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Minted:
    link_id: uuid.UUID
    token: str
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Link:
    id: uuid.UUID
    tenant_id: uuid.UUID
    debtor_id: uuid.UUID
    csrf: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> LinkState:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "valid"


def debtor(
    session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID, scope: Scope = "debtor"
) -> m.Subject:
    """The tenant's subject a link of ``scope`` may open: a debtor (or a client)."""
    debtor = session.get(m.Subject, debtor_id)
    if debtor is None or debtor.tenant_id != tenant_id or debtor.type != scope:
        raise NotFound(f"no {scope} {debtor_id} in this tenant")
    return debtor


def mint(
    session: Session,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    now: dt.datetime,
    actor: str = "system",
    scope: Scope = "debtor",
    short: bool = False,
) -> Minted:
    """A new link for the debtor, valid for the tenant's link lifetime; the token is shown once.

    ``scope="client"``: the link opens a client's requests page instead (same lifetime).
    ``short``: its token is a short code and its URL ``/p/{code}`` (letters, SMS); the
    short address sends the browser on to ``/portal/{code}`` (portal/short.py).
    """
    debtor(session, tenant_id, debtor_id, scope)
    days = settings.read(session, tenant_id).link_days
    if short:
        token = "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_CHARS))
    else:
        token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PortalLink(
        id=new_id(),
        tenant_id=tenant_id,
        debtor_id=debtor_id,
        token_hash=hash_of(token),
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        created_by=actor,
        scope=scope,
    )
    session.add(link)
    session.flush()
    url = short_url_of(token) if short else url_of(token, scope)
    return Minted(link.id, token, url, link.expires_at)


def find(session: Session, token: str, scope: Scope = "debtor") -> Link | None:
    """The link a token names, in any tenant (the caller is not known yet), or None.

    Only links of ``scope``: a client's link opens no debtor portal, and the reverse.
    A short code (``short=True`` when minted) names its link as a token does.
    """
    if not TOKEN_SHAPE.match(token):
        short = read_short(token) if len(token) <= 2 * SHORT_CHARS else None
        if short is None:
            return None
        token = short
    row = session.execute(
        sa.select(
            PortalLink.id,
            PortalLink.tenant_id,
            PortalLink.debtor_id,
            PortalLink.csrf,
            PortalLink.expires_at,
            PortalLink.revoked_at,
        ).where(PortalLink.token_hash == hash_of(token), PortalLink.scope == scope)
    ).first()
    return None if row is None else Link(*row)


def revoke_all(
    session: Session,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    now: dt.datetime,
    actor: str,
    scope: Scope = "debtor",
) -> int:
    """Revoke every link of the debtor still open; said in its history. Answers how many."""
    debtor(session, tenant_id, debtor_id, scope)
    revoked = session.execute(
        sa.update(PortalLink)
        .where(
            PortalLink.tenant_id == tenant_id,
            PortalLink.debtor_id == debtor_id,
            PortalLink.revoked_at.is_(None),
            PortalLink.scope == scope,
        )
        .values(revoked_at=now)
    )
    count = int(revoked.rowcount)  # type: ignore[attr-defined]
    log(session, tenant_id, debtor_id, "portal_links_revoked", now, actor, {"links": count})
    return count


def log(
    session: Session,
    tenant_id: uuid.UUID,
    debtor_id: uuid.UUID,
    kind: str,
    now: dt.datetime,
    actor: str,
    data: dict[str, object],
) -> None:
    """A row in the debtor's history (no instance): the portal's uses and staff's revocations."""
    session.add(
        m.History(
            tenant_id=tenant_id, subject_id=debtor_id, at=now, actor=actor, kind=kind, data=data
        )
    )


class LinkRefused(Exception):
    """A token that may not open its page now: unknown (``link`` None), expired or revoked."""

    def __init__(self, link: Link | None) -> None:
        super().__init__("this link cannot be used")
        self.link = link


class PortalThrottle:
    """Failed link attempts per client address; over the limit, every attempt waits.

    Only failures are written: an open of a valid link costs one read here.
    """

    def __init__(self, per_address: int = 20, window: dt.timedelta = dt.timedelta(minutes=10)):
        self.limit = per_address
        self.window = window

    @staticmethod
    def _key(address: str) -> str:
        return key_hash(("portal", address))

    def check(self, rt: Runtime, address: str) -> None:
        """Raise Throttled while the address has too many recent failures."""
        now = rt.clock.now()
        with rt.db.read() as session:
            times = session.scalars(
                sa.select(m.LoginFailure.failed_at)
                .where(
                    m.LoginFailure.key_hash == self._key(address),
                    m.LoginFailure.failed_at > now - self.window,
                )
                .order_by(m.LoginFailure.failed_at)
            ).all()
        if len(times) >= self.limit:
            frees_at = times[len(times) - self.limit] + self.window
            raise Throttled(max((frees_at - now).total_seconds(), 1.0))

    def open(self, rt: Runtime, address: str, token: str, scope: Scope = "debtor") -> Link:
        """The valid link ``token`` names for the page of ``scope``, for both public pages.

        Raises Throttled while the address has too many recent failures, and LinkRefused,
        counted as one, when the token is unknown, expired or revoked.
        """
        self.check(rt, address)
        with tenancy.all_tenants(), rt.db.read() as session:
            # A link is found by its hash before its tenant is known, as a login is.
            link = find(session, token, scope)
        if link is None or link.state(rt.clock.now()) != "valid":
            self.failed(rt, address)
            raise LinkRefused(link)
        return link

    def failed(self, rt: Runtime, address: str) -> None:
        now = rt.clock.now()
        with rt.db.transaction() as session:
            session.execute(
                sa.delete(m.LoginFailure).where(m.LoginFailure.failed_at <= now - self.window)
            )
            session.add(m.LoginFailure(id=new_id(), key_hash=self._key(address), failed_at=now))


_SCOPE_OF: dict[str, Scope] = {"portal": "debtor", "p": "debtor", "client": "client"}


def fill(
    session: Session,
    tenant_id: uuid.UUID,
    subject: m.Subject | None,
    texts: Sequence[str],
    now: dt.datetime,
) -> tuple[list[str], dict[str, Minted]]:
    """``texts`` of one message with each placeholder made a new link, and the links by form.

    One link per form for the message (its HTML and plain text share it), minted as the
    message leaves: its lifetime starts then. Texts without a placeholder mint nothing,
    and a placeholder the subject cannot have a link for (not a debtor: a text printing
    every field with ``dictsort``, say) stays as it is, a dead address rather than a
    message that fails.
    """
    minted: dict[str, Minted] = {}

    def link(found: re.Match[str]) -> str:
        form = found[1]
        scope = _SCOPE_OF[form]
        if subject is None or subject.type != scope:
            return found[0]
        if form not in minted:
            minted[form] = mint(
                session, tenant_id, subject.id, now, actor="message", scope=scope, short=form == "p"
            )
        return minted[form].url

    filled = [PLACEHOLDER.sub(link, text) for text in texts]
    return filled, minted
