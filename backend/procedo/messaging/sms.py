"""A tenant's SMS channel: phone numbers in E.164, a provider interface and two providers.

* ``SinkProvider`` (development, the demo, tests): every message is kept as a JSON
  file in ``<data dir>/sent-sms/``, named after its message id, so a retry of the
  same message overwrites its file instead of adding a second one.
* ``HttpProvider``: one generic JSON ``POST`` to the tenant's URL with a bearer
  token (``{"id", "to", "from", "text"}``, the id also as ``Idempotency-Key``), for
  the gateways that take such a request directly or behind a small adapter.

Settings live in ``sms_settings`` (db/sms.py). The token is sealed with the server
key like the SMTP password (``secretbox``): never in an answer (``token_set``
instead), the history (field names only), a log line or an export; only
:func:`provider_for`, used by the outbox and the test send, opens it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final, Literal, Protocol
from urllib.parse import urlsplit

import httpx
import msgspec
import phonenumbers
from sqlalchemy.orm import Session

from procedo import mail
from procedo.db import models as m
from procedo.db import sms as dbs
from procedo.ids import new_id
from procedo.messaging.secretbox import SecretBox, SecretError, server_box
from procedo.runtime.context import Runtime
from procedo.runtime.steps import history

log = logging.getLogger("procedo.sms")

SINK_FOLDER: Final = "sent-sms"
# One network operation of the HTTP provider waits at most this long.
TIMEOUT: Final = 10.0
# The longest text any node may send: ten concatenated GSM-7 segments.
MAX_TEXT: Final = 1530
_SENDER = re.compile(r"^([A-Za-z0-9 ]{1,11}|\+?[0-9]{3,15})$")
_LOCAL_HOSTS: Final = ("localhost",)

Provider = Literal["sink", "http"]


class PhoneError(ValueError):
    """A phone number that cannot be used; the message says which and why."""


class SmsSettingsError(ValueError):
    """No usable SMS settings: what is missing, or a token that cannot be opened."""


class SettingsProblem(ValueError):
    """Settings that cannot be stored or used: ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


# -- Phone numbers ----------------------------------------------------------------------------


