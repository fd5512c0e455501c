"""A tenant's email channel: its SMTP server and sender, set by its administrators.

Kept in ``email_settings`` (db/messaging.py), the password only encrypted
(``secretbox``). What leaves this module never holds the password: answers say
``password_set``, history rows name the fields that changed, log lines name the
server. Only :func:`smtp_settings`, used by the outbox sender and the test send,
decrypts it, into a ``mail.SmtpSettings`` whose ``repr`` hides it.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import uuid
from typing import Annotated, Literal

import msgspec
from sqlalchemy.orm import Session

from procedo import mail
from procedo.db import messaging as dbm
from procedo.db import models as m
from procedo.ids import new_id
from procedo.messaging.secretbox import SecretBox, SecretError, server_box
from procedo.runtime.context import Runtime
from procedo.runtime.steps import history

log = logging.getLogger("procedo.messaging")

Security = Literal["starttls", "tls", "none"]
Language = Literal["nl", "de", "en"]
# A test send waits at most this long per network operation, whatever the settings say.
TEST_TIMEOUT = 10.0
# Countries whose offices write in Dutch or German by default; English elsewhere.
_COUNTRY_LANGUAGE = {"NL": "nl", "BE": "nl", "SR": "nl", "DE": "de", "AT": "de", "CH": "de"}


class SettingsProblem(ValueError):
    """Settings that cannot be stored or used: ``path`` names the field, the text what to do."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class EmailSettingsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What an administrator sets. ``password`` omitted keeps the stored one; ``""`` removes it."""

    host: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    security: Security = "starttls"
    username: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    password: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    sender_address: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    sender_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    reply_to: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    default_language: Language | None = None

    def __repr__(self) -> str:  # a body in a traceback or log line shows no password
        return f"EmailSettingsIn(host={self.host!r}, port={self.port}, password=***)"


class EmailSettingsOut(msgspec.Struct, kw_only=True):
    configured: bool
    host: str | None = None
    port: int | None = None
    security: Security | None = None
    username: str | None = None
    # Never the password itself: only whether one is stored.
    password_set: bool = False
    sender_address: str | None = None
    sender_name: str = ""
    reply_to: str | None = None
    default_language: Language
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class TestResult(msgspec.Struct, kw_only=True):
    """A test send: ``sent``, ``retry`` (temporary) or ``failed``, and the server's answer."""

    ok: bool
    outcome: mail.Outcome
    detail: str
    smtp_code: int | None = None
    server: str
    to: str


def language_of_country(country: str) -> Language:
    found = _COUNTRY_LANGUAGE.get(country.upper(), "en")
    return "nl" if found == "nl" else "de" if found == "de" else "en"


def _tenant(session: Session, tenant_id: uuid.UUID) -> m.Tenant:
    tenant = session.get(m.Tenant, tenant_id)
    if tenant is None:
        raise SettingsProblem("$", f"tenant {tenant_id} does not exist")
    return tenant


