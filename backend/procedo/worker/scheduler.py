"""The scheduler: claims due timers and emails, runs schedules, sweeps up lost work.

Several schedulers may run at once against PostgreSQL: claims use
FOR UPDATE SKIP LOCKED, so each due row goes to exactly one of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

from procedo.runtime import outbox, work
from procedo.runtime.context import MessageKind, Runtime, send_batched
from procedo.runtime.schedules import run_due_schedules
from procedo.runtime.sweep import sweep

log = logging.getLogger("procedo.scheduler")


class Scheduler:
    def __init__(
        self,
        rt: Runtime,
        poll: float = 0.25,
        grace: float = 30.0,
        sending_timeout: float = 300.0,
    ) -> None:
        self.rt = rt
        self.poll = poll
        self.grace = dt.timedelta(seconds=grace)
        self.sending_timeout = dt.timedelta(seconds=sending_timeout)
        self.sweep_every = min(10.0, grace / 2)
        self._last_sweep = 0.0

    def tick(self) -> int:
        """One round; returns how many messages it sent."""
        messages: list[tuple[MessageKind, uuid.UUID]] = []
        messages += [("timer", ident) for ident in work.claim_due_timers(self.rt)]
        messages += [("outbox", ident) for ident in outbox.claim_due(self.rt)]
        if time.monotonic() - self._last_sweep >= self.sweep_every:
            self._last_sweep = time.monotonic()
            messages += sweep(self.rt, self.grace, self.sending_timeout)
        send_batched(self.rt.dispatcher, messages)
        started = run_due_schedules(self.rt)
        return len(messages) + started

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.tick()
            except Exception:  # the database may be briefly away; keep going
                log.exception("scheduler round failed")
                busy = 0
            if not busy:
                stop.wait(self.poll)
