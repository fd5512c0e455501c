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

Found = list[tuple[MessageKind, uuid.UUID]]


def sweep(
    rt: Runtime, grace: dt.timedelta, sending_timeout: dt.timedelta
) -> dict[uuid.UUID, Found]:
    """The messages to send again, by tenant.

    What the sweeper finds may be what failed before (a worker handles a batch in
    one transaction): sent in batches of one tenant each, an item that keeps
    failing holds up no other tenant's work.
    """
    now = rt.clock.now()
    late = now - grace
    found: dict[uuid.UUID, Found] = {}

    def add(kind: MessageKind, rows: sa.Result[uuid.UUID, uuid.UUID]) -> None:
        for tenant_id, ident in rows:
            found.setdefault(tenant_id, []).append((kind, ident))

    with rt.transaction() as (session, _out):
        add(
            "advance",
            session.execute(
                sa.select(m.Instance.tenant_id, m.Instance.id).where(
                    m.Instance.status == "pending", m.Instance.updated_at < late
                )
            ),
        )
        add(
            "timer",
            session.execute(
                sa.select(m.Timer.tenant_id, m.Timer.id).where(
                    m.Timer.status == "enqueued", m.Timer.claimed_at < late
                )
            ),
        )
        add(
            "event",
            session.execute(
                sa.select(m.Event.tenant_id, m.Event.id).where(
                    m.Event.status == "pending", m.Event.created_at < late
                )
            ),
        )
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
        add(
            "outbox",
            session.execute(
                sa.select(m.Outbox.tenant_id, m.Outbox.id).where(
                    m.Outbox.status == "enqueued", m.Outbox.next_attempt_at < late
                )
            ),
        )
    return found