def _out(row: dbm.EmailSettings | None, tenant: m.Tenant) -> EmailSettingsOut:
    if row is None:
        return EmailSettingsOut(
            configured=False, default_language=language_of_country(tenant.country)
        )
    return EmailSettingsOut(
        configured=True,
        host=row.host,
        port=row.port,
        security=row.security,  # type: ignore[arg-type]  # checked by the table
        username=row.username,
        password_set=row.password_encrypted is not None,
        sender_address=row.sender_address,
        sender_name=row.sender_name,
        reply_to=row.reply_to,
        default_language=row.default_language,  # type: ignore[arg-type]
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def read_settings(rt: Runtime, tenant_id: uuid.UUID) -> EmailSettingsOut:
    with rt.db.read() as session:
        return _out(session.get(dbm.EmailSettings, tenant_id), _tenant(session, tenant_id))


def default_language(session: Session, tenant_id: uuid.UUID) -> Language:
    """The language of a message when its subject names none."""
    row = session.get(dbm.EmailSettings, tenant_id)
    if row is not None:
        return row.default_language  # type: ignore[return-value]
    return language_of_country(_tenant(session, tenant_id).country)


def _sender(address: str, name: str) -> str:
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def _checked(
    body: EmailSettingsIn, username: str | None, password: str | None
) -> mail.SmtpSettings:
    """The settings as the sender will use them; SettingsProblem naming the field at fault."""
    sender = _sender(body.sender_address, body.sender_name)
    addresses = [(body.sender_address, "sender_address", "the sender address", False)]
    addresses.append((sender, "sender_name", "the sender name", True))
    if body.reply_to:
        addresses.append((body.reply_to, "reply_to", "the reply-to address", True))
    for value, field, what, display_name in addresses:
        try:
            mail.check_address(value, what, display_name=display_name)
        except mail.MessageError as exc:
            raise SettingsProblem(f"$.{field}", str(exc)) from exc
    if username and password is None:
        raise SettingsProblem("$.password", "a user name needs a password: send `password` too")
    if password and not username:
        raise SettingsProblem("$.username", "a password needs a user name: send `username` too")
    try:
        return mail.SmtpSettings(
            host=body.host,
            port=body.port,
            username=username or None,
            password=password if username else None,
            starttls=body.security == "starttls",
            ssl=body.security == "tls",
            sender=sender,
        )
    except (ValueError, msgspec.ValidationError) as exc:  # all else is checked above
        raise SettingsProblem("$.host", f"the settings cannot be used: {exc}") from exc


def save_settings(
    rt: Runtime,
    tenant_id: uuid.UUID,
    body: EmailSettingsIn,
    by: str,
    box: SecretBox | None = None,
) -> EmailSettingsOut:
    """Store the settings (all at once or nothing); the change is in the tenant's history."""
    with rt.transaction() as (session, _out_messages):
        tenant = _tenant(session, tenant_id)
        row = session.get(dbm.EmailSettings, tenant_id, with_for_update=not rt.db.is_sqlite)
        stored = row.password_encrypted if row is not None else None
        username = body.username or None
        keep = body.password is None and stored is not None and username is not None
        password = body.password or None
        # Checked with the kept password's presence, never its value.
        _checked(body, username, "kept" if keep else password)
        if keep:
            sealed = stored
        elif password is not None and username is not None:
            try:
                sealed = (box or server_box()).seal(password, str(tenant_id))
            except SecretError as exc:
                raise SettingsProblem("$.password", str(exc)) from exc
        else:
            sealed = None
        changed = ["host", "port", "security", "username", "sender_address", "sender_name"]
        changed += ["reply_to", "default_language"]
        if row is None:
            row = dbm.EmailSettings(tenant_id=tenant_id)
            session.add(row)
            before: dict[str, object] = {}
        else:
            before = {name: getattr(row, name) for name in changed}
        row.host, row.port, row.security = body.host, body.port, body.security
        row.username, row.password_encrypted = username, sealed
        row.sender_address, row.sender_name = body.sender_address, body.sender_name
        row.reply_to = body.reply_to or None
        row.default_language = body.default_language or (
            row.default_language if before else language_of_country(tenant.country)
        )
        row.updated_at, row.updated_by = rt.clock.now(), by
        fields = [name for name in changed if before.get(name) != getattr(row, name)]
        if sealed != stored:
            fields.append("password")  # that it changed, never what to
        history(
            session,
            None,
            None,
            tenant_id,
            rt.clock.now(),
            [{"kind": "email_settings_changed", "actor": by, "data": {"fields": fields}}],
        )
        session.flush()
        log.info("email settings of tenant %s set by %s: %s:%s", tenant_id, by, row.host, row.port)
        return _out(row, tenant)


def delete_settings(rt: Runtime, tenant_id: uuid.UUID, by: str) -> None:
    with rt.transaction() as (session, _out_messages):
        row = session.get(dbm.EmailSettings, tenant_id)
        if row is not None:
            session.delete(row)
            history(
                session,
                None,
                None,
                tenant_id,
                rt.clock.now(),
                [{"kind": "email_settings_removed", "actor": by, "data": {}}],
            )


def smtp_settings(
    session: Session, tenant: m.Tenant, box: SecretBox | None = None
) -> mail.SmtpSettings:
    """What the sender uses: the tenant's stored settings, else its older ``tenants.smtp``.

    Raises mail.SmtpSettingsError saying what is missing or cannot be decrypted.
    """
    row = session.get(dbm.EmailSettings, tenant.id)
    if row is None:
        return mail.SmtpSettings.from_dict(tenant.smtp)
    password = None
    if row.password_encrypted is not None:
        try:
            password = (box or server_box()).open(row.password_encrypted, str(tenant.id))
        except SecretError as exc:
            raise mail.SmtpSettingsError(f"the SMTP password cannot be used: {exc}") from exc
    try:
        return mail.SmtpSettings(
            host=row.host,
            port=row.port,
            username=row.username if password is not None else None,
            password=password,
            starttls=row.security == "starttls",
            ssl=row.security == "tls",
            sender=_sender(row.sender_address, row.sender_name),
        )
    except (ValueError, msgspec.ValidationError) as exc:
        raise mail.SmtpSettingsError(f"invalid SMTP settings: {exc}") from exc


def reply_to(session: Session, tenant_id: uuid.UUID) -> str | None:
    row = session.get(dbm.EmailSettings, tenant_id)
    return row.reply_to if row is not None else None


def send_test(
    rt: Runtime, tenant_id: uuid.UUID, to: str, by: str, box: SecretBox | None = None
) -> TestResult:
    """Send one test message now, with the stored settings, and report the server's answer.

    Nothing is queued: the outbox is not touched, whatever the outcome. Each network
    operation waits at most TEST_TIMEOUT seconds, so a wrong host or port answers soon.
    """
    with rt.db.read() as session:
        tenant = _tenant(session, tenant_id)
        if session.get(dbm.EmailSettings, tenant_id) is None and not tenant.smtp:
            raise SettingsProblem(
                "$", "no email settings yet: set them first (PUT /settings/email)"
            )
        try:
            settings = smtp_settings(session, tenant, box)
        except mail.SmtpSettingsError as exc:
            raise SettingsProblem("$", str(exc)) from exc
        reply = reply_to(session, tenant_id)
        name = tenant.name
    settings = msgspec.structs.replace(settings, timeout=min(settings.timeout, TEST_TIMEOUT))
    try:
        mail.check_address(to, "the test recipient")
    except mail.MessageError as exc:
        raise SettingsProblem("$.to", str(exc)) from exc
    email = mail.OutgoingEmail(
        message_id=f"<test.{new_id()}@procedo>",
        recipients=(to,),
        subject=f"Procedo test message for {name}",
        body_html=(
            "<p>This is a test message from Procedo. The email settings of "
            f"{html.escape(name)} work: mail sent by your flows leaves through this server.</p>"
        ),
        reply_to=reply,
    )
    delivery = mail.deliver(settings, email)
    server = f"{settings.host}:{settings.port}"
    log.info("test email of tenant %s to %s via %s: %s", tenant_id, to, server, delivery.outcome)
    return TestResult(
        ok=delivery.outcome == "sent",
        outcome=delivery.outcome,
        detail=delivery.detail,
        smtp_code=delivery.smtp_code,
        server=server,
        to=to,
    )
