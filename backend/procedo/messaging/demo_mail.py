"""Where the demo tenant's email goes: a local sink in the data directory (`procedo serve --demo`).

Embedded only: the sink runs in the serving process, on 127.0.0.1, and keeps every
message as an .eml file in ``<data dir>/sent-mail/``. The demo tenant is pointed at
it at every start (the port is new each time), unless an administrator gave the
demo tenant a server of its own: those settings are left alone.

Its SMS go to the SMS sink (``messaging/sms.py``): JSON files in
``<data dir>/sent-sms/``, set once when the tenant has no SMS settings.
"""

from __future__ import annotations

import atexit
import logging
import uuid
from pathlib import Path

import sqlalchemy as sa

from procedo.db import messaging as dbm
from procedo.db import models as m
from procedo.messaging import channel, sms
from procedo.messaging.sink import SINK_FOLDER, MailSink
from procedo.runtime.context import Runtime

log = logging.getLogger("procedo.demo")
DEMO_SENDER = "office@demo.example"


def _own_server(rt: Runtime, tenant_id: object) -> str | None:
    """The host of settings an administrator made, or None when the sink may take over."""
    with rt.db.read() as session:
        row = session.get(dbm.EmailSettings, tenant_id)
    if row is None or (row.host == "127.0.0.1" and row.sender_address == DEMO_SENDER):
        return None
    return f"{row.host}:{row.port}"


def start_demo_mail(rt: Runtime, data_dir: Path, slug: str) -> list[str]:
    """Start the sink, point tenant ``slug`` at it; the banner's lines saying where mail goes."""
    with rt.db.read() as session:
        tenant_id = session.scalar(sa.select(m.Tenant.id).where(m.Tenant.slug == slug))
    if tenant_id is None:
        return []
    lines = _demo_sms(rt, tenant_id, slug)
    own = _own_server(rt, tenant_id)
    if own is not None:
        return [f"demo mail: tenant '{slug}' sends through its own server {own}", *lines]
    folder = data_dir / SINK_FOLDER
    try:
        sink = MailSink.start(folder)
    except ImportError:
        return [
            "demo mail: not sent (aiosmtpd, a development dependency, is missing); "
            "set a server under Settings, e.g. Mailpit from docker-compose",
            *lines,
        ]
    atexit.register(sink.stop)
    settings = channel.EmailSettingsIn(
        host=sink.host,
        port=sink.port,
        security="none",
        sender_address=DEMO_SENDER,
        sender_name="Demo Office",
    )
    channel.save_settings(rt, tenant_id, settings, "demo")
    log.info("demo mail sink on %s:%s writing to %s", sink.host, sink.port, folder)
    return [f"demo mail: what tenant '{slug}' sends is kept as .eml files in {folder}", *lines]


def _demo_sms(rt: Runtime, tenant_id: object, slug: str) -> list[str]:
    """The SMS sink for a demo tenant without SMS settings; the banner's line about it."""
    assert isinstance(tenant_id, uuid.UUID)
    sms.use_sink_unless_set(rt, tenant_id)
    shown = sms.read_settings(rt, tenant_id)
    if shown.provider != "sink":
        return [f"demo SMS: tenant '{slug}' sends through {shown.url}"]
    return [f"demo SMS: what tenant '{slug}' sends is kept as .json files in {shown.sink_folder}"]
