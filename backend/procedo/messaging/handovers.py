"""One email per account manager and run (D2): hand-overs collected into a digest.

A hand-over does not queue its own email: it lists the customer in the digest of
its recipient and run, an outbox row due ``DELAY`` after the run's last hand-over,
and the outbox renders the list as the email leaves (``render``). The run is the
``WINDOW`` of the schedule slot that started the instance, so a hand-over days later
in a waiting flow still counts for its run; an instance started by hand or by an
event shares the window of the clock instead.

Safe with several workers: a hand-over joins a digest by updating its row while it
is still pending and untried (that row lock makes the outbox's claim wait for the
commit, so the claim then sees the new customer), and otherwise inserts the next
digest of the key. Nothing is lost if a worker dies: the entries and the row are
written in the step's transaction, and the row is sent like any other outbox row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import uuid
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from procedo import mail
from procedo.db import models as m
from procedo.db.handovers import HandOverEntry
from procedo.db.schedule_runs import ScheduleAct
from procedo.ids import new_id
from procedo.messaging import channel, library
from procedo.runtime.rows import InstanceRow, SubjectRow

TEMPLATE: Final = "hand_over_digest"  # the outbox row's marker: rendered by this module
DELAY: Final = dt.timedelta(minutes=5)
WINDOW: Final = dt.timedelta(minutes=15)

_HEADER = {
    "en": ("Handed over to you: {n} customers", "These customers are handed over to you:"),
    "nl": ("Aan u overgedragen: {n} klanten", "Deze klanten zijn aan u overgedragen:"),
    "de": ("Ihnen übergeben: {n} Kunden", "Diese Kunden wurden Ihnen übergeben:"),
}


def run_of(session: Session, instance: InstanceRow, now: dt.datetime) -> str:
    """The run a hand-over belongs to: the window of its schedule slot, else of the clock.

    Windowed, so that a "run now" repeated a minute later shares the first one's key.
    """
    slot = session.scalar(
        sa.select(ScheduleAct.slot_at)
        .join(m.FlowVersion, m.FlowVersion.flow_id == ScheduleAct.flow_id)
        .where(
            m.FlowVersion.id == instance.flow_version_id,
            ScheduleAct.subject_id == instance.subject_id,
            ScheduleAct.instance_id == instance.id,
        )
        .limit(1)
    )
    seconds = int(WINDOW.total_seconds())
    start = int((slot or now).timestamp()) // seconds * seconds
    return dt.datetime.fromtimestamp(start, dt.UTC).isoformat()


def digest_key(tenant_id: uuid.UUID, recipient: str, run: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{recipient.lower()}|{run}".encode()).hexdigest()[:64]


def collect(
    session: Session,
    instance: InstanceRow,
    subject: SubjectRow,
    recipient: str,
    texts: tuple[str, str],
    now: dt.datetime,
) -> tuple[str, bool]:
    """List the customer in its digest: (the digest's Message-ID, listed now or already)."""
    key = digest_key(instance.tenant_id, recipient, run_of(session, instance, now))
    generation = 0
    while True:
        message_id = f"<handover.{key[:40]}.{generation}@procedo>"
        outbox_id, created = _join(session, instance.tenant_id, message_id, recipient, now)
        if outbox_id is not None:
            break
        generation += 1  # that digest has left (or is leaving): the next one of the key
    name = subject.fields.get("name")
    added = _insert(
        session,
        HandOverEntry,
        {
            "id": new_id(),
            "tenant_id": instance.tenant_id,
            "outbox_id": outbox_id,
            "digest_key": key,
            "subject_id": subject.id,
            "instance_id": instance.id,
            "name": (name if isinstance(name, str) and name else subject.key)[:200],
            "subject": texts[0][:500],
            "body": texts[1],
            "created_at": now,
        },
        ("tenant_id", "digest_key", "subject_id"),
    )
    if not added and created:
        # Listed in an earlier digest of this run: the one just made stays empty, unsent.
        session.execute(sa.delete(m.Outbox).where(m.Outbox.id == outbox_id))
    return message_id, added


def _join(
    session: Session, tenant_id: uuid.UUID, message_id: str, recipient: str, now: dt.datetime
) -> tuple[uuid.UUID | None, bool]:
    """The digest ``message_id`` locked for this transaction if it still collects, made if
    missing; (None, False) when it has been tried already."""
    for _ in range(2):
        # Each hand-over postpones the email: a run's burst goes out as one, after it.
        joined = session.scalar(
            sa.update(m.Outbox)
            .where(
                m.Outbox.message_id == message_id,
                m.Outbox.status == "pending",
                m.Outbox.attempts == 0,
            )
            .values(next_attempt_at=now + DELAY)
            .returning(m.Outbox.id)
            .execution_options(synchronize_session=False)
        )
        if joined is not None:
            return joined, False
        outbox_id = new_id()
        row: dict[str, Any] = {
            "id": outbox_id,
            "tenant_id": tenant_id,
            "instance_id": None,  # it lists several instances' customers
            "kind": "email",
            "message_id": message_id,
            "recipients": [recipient],
            "subject": "Hand-over: customers being collected",
            "body": "",
            "template": TEMPLATE,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now + DELAY,
            "created_at": now,
        }
        if _insert(session, m.Outbox, row, ("message_id",)):
            return outbox_id, True
        # Another transaction made it meanwhile (PostgreSQL waited for its commit): join it.
    return None, False


def _insert(
    session: Session, model: type[m.Base], row: dict[str, Any], unique: tuple[str, ...]
) -> bool:
    """Insert unless the unique columns exist already; True when inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: sa.Table = model.__table__  # type: ignore[assignment]
    statement = (
        dialect.insert(table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c.id)
    )
    # RETURNING says whether it was inserted (the row count does not, on every driver).
    return session.execute(statement).first() is not None


def render(session: Session, row: m.Outbox) -> library.Rendered | None:
    """The digest as it leaves: every customer listed in it; None when it lists nobody."""
    entries = list(
        session.scalars(
            sa.select(HandOverEntry)
            .where(HandOverEntry.outbox_id == row.id)
            .order_by(HandOverEntry.created_at, HandOverEntry.name)
        )
    )
    if not entries:
        return None
    language = channel.default_language(session, row.tenant_id)
    if len(entries) == 1:
        # One customer: the node's own texts, as a single hand-over always read.
        (only,) = entries
        subject, body = only.subject, only.body
    else:
        title, intro = _HEADER.get(language, _HEADER["en"])
        subject = title.format(n=len(entries))
        parts = [f"<p>{html.escape(intro)}</p>"]
        for entry in entries:
            parts.append(f"<h3>{html.escape(entry.name)}</h3>\n{entry.body}")
        body = "\n".join(parts)
    return library.Rendered(
        name=TEMPLATE, language=language, subject=subject, html=body, text=mail.html_to_text(body)
    )
