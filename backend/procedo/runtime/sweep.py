"""Finding work whose message was lost: the database is the truth, the broker a wake-up call.

A worker killed mid-step rolls its transaction back, and its message may be
gone with it. The sweeper finds rows that should have been handled by now and
sends their messages again; handlers are idempotent, so a message that was only
late is harmless.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from procedo.db import models as m
from procedo.runtime.context import MessageKind, Runtime


def sweep(
    rt: Runtime, grace: dt.timedelta, sending_timeout: dt.timedelta
) -> list[tuple[MessageKind, uuid.UUID]]:
    now = rt.clock.now()
    late = now - grace
    with rt.transaction() as (session, _out):
        found: list[tuple[MessageKind, uuid.UUID]] = []
        found += [
            ("advance", i)
            for i in session.scalars(
                sa.select(m.Instance.id).where(
                    m.Instance.status == "pending", m.Instance.updated_at < late
                )
            )
        ]
        found += [
            ("timer", i)
            for i in session.scalars(
                sa.select(m.Timer.id).where(m.Timer.status == "enqueued", m.Timer.claimed_at < late)
            )
        ]
        found += [
            ("event", i)
            for i in session.scalars(
                sa.select(m.Event.id).where(m.Event.status == "pending", m.Event.created_at < late)
            )
        ]
        # An email `sending` for long was abandoned by a dead worker: send it again
        # (same Message-ID, so the receiver can tell).
        session.execute(
            sa.update(m.Outbox)
            .where(
                m.Outbox.status == "sending",
                m.Outbox.next_attempt_at < now - sending_timeout,
            )
            .values(status="pending")
            .execution_options(synchronize_session=False)
        )
        found += [
            ("outbox", i)
            for i in session.scalars(
                sa.select(m.Outbox.id).where(
                    m.Outbox.status == "enqueued", m.Outbox.next_attempt_at < late
                )
            )
        ]
        return found