def normalise(number: str, country: str) -> str:
    """``number`` in E.164 (``+31612345678``); local numbers read in ``country`` (ISO 3166).

    Raises PhoneError for anything that is not a valid number.
    """
    text = number.strip()
    if not text:
        raise PhoneError("the phone number is empty")
    if len(text) > 40:
        raise PhoneError("the phone number is longer than 40 characters")
    region = country.upper() if len(country) == 2 else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"'{text}' is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        where = f" in {region}" if region and not text.startswith("+") else ""
        raise PhoneError(f"'{text}' is not a valid phone number{where}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# -- Providers --------------------------------------------------------------------------------


class SmsMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS as the outbox holds it; ``message_id`` is deterministic per step."""

    message_id: str
    to: str  # E.164
    text: str
    sender: str = ""


class SmsProvider(Protocol):
    def send(self, message: SmsMessage) -> mail.Delivery: ...

    def describe(self) -> str: ...


def sink_folder(data_dir: Path | None = None) -> Path:
    """Where the sink keeps messages: ``<data dir>/sent-sms``."""
    base = data_dir or Path(os.environ.get("PROCEDO_DATA_DIR", ".procedo-data"))
    return base.resolve() / SINK_FOLDER


@dataclass(frozen=True)
class SinkProvider:
    """Keeps each message as ``<sha256 of its id>.json``: a resend replaces, never doubles."""

    folder: Path

    def send(self, message: SmsMessage) -> mail.Delivery:
        digest = hashlib.sha256(message.message_id.encode()).hexdigest()[:32]
        path = self.folder / f"{digest}.json"
        record = {
            "id": message.message_id,
            "to": message.to,
            "from": message.sender,
            "text": message.text,
            "kept_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_text(json.dumps(record, ensure_ascii=False, indent=2), "utf-8")
            partial.replace(path)  # a reader never sees half a message
        except OSError as exc:
            return mail.Delivery(outcome="retry", detail=f"the SMS sink cannot write: {exc}")
        return mail.Delivery(outcome="sent", detail=f"kept by the SMS sink in {path.name}")

    def describe(self) -> str:
        return f"the SMS sink ({self.folder})"


@dataclass(frozen=True)
class HttpProvider:
    """A JSON POST with a bearer token; 2xx sent, 408/429/5xx and no answer retried."""

    url: str
    token: str = field(repr=False)
    sender: str = ""
    timeout: float = TIMEOUT
    transport: httpx.BaseTransport | None = field(default=None, repr=False, compare=False)

    def send(self, message: SmsMessage) -> mail.Delivery:
        body = {"id": message.message_id, "to": message.to, "text": message.text}
        if message.sender or self.sender:
            body["from"] = message.sender or self.sender
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": message.message_id,
            "User-Agent": "Procedo-SMS",
        }
        server = _host_of(self.url)
        try:
            with httpx.Client(
                timeout=self.timeout, transport=self.transport, follow_redirects=False
            ) as client:
                answer = client.post(self.url, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            return mail.Delivery(
                "retry", f"no answer from {server} within {self.timeout:g} s ({exc})"
            )
        except httpx.HTTPError as exc:
            return mail.Delivery("retry", f"cannot reach {server}: {exc}")
        said = " ".join(answer.text.split())[:200]
        detail = f"{server} answered {answer.status_code} {said}".rstrip()
        if 200 <= answer.status_code < 300:
            return mail.Delivery("sent", detail)
        temporary = answer.status_code in (408, 425, 429) or answer.status_code >= 500
        return mail.Delivery("retry" if temporary else "failed", detail)

    def describe(self) -> str:
        return _host_of(self.url)


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# -- Settings ---------------------------------------------------------------------------------


class SmsSettingsIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What an administrator sets. ``token`` omitted keeps the stored one; ``""`` removes it."""

    provider: Provider = "sink"
    url: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    token: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    sender: Annotated[str, msgspec.Meta(max_length=16)] = ""

    def __repr__(self) -> str:  # a body in a traceback or log line shows no token
        return f"SmsSettingsIn(provider={self.provider!r}, url={self.url!r}, token=***)"


class SmsSettingsOut(msgspec.Struct, kw_only=True):
    configured: bool
    provider: Provider | None = None
    url: str | None = None
    # Never the token itself: only whether one is stored.
    token_set: bool = False
    sender: str = ""
    # The sink's folder on the server, where a development tenant reads what it sent.
    sink_folder: str | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class SmsTestResult(msgspec.Struct, kw_only=True):
    ok: bool
    outcome: mail.Outcome
    detail: str
    provider: str
    to: str


def _out(row: dbs.SmsSettings | None) -> SmsSettingsOut:
    if row is None:
        return SmsSettingsOut(configured=False)
    return SmsSettingsOut(
        configured=True,
        provider=row.provider,  # type: ignore[arg-type]  # checked by the table
        url=row.url,
        token_set=row.token_encrypted is not None,
        sender=row.sender,
        sink_folder=str(sink_folder()) if row.provider == "sink" else None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def read_settings(rt: Runtime, tenant_id: uuid.UUID) -> SmsSettingsOut:
    with rt.db.read() as session:
        return _out(session.get(dbs.SmsSettings, tenant_id))


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise SettingsProblem("$.url", "the URL must start with https:// and name a host")
    if parts.username or parts.password:
        raise SettingsProblem(
            "$.url", "put no login in the URL (it would be shown): give the token in `token`"
        )
    if parts.scheme == "http" and not _loopback(host):
        raise SettingsProblem(
            "$.url", "use https:// (plain http only to this machine: localhost, 127.0.0.1)"
        )
    return url.strip()


def _loopback(host: str) -> bool:
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def save_settings(
    rt: Runtime,
    tenant_id: uuid.UUID,
    body: SmsSettingsIn,
    by: str,
    box: SecretBox | None = None,
) -> SmsSettingsOut:
    """Store the settings (all at once or nothing); the change is in the tenant's history."""
    if body.sender and not _SENDER.match(body.sender):
        raise SettingsProblem(
            "$.sender", "a sender is a name of at most 11 letters, digits or spaces, or a number"
        )
    url = None
    if body.provider == "http":
        if not body.url:
            raise SettingsProblem("$.url", "the http provider needs the URL to post to")
        url = _check_url(body.url)
    with rt.transaction() as (session, _out_messages):
        if session.get(m.Tenant, tenant_id) is None:
            raise SettingsProblem("$", f"tenant {tenant_id} does not exist")
        row = session.get(dbs.SmsSettings, tenant_id, with_for_update=not rt.db.is_sqlite)
        stored = row.token_encrypted if row is not None else None
        sealed: str | None
        if body.provider != "http" or body.token == "":
            sealed = None
        elif body.token is None:
            sealed = stored
        else:
            try:
                sealed = (box or server_box()).seal(body.token, str(tenant_id))
            except SecretError as exc:
                raise SettingsProblem("$.token", str(exc)) from exc
        if body.provider == "http" and sealed is None:
            raise SettingsProblem("$.token", "the http provider needs the bearer token")
        names = ("provider", "url", "sender")
        if row is None:
            row = dbs.SmsSettings(tenant_id=tenant_id)
            session.add(row)
            before: dict[str, object] = {}
        else:
            before = {name: getattr(row, name) for name in names}
        row.provider, row.url, row.sender = body.provider, url, body.sender
        row.token_encrypted = sealed
        row.updated_at, row.updated_by = rt.clock.now(), by
        fields = [name for name in names if before.get(name) != getattr(row, name)]
        if sealed != stored:
            fields.append("token")  # that it changed, never what to
        history(
            session,
            None,
            None,
            tenant_id,
            rt.clock.now(),
            [{"kind": "sms_settings_changed", "actor": by, "data": {"fields": fields}}],
        )
        session.flush()
        log.info("SMS settings of tenant %s set by %s: %s", tenant_id, by, row.provider)
        return _out(row)


def delete_settings(rt: Runtime, tenant_id: uuid.UUID, by: str) -> None:
    with rt.transaction() as (session, _out_messages):
        row = session.get(dbs.SmsSettings, tenant_id)
        if row is not None:
            session.delete(row)
            history(
                session,
                None,
                None,
                tenant_id,
                rt.clock.now(),
                [{"kind": "sms_settings_removed", "actor": by, "data": {}}],
            )


def provider_for(
    session: Session, tenant_id: uuid.UUID, box: SecretBox | None = None
) -> SmsProvider:
    """The tenant's provider, its token opened; SmsSettingsError saying what is missing."""
    row = session.get(dbs.SmsSettings, tenant_id)
    if row is None:
        raise SmsSettingsError("SMS settings are missing: set them under Settings → SMS")
    if row.provider == "sink":
        return SinkProvider(sink_folder())
    if not row.url or row.token_encrypted is None:
        raise SmsSettingsError("the SMS settings lack the URL or the token: set them again")
    try:
        token = (box or server_box()).open(row.token_encrypted, str(tenant_id))
    except SecretError as exc:
        raise SmsSettingsError(f"the SMS token cannot be used: {exc}") from exc
    return HttpProvider(url=row.url, token=token, sender=row.sender)


def sender_of(session: Session, tenant_id: uuid.UUID) -> str:
    row = session.get(dbs.SmsSettings, tenant_id)
    return row.sender if row is not None else ""


def send_test(
    rt: Runtime, tenant_id: uuid.UUID, to: str, by: str, box: SecretBox | None = None
) -> SmsTestResult:
    """Send one test SMS now with the stored settings; the outbox is not touched."""
    with rt.db.read() as session:
        tenant = session.get(m.Tenant, tenant_id)
        if tenant is None:
            raise SettingsProblem("$", f"tenant {tenant_id} does not exist")
        try:
            provider = provider_for(session, tenant_id, box)
        except SmsSettingsError as exc:
            raise SettingsProblem("$", str(exc)) from exc
        sender, name, country = sender_of(session, tenant_id), tenant.name, tenant.country
    try:
        number = normalise(to, country)
    except PhoneError as exc:
        raise SettingsProblem("$.to", str(exc)) from exc
    message = SmsMessage(
        message_id=f"<test.{new_id()}@procedo>",
        to=number,
        text=f"Procedo test message for {name}: the SMS settings work.",
        sender=sender,
    )
    delivery = provider.send(message)
    described = provider.describe()
    log.info(
        "test SMS of tenant %s to %s via %s: %s", tenant_id, number, described, delivery.outcome
    )
    return SmsTestResult(
        ok=delivery.outcome == "sent",
        outcome=delivery.outcome,
        detail=delivery.detail,
        provider=described,
        to=number,
    )


def use_sink_unless_set(rt: Runtime, tenant_id: uuid.UUID) -> bool:
    """Point a tenant without SMS settings at the sink (the demo); False if it has its own."""
    with rt.db.read() as session:
        if session.get(dbs.SmsSettings, tenant_id) is not None:
            return False
    save_settings(rt, tenant_id, SmsSettingsIn(provider="sink", sender="Demo"), "demo")
    return True
