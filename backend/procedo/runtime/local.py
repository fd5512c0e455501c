"""Running flows in one process, synchronously, under a clock that skips ahead.

Used by `procedo run` (a consultant trying a flow on one subject) and by the
tests: every message is handled inline, in order, and when nothing is left to
do the clock jumps to the next timer, so "remind after 2 business days" takes
milliseconds. The handlers are the same ones the workers run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import deque
from collections.abc import Callable, Sequence

from procedo import mail
from procedo.clock import FakeClock
from procedo.db import models as m
from procedo.db.session import Database
from procedo.runtime import outbox, work
from procedo.runtime.context import MessageKind, Runtime


class InlineDispatcher:
    def __init__(self) -> None:
        self.queue: deque[tuple[MessageKind, list[uuid.UUID]]] = deque()

    def send(self, kind: MessageKind, idents: Sequence[uuid.UUID]) -> None:
        self.queue.append((kind, list(idents)))


class RecordingSender:
    """Accepts every email and keeps it, instead of talking to an SMTP server."""

    def __init__(self) -> None:
        self.sent: list[mail.OutgoingEmail] = []

    def __call__(self, tenant: m.Tenant, email: mail.OutgoingEmail) -> mail.Delivery:
        self.sent.append(email)
        return mail.Delivery(outcome="sent", detail="kept by the local runner")


class LocalRunner:
    def __init__(
        self,
        url: str = "sqlite://",
        start: dt.datetime | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.clock = FakeClock(start or dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC))
        self.dispatcher = InlineDispatcher()
        self.sender = RecordingSender()
        db = Database(url)
        db.create_all()
        self.rt = Runtime(db=db, dispatcher=self.dispatcher, clock=self.clock)
        if new_id is not None:
            self.rt.new_id = new_id

    def drain(self) -> None:
        """Handle every queued message, including those handling creates."""
        queue = self.dispatcher.queue
        while queue:
            kind, idents = queue.popleft()
            if kind == "outbox":
                for ident in idents:
                    outbox.deliver(self.rt, ident, self.sender)
            else:
                work.HANDLERS[kind](self.rt, idents)

    def fire_due_timers(self) -> int:
        ids = work.claim_due_timers(self.rt)
        for ident in ids:
            work.fire_timers(self.rt, [ident])
            self.drain()
        return len(ids)

    def skip_to_next_timer(self, horizon: dt.datetime | None = None) -> bool:
        """Move the clock to the next pending timer and fire it; False if there is none."""
        self.drain()
        due = work.next_timer_due(self.rt)
        if due is None or (horizon is not None and due > horizon):
            return False
        self.clock.set(due)
        self.fire_due_timers()
        return True

    def advance(self, delta: dt.timedelta) -> None:
        """Let time pass, firing every timer that falls due on the way, in order."""
        until = self.clock.now() + delta
        while self.skip_to_next_timer(horizon=until):
            pass
        self.clock.set(until)
        self.drain()
